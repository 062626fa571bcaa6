"""The bench's settings: the test settings (2FA off, test keys, DATABASE_URL honoured) with ``bench`` installed, so
viewflow finds the bare baseline flow (``bench.baselines.BareFlow``) in an application."""

from config.settings.test import *  # noqa: F403
from config.settings.test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
