"""The run's journal: what a crawl killed between archiving a page and storing its ad read
from it reaches the store through the next crawl, even after the page changed.

Without it, the killed run's version of the ad was in the WARC only: the next crawl
fetched the changed page, and the version in between was in no search and no history.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crawl_helpers import DAY0, crawl_day, start_crawl_child, titles_of
from fixture_site import FixtureSite, page, png
from PIL import Image

from crawler.journal import Journal, journal_path, journals_of, removal_key
from crawler.journal import purge as journal_purge
from crawler.journal_replay import Archived, read_left
from crawler.run import crawl, crawl_job
from crawler.source import Source
from crawler.source_lock import SourceBusy, hold, release
from indexer.archive.index import INDEX_FILE
from indexer.archive.writer import Fetched, WarcWriter
from indexer.model import Capture, ad_id_for
from indexer.store import open_store

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def journals(archive: Path) -> list[str]:
    folder = archive / "crawling"
    return sorted(p.name for p in folder.glob("*.journal.jsonl")) if folder.is_dir() else []


def test_an_ad_a_killed_crawl_read_reaches_the_store_after_its_page_changed(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert crawl_day(source, tmp_path, 0).new_ads == 3  # version A of ad 1
    assert journals(archive) == []  # a run that ended with everything written keeps none
    # day 1: ad 1 changed (version B); its photo is slow, so the crawl is killed while
    # ad 1's page is archived and its ad waits for its photo
    site.html("/ad/1", page("ad1.html").replace(b"new in town", b"version B"))
    site.slow.add("/img/1.png")
    site.arrived.clear()
    job = crawl_job([source], str(store_path), archive, clock=DAY0 + timedelta(days=1),
                    progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0})
    proc = start_crawl_child(job)
    try:
        assert site.wait_for_arrival("/img/1.png", timeout=60)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    site.slow.clear()
    site.release.set()
    index = (archive / INDEX_FILE).read_text()
    assert any('/ad/1"' in ln and "2026-11-03" in ln for ln in index.splitlines())
    assert titles_of(store_path, source, "1") == ["Lisa, new in town"]  # B: archived only
    assert len(journals(archive)) == 1

    # started again a little later; the site changed ad 1 once more (version C)
    site.html("/ad/1", page("ad1.html").replace(b"new in town", b"version C"))
    stats = crawl([source], str(store_path), archive, clock=DAY0 + timedelta(days=1, minutes=5),
                  progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0},
                  timeout=120)
    assert stats.total("new_versions") == 2, stats.lines()  # B (replayed), then C
    # B in its place, between A and C, with the photo it showed (fetched by the replay)
    assert titles_of(store_path, source, "1") == [
        "Lisa, new in town", "Lisa, version B", "Lisa, version C"]
    store = open_store(str(store_path))
    try:
        ad = store.get_ad(ad_id_for(source.id, "1"))
        assert ad is not None and all(v.fields.images for v in ad.versions)
        assert ad.versions[1].captures[0].fetched_at.date() == (DAY0 + timedelta(days=1)).date()
    finally:
        store.close()
    assert journals(archive) == []  # replayed, handed over, written: deleted


def test_a_journal_keeps_only_what_no_done_line_names(tmp_path: Path) -> None:
    cap = Capture(url="http://x/ad/1", fetched_at=T0, status=200, sha256="ab" * 32,
                  warc_file="warcs/a.warc.gz", warc_offset=0)
    cap2 = Capture(url="http://x/ad/2", fetched_at=T0, status=200, sha256="cd" * 32,
                   warc_file="warcs/a.warc.gz", warc_offset=100)
    path = journal_path(tmp_path, "src", T0, 42)
    journal = Journal(path, "src", T0)
    journal.ad("1", cap.url, cap, "one", "text", {"city": "Utrecht"}, ["http://x/1.png"])
    journal.ad("2", cap2.url, cap2, "two", "", {}, [])
    journal.removal("3", "http://x/ad/3", T0, "http 404")
    journal.removal("4", "http://x/ad/4", T0, "http 410")
    Journal(path).done([cap.id, removal_key("3", T0)])  # the ingest side, another handle
    journal.close()
    with open(path, "ab") as fh:
        fh.write(b'{"ad": {"site_ad_id": "5", "ur')  # a kill mid-line
    left = read_left(path)
    assert (left.started, left.done, left.broken) == ("2026-11-03T09:00:00.000000Z", 2, 1)
    assert [r["ad"]["site_ad_id"] if "ad" in r else r["removal"]["site_ad_id"]
            for r in left.items] == ["2", "4"]
    assert json.loads(path.read_text().splitlines()[0]) == {
        "run": {"source_id": "src", "started": "2026-11-03T09:00:00.000000Z"}}


def test_journals_are_told_apart_by_source_and_run(tmp_path: Path) -> None:
    early = journal_path(tmp_path, "demo", T0, 7)
    late = journal_path(tmp_path, "demo", T0 + timedelta(hours=1), 3)
    other = journal_path(tmp_path, "demo.x", T0, 7)  # a source whose id begins the same
    same_start = journal_path(tmp_path, "demo", T0, 8)  # a test clock: two runs, one start
    for path in (early, late, other, same_start):
        Journal(path, "s", T0).done(["x"])
    assert journals_of(tmp_path, "demo") == [early, same_start, late]
    assert journals_of(tmp_path, "demo.x") == [other]
    early.with_name(early.name + ".tmp").write_text("")
    assert journals_of(tmp_path, "demo") == [early, same_start, late]


def test_a_killed_run_s_photos_are_read_back_from_the_archive(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "PNG")
    png = buf.getvalue()
    with WarcWriter(tmp_path) as w:
        w.write(Fetched(url="http://x/old.png", status=200, headers=[("Content-Type", "image/png")],
                        body=png, fetched_at=T0 - timedelta(days=1)))  # before the run
        w.write(Fetched(url="http://x/a.png", status=200, headers=[("Content-Type", "image/png")],
                        body=png, fetched_at=T0 + timedelta(seconds=1)))
        w.write(Fetched(url="http://x/gone.png", status=404, headers=[], body=b"no",
                        fetched_at=T0 + timedelta(seconds=2)))
        w.write(Fetched(url="http://x/503.png", status=503, headers=[], body=b"busy",
                        fetched_at=T0 + timedelta(seconds=3)))
        w.write(Fetched(url="http://x/block.png", status=200,
                        headers=[("Content-Type", "text/html")], body=b"<html>captcha</html>",
                        fetched_at=T0 + timedelta(seconds=4)))
    found = Archived(tmp_path, "2026-11-03T09:00:00.000000Z").found(
        ["http://x/a.png", "http://x/gone.png", "http://x/503.png", "http://x/block.png",
         "http://x/old.png", "http://x/never.png", "http://x/a.png"])
    assert set(found) == {"http://x/a.png", "http://x/gone.png"}  # the rest: fetched now
    got = found["http://x/a.png"]
    assert got is not None and got[1] == png
    assert (got[0].source_url, got[0].content_type) == ("http://x/a.png", "image/png")
    assert found["http://x/gone.png"] is None  # gone from the page, as in a crawl


def test_a_killed_run_s_page_is_taken_where_the_archive_has_it_now(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        page_cap = w.write(Fetched(url="http://x/ad/1", status=200,
                                   headers=[("Content-Type", "text/html")], body=b"<p>ad</p>",
                                   fetched_at=T0 + timedelta(seconds=1)))
    archived = Archived(tmp_path, "2026-11-03T09:00:00.000000Z")
    assert archived.page(page_cap) == page_cap
    # a purge rewrote its file since the journal line was written: where the index says
    moved = dataclasses.replace(page_cap, warc_offset=page_cap.warc_offset + 7)
    assert archived.page(moved) == page_cap
    # another payload at that address and time, or none archived (purged): not replayed
    assert archived.page(dataclasses.replace(page_cap, sha256="0" * 64)) is None
    assert archived.page(dataclasses.replace(page_cap, url="http://x/ad/2")) is None


def test_a_purge_takes_out_of_journals_what_it_takes_out_of_the_archive(tmp_path: Path) -> None:
    def cap(site_ad_id: str, at: datetime) -> Capture:
        return Capture(url=f"http://x/ad/{site_ad_id}", fetched_at=at, status=200,
                       sha256="ab" * 32, warc_file="warcs/a.warc.gz", warc_offset=0)

    cutoff = T0 + timedelta(hours=1)
    path = journal_path(tmp_path, "src", T0, 1)
    journal = Journal(path, "src", T0)
    for site_ad_id, at in (("1", T0), ("2", T0), ("3", cutoff + timedelta(minutes=1))):
        journal.ad(site_ad_id, f"http://x/ad/{site_ad_id}", cap(site_ad_id, at), "t", "", {}, [])
    journal.removal("4", "http://x/ad/4", T0, "http 404")
    journal.done([cap("3", cutoff + timedelta(minutes=1)).id])
    journal.close()
    with open(path, "ab") as fh:
        fh.write(b'{"ad": {"site_ad_id": "5", "text": "cut sh')  # a kill mid-line
    held = {ad_id_for("src", "2")}
    lock = hold(tmp_path, "src", "2026-11-03T10:00:00Z")  # a crawl of the source under way
    try:
        with pytest.raises(SourceBusy, match="src is being crawled"):
            journal_purge(tmp_path, "src", cutoff, held)
    finally:
        release(lock)
    assert len(read_left(path).items) == 3  # left as it was (3 is done)
    assert journal_purge(tmp_path, "src", cutoff, held) == 3  # 1, the removal, the cut line
    left = read_left(path)
    assert [r["ad"]["site_ad_id"] for r in left.items] == ["2"]  # 3 is done; 2 is held
    assert left.broken == 0 and left.started == "2026-11-03T09:00:00.000000Z"
    assert journal_purge(tmp_path, "src", cutoff, held) == 0  # again: nothing more
    # a wipe without the hold: nothing left to replay, so the journal goes
    assert journal_purge(tmp_path, "src", None, set()) == 2  # 2, and 3 (done, but said)
    assert journals_of(tmp_path, "src") == []


def test_a_replayed_ad_s_photo_the_killed_run_archived_is_stored_and_inspected(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """The photo is not fetched again (the site now answers 404 for it): it is read back
    from the WARC, stored under its hash and inspected, as the crawl would have."""
    import hashlib

    from indexer.archive.images import find_image

    store_path, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    crawl_day(source, tmp_path, 0)
    started = DAY0 + timedelta(days=1)  # a killed run: its page and photo archived, then
    ad_url, photo_url, photo = f"{site.url}ad/1", f"{site.url}img/killed.png", png(9)
    with WarcWriter(archive) as w:  # its journal, and nothing in the store
        page_cap = w.write(Fetched(url=ad_url, status=200,
                                   headers=[("Content-Type", "text/html")], body=b"<h1>B</h1>",
                                   fetched_at=started + timedelta(seconds=1)))
        w.write(Fetched(url=photo_url, status=200, headers=[("Content-Type", "image/png")],
                        body=photo, fetched_at=started + timedelta(seconds=2)))
    journal = Journal(journal_path(archive, source.id, started, 1), source.id, started)
    journal.ad("1", ad_url, page_cap, "Lisa, version B", "text", {}, [photo_url])
    journal.close()
    site.requests.clear()
    crawl([source], str(store_path), archive, clock=started + timedelta(minutes=5),
          progress=False, settings={"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0}, timeout=120)
    assert not any("killed.png" in r for r in site.requests), site.requests
    store = open_store(str(store_path))
    try:
        ad = store.get_ad(ad_id_for(source.id, "1"))
        assert ad is not None
        replayed = [v for v in ad.versions if v.fields.title == "Lisa, version B"]
        assert len(replayed) == 1
        (image,) = replayed[0].fields.images
    finally:
        store.close()
    assert image.sha256 == hashlib.sha256(photo).hexdigest()
    assert (image.width, image.height, len(image.phash)) == (40, 30, 16)
    stored = find_image(archive, image.sha256)
    assert stored is not None and stored.read() == photo
    assert journals(archive) == []


def test_a_photo_cut_at_the_size_cap_is_not_taken_back_from_the_archive(tmp_path: Path) -> None:
    """A crawl refuses a photo whose download stopped at the size cap ("image was not
    archived": failed, tried again later); the replay must not take its first bytes."""
    whole = png(3)
    with WarcWriter(tmp_path) as w:
        w.write(Fetched(url="http://x/cut.png", status=200,
                        headers=[("Content-Type", "image/png")], body=whole[:40],
                        fetched_at=T0 + timedelta(seconds=1), truncated="length"))
    found = Archived(tmp_path, "2026-11-03T09:00:00.000000Z").found(["http://x/cut.png"])
    assert "http://x/cut.png" not in found, found  # to be fetched now, as any failed photo


def test_a_photo_a_later_killed_run_fetched_is_not_an_earlier_run_s(tmp_path: Path) -> None:
    first, second = png(1), png(2)
    with WarcWriter(tmp_path) as w:
        w.write(Fetched(url="http://x/a.png", status=200, headers=[("Content-Type", "image/png")],
                        body=first, fetched_at=T0 + timedelta(seconds=1)))
        w.write(Fetched(url="http://x/a.png", status=200, headers=[("Content-Type", "image/png")],
                        body=second, fetched_at=T0 + timedelta(hours=2)))  # the next run's
    earlier = Archived(tmp_path, "2026-11-03T09:00:00.000000Z", "2026-11-03T10:00:00.000000Z")
    later = Archived(tmp_path, "2026-11-03T10:00:00.000000Z")
    assert [a.found(["http://x/a.png"])["http://x/a.png"][1] for a in (earlier, later)] == [
        first, second]
