"""A crawl killed with SIGKILL and started again loses nothing and duplicates nothing.

Reference: day 0 and day 1 of a demo world crawled without interruption. For several N,
the same day 1 crawl starts from a copy of the day 0 state and is killed (SIGKILL, no
chance to flush or close anything) once N more records are in the capture index; then
day 1 is crawled again. Right after the kill, every ad page the killed run archived must
be named in its journal, however long it had waited for the spider. The store must end
up exactly as the reference: the same ads,
the same versions (fingerprints), at least the captures per version of the reference
(an ad page the killed run read is written from its journal, and fetched again by the
run started again if it was due: two true sightings), every stored capture readable
from the archive, and the archive intact but for the one partial
record a kill may leave at the end of a file (and at most one unnamed temporary image
file, which verify lists as a leftover).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawl_helpers import journal_records, start_crawl_child

from crawler.register import load_sources
from crawler.run import crawl, crawl_job
from crawler.source import Source
from demosite.server import DemoServer
from demosite.world import World
from indexer.archive import archive_verify, read_capture
from indexer.archive.index import INDEX_FILE
from indexer.model import to_iso
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
SITE_OF = {"demo-velvet": "velvet", "demo-board": "board"}
DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SETTINGS = {"DOWNLOAD_TIMEOUT": 10, "ADTRACE_INGEST_BATCH": 8}


@pytest.fixture
def demo() -> Iterator[tuple[DemoServer, list[Source]]]:
    world = World(seed=11, n_ads=40, days=3)
    server = DemoServer(world, per_page=8).start()
    sources = [dataclasses.replace(s, base_url=f"{server.url}/{SITE_OF[s.id]}/",
                                   politeness=dataclasses.replace(s.politeness, concurrency=2))
               for s in load_sources(REPO / "sources") if s.id in SITE_OF]
    yield server, sources
    server.stop()


def index_lines(archive: Path) -> int:
    path = archive / INDEX_FILE
    return path.read_bytes().count(b"\n") if path.exists() else 0


def snapshot(store_path: Path, archive: Path) -> dict[str, tuple]:
    """Per ad: removed?, version fingerprints, captures per version; captures must read."""
    out = {}
    store = open_store(str(store_path))
    try:
        for ad in store.iter_ads():
            for v in ad.versions:
                for cap in v.captures:
                    assert read_capture(archive, cap).url == cap.url
            out[ad.id] = (ad.removed_at is not None, tuple(v.fingerprint for v in ad.versions),
                          tuple(len(v.captures) for v in ad.versions))
    finally:
        store.close()
    return out


def unfinished_runs(root: Path) -> set[tuple[str, datetime]]:
    """(source, start to the minute) of the runs recorded as begun and never as ended."""
    store = open_store(str(root / "s.sqlite3"), create=False)
    try:
        return {(r.source_id, r.started.replace(second=0, microsecond=0))
                for r in store.crawl_runs() if not r.ended}
    finally:
        store.close()


AD_PAGE = re.compile(r"/ad/|/view\?adid=")  # the demo sites' ad pages


def unjournaled_pages(archive: Path, since: datetime) -> list[str]:
    """The ad pages (2xx, 404, 410) archived since ``since`` that no journal line names:
    after a kill, each page the killed run archived must be in its journal (a page, ad or
    removal line), however long it had waited for the spider."""
    archived = set()
    for raw in (archive / INDEX_FILE).read_bytes().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue  # the line a kill cut short
        ok = 200 <= entry["status"] < 300 or entry["status"] in (404, 410)
        if (entry["fetched_at"] >= to_iso(since) and entry["type"] in ("response", "revisit")
                and ok and AD_PAGE.search(entry["url"])):
            archived.add((entry["url"], entry["fetched_at"]))
    named = set()
    for record in journal_records(archive):
        for kind in ("page", "ad"):
            if kind in record:
                named.add((record[kind]["url"], record[kind]["capture"]["fetched_at"]))
                named.add((record[kind]["capture"]["url"], record[kind]["capture"]["fetched_at"]))
        if "removal" in record:
            named.add((record["removal"]["url"], record["removal"]["at"]))
    return sorted(url for url, _ in archived - named)


def same_versions(got: dict[str, tuple], expected: dict[str, tuple]) -> bool:
    """The same ads, each as removed or not and with the same versions, each version with
    at least the captures it has in ``expected``."""
    return got.keys() == expected.keys() and all(
        got[k][:2] == expected[k][:2] and len(got[k][2]) == len(expected[k][2])
        and all(g >= e for g, e in zip(got[k][2], expected[k][2], strict=True))
        for k in expected)


def copy_state(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)


def kill_after(job: dict, archive: Path, n_more: int) -> int:
    """Run the crawl child; SIGKILL it once ``n_more`` records were indexed. Returns the
    number of new index lines when it was killed (or when it ended by itself)."""
    base = index_lines(archive)
    proc = start_crawl_child(job)
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and index_lines(archive) - base < n_more:
            assert time.monotonic() < deadline, "crawl made no progress"
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return index_lines(archive) - base


@pytest.mark.slow
def test_sigkill_at_several_moments_then_resume_matches_an_uninterrupted_crawl(
        demo, tmp_path: Path) -> None:
    server, sources = demo
    ref = tmp_path / "ref"
    day1 = DAY0 + timedelta(days=1)

    def go(root: Path, at: datetime) -> None:
        stats = crawl(sources, str(root / "s.sqlite3"), root / "archive", clock=at,
                      progress=False, settings=SETTINGS, timeout=300)
        assert stats.total("errors") == 0, stats.lines()

    server.set_day(0)
    go(ref, DAY0)
    copy_state(ref, tmp_path / "day0")
    server.set_day(1)
    day1_lines = index_lines(ref / "archive")
    go(ref, day1)
    day1_lines = index_lines(ref / "archive") - day1_lines
    expected = snapshot(ref / "s.sqlite3", ref / "archive")
    assert any(len(fps) > 1 for _, fps, _ in expected.values())  # day 1 changed some ads

    killed_at, unfinished = [], set()
    for fraction in (0.1, 0.4, 0.75):
        root = tmp_path / f"kill{fraction}"
        copy_state(tmp_path / "day0", root)
        job = crawl_job(sources, str(root / "s.sqlite3"), root / "archive", clock=day1,
                        progress=False, settings=SETTINGS)
        n = max(1, int(day1_lines * fraction))
        got = kill_after(job, root / "archive", n)
        assert got < day1_lines, f"the crawl finished before the kill at {n}"
        assert not unjournaled_pages(root / "archive", day1), fraction
        killed_at.append(got)
        # recorded as begun where the store opened (in the ingest worker), if it got so far
        killed_runs = unfinished_runs(root)
        assert killed_runs <= {(s.id, day1) for s in sources}
        unfinished |= killed_runs
        go(root, day1 + timedelta(minutes=5))  # started again the same day
        assert unfinished_runs(root) == killed_runs  # kept as history; the new run ended
        got = snapshot(root / "s.sqlite3", root / "archive")
        assert same_versions(got, expected), (fraction, {
            k: (got.get(k), v) for k, v in expected.items() if not same_versions(
                {k: got[k]} if k in got else {}, {k: v})}, got.keys() - expected.keys())
        store = open_store(str(root / "s.sqlite3"), create=False)
        try:  # every capture the store kept is where it says, whole, after the kill
            report = archive_verify(root / "archive", store)
        finally:
            store.close()
        assert report.store_captures and report.store_images and report.index_entries
        assert not report.problems and len(report.truncated) <= 1, report.problems
        assert len(report.leftovers) <= 1, report.leftovers
    assert killed_at == sorted(killed_at) and len(set(killed_at)) == 3, killed_at
    assert unfinished == {(s.id, day1) for s in sources}  # status said of each: unfinished
