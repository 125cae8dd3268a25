"""Retry rules against a local HTTP server speaking the few Elasticsearch answers needed.

No Elasticsearch can run on the build machine; the contract suite covers the real one
(ADTRACE_TEST_ES_URL). Here a real HTTP server on 127.0.0.1 scripts failures to check
what the store does with them: 429/5xx are retried with backoff, 4xx never, and every
request asks for 8.x REST compatibility (accepted by 8.x and 9.x servers).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from indexer.store.base import StoreError
from indexer.store.elastic import ElasticStore


class Scripted(ThreadingHTTPServer):
    """Answers each (method, path-prefix) with the next scripted (status, body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self.log: list[tuple[str, str, str]] = []

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        for (m, prefix), queue in self.script.items():
            if m == method and path.startswith(prefix) and queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return 200, {"acknowledged": True}


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.log.append((self.command, self.path, self.headers.get("Accept", "")))
        status, body = self.server.answer(self.command, self.path)
        data = b"" if self.command == "HEAD" else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _reply

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    srv = Scripted()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _store(srv: Scripted) -> ElasticStore:
    return ElasticStore(f"http://127.0.0.1:{srv.server_address[1]}", prefix="t",
                        backoff_s=0.001)


def _bulk_items(status: int) -> dict[str, Any]:
    return {"errors": status >= 400, "items": [{"update": {"status": status}}]}


def test_requests_ask_for_8x_compatibility(server: Scripted) -> None:
    _store(server)
    assert server.log and all("compatible-with=8" in accept for _, _, accept in server.log)


def test_bulk_items_rejected_with_429_are_retried(server: Scripted) -> None:
    store = _store(server)
    server.script[("PUT", "/_bulk")] = [(200, _bulk_items(429)), (200, _bulk_items(429)),
                                        (200, _bulk_items(200))]
    op = store._op("update", "versions", "v1", {"doc": {}})
    assert store._bulk([op]) == [200]
    assert sum(1 for m, p, _ in server.log if p.startswith("/_bulk")) == 3


def test_server_errors_are_retried_then_reported_with_the_url(server: Scripted) -> None:
    store = _store(server)
    server.script[("GET", "/t-ads/_doc/")] = [(503, {"error": "busy"})]
    with pytest.raises(StoreError, match=r"127\.0\.0\.1"):
        store.get_ad("abc")
    tries = sum(1 for m, p, _ in server.log if p.startswith("/t-ads/_doc/"))
    assert tries == 5  # the first attempt and four retries


def test_client_errors_are_never_retried(server: Scripted) -> None:
    store = _store(server)
    server.script[("GET", "/t-ads/_doc/")] = [(400, {"error": {"type": "bad"}})]
    with pytest.raises(StoreError, match="get ads/abc"):
        store.get_ad("abc")
    assert sum(1 for m, p, _ in server.log if p.startswith("/t-ads/_doc/")) == 1
