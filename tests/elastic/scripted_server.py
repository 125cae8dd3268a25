"""A real HTTP server on 127.0.0.1 that answers as Elasticsearch would, from a script.

No Elasticsearch can run on the build machine; the contract suite covers the real one
(ADTRACE_TEST_ES_URL). Tests script the few answers a path of the store needs (each
(method, path-prefix) gets the next scripted answer, the last one repeated) and read the
requests it received, bodies included.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from indexer.store.elastic import ElasticStore


class Scripted(ThreadingHTTPServer):
    """Answers each (method, path-prefix) with the next scripted (status, body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self.log: list[tuple[str, str, str]] = []
        self.bodies: list[tuple[str, str, bytes]] = []  # (method, path, request body)

    def answer(self, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
        """The next scripted answer; unscripted, a bulk request gets 200 for each of its
        operations and anything else a bare acknowledgement."""
        for (m, prefix), queue in self.script.items():
            if m == method and path.startswith(prefix) and queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        if path.startswith("/_bulk"):
            return 200, {"errors": False, "items": [{verb: {"status": 200}}
                                                    for verb in bulk_verbs(body)]}
        return 200, {"acknowledged": True}


def bulk_verbs(body: bytes) -> list[str]:
    """The verb of each operation of a bulk body (a delete has no document line)."""
    lines = iter(json.loads(line) for line in body.splitlines() if line.strip())
    verbs = []
    for action in lines:
        [verb] = action
        verbs.append(verb)
        if verb != "delete":
            next(lines)
    return verbs


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.bodies.append((self.command, self.path, body))
        self.server.log.append((self.command, self.path, self.headers.get("Accept", "")))
        status, answer = self.server.answer(self.command, self.path, body)
        data = b"" if self.command == "HEAD" else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _reply

    def log_message(self, *args: Any) -> None:
        pass


def store_for(srv: Scripted) -> ElasticStore:
    """An ElasticStore speaking to ``srv`` (index prefix ``t``, backoff cut short)."""
    return ElasticStore(f"http://127.0.0.1:{srv.server_address[1]}", prefix="t",
                        backoff_s=0.001)
