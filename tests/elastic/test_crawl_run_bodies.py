"""Crawl-run request bodies, checked without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from indexer.crawl_runs import CrawlRun, RunError
from indexer.store import elastic_bodies, elastic_crawl_runs


def test_run_doc_fits_the_strict_mapping() -> None:
    run = CrawlRun("demo-board", datetime(2026, 11, 1, tzinfo=UTC),
                   datetime(2026, 11, 1, 0, 5, tzinfo=UTC), error_samples=(RunError("u", "r"),),
                   missing=("1",))
    doc = elastic_crawl_runs.run_doc(run)
    props = elastic_bodies.load_mapping("crawl_runs")["mappings"]["properties"]
    assert set(doc) == set(props)
    assert json.loads(json.dumps(doc))["started"] == "2026-11-01T00:00:00.000000Z"


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
