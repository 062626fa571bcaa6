"""/healthz against the real Redis channel layer (second CI pass), and against a Redis that is not there."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_healthz_is_ok_with_real_redis(client: Client) -> None:
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "channel_layer": True}


def test_healthz_says_unavailable_when_redis_is_down(client: Client) -> None:
    dead = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": "healthz-dead"},
        }
    }
    with override_settings(CHANNEL_LAYERS=dead):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] is False
