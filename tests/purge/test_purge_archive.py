"""Purge through store and archive: real WARC files, a real SQLite store, the CLI."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adtrace import purge_cli
from adtrace.cli import main
from crawler.journal import Journal, journal_path
from crawler.journal_replay import read_left
from indexer import purge
from indexer.archive import ArchiveError
from indexer.archive.images import find_image, store_image
from indexer.archive.index import CaptureIndex
from indexer.archive.lock import IMAGE_JOURNAL, RECORD_JOURNAL, ArchiveBusy
from indexer.archive.purge import JOURNAL, noted_records, purge_records
from indexer.archive.reader import read_capture, read_record
from indexer.archive.verify import archive_verify
from indexer.archive.writer import Fetched, WarcWriter
from indexer.model import AdFields, Capture, Enrichment, Observation, SourceInfo, ad_id_for
from indexer.store.sqlite import SqliteStore

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SOURCES = (SourceInfo("old", "Old", "pilot", "NL", "http://old.test"),
           SourceInfo("keep", "Keep", "trafficking", "NL", "http://keep.test"))
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _fetch(url: str, body: bytes, when: datetime) -> Fetched:
    return Fetched(url=url, status=200, headers=[("Content-Type", "text/html")], body=body,
                   fetched_at=when)


@pytest.fixture
def world(tmp_path: Path):
    """Two sources in one WARC file; 'old' has old captures, one revisited later."""
    root = tmp_path / "archive"
    store = SqliteStore(tmp_path / "store.sqlite3")
    for s in SOURCES:
        store.upsert_source(s)
    img = store_image(root, PNG, "http://old.test/i.png", "image/png")
    plan = [("old", "o1", b"<p>old one</p>", NOW - timedelta(days=400), (img,)),
            ("keep", "k1", b"<p>keep one</p>", NOW - timedelta(days=399), ()),
            ("old", "o2", b"<p>old two</p>", NOW - timedelta(days=398), ()),
            ("old", "o2", b"<p>old two</p>", NOW - timedelta(days=2), ()),  # a revisit
            ("keep", "k1", b"<p>keep one v2</p>", NOW - timedelta(days=1), ())]
    with WarcWriter(root) as writer:
        for source, site_id, body, when, images in plan:
            url = f"http://{source}.test/{site_id}"
            cap = writer.write(_fetch(url, body, when))
            fields = AdFields(title=site_id, text=body.decode(), images=images)
            store.write(Observation(source, site_id, url, cap, fields), Enrichment())
    yield root, store
    store.close()


def _readable(root: Path, store: SqliteStore) -> int:
    n = 0
    for ad in store.iter_ads():
        for v in ad.versions:
            for c in v.captures:
                assert read_capture(root, c).sha256 == c.sha256
                n += 1
    return n


def test_purge_by_age_rewrites_the_archive_and_moves_captures(world) -> None:
    root, store = world
    policy = purge.Policy(365)
    chosen = purge.targets(store.sources(), policy, NOW)
    report = purge.run(store, root, chosen, dry_run=False)
    assert report.totals["captures"] == 3  # o1, o2's first fetch, k1's first
    assert store.get_ad(ad_id_for("old", "o1")) is None
    # o2's first capture is purged, but its response record holds the payload its kept
    # revisit points at: kept in the archive, gone from the store
    assert report.archive.kept_for_revisits == 1
    assert report.archive.removed_records == 4  # two responses and their requests
    assert _readable(root, store) == 2
    assert archive_verify(root).ok
    assert report.archive.deleted_images == [PNG_SHA()]
    assert find_image(root, PNG_SHA()) is None
    ids = {e.capture_id for e in CaptureIndex(root).entries()}
    kept = {c.id for a in store.iter_ads() for v in a.versions for c in v.captures}
    assert kept <= ids and len(ids) == len(kept) + 1  # + the record kept for the revisit
    assert not (root / JOURNAL).exists()


def PNG_SHA() -> str:  # noqa: N802 - a constant computed once the helper exists
    from indexer.archive.digest import sha256_hex

    return sha256_hex(PNG)


def test_dry_run_and_held_ads_change_nothing(world) -> None:
    root, store = world
    before = (store.stats(), sorted(p.read_bytes() for p in (root / "warcs").iterdir()))
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW, source="old", wipe=True)
    report = purge.run(store, root, chosen, dry_run=True)
    assert report.totals["ads"] == 2
    store.set_hold(ad_id_for("old", "o1"), "case", "t", NOW)
    store.set_hold(ad_id_for("old", "o2"), "case", "t", NOW)
    report = purge.run(store, root, chosen, dry_run=False)
    assert report.totals["held"] == 2 and report.totals["captures"] == 0
    assert (store.stats(), sorted(p.read_bytes() for p in (root / "warcs").iterdir())) == before


def test_wipe_source_leaves_other_source_intact(world) -> None:
    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW, theme="pilot", wipe=True)
    purge.run(store, root, chosen, dry_run=False)
    assert {a.source_id for a in store.iter_ads()} == {"keep"}
    assert _readable(root, store) == 2
    assert archive_verify(root).ok
    urls = {e.url for e in CaptureIndex(root).entries()}
    assert urls == {"http://keep.test/k1"}


def test_archive_purge_is_idempotent(world) -> None:
    root, store = world
    assert purge_records(root, []).removed_records == 0
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    purge.run(store, root, chosen, dry_run=False)
    files = sorted(p.read_bytes() for p in (root / "warcs").iterdir())
    purge.run(store, root, chosen, dry_run=False)
    assert sorted(p.read_bytes() for p in (root / "warcs").iterdir()) == files


def test_bad_requests_are_refused_with_names() -> None:
    with pytest.raises(purge.RetentionError, match="--wipe needs"):
        purge.targets(list(SOURCES), purge.Policy(10), NOW, wipe=True)
    with pytest.raises(purge.RetentionError, match="'nope'"):
        purge.targets(list(SOURCES), purge.Policy(10), NOW, source="nope")


def test_retention_file_per_theme(tmp_path: Path) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text("themes:\n  pilot: 30\n", encoding="utf-8")
    policy = purge.load_policy(path, 1826)
    assert (policy.days("pilot"), policy.days("trafficking")) == (30, 1826)
    chosen = purge.targets(list(SOURCES), policy, NOW)
    assert [(t.source_id, t.before) for t in chosen] == [
        ("keep", NOW - timedelta(days=1826)), ("old", NOW - timedelta(days=30))]
    path.write_text("themes:\n  pilot: soon\n", encoding="utf-8")
    with pytest.raises(purge.RetentionError, match="pilot"):
        purge.load_policy(path, 1826)


def test_cli_purge_hold_and_audit(world, tmp_path: Path, monkeypatch, capsys) -> None:
    root, store = world
    store.close()
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADTRACE_STORE", str(tmp_path / "store.sqlite3"))
    monkeypatch.setenv("ADTRACE_ARCHIVE_DIR", str(root))
    o1 = ad_id_for("old", "o1")
    assert main(["hold", "add", o1, "--reason", "case 17"]) == 0
    assert main(["hold", "list"]) == 0
    assert o1 in capsys.readouterr().out
    assert main(["purge", "--source", "old", "--wipe"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["purge", "--source", "old", "--wipe", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete" in out and "1 held ads kept" in out
    with WarcWriter(root):  # a crawl writing to the archive: refused, with the reason
        assert main(["purge", "--source", "old", "--wipe", "--yes"]) == 2
    assert "in use by a crawl (or a check): nothing was purged" in capsys.readouterr().err
    # journals killed crawls left hold what the ads said: the wipe takes out the old
    # source's (the held ad's line stays, to be replayed), and leaves the other source's
    cap = Capture(url="http://old.test/ad/o2", fetched_at=NOW, status=200, sha256="a" * 64,
                  warc_file="warcs/x.warc.gz", warc_offset=0)
    old_journal = Journal(journal_path(root, "old", NOW, 1), "old", NOW)
    for site_ad_id in ("o1", "o2"):
        old_journal.ad(site_ad_id, cap.url, cap, "title", "what the ad said", {}, [])
    old_journal.close()
    keep_journal = Journal(journal_path(root, "keep", NOW, 1), "keep", NOW)
    keep_journal.removal("k1", "http://keep.test/ad/k1", NOW, "http 404")
    keep_journal.close()
    assert main(["purge", "--source", "old", "--wipe", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "archive: removed" in out and "journals of killed crawls: took out 1 lines" in out
    assert [r["ad"]["site_ad_id"] for r in read_left(old_journal.path).items] == ["o1"]
    assert len(read_left(keep_journal.path).items) == 1
    again = SqliteStore(tmp_path / "store.sqlite3")
    assert {a.id for a in again.iter_ads() if a.source_id == "old"} == {o1}
    again.close()
    from webui import audit, db

    conn = db.connect(tmp_path)
    assert json.loads(conn.execute("SELECT details FROM audit ORDER BY id DESC LIMIT 1")
                      .fetchone()["details"])["journal_lines"] == 1
    rows = [(r["action"], json.loads(r["details"]).get("phase"))
            for r in conn.execute("SELECT action, details FROM audit ORDER BY id")]
    # each purge is in the log before it starts, then with how it ended
    assert rows == [("hold_add", None), ("purge", "started"), ("purge", "refused"),
                    ("purge", "started"), ("purge", "done")]
    assert audit.verify(conn).ok
    conn.close()
    assert main(["hold", "remove", "nope"]) == 2


def _archive_state(root: Path, store: SqliteStore) -> tuple[object, list[bytes]]:
    return store.stats(), sorted(p.read_bytes() for p in (root / "warcs").iterdir())


def test_cli_purge_refuses_with_the_pack_index_lost_and_changes_nothing(
        world, tmp_path: Path, monkeypatch, capsys) -> None:
    """The refusal comes before the store is touched (found at the photos, the store and
    the WARC files would have let go of the purged captures already), said in a line and
    on record in the audit log."""
    from indexer.archive import image_packs

    root, store = world
    image_packs.index_path(root).unlink()  # lost (a restore without it, a disk error)
    packs = sorted(p.read_bytes() for p in (root / image_packs.PACK_DIR).iterdir())
    before = _archive_state(root, store)
    store.close()
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADTRACE_STORE", str(tmp_path / "store.sqlite3"))
    monkeypatch.setenv("ADTRACE_ARCHIVE_DIR", str(root))
    assert main(["purge", "--source", "old", "--wipe", "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"adtrace purge: archive {root}: images/packs.jsonl: missing, yet 1 "
                          "pack file(s)") and "Traceback" not in err
    assert "nothing was purged" in err and "adtrace archive verify" in err
    again = SqliteStore(tmp_path / "store.sqlite3")
    assert _archive_state(root, again) == before
    again.close()
    assert sorted(p.read_bytes() for p in (root / image_packs.PACK_DIR).iterdir()) == packs
    from webui import db

    conn = db.connect(tmp_path)
    phases = [json.loads(r["details"]).get("phase")
              for r in conn.execute("SELECT details FROM audit ORDER BY id")]
    conn.close()
    assert phases == ["started", "refused"]


def test_a_purge_refuses_while_a_crawl_writes_and_changes_nothing(world) -> None:
    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    before = _archive_state(root, store)
    writer = WarcWriter(root)  # a crawl process writing to the archive
    try:
        with pytest.raises(ArchiveBusy, match="in use by a crawl .or a check.: nothing was purged"):
            purge.run(store, root, chosen, dry_run=False)
        assert _archive_state(root, store) == before
        assert purge.run(store, root, chosen, dry_run=True).totals["captures"] == 3
    finally:
        writer.close()
    assert purge.run(store, root, chosen, dry_run=False).totals["captures"] == 3


def test_an_ingest_worker_holds_the_archive_too(world, tmp_path: Path) -> None:
    from crawler.ingest_core import IngestCore

    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    core = IngestCore(str(tmp_path / "store.sqlite3"), str(root), tmp_path / "spool.jsonl",
                      SOURCES[0])
    core.open()
    try:
        with pytest.raises(ArchiveBusy):
            purge.run(store, root, chosen, dry_run=False)
    finally:
        core.close()
    assert purge.run(store, root, chosen, dry_run=False).totals["captures"] == 3


HOLDER = """
import sys
from indexer.archive.writer import WarcWriter
writer = WarcWriter(sys.argv[1])
print("writing", flush=True)
sys.stdin.read()  # until killed
"""


def test_a_killed_crawl_leaves_no_lock_behind(world) -> None:
    import select
    import subprocess
    import sys

    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    crawl = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert crawl.stdout is not None
        ready, _, _ = select.select([crawl.stdout], [], [], 60)  # fails, not hangs
        assert ready and crawl.stdout.readline() == "writing\n"
        with pytest.raises(ArchiveBusy):  # another process's lock counts
            purge.run(store, root, chosen, dry_run=False)
    finally:
        crawl.kill()
        crawl.wait()
    assert purge.run(store, root, chosen, dry_run=False).totals["captures"] == 3


@pytest.mark.parametrize("start", [WarcWriter, archive_verify], ids=["crawl", "verify"])
def test_a_crawl_or_check_that_starts_during_a_purge_waits_for_it(world, start) -> None:
    import logging
    import threading

    from indexer.archive import lock

    root, _store = world
    waiting = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting for the purge" in record.getMessage():
                waiting.set()

    handler = Seen()
    lock.log.addHandler(handler)
    made: list[object] = []
    held = lock.hold_alone(root)  # a purge runs
    try:
        crawl = threading.Thread(target=lambda: made.append(start(root)), daemon=True)
        crawl.start()
        assert waiting.wait(10)  # it found the purge and waits
        assert not made
    finally:
        lock.release(held)
        lock.log.removeHandler(handler)
    crawl.join(10)
    assert made and not crawl.is_alive()
    if isinstance(made[0], WarcWriter):
        made[0].close()
    else:
        assert made[0].ok  # the check ran, on an archive no purge was changing


def test_no_crawl_writes_until_an_interrupted_purge_is_finished(world) -> None:
    root, store = world
    (root / JOURNAL).write_text('{"swaps": [], "moves": {}, "dropped": []}')  # killed midway
    with pytest.raises(ArchiveBusy, match="a purge was interrupted"):
        WarcWriter(root)
    assert purge_records(root, []).removed_records == 0  # any purge finishes it first
    WarcWriter(root).close()


def test_a_crawl_keeps_the_archive_until_its_engine_stops(world) -> None:
    """The crawl's archive middleware holds the lock through spider_closed (the
    pipeline's last drain may still be waiting for its ingest worker then) and gives it
    up when the engine stops: a real Crawler, its own signals."""
    from scrapy import signals
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

    from crawler.middlewares import ArchiveMiddleware

    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    crawler = Crawler(Spider, {"ADTRACE_ARCHIVE_DIR": str(root)})
    middleware = ArchiveMiddleware.from_crawler(crawler)  # kept, as the crawl's manager keeps
    try:
        crawler.signals.send_catch_log(signals.spider_closed, spider=Spider("s"),
                                       reason="finished")
        with pytest.raises(ArchiveBusy):
            purge.run(store, root, chosen, dry_run=False)
        crawler.signals.send_catch_log(signals.engine_stopped)
        assert middleware.writer._lock is None
    finally:
        middleware.writer.close()  # a failed check must not leave the lock to later tests
    assert purge.run(store, root, chosen, dry_run=False).totals["captures"] == 3


def test_cli_purge_goes_through_a_damaged_pack_and_verify_still_says_so(
        world, tmp_path: Path, monkeypatch, capsys) -> None:
    from indexer.archive import image_packs
    from indexer.archive.lock import IMAGE_JOURNAL

    root, store = world
    kept = store_image(root, PNG + b"kept", "http://keep.test/k.png", "image/png")
    store.close()
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADTRACE_STORE", str(tmp_path / "store.sqlite3"))
    monkeypatch.setenv("ADTRACE_ARCHIVE_DIR", str(root))
    found = find_image(root, kept.sha256)
    assert found is not None and found.packed is not None
    pack = image_packs.pack_path(root, found.packed.pack)
    pack.write_bytes(pack.read_bytes()[:found.packed.offset + 3])  # the kept photo: cut short
    assert main(["purge", "--source", "old", "--wipe", "--yes"]) == 0
    assert "and 1 images" in capsys.readouterr().out
    assert not (root / IMAGE_JOURNAL).exists()
    assert find_image(root, PNG_SHA()) is None
    assert PNG not in b"".join(p.read_bytes() for p in (root / "images").rglob("*.pack"))
    assert main(["archive", "verify", "--archive", str(root)]) == 1
    assert f"cut short (3 of {len(PNG) + 4} bytes) (image {kept.sha256})" in capsys.readouterr().out


@pytest.fixture
def fs_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The renames, unlinks and folder syncs the code under test makes, in order:
    ("replace", destination), ("unlink", path), ("sync", folder)."""
    import os
    import stat

    events: list[tuple[str, str]] = []
    fsync, rename, unlink = os.fsync, os.replace, os.unlink

    def spy_fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            events.append(("sync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def spy_replace(src: str, dst: str) -> None:
        rename(src, dst)
        events.append(("replace", str(dst)))

    def spy_unlink(path: str, *args: object, **kw: object) -> None:
        unlink(path, *args, **kw)
        events.append(("unlink", str(path)))

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "unlink", spy_unlink)
    return events


def _at(events: list[tuple[str, str]], kind: str, path: str) -> int:
    return next(i for i, e in enumerate(events) if e == (kind, path))


def _last(events: list[tuple[str, str]], kind: str, folder: str) -> int:
    return max(i for i, (k, p) in enumerate(events) if k == kind and p.startswith(folder + "/"))


def _synced(events: list[tuple[str, str]], folder: str, start: int, end: int) -> bool:
    return ("sync", folder) in events[start + 1:end]


def test_each_step_of_a_purge_is_on_disk_before_the_next_relies_on_it(
        world, fs_events: list[tuple[str, str]]) -> None:
    """A power cut keeps a file's synced bytes but may lose any folder entry not synced:
    the journal must never name a rewritten file that is not there, and a deleted pack of
    purged photos must not come back once the purge's note of them is gone. The order of
    renames, unlinks and folder syncs a real purge makes is held against that."""
    from indexer.archive import image_packs
    from indexer.archive.lock import IMAGE_JOURNAL

    root, store = world
    events = fs_events
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    report = purge.run(store, root, chosen, dry_run=False)
    assert report.archive.removed_records == 4 and report.archive.deleted_images == [PNG_SHA()]

    warcs, packs = str(root / "warcs"), str(root / image_packs.PACK_DIR)
    journal_in = _at(events, "replace", str(root / JOURNAL))
    assert _synced(events, warcs, -1, journal_in), events  # its rewritten files are there first
    assert _synced(events, str(root), journal_in, journal_in + 2), events  # and the journal
    assert _synced(events, warcs, _last(events, "replace", warcs),
                   _at(events, "unlink", str(root / JOURNAL))), events
    index_in = _at(events, "replace", str(image_packs.index_path(root)))
    assert _synced(events, packs, -1, index_in), events  # new packs are there before it names them
    assert _synced(events, packs, _last(events, "unlink", packs),
                   _at(events, "unlink", str(root / IMAGE_JOURNAL))), events
    assert archive_verify(root).ok


def test_a_photo_file_from_before_packs_is_gone_for_good_before_the_note(
        tmp_path: Path, fs_events: list[tuple[str, str]]) -> None:
    """An archive made before packs keeps a photo per file: its unlink is synced before
    the purge's note of it is deleted."""
    from indexer.archive.lock import IMAGE_JOURNAL
    from indexer.archive.purge import delete_images

    sha = hashlib.sha256(PNG).hexdigest()
    older = tmp_path / "images" / sha[:2] / f"{sha}.png"
    older.parent.mkdir(parents=True)
    older.write_bytes(PNG)
    assert delete_images(tmp_path, [sha]) == [sha] and not older.exists()
    assert _synced(fs_events, str(older.parent), _at(fs_events, "unlink", str(older)),
                   _at(fs_events, "unlink", str(tmp_path / IMAGE_JOURNAL))), fs_events


def _cut_short(tmp_path: Path, cut: int) -> tuple[Path, list[Capture], bytes, int]:
    """Three captures in one file, the last cut ``cut`` bytes into its records, as a
    killed crawl leaves it (a kill mid-record comes before its index line); returns the
    file, the captures, the file's bytes before the cut and where the unfinished record
    starts."""
    with WarcWriter(tmp_path) as w:
        caps = [w.write(_fetch(f"http://x.test/{i}", b"<p>page %d</p>" % i * 50,
                               NOW + timedelta(minutes=i))) for i in range(3)]
    path = tmp_path / caps[0].warc_file
    data = path.read_bytes()
    end = caps[2].warc_offset + cut
    path.write_bytes(data[:end])
    index = tmp_path / "captures.jsonl"
    index.write_bytes(b"".join(index.read_bytes().splitlines(keepends=True)[:-1]))
    [(_file, unfinished)] = archive_verify(tmp_path).truncated
    return path, caps, data[:end], unfinished


@pytest.mark.parametrize("cut", [1, 30, 64, 170, 230, 372])
def test_a_purge_keeps_the_record_a_killed_crawl_cut_short_byte_for_byte(
        tmp_path: Path, cut: int) -> None:
    """The partial record at the end of a file is the trace of a fetch: purging another
    capture of that file keeps it at the end of the rewritten file, and verify still
    reports it (cut in the response's gzip header, its body, or the request after it)."""
    path, caps, data, unfinished = _cut_short(tmp_path, cut)
    result = purge_records(tmp_path, [(caps[0].warc_file, caps[0].warc_offset)])
    assert result.removed_records == 2  # capture 0's response and request
    moved = caps[1].warc_offset  # what went before capture 1
    assert path.read_bytes() == data[moved:]
    report = archive_verify(tmp_path)
    assert report.truncated == [(caps[0].warc_file, unfinished - moved)]
    assert not report.problems
    [entry] = CaptureIndex(tmp_path).entries()
    assert read_record(tmp_path, entry.file, entry.offset).sha256 == caps[1].sha256


def test_a_purge_of_every_whole_record_of_a_cut_file_keeps_the_cut_one(tmp_path: Path) -> None:
    """A file left with no whole record is not deleted: it still holds the cut one."""
    path, caps, data, unfinished = _cut_short(tmp_path, 30)
    result = purge_records(tmp_path, [(c.warc_file, c.warc_offset) for c in caps[:2]])
    assert result.removed_records == 4 and result.deleted_files == []
    assert path.read_bytes() == data[unfinished:]
    assert archive_verify(tmp_path).truncated == [(caps[0].warc_file, 0)]


def test_a_purge_refuses_a_file_damaged_inside_naming_it_and_changes_nothing(
        tmp_path: Path) -> None:
    """A damaged member cannot be copied as a record nor told apart from one: the purge
    says where it is and leaves every file, the index and the store as they were."""
    with WarcWriter(tmp_path) as w:
        caps = [w.write(_fetch(f"http://x.test/{i}", b"<p>page %d</p>" % i * 50,
                               NOW + timedelta(minutes=i))) for i in range(3)]
    path = tmp_path / caps[0].warc_file
    data = bytearray(path.read_bytes())
    data[caps[1].warc_offset + caps[1].warc_length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    index = (tmp_path / "captures.jsonl").read_bytes()
    with pytest.raises(ArchiveError, match="nothing in the archive was changed: "
                                           f"{caps[0].warc_file}@{caps[1].warc_offset}: damaged"):
        purge_records(tmp_path, [(caps[0].warc_file, caps[0].warc_offset)])
    assert path.read_bytes() == bytes(data)
    assert (tmp_path / "captures.jsonl").read_bytes() == index
    assert sorted(p.name for p in (tmp_path / "warcs").iterdir()) == [path.name]
    assert not (tmp_path / JOURNAL).exists()
    assert noted_records(tmp_path) == [(caps[0].warc_file, caps[0].warc_offset)]  # for later


def _archived(root: Path) -> bytes:
    """Every WARC record of the archive inflated (its files must be whole)."""
    return b"".join(gzip.decompress(p.read_bytes()) for p in sorted((root / "warcs").iterdir()))


def test_a_purge_killed_once_the_store_let_go_has_its_records_taken_out_by_the_next(
        world, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the store has let go of a capture nothing else names its record: they are
    written down first, crawls wait, and the next purge takes them out."""
    from indexer.archive import purge as archive_purge

    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)

    def killed(*_args: object, **_kw: object) -> None:
        raise SystemExit("killed")  # the process dies right here

    with monkeypatch.context() as m:
        m.setattr(archive_purge, "purge_records", killed)
        with pytest.raises(SystemExit):
            purge.run(store, root, chosen, dry_run=False)
    assert store.get_ad(ad_id_for("old", "o1")) is None  # the store let go
    assert len(archive_purge.noted_records(root)) == 3  # o1, o2's first, k1's first
    photos = root / IMAGE_JOURNAL
    photos.rename(root / "aside")  # the records' note alone holds no crawl back: a crawl
    with WarcWriter(root) as w:  # writes new files, and a revisit of one keeps it
        w.write(_fetch("http://keep.test/k2", b"<p>keep two</p>", NOW))
    (root / "aside").rename(photos)
    with pytest.raises(ArchiveBusy, match=IMAGE_JOURNAL):
        WarcWriter(root)  # the photos' note does: a photo archived again could go
    report = purge.run(store, root, chosen, dry_run=False)
    assert report.totals["captures"] == 0 and report.archive.removed_records == 4
    assert b"<p>old one</p>" not in _archived(root)
    assert "http://old.test/o1" not in {e.url for e in CaptureIndex(root).entries()}
    assert not (root / RECORD_JOURNAL).exists() and archive_verify(root, store).ok
    WarcWriter(root).close()


def test_a_purge_killed_before_the_store_let_go_takes_out_only_what_the_store_lets_go(
        world) -> None:
    """Killed after its records were written down but before the store committed: the
    store still holds those captures. The next purge (of another source) runs that store
    purge again first, so the records go with their captures, and an ad put under legal
    hold in between keeps both."""
    from indexer.archive import purge as archive_purge

    root, store = world
    old = next(t for t in purge.targets(store.sources(), purge.Policy(365), NOW)
               if t.source_id == "old")
    due = store.purge(old.source_id, old.before, dry_run=True)
    archive_purge.note_records(root, {(c.warc_file, c.warc_offset) for c in due.captures},
                               (old.source_id, old.before))  # …and the process is killed
    assert store.get_ad(ad_id_for("old", "o1")) is not None  # the store did not let go
    store.set_hold(ad_id_for("old", "o1"), "case 7", "t", NOW)
    keep = purge.targets(store.sources(), purge.Policy(365), NOW, source="keep")
    report = purge.run(store, root, keep, dry_run=False)
    assert [r.source_id for r in report.results] == ["old", "keep"]
    assert [len(r.captures) for r in report.results] == [1, 1]  # o2's first, k1's first
    two = store.get_ad(ad_id_for("old", "o2"))
    assert two is not None and len([c for v in two.versions for c in v.captures]) == 1
    held = store.get_ad(ad_id_for("old", "o1"))
    assert held is not None and b"<p>old one</p>" in _archived(root)
    assert _readable(root, store) == 3  # o1's (held), o2's newer, k1's newer
    assert not (root / RECORD_JOURNAL).exists() and archive_verify(root, store).ok


def test_a_purge_stopped_by_ctrl_c_while_the_store_purges_leaves_nothing_written_down(
        world, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the store purges: its transaction is rolled back, so nothing it held
    is left written down for the next purge to take out of the archive."""
    root, store = world
    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    real = store.purge

    def interrupted(source_id: str, before: object, dry_run: bool = False) -> object:
        if not dry_run:
            raise KeyboardInterrupt
        return real(source_id, before, dry_run=dry_run)

    with monkeypatch.context() as m:
        m.setattr(store, "purge", interrupted)
        with pytest.raises(KeyboardInterrupt):
            purge.run(store, root, chosen, dry_run=False)
    assert not (root / RECORD_JOURNAL).exists()
    assert _readable(root, store) == 5 and archive_verify(root, store).ok
    WarcWriter(root).close()  # crawls go on


def _damage(root: Path, cap: Capture) -> bytes:
    """One byte of ``cap``'s response flipped inside its compressed body; the file's
    bytes before."""
    path = root / cap.warc_file
    data = path.read_bytes()
    hit = cap.warc_offset + cap.warc_length // 2
    path.write_bytes(data[:hit] + bytes([data[hit] ^ 0xFF]) + data[hit + 1:])
    return data


def test_a_damaged_file_with_no_record_due_is_reported_and_the_purge_goes_on(world) -> None:
    root, store = world
    with WarcWriter(root) as w:  # a file of its own, none of it due
        caps = [w.write(_fetch(f"http://keep.test/x{i}", b"<p>x%d</p>" % i * 40,
                               NOW - timedelta(hours=i))) for i in range(3)]
    assert caps[0].warc_file != store.get_ad(ad_id_for("old", "o1")).versions[0].captures[
        0].warc_file
    _damage(root, caps[1])
    damaged = (root / caps[1].warc_file).read_bytes()
    report = purge.run(store, root, purge.targets(store.sources(), purge.Policy(365), NOW),
                       dry_run=False)
    assert report.archive.removed_records == 4
    assert [u.split(": ")[0] for u in report.archive.unread] == [
        f"{caps[1].warc_file}@{caps[1].warc_offset}"]
    assert (root / caps[1].warc_file).read_bytes() == damaged
    assert not (root / RECORD_JOURNAL).exists()
    assert _readable(root, store) == 2


def test_a_damaged_file_holding_due_records_fails_the_purge_and_keeps_them_written_down(
        world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The command says what the store's part did and which file stopped the archive's,
    the records due stay written down, and the purge after the file is mended (restored
    from a copy) takes them out."""
    root, store = world
    k1 = store.get_ad(ad_id_for("keep", "k1")).versions[-1].captures[-1]  # not due
    sound = _damage(root, k1)
    store.close()
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADTRACE_STORE", str(tmp_path / "store.sqlite3"))
    monkeypatch.setenv("ADTRACE_ARCHIVE_DIR", str(root))
    monkeypatch.setenv("ADTRACE_RETENTION_DAYS", "365")
    monkeypatch.setattr(purge_cli, "datetime", _FrozenNow)
    assert main(["purge", "--yes"]) == 2
    out, err = capsys.readouterr()
    assert "total: deleted 3 captures" in out
    assert f"{k1.warc_file}@{k1.warc_offset}: damaged" in err and RECORD_JOURNAL in err
    assert len(noted_records(root)) == 3
    assert (root / k1.warc_file).read_bytes()[:k1.warc_offset] == sound[:k1.warc_offset]
    from webui import db

    conn = db.connect(tmp_path)
    phases = [json.loads(r["details"]).get("phase") for r in conn.execute(
        "SELECT details FROM audit WHERE action = 'purge' ORDER BY id")]
    conn.close()
    assert phases == ["started", "archive failed"]
    assert not (root / IMAGE_JOURNAL).exists()  # the photos went all the same
    WarcWriter(root).close()  # and crawls go on: a file may never be mended
    (root / k1.warc_file).write_bytes(sound)  # mended
    assert main(["purge", "--yes"]) == 0
    assert "archive: removed 4 records" in capsys.readouterr().out
    assert not (root / RECORD_JOURNAL).exists()
    assert b"<p>old one</p>" not in _archived(root)


def test_a_revisit_in_a_damaged_stretch_of_another_file_keeps_its_original(
        tmp_path: Path) -> None:
    """The scan cannot read a revisit in a damaged stretch; the capture index still says
    which original it reads, and that one is kept (the kept capture's only payload)."""
    body = b"<p>same page</p>" * 40
    with WarcWriter(tmp_path) as w:
        first = w.write(_fetch("http://x.test/ad/1", body, NOW - timedelta(days=400)))
    with WarcWriter(tmp_path) as w:  # a later crawl: a file of its own
        again = w.write(_fetch("http://x.test/ad/1", body, NOW - timedelta(days=1)))
    assert again.revisit_of == first.id and again.warc_file != first.warc_file
    _damage(tmp_path, again)  # one flipped byte; nothing in this file is due
    result = purge_records(tmp_path, [(first.warc_file, first.warc_offset)])
    assert (result.kept_for_revisits, result.removed_records) == (1, 0)
    assert (tmp_path / first.warc_file).exists() and result.unread


def test_a_revisit_that_lost_its_offset_keeps_its_original_readable_after_a_purge(
        tmp_path: Path) -> None:
    """A revisit whose WARC-Refers-To-Offset is lost is read through its WARC-Refers-To
    and the capture index: the purge keeps its original, and the index follows it when
    it moves."""
    from tests.archive.warc_tamper import drop_header, rewrite_record

    page = b"<p>the ad</p>" * 20
    with WarcWriter(tmp_path) as w:
        old = w.write(_fetch("http://x.test/gone", b"<p>due</p>", NOW - timedelta(days=500)))
        first = w.write(_fetch("http://x.test/ad/1", page, NOW - timedelta(days=400)))
        again = w.write(_fetch("http://x.test/ad/1", page, NOW - timedelta(days=1)))
    assert again.revisit_of == first.id
    rewrite_record(tmp_path / again.warc_file, again.warc_offset,
                   drop_header(b"WARC-Refers-To-Offset"))
    assert read_capture(tmp_path, again).payload == page
    result = purge_records(tmp_path, [(old.warc_file, old.warc_offset),
                                      (first.warc_file, first.warc_offset)])
    assert (result.kept_for_revisits, result.removed_records) == (1, 2)  # old's two
    place = next(e for e in CaptureIndex(tmp_path).entries() if e.capture_id == again.id)
    moved = Capture(**{**again.__dict__, "warc_file": place.file, "warc_offset": place.offset})
    assert read_capture(tmp_path, moved).payload == page
    assert b"<p>due</p>" not in _archived(tmp_path)


def test_a_purge_killed_once_the_last_photos_line_went_is_finished_by_the_next(
        world, monkeypatch: pytest.MonkeyPatch) -> None:
    """A removal writes the index without the photos it takes out (its generation line
    first), then deletes the packs no line names; killed in between, the index names no
    photo and the packs hold the leftovers: the next purge takes them out, and crawls go
    on after it."""
    from indexer.archive import image_packs

    root, store = world
    real = image_packs.replace_synced

    def then_killed(path: Path, data: bytes) -> None:
        real(path, data)
        if path == image_packs.index_path(root):
            raise SystemExit("killed")

    chosen = purge.targets(store.sources(), purge.Policy(365), NOW)
    with monkeypatch.context() as m:
        m.setattr(image_packs, "replace_synced", then_killed)
        with pytest.raises(SystemExit):
            purge.run(store, root, chosen, dry_run=False)
    assert image_packs.holding_packs(root)  # the leftovers
    purge.run(store, root, chosen, dry_run=False)
    assert not image_packs.holding_packs(root) and not (root / IMAGE_JOURNAL).exists()
    WarcWriter(root).close()


def test_a_first_photo_cut_before_its_line_does_not_stop_purges(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack index is made, with its generation line, before a pack holds bytes: a
    crawl killed between an archive's first photo and its line leaves an index that
    names no photo beside a pack holding a cut write, which a purge takes for the
    leftover it is (a missing index beside packs is a lost one, and refused)."""
    from indexer.archive import image_packs

    root = tmp_path / "archive"
    store = SqliteStore(tmp_path / "s.sqlite3")
    store.upsert_source(SOURCES[0])
    with WarcWriter(root) as w:
        cap = w.write(_fetch("http://old.test/o1", b"<p>o1</p>", NOW - timedelta(days=400)))
    store.write(Observation("old", "o1", "http://old.test/o1", cap,
                            AdFields(title="o1", text="o1")), Enrichment())

    def killed(self: object, line: bytes) -> None:
        raise SystemExit("killed")

    with monkeypatch.context() as m:
        m.setattr(image_packs.PackWriter, "_append_line", killed)
        with pytest.raises(SystemExit):
            store_image(root, PNG, "http://old.test/i.png", "image/png")
    assert image_packs.holding_packs(root) and image_packs.index_trouble(root) == ""
    report = archive_verify(root, store)  # as the purge judges it: a leftover, no problem
    assert report.ok and [Path(p).parent.name for p in report.leftovers] == ["packs"]
    report = purge.run(store, root, purge.targets(store.sources(), purge.Policy(365), NOW),
                       dry_run=False)
    store.close()
    assert report.totals["captures"] == 1 and b"<p>o1</p>" not in _archived(root)


class _FrozenNow(datetime):
    @classmethod
    def now(cls, tz: object = None) -> datetime:  # noqa: ARG003 - as datetime.now
        return NOW
