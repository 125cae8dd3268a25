"""Crawl-run request bodies, checked without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from indexer.crawl_runs import CrawlRun, RunError
from indexer.store import elastic_bodies, elastic_crawl_runs
from tests.elastic.scripted_server import Scripted, store_for


def test_run_doc_fits_the_strict_mapping() -> None:
    run = CrawlRun("demo-board", datetime(2026, 11, 1, tzinfo=UTC),
                   datetime(2026, 11, 1, 0, 5, tzinfo=UTC), error_samples=(RunError("u", "r"),),
                   missing=("1",))
    doc = elastic_crawl_runs.run_doc(run)
    props = elastic_bodies.load_mapping("crawl_runs")["mappings"]["properties"]
    assert set(doc) == set(props)
    assert json.loads(json.dumps(doc))["started"] == "2026-11-01T00:00:00.000000Z"


def test_an_index_not_yet_migrated_gets_the_run_without_newer_fields() -> None:
    """A strict version-1 index would refuse a document with the error kinds (mapping
    version 2): the run is recorded there without them until ``index migrate``."""
    run = CrawlRun("s", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                   errors=2, error_kinds=(("timeout", 2),))
    shipped = elastic_bodies.mapping_version("crawl_runs")
    assert shipped >= 2
    assert elastic_crawl_runs.run_doc(run, shipped)["error_kinds"] == {"timeout": 2}
    old = elastic_crawl_runs.run_doc(run, 1)
    assert "error_kinds" not in old and old["errors"] == 2
    v1_fields = set(elastic_bodies.load_mapping("crawl_runs")["mappings"]["properties"]) - {
        name for name, v in elastic_crawl_runs.ADDED_IN.items() if v > 1}
    assert set(old) == v1_fields


def test_runs_body_filters_by_source_and_sorts_newest_first() -> None:
    body = elastic_crawl_runs.runs_body("demo-board", 5)
    assert body["query"] == {"term": {"source_id": "demo-board"}}
    assert body["size"] == 5 and body["sort"][0] == {"started": "desc"}
    assert elastic_crawl_runs.runs_body(None, 50)["query"] == {"match_all": {}}


def test_runs_from_reads_hits() -> None:
    run = CrawlRun("s", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
                   pages=3)
    resp = {"hits": {"hits": [{"_source": elastic_crawl_runs.run_doc(run)}]}}
    assert elastic_crawl_runs.runs_from(resp) == [run]


@pytest.mark.parametrize(("index", "has_kinds"), [("t-crawl_runs-v1", False),
                                                  ("t-crawl_runs-v2", True)])
def test_the_store_writes_a_run_as_the_index_behind_the_alias_takes_it(
        server: Scripted, index: str, has_kinds: bool) -> None:
    """Over HTTP to a scripted Elasticsearch: the write alias's index is asked for once,
    and a version-1 index (not yet migrated) gets the run without the kinds."""
    server.script[("GET", "/_alias/t-crawl_runs-write")] = [(200, {
        index: {"aliases": {"t-crawl_runs-write": {"is_write_index": True},
                            "t-crawl_runs": {}}}})]
    store = store_for(server)
    t = datetime(2026, 11, 1, tzinfo=UTC)
    for minutes in (0, 5):
        store.record_crawl_run(CrawlRun("s", t, t + timedelta(minutes=minutes), errors=1,
                                        error_kinds=(("timeout", 1),)))
    docs = [json.loads(body) for method, path, body in server.bodies
            if method == "PUT" and path.startswith("/t-crawl_runs-write/_doc/")]
    assert len(docs) == 2 and all(("error_kinds" in d) is has_kinds for d in docs)
    assert all(d["errors"] == 1 for d in docs)
    asked = [p for m, p, _ in server.log if m == "GET" and p.startswith("/_alias/")]
    assert asked == ["/_alias/t-crawl_runs-write"]
