"""The demo and local development: SQLite and the in-memory channel layer unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import LOG_DIR, LOGGING, SECRET_KEY, env

# Off, as in production: a refused request gets the product's own 404 page (templates/404.html), not Django's debug
# page listing every URL pattern, and static files come through whitenoise. DJANGO_DEBUG=1 turns the debug pages on
# while developing.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The demo key file (var/keys.env) carries a generated secret key; a fallback keeps `manage.py` usable before it exists.
SECRET_KEY = SECRET_KEY or "dev-only-not-secret-run-make-demo-to-generate-keys"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The demo asks staff for the second factor as production does (its demo devices carry a published secret), so what
# it shows about 2FA — staff cannot switch it off — is what an installation does.
OTP_REQUIRED_ROLES = env.list(
    "OTP_REQUIRED_ROLES", default=["ospod_worker", "supervisor", "dpo", "administrator", "regional_office"]
)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING["handlers"]["file"] = {  # type: ignore[index]
    "class": "logging.FileHandler",
    "filename": str(LOG_DIR / "app.log"),
    "formatter": "plain",
}
LOGGING["root"]["handlers"] = ["console", "file"]  # type: ignore[index]
