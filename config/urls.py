from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# The API documentation pages are third-party UIs (drf-spectacular-sidecar's copies, served
# by us). Swagger UI's split view loads its start-up script from a URL instead of inline, so
# script-src stays 'self'; its page and Redoc's styled components write inline <style>
# elements, and Redoc starts its search index in a blob: worker. Only these two pages get
# those allowances; neither shows user or GitHub text except through the schema.
docs_policy = csp_update({"style-src": [UNSAFE_INLINE]})
redoc_policy = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        docs_policy(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        redoc_policy(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path("", include("annotate.urls")),
    path("", include("mining.urls")),
    path("", include("analysis.urls")),
    path("", include("dataset.urls")),
]

# Uncaught errors outside views (middleware) when DEBUG is off: a lost database connection
# answers the 503 page, anything else Django's 500 page.
handler500 = "config.middleware.server_error"
# A missing or forbidden page answers inside the layout and says what to do.
handler403 = "config.middleware.permission_denied"
handler404 = "config.middleware.page_not_found"
