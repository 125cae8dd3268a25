"""The demo server keeps connections open, as real sites do."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from demosite import server as server_module
from demosite.server import DemoServer
from demosite.world import World


def _connect(server: DemoServer) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)


def test_one_connection_serves_many_requests() -> None:
    with DemoServer(World(seed=1, n_ads=40, days=2)) as server:
        conn = _connect(server)
        try:
            conn.request("GET", "/velvet/")
            first = conn.getresponse()
            assert first.status == 200 and first.read()
            sock = conn.sock
            # a POST's body is read, not taken for the next request on the connection
            conn.request("POST", "/__demo__/day/1", body=b"ignored")
            moved = conn.getresponse()
            assert moved.status == 200 and b'"day": 1' in moved.read()
            conn.request("GET", "/robots.txt")
            robots = conn.getresponse()
            assert robots.status == 200 and robots.read().startswith(b"User-agent")
            assert conn.sock is sock  # still the first connection
        finally:
            conn.close()


def test_answers_on_a_kept_connection_do_not_wait_for_a_delayed_ack(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers and body are written apart; with Nagle's algorithm on, the body waited for
    the client's delayed ACK (40 ms on Linux) and every keep-alive answer took 44 ms. So
    each connection the server accepts has TCP_NODELAY set (read off the server's own
    socket; the time it saves is crawl_bench's to show, not a test's)."""
    seen: list[int] = []
    setup = server_module._Handler.setup

    def recording_setup(self: server_module._Handler) -> None:
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(server_module._Handler, "setup", recording_setup)
    with DemoServer(World(seed=1, n_ads=40, days=1)) as server:
        conn = _connect(server)
        try:
            for _ in range(3):
                conn.request("GET", "/robots.txt")
                assert conn.getresponse().read()
        finally:
            conn.close()
    assert len(seen) == 1 and seen[0] != 0  # one kept connection, Nagle off
