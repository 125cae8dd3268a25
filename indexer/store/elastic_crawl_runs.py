"""Crawl runs on Elasticsearch: pure request bodies (tested without a server).

One document per run in ``{prefix}-crawl_runs`` with the run's deterministic id, so a
run recorded twice (a retried request) stays one document. Error samples and the
missing ad ids are stored, not indexed: they are only ever read back whole.
"""

from __future__ import annotations

from typing import Any

from indexer.crawl_runs import CrawlRun, run_from_dict, run_to_dict

KIND = "crawl_runs"


# fields each mapping version added: an index still on an older version (not yet moved
# by ``adtrace index migrate``) is strict and would refuse the whole document, so they
# are left out of it there, and the crawl's run is recorded all the same
ADDED_IN: dict[str, int] = {"error_kinds": 2}


def run_doc(run: CrawlRun, index_version: int | None = None) -> dict[str, Any]:
    """The run's document for an index of ``index_version`` (None: the shipped mapping)."""
    doc = run_to_dict(run)
    if index_version is not None:
        for name, version in ADDED_IN.items():
            if index_version < version:
                doc.pop(name, None)
    return doc


def runs_body(source_id: str | None, limit: int) -> dict[str, Any]:
    """Newest started first, optionally one source."""
    query: dict[str, Any] = ({"term": {"source_id": source_id}} if source_id is not None
                             else {"match_all": {}})
    return {"query": query, "size": max(0, int(limit)),
            "sort": [{"started": "desc"}, {"id": "asc"}]}


def runs_from(resp: dict[str, Any]) -> list[CrawlRun]:
    return [run_from_dict(h["_source"]) for h in resp["hits"]["hits"]]
