"""The test suite. SQLite and the in-memory layer by default; .ci/run's second pass sets DATABASE_URL and REDIS_URL.

The keys below exist only for tests: they protect fictional data in throw-away databases.
"""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import CHANNEL_LAYERS, DATABASES, REDIS_URL

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FIELD_KEKS = "test-k1:" + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
FIELD_KEK_CURRENT = "test-k1"
AUDIT_HMAC_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
BLIND_INDEX_KEY = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
AXES_ENABLED = True
# Journeys log in with the demo password alone; 2FA tests turn these on where they need them.
OTP_REQUIRED_ROLES = []
DEMO_OTP_DEVICES = False

_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}  # in-memory per worker
if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{_worker}"  # type: ignore[index]

# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Archive packages of the shredding review's tests go to a throw-away directory, never the checkout's var/.
ARCHIVE_EXPORT_DIR = Path(tempfile.gettempdir()) / f"casework-archive-{_worker}"

# Tests see the after-commit pushes in the committing thread (django_capture_on_commit_callbacks, the in-memory
# layer); the background sender has its own tests, and the bench switches it on through the environment.
NOTIFICATIONS_PUSH_BACKGROUND = os.environ.get("NOTIFICATIONS_PUSH_BACKGROUND", "") == "1"
