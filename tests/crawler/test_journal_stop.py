"""A crawl stopped gracefully (Ctrl-C: SIGINT) while it replays a killed run's journal
keeps that journal (before, it deleted it, though most of its lines were never handed
over), and ends (the replay hands its items straight to the pipeline: Scrapy's scraper,
closing with an item from ``start()`` in its pipelines, waited for good). Found by
review."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

from crawl_helpers import DAY0, crawl_day
from fixture_site import FixtureSite

from crawler.journal import Journal, journal_path, journals_of
from crawler.run import child_command, crawl_job
from crawler.source import Source
from indexer.archive.writer import Fetched, WarcWriter
from indexer.model import ad_id_for
from indexer.store import open_store

FAST = {"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}


def killed_run_journal(site: FixtureSite, source: Source, archive: Path, n: int) -> None:
    """A killed run (started at noon of day 0) archived ``n`` ad pages and stored none."""
    started = DAY0 + timedelta(hours=3)
    journal = Journal(journal_path(archive, source.id, started, 1), source.id, started)
    with WarcWriter(archive) as w:
        for i in range(n):
            url = f"{site.url}ad/{1000 + i}"
            cap = w.write(Fetched(url=url, status=200,
                                  headers=[("Content-Type", "text/html; charset=utf-8")],
                                  body=f"<h1>ad {i}</h1>".encode(),
                                  fetched_at=started + timedelta(milliseconds=i + 1)))
            journal.ad(str(1000 + i), url, cap, f"ad {i}", "journaled text", {}, [])
    journal.close()


def stored_of(store_path: Path, source: Source, n: int) -> int:
    store = open_store(str(store_path))
    try:
        return sum(1 for i in range(n) if store.get_ad(ad_id_for(source.id, str(1000 + i))))
    finally:
        store.close()


def test_a_crawl_stopped_gracefully_during_the_replay_keeps_what_it_did_not_hand_over(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    n = 3000
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    crawl_day(source, tmp_path, 0)
    killed_run_journal(site, source, archive, n)
    job = crawl_job([source], str(store_path), archive, clock=DAY0 + timedelta(days=1),
                    progress=False, settings=FAST)
    cmd, env = child_command()
    err_path = tmp_path / "child.err"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, text=True)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        deadline = time.monotonic() + 60
        while "journal of a killed run" not in err_path.read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C as the replay begins: a graceful stop
        assert proc.wait(timeout=90) == 0
    stored = stored_of(store_path, source, n)
    assert stored < n  # the stop came before the replay handed everything over
    # what was not handed over is still in the journal, to be replayed by the next crawl
    assert journals_of(archive, source.id), (
        f"{stored} of {n} journaled ads stored, and the journal was deleted")
