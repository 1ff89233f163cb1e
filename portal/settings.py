"""Settings of the portal: one module, configured by environment variables.

Safe by default: DEBUG is off unless DEBUG=1, and then nothing else is required;
with DEBUG off, SECRET_KEY must be given. See the README for every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from core.configuration import media_store, secret_keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


DEBUG = os.environ.get("DEBUG", "0") == "1"
# One key for every host (SECRET_KEY, or the file SECRET_KEY_FILE names): a
# form or a session made by one host is valid on the others. Rotating it keeps
# the old ones a while in SECRET_KEY_FALLBACKS (or SECRET_KEY_FALLBACKS_FILE).
SECRET_KEY, SECRET_KEY_FALLBACKS = secret_keys()
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "dev-only-insecure-key"
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "corsheaders",
    "django_filters",
    "rest_framework",
    "simple_history",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks_db",
    "core",
    "initiatives",
    "surveys",
    "vigilance",
]

MIDDLEWARE = [
    "core.middleware.CrossOriginResourcePolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.logs.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # The page cache (core/page_cache.py) stores what the middleware below it
    # made, and answers from FetchFromPageCacheMiddleware, near the end. Those
    # above add their headers to every response, cached or not (a fresh CSP,
    # request id). Above GZip and SessionMiddleware, as Django asks of whatever
    # adds to Vary: one stored copy per Accept-Encoding, compressed once.
    "core.page_cache.UpdatePageCacheMiddleware",
    # Compresses pages and JSON (WhiteNoise serves static files pre-compressed).
    # BREACH: Django masks the CSRF token anew in every response.
    "django.middleware.gzip.GZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last but axes, which does nothing on the way in: a cached page is answered
    # once every request-phase middleware has run.
    "core.page_cache.FetchFromPageCacheMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.csp",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Plain-text mails (core/mail.py): nothing escaped, « L'appli & co ».
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates" / "email"],
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside one writer; immediate transactions take the
    # write lock up front, so concurrent writers wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable database host fails fast (libpq waits at least 2 s): the
    # visitor gets the outage page instead of a request that hangs.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DATABASE_CONNECT_TIMEOUT", "2")
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation." + name}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# Staff accounts (see core/accounts.py): the admin lives under ADMIN_PATH and asks
# for a password and a one-time code; sessions end after a working day.
ADMIN_PATH = os.environ.get("ADMIN_PATH", "admin").strip("/") + "/"
if ADMIN_PATH == "/":
    raise ImproperlyConfigured("ADMIN_PATH must not be empty.")
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock a username from one address only: an address-only lock would shut out a
# whole town hall behind one gateway, a username-only lock let anyone lock staff out.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 1  # hour
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Behind N reverse proxies, the client is the N-th address from the right of
# X-Forwarded-For; with 0, REMOTE_ADDR, which a client cannot forge.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "core.clients.client_ip"
OTP_TOTP_ISSUER = "Portail des initiatives"

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploaded media: the local disk, or with MEDIA_STORAGE_URL an S3-compatible
# object store that every host shares (core/storage.py). Served by the portal.
MEDIA_STORE = media_store()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if MEDIA_STORE is None
    else {
        "BACKEND": "core.storage.MediaStorage",
        "OPTIONS": {
            "bucket_name": MEDIA_STORE.bucket,
            "endpoint_url": MEDIA_STORE.endpoint_url,
            "access_key": MEDIA_STORE.access_key,
            "secret_key": MEDIA_STORE.secret_key,
            "region_name": MEDIA_STORE.region,
        },
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Email: printed on the console unless an SMTP server is configured.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": os.environ.get("EMAIL_USE_TLS", "1") == "1",
                # A slow mail server must not hold a request for long.
                "timeout": int(os.environ.get("EMAIL_TIMEOUT", "10")),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# Every mail goes through the outbox (core/mail.py): written in the transaction
# of what it is about, sent by the task worker (`manage.py task_worker`, which
# `make serve` starts beside gunicorn), retried, never lost.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Portail des initiatives <ne-pas-repondre@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Administrateurs", email) for email in env_list("ADMIN_EMAILS")]
SUBMISSION_NOTIFY_EMAILS = env_list("STAFF_EMAILS") or [email for _, email in ADMINS]

# The call for ideas' public form.
SUBMISSIONS_PER_HOUR = int(os.environ.get("SUBMISSIONS_PER_HOUR", "10"))
# Every POST of the form counts, valid or not: sending it costs an image decode.
SUBMISSION_ATTEMPTS_PER_HOUR = int(os.environ.get("SUBMISSION_ATTEMPTS_PER_HOUR", "30"))
SUBMISSION_MIN_SECONDS = int(os.environ.get("SUBMISSION_MIN_SECONDS", "3"))
CONTACT_RETENTION_DAYS = int(os.environ.get("CONTACT_RETENTION_DAYS", str(3 * 365)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# One cache shared by every worker process (rate limits live there): Redis when
# REDIS_URL is set, else a table of the database (`manage.py createcachetable`).
# Anonymous visitors' pages go to a cache of their own ("pages", same server or
# its own table): the database cache, once full, culls the keys that sort first,
# and the rate-limit counters would go before the pages.
if os.environ.get("REDIS_URL"):
    redis_cache = {
        # Logs and swallows Redis errors: pages keep working without it.
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    CACHES = {
        "default": redis_cache,
        "pages": {**redis_cache, "KEY_PREFIX": "pages"},
        # Rate-limit counters (core/ratelimit.py); without Redis, their own table.
        "ratelimit": {**redis_cache, "KEY_PREFIX": "ratelimit"},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_page_cache",
            # About a thousand pages (a page and its list of Vary headers).
            "OPTIONS": {"MAX_ENTRIES": 2000},
        },
    }
# NO_CACHE=1 measures the portal without any cache of rendered markup or data
# (`make bench`): the "pages" cache (pages, API data, the department map) keeps
# nothing. The rate limits still count in the default cache.
NO_CACHE = os.environ.get("NO_CACHE") == "1"
if NO_CACHE:
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
# The page cache (core/page_cache.py) answers anonymous visitors' public pages
# for at most PAGE_CACHE_SECONDS; 0 turns it off. Any saved or deleted row of the
# catalogue abandons every cached page at once (a content version in the key), so
# the lifetime only bounds how long a change made behind Django's back (bulk SQL,
# bulk imports) stays unseen: 5 minutes in production, short for that, yet a page
# read often is rendered once per edit or per 5 minutes, not once per visit. Off
# with DEBUG, where a template or code edit must show at the next reload.
CACHE_MIDDLEWARE_SECONDS = (
    0
    if NO_CACHE
    else int(os.environ.get("PAGE_CACHE_SECONDS", "0" if DEBUG else "300"))
)
CACHE_MIDDLEWARE_ALIAS = "pages"

API_ANONYMOUS_RATE = os.environ.get("API_ANONYMOUS_RATE", "120/minute")
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.rest.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": ["core.rest.AnonymousThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.rest.handle_exception",
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API du portail des initiatives numériques des collectivités",
    "DESCRIPTION": (
        "API en lecture seule, ouverte et sans authentification : initiatives "
        "publiées, collectivités, départements, régions, thèmes, catégories, "
        "chiffres clés, points de vigilance et enquêtes. Les filtres de "
        "/api/v1/initiatives/ sont ceux de la page /initiatives/. Données sous "
        "Licence Ouverte 2.0."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.complete_schema",
    ],
}

# Open data: anyone may read the API and the downloads from any origin.
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/(api|donnees)/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified"]

# HTTP hardening. HTTPS is on unless DEBUG or HTTPS=0 (`make serve` on plain http
# locally). TLS ends at the reverse proxy in front of gunicorn, which must set
# X-Forwarded-Proto (and overwrite any value a client sent).
HTTPS = os.environ.get("HTTPS", "0" if DEBUG else "1") == "1"
SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Everything is served by the site itself; scripts need a nonce to run inline.
# core/checks.py refuses a policy that lets inline scripts run.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Deny the browser features the portal never uses.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ]
}

# Security events (core.logs) go out as one JSON line each; the rest is
# readable. Every line carries the request id. Server errors are reported to
# ADMIN_EMAILS in production, through the outbox and rate-limited.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {"()": "core.logs.RequestContextFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "readable": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request"],
            "formatter": "readable",
        },
        "security": {
            "class": "logging.StreamHandler",
            "filters": ["request"],
            "formatter": "json",
        },
        "mail_admins": {
            "class": "core.logs.AdminMailHandler",
            "filters": ["require_debug_false"],
            "level": "ERROR",
        },
    },
    "loggers": {
        # Replaces Django's default handlers: the root logger prints, and only
        # django.request mails, once.
        "django": {"handlers": [], "level": LOG_LEVEL},
        "django.request": {
            "handlers": ["mail_admins"] if ADMINS and not DEBUG else [],
            "level": LOG_LEVEL,
        },
        "portal.security": {
            "handlers": ["security"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
