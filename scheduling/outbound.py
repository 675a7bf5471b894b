"""Outgoing HTTP to addresses that users typed: which ones we may reach, and a POST that keeps to them.

A URL a manager registers (a webhook receiver) must not turn the server into a proxy towards its
own network (SSRF): in production only https://, and every address its host resolves to must be
public — checked when the URL is saved and again when it is used, and the request then connects to
the very address that was checked, so a DNS answer that changes in between cannot slip through.
`WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true` opens loopback and private networks (and plain http) for
on-premise receivers and tests. Redirects are never followed: http.client does not follow them.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024


class UnsafeAddress(Exception):
    """The URL's host is, or resolves to, an address we may not contact."""


def private_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)


def https_required() -> bool:
    return not (settings.DEBUG or private_allowed())


def validate_outbound_url(url: str) -> None:
    """The checks of a URL before it is stored: scheme, host, and the addresses it resolves to now.

    A host that does not resolve now is accepted (DNS may be down); the check at send time decides.
    """
    try:
        parts = urlsplit(url)
        port = _port(parts)
    except ValueError as error:  # a port out of range, a malformed IPv6 literal
        raise ValidationError("Enter a valid URL.", code="invalid") from error
    allowed = ("https",) if https_required() else ("https", "http")
    if parts.scheme not in allowed:
        raise ValidationError("Only https:// URLs are accepted." if https_required() else "Use an http:// or https:// URL.", code="scheme")
    if not parts.hostname:
        raise ValidationError("The URL names no host.", code="host")
    if parts.username or parts.password:
        raise ValidationError("Credentials in the URL are not accepted; the signature authenticates us.", code="credentials")
    try:
        public_addresses(parts.hostname, port)
    except UnsafeAddress as error:
        raise ValidationError(str(error), code="private_address") from error
    except OSError:
        pass


def public_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, if all may be contacted; raises UnsafeAddress if one may not.

    Raises OSError when the host does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not private_allowed():
        for address in addresses:
            if not _is_public(address):
                raise UnsafeAddress(f"{host} resolves to {address}, a private, loopback or reserved address.")
    return addresses


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` at a checked address; the answer's status (a redirect is just a status)."""
    parts = urlsplit(url)
    port = _port(parts)
    address = public_addresses(parts.hostname or "", port)[0]
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(parts.hostname, port, address)
    elif parts.scheme == "http" and not https_required():
        connection = _PinnedHTTPConnection(parts.hostname, port, address)
    else:
        raise UnsafeAddress("Only https:// URLs are accepted.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)
        return answer.status
    finally:
        connection.close()


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, address: str):
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above over TLS, the certificate checked against the URL's host name."""

    def __init__(self, host: str, port: int, address: str):
        super().__init__(host, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
