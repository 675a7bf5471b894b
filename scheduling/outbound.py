"""Outgoing HTTP to addresses that users typed — webhook receivers (docs/spec.md §15.2) and external
calendars (§16.3) — under one set of SSRF rules, in one place.

A URL a manager registers must not turn the server into a proxy towards its own network: in
production only https://, no credentials in the URL, and every address its host resolves to must be
public — checked when the URL is saved and again when it is used; the request then connects to the
very address that was checked, so a DNS answer that changes in between (rebinding) cannot slip
through. `WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true` opens loopback and private networks (and plain http)
for on-premise peers and tests. Redirects are never followed: http.client does not follow them.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeAddress(Exception):
    """The URL may not be contacted: its scheme, its form, or an address its host resolves to."""


class UnresolvedHost(UnsafeAddress):
    """The host does not resolve (now)."""


class FetchError(Exception):
    """The exchange failed: network, timeout, size; the message says which."""


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


def private_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)


def https_required() -> bool:
    return not (settings.DEBUG or private_allowed())


def validate_outbound_url(url: str) -> None:
    """The checks of a URL before it is stored: scheme, host, and the addresses it resolves to now.

    A host that does not resolve now is accepted (DNS may be down); the check at use decides.
    """
    try:
        check_url(url)
    except UnresolvedHost:
        pass
    except UnsafeAddress as error:
        raise ValidationError(str(error), code="unsafe_url") from error


def check_url(url: str) -> CheckedURL:
    """Parse `url` and resolve its host; raise UnsafeAddress unless it may be contacted."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # a port out of range, a malformed IPv6 literal
        raise UnsafeAddress("Enter a valid URL.") from error
    scheme = parts.scheme.lower()
    allowed = ("https",) if https_required() else ("https", "http")
    if scheme not in allowed:
        raise UnsafeAddress("Only https:// URLs are accepted." if https_required() else "Use an http:// or https:// URL.")
    host = parts.hostname
    if not host:
        raise UnsafeAddress("The URL names no host.")
    if parts.username or parts.password:
        raise UnsafeAddress("Credentials in the URL are not accepted.")
    port = port or DEFAULT_PORTS[scheme]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise UnresolvedHost(f"The host {host} does not resolve: {error}.") from error
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnresolvedHost(f"The host {host} does not resolve.")
    if not private_allowed():
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeAddress(f"{host} resolves to {address}, a private, loopback or reserved address.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CheckedURL(scheme, host, port, target, addresses)


GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, never public


def is_public_address(address: str) -> bool:
    """A public unicast address. IPv6 only from global unicast 2000::/3; the forms that carry an
    IPv4 address are judged by it (IPv4-mapped, NAT64 64:ff9b::/96) or refused (local NAT64
    64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32: a relay reaches an address of the sender's
    choosing); IPv4-compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d and site-local fec0::/10 lie outside
    2000::/3. (Python 3.11 calls several of these `is_global`.)"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in NAT64_WELL_KNOWN:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip in NAT64_LOCAL or ip not in GLOBAL_UNICAST_V6 or ip.sixtofour is not None or ip.teredo is not None:
            return False
    return ip.is_global and not ip.is_multicast


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
    deadline: float | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
    truncate: bool = False,
) -> HttpAnswer:
    """One exchange with a checked address: `timeout` per network operation, `deadline` seconds in
    all, at most `max_bytes` of answer (more is a FetchError, or cut when `truncate`). Raises
    UnsafeAddress or FetchError; any status, a redirect's included, is returned as it is."""
    checked = check_url(url)
    connection_class = _PinnedHTTPSConnection if checked.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(checked, timeout)
    give_up_at = time.monotonic() + (deadline if deadline is not None else timeout)
    # The socket timeouts below bound each read by what is left; the watchdog also ends a read of
    # the status line and headers, which http.client does byte by byte from a buffer, at the deadline.
    watchdog = threading.Timer(max(0.0, give_up_at - time.monotonic()), _cut, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request(method, checked.target, body=body, headers={"User-Agent": "scheduling-backoffice", **(headers or {})})
        # Every blocking step gets only what is left of the deadline: a peer trickling bytes must
        # not reset the clock (each byte would restart a plain per-operation timeout).
        _time_left(connection, give_up_at, timeout, deadline)
        response = connection.getresponse()
        answer = bytearray()
        while True:
            _time_left(connection, give_up_at, timeout, deadline)
            chunk = response.read1(64 * 1024)  # one recv: returns what has arrived, never waits for a full Content-Length
            if not chunk:
                if time.monotonic() >= give_up_at:  # cut by the watchdog, not the end of the answer
                    raise FetchError(_late(timeout, deadline))
                break
            answer += chunk
            if len(answer) > max_bytes:
                if truncate:
                    del answer[max_bytes:]
                    break
                raise FetchError(f"The answer is larger than {max_bytes} bytes.")
        return HttpAnswer(response.status, {k.lower(): v for k, v in response.getheaders()}, bytes(answer))
    except (OSError, http.client.HTTPException) as error:
        if time.monotonic() >= give_up_at:
            raise FetchError(_late(timeout, deadline)) from error
        raise FetchError(f"{type(error).__name__}: {error}") from error
    finally:
        watchdog.cancel()
        connection.close()


def _late(timeout: float, deadline: float | None) -> str:
    return f"The answer took longer than {deadline if deadline is not None else timeout:g} seconds."


def _cut(connection: http.client.HTTPConnection) -> None:
    """The deadline passed: end the exchange; the blocked read returns and `request` reports it."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _time_left(connection: http.client.HTTPConnection, give_up_at: float, timeout: float, deadline: float | None) -> None:
    """The socket's timeout for the next operation: the per-operation timeout, cut to what is left
    of the deadline; none left is a FetchError."""
    left = give_up_at - time.monotonic()
    if left <= 0:
        raise FetchError(_late(timeout, deadline))
    if connection.sock is not None:
        connection.sock.settimeout(max(0.05, min(timeout, left)))


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` at a checked address; the answer's status (its body is read, up to a cap)."""
    return request("POST", url, body=body, headers=headers, truncate=True).status


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float, deadline: float, max_bytes: int) -> HttpAnswer:
    return request("GET", url, headers=headers, timeout=timeout, deadline=deadline, max_bytes=max_bytes)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the URL's host."""

    def __init__(self, checked: CheckedURL, timeout: float):
        super().__init__(checked.host, checked.port, timeout=timeout)
        self._address = checked.addresses[0]

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above over TLS, the certificate checked against the URL's host name."""

    def __init__(self, checked: CheckedURL, timeout: float):
        super().__init__(checked.host, checked.port, timeout=timeout, context=ssl.create_default_context())
        self._address = checked.addresses[0]

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
