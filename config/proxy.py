"""The client's address behind the TLS-terminating proxy.

The application server sees every request coming from the proxy. axes locks the pair (username, address), and the audit
log records the address, so with the proxy's address in ``REMOTE_ADDR`` five wrong passwords typed by anyone would lock
the real user out, and the audit would name the proxy for every read.

``X-Forwarded-For`` is believed only when the request arrives from an address in ``TRUSTED_PROXIES`` (addresses or
networks); the header is written by the client as much as by the proxy, so from anyone else it is ignored. The proxy
appends the address it saw (or overwrites the header, as the README's nginx snippet does); we walk the list from the
right, skipping trusted proxies, and take the first address that is not one — the client as the outermost trusted
proxy saw it. The result replaces ``REMOTE_ADDR``, which is all axes (without django-ipware) and
``permissions.middleware`` read. This runs in the application rather than as the server's ``--proxy-headers`` so
that the trust rule is the same whatever ASGI server runs the product, and is tested.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_address(remote_addr: str, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The client's address: ``remote_addr`` unless it is a trusted proxy that forwarded a valid address."""
    networks = _networks(tuple(trusted))

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in networks)

    current = _address(remote_addr)
    if current is None or not forwarded_for or not is_trusted(current):
        return remote_addr
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            break  # garbage from the client side of the proxy: keep the last address we could trust
        current = address
        if not is_trusted(address):
            break
    return str(current)


class TrustedProxyMiddleware:
    """Sets ``REMOTE_ADDR`` to the client's address (see the module docstring); first in ``MIDDLEWARE``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        remote = request.META.get("REMOTE_ADDR") or ""
        request.META["REMOTE_ADDR"] = client_address(
            remote, request.META.get("HTTP_X_FORWARDED_FOR"), getattr(settings, "TRUSTED_PROXIES", ())
        )
        return self.get_response(request)
