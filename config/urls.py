from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("annotate.urls")),
    path("", include("mining.urls")),
    path("", include("analysis.urls")),
]

# Uncaught errors outside views (middleware) when DEBUG is off: a lost database connection
# answers the 503 page, anything else Django's 500 page.
handler500 = "config.middleware.server_error"
