"""The outbound rules shared by webhooks and calendar fetches (docs/spec.md §15.2, §16.3): the deadline
holds against a peer that trickles its answer, and IPv6 forms that carry an IPv4 address are judged
by it (or refused)."""

from __future__ import annotations

import socketserver
import threading
import time

import pytest

from scheduling import outbound


class Trickler(socketserver.BaseRequestHandler):
    """Sends a status line, then one byte every 0.5 s: inside a long body, or inside a header."""

    def handle(self):
        self.request.recv(65536)
        if self.server.mode == "body":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        else:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not self.server.stopping.wait(0.5):
            try:
                self.request.sendall(b"a")
            except OSError:
                return


@pytest.fixture
def trickler(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Trickler)
    server.daemon_threads = True
    server.stopping = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/slow.ics"
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["body", "headers"])
def test_the_deadline_holds_against_an_answer_trickled_byte_by_byte(trickler, mode):
    trickler.mode = mode
    began = time.monotonic()

    with pytest.raises(outbound.FetchError) as failed:
        outbound.http_get(trickler.url, timeout=1, deadline=2, max_bytes=1_000_000)

    # A behaviour bound, not a benchmark: without the deadline on every read this takes minutes.
    assert time.monotonic() - began < 4
    assert str(failed.value) == "The answer took longer than 2 seconds."


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::7f00:1",  # local-use NAT64
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:808:808::1",  # 6to4 even of a public IPv4: its relay is not ours to pick
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::7f00:1",  # IPv4-compatible
        "::ffff:0:7f00:1",  # SIIT
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "fec0::1",  # site-local
        "fe80::1",
        "fc00::1",
        "::1",
        "::",
        "ff02::1",
        "127.0.0.1",
        "169.254.169.254",
        "10.0.0.1",
    ],
)
def test_non_public_addresses_are_refused_in_every_form(address):
    assert not outbound.is_public_address(address)


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "64:ff9b::808:808", "::ffff:8.8.8.8", "93.184.216.34"])
def test_public_addresses_stay_accepted(address):
    assert outbound.is_public_address(address)


def test_check_url_refuses_a_nat64_literal_of_the_metadata_address(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(outbound.UnsafeAddress):
        outbound.check_url("https://[64:ff9b::a9fe:a9fe]/latest/meta-data")
