"""Outgoing HTTP to addresses users typed: the SSRF rules (docs/spec.md §16.3), in one place.

A URL from a user (a calendar to import, a webhook endpoint) must not make the server talk to
itself or to the private network behind it. `check_public_url` resolves the host and refuses it
when any of its addresses is not public, unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on (on-premise
peers, tests). `http_get` then connects to an address that was checked — not to a second DNS answer,
which a rebinding attacker could point at 127.0.0.1 — and follows no redirect.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeURL(ValueError):
    """The URL may not be fetched: its scheme, or an address its host resolves to."""


class FetchError(Exception):
    """The fetch failed: network, timeout, size, a redirect; the message says which."""


@dataclass(frozen=True)
class CheckedURL:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


def private_addresses_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_url(url: str) -> CheckedURL:
    """Parse `url` and resolve its host; raise UnsafeURL unless every address may be reached."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"Not a URL: {error}.") from error
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL("Only http and https URLs may be fetched.")
    host = parts.hostname
    if not host:
        raise UnsafeURL("The URL has no host.")
    port = port or DEFAULT_PORTS[scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"The host {host} does not resolve: {error}.") from error
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(f"The host {host} does not resolve.")
    if not private_addresses_allowed():
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise UnsafeURL(f"The host {host} resolves to a private or reserved address ({refused[0]}).")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CheckedURL(scheme, host, port, target, addresses)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, checked: CheckedURL, timeout: float):
        super().__init__(checked.host, checked.port, timeout=timeout)
        self._address = checked.addresses[0]

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, checked: CheckedURL, timeout: float):
        super().__init__(checked.host, checked.port, timeout=timeout, context=ssl.create_default_context())
        self._address = checked.addresses[0]

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address connected to.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float, deadline: float, max_bytes: int) -> HttpAnswer:
    """GET `url` under the SSRF rules: `timeout` per network operation, `deadline` seconds in all,
    at most `max_bytes` of body. Raises UnsafeURL or FetchError; any status is returned as is."""
    checked = check_public_url(url)
    connection_class = _PinnedHTTPSConnection if checked.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(checked, timeout)
    give_up_at = time.monotonic() + deadline
    try:
        connection.request("GET", checked.target, headers={"User-Agent": "scheduling-backoffice", **(headers or {})})
        response = connection.getresponse()
        body = bytearray()
        while chunk := response.read(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"The answer is larger than {max_bytes} bytes.")
            if time.monotonic() > give_up_at:
                raise FetchError(f"The answer took longer than {deadline:g} seconds.")
        return HttpAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, bytes(body))
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()
