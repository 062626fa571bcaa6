"""Every test starts in the product's default language (Czech).

A page requested with the English cookie activates English in the worker's thread (the middleware activates the
chosen language per request, as Django's own does), and nothing deactivates it after the response: a later test on
the same worker that checks a Czech message would then see English. Each test gets the default again."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
