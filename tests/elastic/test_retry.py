"""Retry rules against a local HTTP server speaking the few Elasticsearch answers needed.

No Elasticsearch can run on the build machine; the contract suite covers the real one
(ADTRACE_TEST_ES_URL). Here a real HTTP server on 127.0.0.1 scripts failures to check
what the store does with them: 429/5xx are retried with backoff, 4xx never, and every
request asks for 8.x REST compatibility (accepted by 8.x and 9.x servers).
"""

from __future__ import annotations

from typing import Any

import pytest

from indexer.store.base import StoreError
from tests.elastic.scripted_server import Scripted, store_for


def _bulk_items(status: int) -> dict[str, Any]:
    return {"errors": status >= 400, "items": [{"update": {"status": status}}]}


def test_requests_ask_for_8x_compatibility(server: Scripted) -> None:
    store_for(server)
    assert server.log and all("compatible-with=8" in accept for _, _, accept in server.log)


def test_bulk_items_rejected_with_429_are_retried(server: Scripted) -> None:
    store = store_for(server)
    server.script[("PUT", "/_bulk")] = [(200, _bulk_items(429)), (200, _bulk_items(429)),
                                        (200, _bulk_items(200))]
    op = store._op("update", "versions", "v1", {"doc": {}})
    assert store._bulk([op]) == [200]
    assert sum(1 for m, p, _ in server.log if p.startswith("/_bulk")) == 3


def test_server_errors_are_retried_then_reported_with_the_url(server: Scripted) -> None:
    store = store_for(server)
    server.script[("GET", "/t-ads/_doc/")] = [(503, {"error": "busy"})]
    with pytest.raises(StoreError, match=r"127\.0\.0\.1"):
        store.get_ad("abc")
    tries = sum(1 for m, p, _ in server.log if p.startswith("/t-ads/_doc/"))
    assert tries == 5  # the first attempt and four retries


def test_client_errors_are_never_retried(server: Scripted) -> None:
    store = store_for(server)
    server.script[("GET", "/t-ads/_doc/")] = [(400, {"error": {"type": "bad"}})]
    with pytest.raises(StoreError, match="get ads/abc"):
        store.get_ad("abc")
    assert sum(1 for m, p, _ in server.log if p.startswith("/t-ads/_doc/")) == 1
