"""A run's journal whose first line the ingest side wrote still names its run (before,
it had no "run" header, and a journal without one was never replayed: its ads were
counted as errors, then the journal deleted). Found by review."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawl_helpers import DAY0, crawl_day, start_crawl_child, titles_of
from fixture_site import FixtureSite, page, png

from crawler.ingest_core import IngestCore
from crawler.journal import Journal, journal_path
from crawler.journal_replay import read_left
from crawler.run import crawl, crawl_job
from crawler.source import Source
from indexer.model import Capture, SourceInfo, to_iso

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
FAST = {"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}


def test_a_journal_the_ingest_side_wrote_first_still_names_its_run(tmp_path: Path) -> None:
    cap = Capture(url="http://x/ad/1", fetched_at=T0, status=200, sha256="ab" * 32,
                  warc_file="warcs/a.warc.gz", warc_offset=0)
    path = journal_path(tmp_path, "src", T0, 42)
    # the ingest side notes a replayed batch done before the spider journals its first
    # ad of its own
    core = IngestCore(str(tmp_path / "s.sqlite3"), str(tmp_path), tmp_path / "spool.jsonl",
                      SourceInfo("src", "Src", "trafficking", "NL", "http://x/"),
                      to_iso(T0), str(path))
    assert core.journal is not None
    core.journal.done(["some replayed capture id"])
    core.journal.close()
    Journal(path, "src", T0).ad("1", cap.url, cap, "one", "", {}, [])
    left = read_left(path)
    assert left.started == "2026-11-03T09:00:00.000000Z", path.read_text()


def _kill_when(site: FixtureSite, job: dict, path: str) -> None:
    proc = start_crawl_child(job)
    try:
        assert site.wait_for_arrival(path, timeout=60)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)


def test_a_run_killed_after_it_replayed_keeps_what_it_read(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3  # version A of ad 1
    # K1: ad 1 becomes B; killed while B's photo is on its way
    site.html("/ad/1", page("ad1.html").replace(b"new in town", b"version B"))
    site.slow.add("/img/1.png")
    site.arrived.clear()
    _kill_when(site, crawl_job([source], str(store_path), archive,
                               clock=DAY0 + timedelta(days=1), progress=False,
                               settings=FAST), "/img/1.png")
    site.slow.clear()
    site.release.set()
    # K2 (ingest in the crawl process, batches of one: the replayed B is written, and
    # noted done in K2's journal, before K2 reads a page): B replayed, then ad 1 read as
    # C, whose new photo is slow; killed then
    site.pages["/img/9.png"] = (200, "image/png", png(9))
    site.html("/ad/1", page("ad1.html").replace(b"new in town", b"version C")
              .replace(b"/img/1.png", b"/img/9.png"))
    site.slow.add("/img/9.png")
    site.release.clear()
    site.arrived.clear()
    _kill_when(site, crawl_job([source], str(store_path), archive,
                               clock=DAY0 + timedelta(days=1, minutes=5), progress=False,
                               settings={**FAST, "ADTRACE_INGEST_WORKER": False,
                                         "ADTRACE_INGEST_BATCH": 1}), "/img/9.png")
    site.slow.clear()
    site.release.set()
    assert titles_of(store_path, source, "1") == ["Lisa, new in town", "Lisa, version B"]
    # R3: ad 1 is D now; C was only in K2's journal (and the WARC)
    site.html("/ad/1", page("ad1.html").replace(b"new in town", b"version D"))
    stats = crawl([source], str(store_path), archive, clock=DAY0 + timedelta(days=1, minutes=10),
          progress=False, settings=FAST, timeout=120)
    # (ad 1 is not due for a revisit in R3: D is not read; C must come from the journal)
    assert titles_of(store_path, source, "1")[:3] == [
        "Lisa, new in town", "Lisa, version B", "Lisa, version C"], stats.lines()
