"""Helpers of the API tests: a second factor for an account, a token for it, a client that sends the token."""

from __future__ import annotations

from typing import Any

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
