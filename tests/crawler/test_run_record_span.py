"""A run's record spans its captures: it is on record as begun before the first fetch
(the crawl process records it, crawler.process.begin_run), so a crawl killed at once,
before its ingest worker opened the store, is seen as a run that never ended; and the
end it records (and the time of its removals by absence) comes after its last capture,
read from the same clock as its start; the duration the crawl prints is the recorded one."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from crawl_helpers import DAY0, crawl_day, start_crawl_child
from fixture_site import FixtureSite

from crawler.run import crawl_job
from crawler.source import Source
from crawler.status import source_status, status_line
from indexer.crawl_runs import UNFINISHED
from indexer.store import open_store


def test_a_crawl_killed_at_its_first_request_is_on_record_as_unfinished(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    site.slow.add("/robots.txt")  # the crawl's first request: held until it is killed
    store_url = str(tmp_path / "s.sqlite3")
    job = crawl_job([source], store_url, tmp_path / "archive", clock=DAY0, progress=False)
    proc = start_crawl_child(job)
    try:
        assert site.wait_for_arrival("/robots.txt"), "the crawl asked for nothing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = open_store(store_url, create=False)
    try:
        runs = store.crawl_runs(source.id)
        [row] = source_status(store, [source.id], tmp_path / "archive")
    finally:
        store.close()
    assert [(r.started.replace(microsecond=0), r.finish_reason) for r in runs] == [
        (DAY0, UNFINISHED)]
    assert row.killed and "(killed)" in status_line(row), status_line(row)


def test_a_run_ends_on_record_after_its_last_capture(site: FixtureSite, source: Source,
                                                     tmp_path: Path) -> None:
    said = crawl_day(source, tmp_path, 0)
    store = open_store(str(tmp_path / "s.sqlite3"), create=False)
    try:
        [run] = store.crawl_runs(source.id)
        fetched = [c.fetched_at for ad in store.iter_ads() for v in ad.versions
                   for c in v.captures]
    finally:
        store.close()
    assert len(fetched) == 3
    assert run.started <= min(fetched) and max(fetched) <= run.finished
    assert abs(run.duration - (run.finished - run.started).total_seconds()) < 0.001
    assert said.duration == run.duration  # what adtrace crawl printed is what status shows
