"""Settings shared by every environment.

Everything that differs between machines comes from the environment (django-environ). Key material for field
sealing, the audit chain and the blind index is read from the environment or from the key file named by
``KEY_FILE`` (``var/keys.env`` by default, written by ``manage.py generate_local_keys`` for the demo and ignored by
git). Nothing here decrypts anything: the keys are only read when a sealed value is written or opened.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.csp import inline_style_source

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
KEY_FILE = Path(env.str("KEY_FILE", default=str(VAR_DIR / "keys.env")))
if KEY_FILE.is_file():
    # Values already in the environment win over the file.
    environ.Env.read_env(str(KEY_FILE), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Proxies (addresses or networks) whose X-Forwarded-For names the client (config.proxy); the documented setup runs the
# proxy on the same host, in front of servers that listen on loopback only.
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])

INSTALLED_APPS = [
    "daphne",
    "casework.admin_apps.AdminConfig",  # django.contrib.admin, entered by the DPO too (read-only audit)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "channels",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "viewflow",
    "viewflow.workflow",
    "casework",
    "permissions",
    "workflows",
    "notifications",
    "services",
    # The REST API (issue 23, docs/adr/0031-rest-api-and-tokens.md).
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "api",
    "figures",
]

MIDDLEWARE = [
    "config.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "casework.middleware.CzechFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.headers.NoStoreWhenAuthenticatedMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casework.middleware.SecondFactorMiddleware",
    "casework.middleware.IdleSessionMiddleware",
    "permissions.middleware.RequestContextMiddleware",
    "casework.middleware.SealedDataErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "casework.middleware.KeepWorkAfterSessionEndMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# A single checkbox in front of its label, everywhere (casework.form_rendering).
FORM_RENDERER = "casework.form_rendering.FormRenderer"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casework.context_processors.navigation",
                "casework.context_processors.session_expiry",
                "notifications.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers of the audit chain queue instead of failing
    # with "database is locked" halfway through a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
else:
    # A connection pool per process (Django's built-in psycopg pool), not persistent connections: under ASGI every
    # request runs its sync code in a fresh thread, and CONN_MAX_AGE left one open connection behind per finished
    # thread (101 sequential requests opened 102 sessions). Closing a pooled connection hands it back, so a process
    # holds at most DB_POOL_MAX_SIZE sessions: size PostgreSQL's max_connections for processes x that, plus the
    # periodic commands. Reuse also keeps the websocket consumer's queries off new connections (p99 commit-to-socket
    # 330 ms with a new connection per call, 50 ms with reuse).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        # A request waits this long for a free connection before it fails (a 500), rather than queue forever.
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
    # No JIT compilation: the pages' statements are short index walks, but at 100 000 cases the planner's estimates
    # for some (a correlated look-up per row, an OR of subqueries) pass jit_above_cost, and compiling them cost more
    # than running them (312 of 346 ms for a supervisor's task list under EXPLAIN ANALYZE; README, "Performance").
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "casework.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: throttle repeated failures per (username, IP) pair; the lockout page says nothing about whether
# the account exists.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# axes stores and logs the username it counts under: a keyed hash, never what was typed (it may be a password).
AXES_USERNAME_CALLABLE = "casework.auth_audit.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "cs"
LANGUAGES = [("cs", _("Czech")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language (config/formats/<language>/formats.py): Czech 4. 12. 2026 5:02, English 4 Dec 2026 05:02.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Prague"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "config.staticfiles.ProductAppDirectoriesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_PREFIX = env.str("CHANNEL_PREFIX", default="casework")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's default 5 s read timeout equals channels-redis's 5 s blocking receive: an idle socket's
            # receive would time out and close every quiet websocket. The pool must hold one connection per socket
            # that joins or leaves a group at the same moment.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 10, "max_connections": 1000}],
                "prefix": CHANNEL_PREFIX,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="spod@localhost")
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Inactivity ends a session: every request of a logged-in user moves its end (at most once a minute, see
# casework.middleware.IdleSessionMiddleware); pages warn SESSION_WARNING_SECONDS before it and offer to stay.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_WARNING_SECONDS = env.int("SESSION_WARNING_SECONDS", default=120)

# --- Second factor (django-otp: TOTP apps plus one-time recovery codes) -----------------------------------------
# System roles that must log in with a second factor; a user of such a role without a confirmed device can only
# enrol. Empty here (dev, demo, tests); production lists every OSPOD role, the DPO and administrators. Partners need
# it where their authority turns it on (Municipality.partners_require_second_factor); anyone with a confirmed
# device is asked for it.
OTP_REQUIRED_ROLES: list[str] = env.list("OTP_REQUIRED_ROLES", default=[])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="SPOD")
OTP_RECOVERY_CODES = 10
# seed_demo gives the demo's OSPOD, DPO and administrator logins a TOTP device with a published secret.
DEMO_OTP_DEVICES = env.bool("DEMO_OTP_DEVICES", default=True)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files — no inline script, no
# event-handler attributes. The one inline <style> (viewflow's SVG flow chart) carries the request's nonce; the error
# pages' own <style> (templates/standalone.html, rendered without a request) is allowed by its hash (config/csp.py).
# connect-src 'self' covers the page's own ws:/wss: origin (CSP level 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE, inline_style_source(BASE_DIR / "templates" / "standalone.html")],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Key material (read lazily by casework.crypto.keys and permissions.audit) -------------------------------
# FIELD_KEKS: "key-id:base64(32 bytes)[,key-id:base64...]"; FIELD_KEK_CURRENT names the one new data keys are
# wrapped with (default: the last listed).
FIELD_KEKS = env.str("FIELD_KEKS", default="")
FIELD_KEK_CURRENT = env.str("FIELD_KEK_CURRENT", default="")
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")
KEY_PROVIDER = env.str("KEY_PROVIDER", default="casework.crypto.keys.LocalKeyProvider")

LOG_DIR = Path(env.str("LOG_DIR", default=str(VAR_DIR / "log")))
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"api_client_errors_at_info": {"()": "config.log_filters.ApiClientErrorsAtInfo"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A caller's 4xx on the API (401, 403, 404, 400, 409, 429…) at INFO, not WARNING; 5xx stay ERROR.
        "django.request": {"filters": ["api_client_errors_at_info"]},
        # The plan's PDF: WeasyPrint's progress and fontTools' subsetting are chatty below WARNING.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Management commands `serve_demo` runs in its own process, as (command name, interval in seconds). The daily
# notification digest is not here: production runs `notifications_email --digest` from cron (see that command).
PERIODIC_COMMANDS: list[tuple[str, int]] = [
    ("notifications_relay", 15),
    ("notifications_email", 60),
    ("check_deadlines", 60),
    # Access oversight: the chain's verification (its last result is shown on the oversight page) and the anomaly
    # rules (docs/adr/0017-access-oversight.md).
    ("verify_audit_periodic", 3600),
    ("flag_access_anomalies", 300),
    # Retention: proposes files whose period ended for the shredding review and resumes decided destructions
    # (docs/adr/0022-retention-and-shredding-review.md). It never destroys anything without a decision.
    ("apply_retention", 86400),
    # Referrals waiting beyond their service's stated time: both sides are reminded (docs/adr/0029-referrals.md).
    ("remind_referrals", 3600),
    # Service cards not confirmed for SERVICE_CARD_STALE_MONTHS: the provider's users are told once per stale spell.
    ("remind_stale_cards", 3600),
]

# The case page's referrals section (docs/adr/0029-referrals.md): the service network's read model, reached by its
# dotted path because the domain (casework) does not import the network.
CASE_FILE_REFERRALS = "services.referrals.selectors.case_referrals_section"

# Where a file transferred to the archive after a shredding review is written as a package (ZIP) before its keys are
# destroyed. Holds files in clear: a directory only the service account reads, collected by the records office.
ARCHIVE_EXPORT_DIR = Path(env.str("ARCHIVE_EXPORT_DIR", default=str(VAR_DIR / "archive")))

# The access-anomaly rules; each key overrides the default of permissions.anomalies.DEFAULT_RULES (documented in
# docs/adr/0017-access-oversight.md), e.g. {"denied_burst": {"denials": 3}, "off_hours": {"start": "06:30"}}.
ACCESS_ANOMALY_RULES: dict[str, dict[str, object]] = env.json("ACCESS_ANOMALY_RULES", default={})

# Break-glass (docs/adr/0018-break-glass.md): how long an emergency read of a case lasts by default, and at most; the
# person may choose a shorter time. Minutes.
BREAK_GLASS_DEFAULT_MINUTES = env.int("BREAK_GLASS_DEFAULT_MINUTES", default=4 * 60)
BREAK_GLASS_MAX_MINUTES = env.int("BREAK_GLASS_MAX_MINUTES", default=4 * 60)

# --- Notifications (DESIGN invariant 7) ----------------------------------------------------------------------------
# Who may follow a case over the websocket: a dotted path to ``f(user, case_id) -> bool`` (notifications never
# imports the policy itself).
NOTIFICATIONS_CASE_ACCESS = "permissions.access.user_may_see_case"
# The child's name and age beside a case reference on the notification list, read through the gate at render time.
NOTIFICATIONS_CHILD_LABELS = "casework.selectors.child_labels.child_label_texts"
# The page a notification opens (the task, the conference, the plan version), from its stored type and id.
NOTIFICATIONS_TARGET_URL = "workflows.notification_targets.notification_target_url"
# The relay re-pushes rows undelivered for this long, with a doubling gap, for rows younger than the maximum age.
NOTIFICATIONS_RELAY_AFTER_SECONDS = env.int("NOTIFICATIONS_RELAY_AFTER_SECONDS", default=15)
NOTIFICATIONS_RELAY_MAX_AGE_DAYS = env.int("NOTIFICATIONS_RELAY_MAX_AGE_DAYS", default=7)
# How long a push after commit may wait for the channel layer before the row is left to the relay.
NOTIFICATIONS_PUSH_TIMEOUT_SECONDS = env.float("NOTIFICATIONS_PUSH_TIMEOUT_SECONDS", default=2.0)
# After commit, the websocket pushes are handed to one sender thread per process (its own event loop, so the channel
# layer's Redis connections are reused) and the request does not wait for Redis (docs/adr/0026-…). Off: the
# committing thread pushes itself, as the tests do.
NOTIFICATIONS_PUSH_BACKGROUND = env.bool("NOTIFICATIONS_PUSH_BACKGROUND", default=True)
# The address e-mails link to (the notifications page is appended).
NOTIFICATIONS_SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Service network (services app): a service's card not confirmed by its provider for this many months is flagged as
# stale in the directory and on the provider's list.
SERVICE_CARD_STALE_MONTHS = env.int("SERVICE_CARD_STALE_MONTHS", default=6)
# --- The REST API (issue 23; docs/adr/0031-rest-api-and-tokens.md) ----------------------------------------------------
# Personal tokens (api.models.ApiToken) and OAuth2 client credentials (django-oauth-toolkit) only: no session
# authentication on /api/v1/ (so no CSRF question); the schema and its pages also answer a logged-in person.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "api.authentication.OwnedApplicationAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle", "api.throttling.PerTokenWriteThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Requests per credential: "N/s", "N/min", "N/hour" or "N/day" (writes count against both).
API_RATES: dict[str, str] = {
    "token": env.str("API_RATE", default="600/min"),
    "token_write": env.str("API_WRITE_RATE", default="60/min"),
}
# The rate limits' counters: Redis when REDIS_URL is set (shared by every server process), local memory otherwise.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "api"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
    ),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SPOD API",
    "DESCRIPTION": _(
        "Case coordination for teams around children at risk. Authenticate with a personal token "
        "(Authorization: Bearer cw_…) or OAuth2 client credentials. Every error has the shape "
        '{"error": {"status", "code", "message", "fields"}}. Czech by default; ?lang=en for English.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["api.schema.only_v1"],
}
OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read", "write": "Read and write"},
    "DEFAULT_SCOPES": ["read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "PKCE_REQUIRED": True,
    # RFC 9700 (OAuth 2.0 Security BCP) throughout: tokens hashed at rest, none in URLs, no implicit or password
    # grant, https redirects only. Only client credentials are used here (docs/adr/0031-rest-api-and-tokens.md).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Statistics (docs/statistics.md): counts below this are hidden in figures published outside the authority.
STATISTICS_SMALL_CELL_THRESHOLD = env.int("STATISTICS_SMALL_CELL_THRESHOLD", default=5)
