"""Faultline's one settings module: every environment-dependent value comes from an
environment variable with a safe local default (see .env.example)."""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("FAULTLINE_RUN_DIR", BASE_DIR / ".run"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
# The local default key is only for `make run`; production must set SECRET_KEY.
SECRET_KEY = (
    os.environ.get("SECRET_KEY") or "faultline-local-development-key-not-for-production-use"
)
if not DEBUG and SECRET_KEY.startswith("faultline-local-"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "annotate",
    "mining",
    "analysis",
    "dataset",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A form post carrying U+0000 is a 400 page, not a database error (a 500).
    "config.middleware.NullCharacterMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before django-htmx reads HX-Request: a history restore is a full page; Vary on it.
    "config.middleware.HtmxHistoryMiddleware",
    # After it (a history restore is a page): a login redirect answered to htmx is a visit.
    "config.middleware.HtmxLoginRedirectMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A page whose database connection is lost answers the 503 page instead of a 500.
    "config.middleware.DatabaseUnavailableMiddleware",
    # A view's Http404 answers our 404 page in the layout, also under DEBUG.
    "config.middleware.NotFoundPageMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotate.context_processors.inbox",
            ],
        },
    }
]

# `make run` works on a SQLite file; tests and production use PostgreSQL via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{RUN_DIR / 'faultline.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
        # A persistent connection the server dropped (restart, failover) is replaced at the
        # start of the next request instead of failing it.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write concurrently: wait for the lock instead of
    # failing, and take it at the start of each transaction to avoid upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    # The agreement index's covering columns are a PostgreSQL optimisation; SQLite keeps
    # the key columns, which is all the laptop needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is refused, even with the right password, for the cool-off.
# The address is REMOTE_ADDR: behind the proxy every client shares it, so the lockout is in
# effect per username (a forged X-Forwarded-For cannot reset the count).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# No "AXES: BEGIN version ..." banner at every start of every management command.
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", RUN_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", RUN_DIR / "media"))
MEDIA_URL = "media/"
# Files uploaded for an import job wait here until a Celery worker has read them (then they
# are deleted): web and worker must both see this folder (docker-compose.yml shares a volume).
IMPORT_UPLOAD_DIR = Path(os.environ.get("IMPORT_UPLOAD_DIR", MEDIA_ROOT / "imports"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

WHITENOISE_USE_FINDERS = DEBUG
# Before `collectstatic` has run (tests, `make run`) WhiteNoise warns that STATIC_ROOT is
# missing; the finders serve the files then, so the warning is noise.
warnings.filterwarnings("ignore", message="No directory at")

# Broker and rate-limit budget. Without REDIS_URL (the laptop default) Celery uses
# kombu's filesystem transport: no server, but still a separate worker process.
REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = RUN_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # An unacknowledged task of a dead worker is redelivered after this long; it must
    # exceed the task time limit (mining also re-queues orphans on worker start).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        },
        # The analysis pages' tables, charts and reports, keyed by the data version.
        "analysis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "analysis",
            "TIMEOUT": 60 * 60 * 24,
        },
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(RUN_DIR / "cache"),
        },
        "analysis": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(RUN_DIR / "analysis-cache"),
            "TIMEOUT": 60 * 60 * 24,
        },
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}

# Who may create projects (page and API): "staff" (the default) or "everyone" signed in.
# Management commands (run by the server's admins) create projects either way.
PROJECT_CREATION = os.environ.get("PROJECT_CREATION", "staff")
if PROJECT_CREATION not in ("staff", "everyone"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("PROJECT_CREATION must be 'staff' or 'everyone'.")
# Days before an invitation link expires.
INVITATION_DAYS = int(os.environ.get("INVITATION_DAYS", "7"))

# GitHub: the token is read here and nowhere else; it is never logged or rendered. It serves
# only projects whose "may use the server's token" flag staff set (admin), the `mine`
# command and the daily reconcile; other projects mine with their own token.
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
# Encrypts projects' own GitHub tokens at rest (Fernet, key derived from this passphrase).
# Default: derived from SECRET_KEY; changing either makes stored tokens unreadable (owners
# then enter them again).
TOKEN_ENCRYPTION_KEY = os.environ.get("TOKEN_ENCRYPTION_KEY") or SECRET_KEY
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
# Machine raters (docs/raters.md): an endpoint's key is sealed with TOKEN_ENCRYPTION_KEY as
# above; these bound how long a worker waits on an OpenAI-compatible endpoint.
RATER_HTTP_TIMEOUT_SECONDS = float(os.environ.get("RATER_HTTP_TIMEOUT_SECONDS", "60"))
RATER_HTTP_ATTEMPTS = int(os.environ.get("RATER_HTTP_ATTEMPTS", "4"))
RATER_BACKOFF_SECONDS = float(os.environ.get("RATER_BACKOFF_SECONDS", "1"))
RATER_MAX_BACKOFF_SECONDS = float(os.environ.get("RATER_MAX_BACKOFF_SECONDS", "30"))
RATER_ANSWER_ATTEMPTS = int(os.environ.get("RATER_ANSWER_ATTEMPTS", "2"))
RATER_PROMPT_CHARS = int(os.environ.get("RATER_PROMPT_CHARS", "12000"))
# The longest reply body read from an endpoint; a longer one fails the item.
RATER_MAX_REPLY_BYTES = int(os.environ.get("RATER_MAX_REPLY_BYTES", str(4 * 2**20)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # One error body everywhere: {"detail", "code", "fields": {field: [messages]}}.
    "EXCEPTION_HANDLER": "annotate.api.base.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Faultline API",
    "DESCRIPTION": "Mine GitHub issues, label failures blind, adjudicate, analyse, export.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `state` or `kind`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "ItemStateEnum": "annotate.models.Item.State",
        "AssignmentStateEnum": "annotate.models.Assignment.State",
        "CodebookChangeKindEnum": "annotate.models.CodebookChange.Kind",
        "ConflictKindEnum": "annotate.models.Conflict.Kind",
        "IssueStateEnum": "mining.models.Issue.State",
        "MiningJobKindEnum": "mining.models.MiningJob.Kind",
        "MiningJobStatusEnum": "mining.models.MiningJob.Status",
        "RaterKindEnum": "annotate.models.Rater.Kind",
        "RaterRunStatusEnum": "annotate.models.RaterRun.Status",
    },
}

# Production hardening: on when DEBUG is off, the app sits behind a TLS proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: htmx sends the token base.html puts in hx-headers.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every response. Scripts only from our own static
# files: no inline script, event-handler attribute or eval anywhere (htmx's allowEval is off
# in base.html). Style sheets only from our files too; style *attributes* are allowed
# because matplotlib's inline SVG charts and the progress bars are drawn with them (CSS in
# an attribute cannot run script, and img-src still bounds what it could load). Images from
# ourselves and data: URIs, which the inline heatmaps embed (rendered Markdown never emits
# data: images; external images, when a project allows them, are added per response).
# Nothing may frame a page, plug-ins are off, and <base> cannot re-point relative URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}


def plain_client_error(record) -> bool:
    """Log filter: a 4xx that a view raised on purpose (PermissionDenied for a role that may
    not, Http404 for what is not there) is the request's fault, not a bug; Django logs the
    403 with its traceback, which buried real errors. Keep the one line, drop the
    traceback; 5xx keep theirs."""
    if 400 <= getattr(record, "status_code", 500) < 500:
        record.exc_info = None
        record.exc_text = None
    return True


# Error reports hide what views declare sensitive (a rater's key) under DEBUG too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.reporting.SecretsHiddenFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "plain_client_error": {
            "()": "django.utils.log.CallbackFilter",
            "callback": plain_client_error,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["plain_client_error"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
