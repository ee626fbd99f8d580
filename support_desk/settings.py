"""Support Desk settings: every value comes from the environment (see .env.example)."""

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE as CSP_NONCE
from kombu import Queue as KombuQueue

from .email_url import email_config
from .env import BASE_DIR, env_bool, env_int, env_list, env_str, env_time_zone

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-secret-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "accounts",
    "tickets",
    "sla",
    "workspace",
    "dashboard",
    # Channels and self-service, built on tickets (DESIGN §8-§10).
    "mail",
    "phone",
    "helpcenter",
    "csat",
    "analytics",
]

MIDDLEWARE = [
    # First: refuses over-long URLs and headers (414/431, JSON under /api/) before anything
    # else reads them; gunicorn's own limits are set above these (support_desk/gunicorn.conf.py).
    "support_desk.request_limits.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "support_desk.security.CSPMiddleware",
    "support_desk.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: runs PAGE_MIDDLEWARE for everything but the API (support_desk/page_middleware.py).
    "support_desk.page_middleware.PageMiddleware",
]
# What only HTML pages need; in this order, inside PageMiddleware.
PAGE_MIDDLEWARE = [
    "workspace.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# The admin's check looks for MessageMiddleware in MIDDLEWARE only; it runs for the admin's
# pages from PAGE_MIDDLEWARE (tests/test_page_middleware.py).
SILENCED_SYSTEM_CHECKS = ["admin.E409"]

ROOT_URLCONF = "support_desk.urls"
WSGI_APPLICATION = "support_desk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspace.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/support_desk"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The zone the workspace shows times in for users who chose none in their profile. UTC by
# default: a desk's people and calendars span zones (New York and London in the demo), and
# UTC is what the API and logs say; set it to where most of the team sits.
DESK_TIME_ZONE = env_time_zone("DESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # A Redis that is down or hangs costs a request half a second at most: the rate limit
        # and the sign-in lock-out then step aside with a log line (accounts/fail_open.py).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

# Sign-in lock-out (accounts/lockout.py): attempts allowed per window of LOGIN_LOCKOUT_SECONDS
# for one username, and from one client address (several people may share an office's).
LOGIN_LOCKOUT_ACCOUNT_ATTEMPTS = env_int("LOGIN_LOCKOUT_ACCOUNT_ATTEMPTS", 10, minimum=1)
LOGIN_LOCKOUT_ADDRESS_ATTEMPTS = env_int("LOGIN_LOCKOUT_ADDRESS_ATTEMPTS", 50, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)

# Celery: deadlines live in PostgreSQL; beat only triggers sweeps (SLA_SPEC I3).
# kombu spells a unix socket "redis+socket://"; redis-py and Django's cache "unix://".
CELERY_BROKER_URL = (
    "redis+socket://" + REDIS_URL.removeprefix("unix://")
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 1, minimum=1)
SLA_DRAIN_SECONDS = env_int("SLA_DRAIN_SECONDS", 1, minimum=1)
SLA_RECONCILE_SECONDS = env_int("SLA_RECONCILE_SECONDS", 15, minimum=1)
# A firing processed this long after its theoretical instant is marked late (SLA_SPEC E4).
SLA_LATE_AFTER_SECONDS = env_int("SLA_LATE_AFTER_SECONDS", 60, minimum=1)
# Publishing a task when Redis is down must fail fast: the stale mark keeps the work.
CELERY_TASK_PUBLISH_RETRY = False
# The whole beat schedule, in one place. Beat only triggers work whose state is in the
# database, so a missed tick delays it and loses nothing.
CELERY_BEAT_SCHEDULE = {
    "sla-sweep": {"task": "sla.sweep", "schedule": float(SLA_SWEEP_SECONDS)},
    # Changed tickets are recomputed when their change wakes a drain; this catches the few
    # committed just after the drain their process woke had finished (sla/stale_drain.py).
    "sla-drain": {"task": "sla.drain", "schedule": float(SLA_DRAIN_SECONDS)},
    "sla-reconcile": {"task": "sla.reconcile", "schedule": float(SLA_RECONCILE_SECONDS)},
    "sla-send-notifications": {"task": "sla.send_notifications", "schedule": 60.0},
    "tickets-idempotency-purge": {
        "task": "tickets.idempotency_purge",
        "schedule": crontab(minute=17),
    },
    # Inbound mail no task picked up, outbound mail queued or due for a retry (DESIGN §8).
    "mail-reconcile": {"task": "mail.reconcile", "schedule": 30.0},
    # Hourly, so a worker that was down at midnight catches up within the hour.
    "dashboard-rollups-refresh": {
        "task": "dashboard.rollups_refresh",
        "schedule": crontab(minute=7),
    },
    # Satisfaction surveys whose delay has passed (csat.services.surveys_sweep).
    "csat-send-surveys": {"task": "csat.send_surveys", "schedule": 60.0},
}
# Breach sweeps get their own queue, which every worker also consumes: a flood of recompute
# tasks (an import, a policy change) must not delay breach detection behind it.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (KombuQueue("celery"), KombuQueue("sla-sweep"))
CELERY_TASK_ROUTES = {"sla.sweep": {"queue": "sla-sweep"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["support_desk.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "support_desk.negotiation.Negotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "support_desk.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_RATE_LIMIT", "600/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Client addresses (rate limits, sign-in lock-out) come from X-Forwarded-For only when
    # this many trusted proxies stand in front; 0 = REMOTE_ADDR, which a client cannot forge.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}

# Request limits (DESIGN §6): a larger body is a 413, a longer URL a 414, larger headers a 431,
# JSON nested deeper than API_MAX_JSON_DEPTH a 400 -- all in the API's error format.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
API_MAX_JSON_DEPTH = 64
API_MAX_URL_BYTES = 8000
API_MAX_HEADER_BYTES = 8190
API_MAX_HEADERS_TOTAL_BYTES = 65536
API_MAX_HEADER_FIELDS = 100

SPECTACULAR_SETTINGS = {
    "TITLE": "Support Desk API",
    "DESCRIPTION": "Tickets, SLA timers and escalations. Auth: `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Shared error responses, `limit` bounds, unknown fields refused: support_desk/openapi.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "support_desk.openapi.postprocess",
    ],
}

# E-mail: EMAIL_URL names the server (support_desk/email_url.py: smtp://, smtp+tls://,
# smtps://, file://, console:). Unset, mail is written to files under var/mail/outbox/
# instead of the console. EMAIL_TIMEOUT bounds the connect and every send, in seconds.
_EMAIL = email_config(env_str("EMAIL_URL", ""), default_file_path=BASE_DIR / "var/mail/outbox")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", _EMAIL.backend)
EMAIL_HOST = _EMAIL.host
EMAIL_PORT = _EMAIL.port
EMAIL_HOST_USER = _EMAIL.user
EMAIL_HOST_PASSWORD = _EMAIL.password
EMAIL_USE_TLS = _EMAIL.use_tls
EMAIL_USE_SSL = _EMAIL.use_ssl
EMAIL_FILE_PATH = _EMAIL.file_path or str(BASE_DIR / "var/mail/outbox")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support-desk@localhost")
DESK_BASE_URL = env_str("DESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Uploaded and received files (attachments) go through Django's storage: var/media/ here.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# Inbound e-mail (DESIGN §8): the desk's address, its aliases, the SMTP receiver's port,
# the largest message accepted, and how many acknowledgements one address gets per hour.
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@desk.localhost").lower()
SUPPORT_EMAIL_ALIASES = [a.lower() for a in env_list("SUPPORT_EMAIL_ALIASES", [])]
SMTP_HOST = env_str("SMTP_HOST", "127.0.0.1")
SMTP_PORT = env_int("SMTP_PORT", 2525, minimum=1)
EMAIL_MAX_BYTES = env_int("EMAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
EMAIL_ACK_PER_HOUR = env_int("EMAIL_ACK_PER_HOUR", 5, minimum=0)

# Phone (DESIGN §8): numbers written without a country code are read in this region.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US").upper()

# The help center's contact form: submissions accepted per hour from one e-mail address
# and from one client address.
HELPCENTER_CONTACT_PER_HOUR = env_int("HELPCENTER_CONTACT_PER_HOUR", 5, minimum=1)

# Satisfaction surveys (DESIGN §9): sent this long after a ticket is solved.
CSAT_DELAY_MINUTES = env_int("CSAT_DELAY_MINUTES", 60, minimum=0)

# SQL analytics (DESIGN §10): the read-only role's connection (built from DATABASE_URL
# and ANALYTICS_ROLE when unset), per-query timeout and row cap.
ANALYTICS_DATABASE_URL = env_str("ANALYTICS_DATABASE_URL", "")
ANALYTICS_ROLE = env_str("ANALYTICS_ROLE", "desk_analytics")
ANALYTICS_TIMEOUT_MS = env_int("ANALYTICS_TIMEOUT_MS", 5000, minimum=100)
ANALYTICS_MAX_ROWS = env_int("ANALYTICS_MAX_ROWS", 10_000, minimum=1)

# Production (DESK_ENV=production, as docker-compose sets it) expects HTTPS in front: cookies
# only over HTTPS, HSTS, API docs behind sign-in. `make run` on http://127.0.0.1 keeps none of
# these. Each can be set on its own; see docs/operations.md.
PRODUCTION = env_str("DESK_ENV", "").lower() == "production"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
# Sent on HTTPS responses only (SecurityMiddleware), so it is harmless on plain HTTP.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Behind a TLS-terminating proxy that sets it (and strips it from clients), e.g.
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto: requests it marks "https" count as secure.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_").removeprefix("HTTP_"), "https")
    if _PROXY_SSL_HEADER
    else None
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# support_desk/security.py sends it: the desk uses no camera, microphone, location, payment...
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
# /api/v1/schema/ and /api/v1/docs/ answer only signed-in users (session or token).
API_DOCS_REQUIRE_SIGN_IN = env_bool("API_DOCS_REQUIRE_SIGN_IN", PRODUCTION)
# Content-Security-Policy (django-csp): scripts and styles from this site only, or inline with
# the per-request nonce (`{{ request.csp_nonce }}`); no eval, no inline handlers or style="".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE],
        "style-src": ["'self'", CSP_NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
