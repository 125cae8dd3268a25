"""The store fixture: every contract test runs once per backend.

The Elasticsearch backend needs a running server: it is used when ADTRACE_TEST_ES_URL is
set (each test gets its own index prefix, dropped afterwards) and skipped otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from indexer.store.base import Store

BACKENDS = ["sqlite", "elasticsearch"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        from indexer.store.sqlite import SqliteStore

        s = SqliteStore(tmp_path / "contract.sqlite3")
        yield s
        s.close()
        return
    url = os.environ.get("ADTRACE_TEST_ES_URL")
    if not url:
        pytest.skip("Elasticsearch contract run skipped: set ADTRACE_TEST_ES_URL to a test server")
    from indexer.store.elastic import ElasticStore

    es = ElasticStore(url, prefix=f"adtrace-test-{uuid.uuid4().hex[:10]}")
    try:
        yield es
    finally:
        es.drop()
        es.close()
