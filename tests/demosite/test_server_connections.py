"""The demo server keeps connections open, as real sites do."""

from __future__ import annotations

import http.client
import time
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



def test_answers_on_a_kept_connection_do_not_wait_for_a_delayed_ack() -> None:
    """Headers and body are written apart; with Nagle's algorithm on, the body waited for
    the client's delayed ACK (40 ms on Linux) and every keep-alive answer took 44 ms."""
    with DemoServer(World(seed=1, n_ads=40, days=1)) as server:
        conn = _connect(server)
        try:
            took = []
            for _ in range(15):
                started = time.perf_counter()
                conn.request("GET", "/robots.txt")
                assert conn.getresponse().read()
                took.append(time.perf_counter() - started)
        finally:
            conn.close()
    assert sorted(took)[len(took) // 2] < 0.02, took
