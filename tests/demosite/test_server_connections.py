"""The demo server keeps connections open, as real sites do."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

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

