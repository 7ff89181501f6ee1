import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
# Import the URL configuration, and with it every view, API and serializer module, now
# (about 1.7 s): under gunicorn --preload the workers fork with them loaded instead of
# each paying for it on its first request (up to 10 s per worker under load).
get_resolver().url_patterns  # noqa: B018 - loaded for the imports
