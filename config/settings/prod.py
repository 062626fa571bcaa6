"""Production. Refuses to start without real secrets; serves static files through whitenoise's manifest storage.

A missing variable ends the process with one line naming it (SystemExit, no traceback, no values printed).
"""

from .base import *  # noqa: F403
from .base import AUDIT_HMAC_KEY, BLIND_INDEX_KEY, FIELD_KEKS, REDIS_URL, SECRET_KEY, env

_required = {
    "DJANGO_SECRET_KEY": SECRET_KEY,
    "FIELD_KEKS": FIELD_KEKS,
    "AUDIT_HMAC_KEY": AUDIT_HMAC_KEY,
    "BLIND_INDEX_KEY": BLIND_INDEX_KEY,
    "DATABASE_URL": env.str("DATABASE_URL", default=""),
    "REDIS_URL": REDIS_URL,
    "ALLOWED_HOSTS": env.str("ALLOWED_HOSTS", default=""),
    # smtp+tls://user:password@host:587 — without it base.py would fall back to the console backend and write
    # participants' addresses and links into the log.
    "EMAIL_URL": env.str("EMAIL_URL", default=""),
}
_missing = [name for name, value in _required.items() if not value]
if _missing:
    raise SystemExit("Missing required environment variable(s): " + ", ".join(_missing))
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-only", "test-only")):
    raise SystemExit("DJANGO_SECRET_KEY is too short or a development value: generate a real one.")

DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer's (or systemd's) probe asks the server directly over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
# OSPOD staff, the DPO and administrators always log in with a second factor.
OTP_REQUIRED_ROLES = env.list(
    "OTP_REQUIRED_ROLES", default=["ospod_worker", "supervisor", "dpo", "administrator", "regional_office"]
)
DEMO_OTP_DEVICES = False
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
