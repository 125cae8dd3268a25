"""The demo server keeps connections open, as real sites do."""

from __future__ import annotations

import http.client
import io
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
    """An answer written in parts (headers and body once, a large body still) waits, with
    Nagle's algorithm on, for the client's delayed ACK (40 ms on Linux): every keep-alive
    answer took 44 ms when headers and body were written apart. So
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


class _CountingSocket:
    """The server's side of a connection, counting the writes that reach the socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock, self.writes = sock, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:  # http.server's unbuffered writer
        self.writes += 1
        self._sock.sendall(data)

    def makefile(self, mode: str, buffering: int = -1) -> object:
        if "w" not in mode:
            return self._sock.makefile(mode, buffering)
        counting = self

        class Raw(io.RawIOBase):
            def writable(self) -> bool:
                return True

            def write(self, data: bytes) -> int:  # type: ignore[override]
                counting.sendall(bytes(data))
                return len(data)

        return io.BufferedWriter(Raw(), buffering)


def test_each_answer_goes_out_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Status line, headers and body in one write, as real servers send a small answer:
    http.server wrote the headers and the body apart, and a client then read each
    answer twice."""
    connections: list[_CountingSocket] = []
    setup = server_module._Handler.setup

    def counting_setup(self: server_module._Handler) -> None:
        self.request = _CountingSocket(self.request)
        connections.append(self.request)
        setup(self)

    monkeypatch.setattr(server_module._Handler, "setup", counting_setup)
    with DemoServer(World(seed=1, n_ads=40, days=1)) as server:
        conn = _connect(server)
        try:
            for path in ("/robots.txt", "/velvet/", "/no/such/page"):
                conn.request("GET", path)
                assert conn.getresponse().read()
        finally:
            conn.close()
    assert len(connections) == 1 and connections[0].writes == 3


def test_a_client_that_waits_for_100_continue_gets_it_at_once() -> None:
    """An answer is sent in one write after it is complete, but "100 Continue" must go
    out before it: the client sends the body only once it has it."""
    with DemoServer(World(seed=1, n_ads=40, days=2)) as server:
        parts = urlsplit(server.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(b"POST /__demo__/day/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
                         b"Expect: 100-continue\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")  # 10 s: fails
            sock.sendall(b"ignored")
            answer = b""
            while b'"day": 1' not in answer:
                chunk = sock.recv(4096)
                assert chunk, answer
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
