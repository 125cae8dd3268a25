"""Crawl runs: recorded per source, read back newest first, idempotent by (source, start)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indexer.crawl_runs import CrawlRun, RunError

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _run(source: str, hours: int, **kw) -> CrawlRun:
    start = T0 + timedelta(hours=hours)
    return CrawlRun(source_id=source, started=start, finished=start + timedelta(minutes=3),
                    **kw)


def test_no_runs_recorded_reads_empty(store) -> None:
    assert store.crawl_runs() == []
    assert store.crawl_runs("demo-board") == []


def test_a_run_reads_back_whole(store) -> None:
    run = _run("demo-board", 0, pages=12, new_ads=5, new_versions=2, unchanged=3, removed=1,
               errors=2, error_samples=(RunError("http://x/ad/1", "timeout"),
                                        RunError("http://x/ad/2", "http 503")),
               error_kinds=(("timeout", 1), ("http", 1)),
               duration=4.25, finish_reason="finished", listings_complete=True,
               missing=("17", "ad <b>&'\""))
    store.record_crawl_run(run)
    assert store.crawl_runs("demo-board") == [run]


def test_runs_newest_first_per_source_and_limited(store) -> None:
    for h in (0, 24, 48):
        store.record_crawl_run(_run("demo-board", h, pages=h))
    store.record_crawl_run(_run("demo-velvet", 30, pages=1))
    board = store.crawl_runs("demo-board")
    assert [r.pages for r in board] == [48, 24, 0]
    assert [r.source_id for r in store.crawl_runs()] == [
        "demo-board", "demo-velvet", "demo-board", "demo-board"]
    assert [r.pages for r in store.crawl_runs("demo-board", limit=2)] == [48, 24]
    assert store.crawl_runs("nope") == []


def test_recording_the_same_run_twice_keeps_one(store) -> None:
    store.record_crawl_run(_run("demo-board", 0, pages=1, finish_reason="shutdown"))
    store.record_crawl_run(_run("demo-board", 0, pages=9, finish_reason="finished"))
    runs = store.crawl_runs("demo-board")
    assert len(runs) == 1 and runs[0].pages == 9 and runs[0].finish_reason == "finished"
