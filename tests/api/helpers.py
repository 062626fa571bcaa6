"""Helpers of the API tests: a second factor for an account, a token for it, a client that sends the token."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from api.tokens import token_create
from casework.models import User


def with_second_factor(user: User) -> User:
    TOTPDevice.objects.get_or_create(user=user, name="authenticator", defaults={"confirmed": True})
    return user


def token_for(user: User, *, scope: str = "write", days: int = 30) -> str:
    with_second_factor(user)
    return token_create(user=user, name=f"test {user.username}", scope=scope, days=days).text


def client_with(token: str | None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def body(response: Any) -> str:
    return response.content.decode() if response.content else ""


def page_client(user: User) -> Client:
    """A browser session of ``user`` past the login's second step (a code of their authenticator)."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        code = f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
        client.post(reverse("otp_verify"), {"token": code})
    return client
