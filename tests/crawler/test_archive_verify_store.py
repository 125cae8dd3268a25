"""``adtrace archive verify`` holds the archive against the store and the capture index:
a WARC file, an image or the index that is gone, and a damaged stretch inside a file,
are each reported by name, where a scan of what is there could not see them."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main
from indexer.archive import find_image, image_packs
from indexer.model import Capture, from_iso, to_iso
from indexer.store import open_store
from tests.archive.warc_tamper import edit_block, rewrite_record


@pytest.fixture
def crawled(site: FixtureSite, tmp_path: Path) -> tuple[Path, Path]:
    """(archive, store) after one real crawl of the fixture site."""
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    store, archive = tmp_path / "s.sqlite3", tmp_path / "archive"
    assert main(["crawl", "--dir", str(sources), "--store", str(store),
                 "--archive", str(archive), "--quiet"]) == 0
    return archive, store


def verify(archive: Path, store: Path | None, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = ["archive", "verify", "--archive", str(archive), "--quiet"]
    code = main([*args, "--store", str(store)] if store else args)
    return code, capsys.readouterr().out


def store_figures(store: Path) -> tuple[int, set[str], dict[str, int]]:
    """(captures, image hashes, captures per WARC file) as the store has them."""
    db = open_store(str(store), create=False)
    try:
        captures, images, per_file = 0, set(), {}
        for ad in db.iter_ads():
            for version in ad.versions:
                images.update(i.sha256 for i in version.fields.images)
                for capture in version.captures:
                    captures += 1
                    per_file[capture.warc_file] = per_file.get(capture.warc_file, 0) + 1
        return captures, images, per_file
    finally:
        db.close()


def ad_captures(store: Path) -> list[tuple[str, Capture]]:
    """("ad … version …", capture) for every capture the store has, as verify labels them."""
    db = open_store(str(store), create=False)
    try:
        return [(f"ad {ad.id} version {version.seq}", capture) for ad in db.iter_ads()
                for version in ad.versions for capture in version.captures]
    finally:
        db.close()


def test_an_intact_archive_is_held_against_its_store(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    captures, images, _ = store_figures(store)
    assert captures >= 3 and images  # the fixture's ads have photos
    code, out = verify(archive, store, capsys)
    assert code == 0, out
    assert f"store: {captures} capture(s) and {len(images)} image(s) looked for" in out
    assert out.strip().endswith("OK")
    code, out = verify(archive, None, capsys)
    assert code == 0 and "store: not checked (--archive was named without --store)" in out


def test_a_missing_warc_file_is_named_with_the_captures_it_held(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    _, _, per_file = store_figures(store)
    file, n = next(iter(per_file.items()))
    (archive / file).unlink()
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert f"BAD  {file}: missing, yet the store names {n} capture(s) in it (first: ad " in out
    assert f"BAD  {file}: missing, yet captures.jsonl names" in out
    # the archive alone, without the store, still sees it through the capture index
    code, out = verify(archive, None, capsys)
    assert code == 1 and f"BAD  {file}: missing, yet captures.jsonl names" in out


def test_a_missing_image_is_named_with_the_ads_that_show_it(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    _, images, _ = store_figures(store)
    sha = sorted(images)[0]
    assert find_image(archive, sha) is not None
    index = image_packs.index_path(archive)  # its line lost
    index.write_bytes(b"".join(line for line in index.read_bytes().splitlines(keepends=True)
                               if sha.encode() not in line))
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert f"BAD  image {sha}: missing, yet 1 ad version(s) in the store show it (first: ad " \
        in out
    assert sum(line.startswith("BAD") for line in out.splitlines()) == 1, out


def test_a_missing_capture_index_is_a_problem(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    (archive / "captures.jsonl").unlink()
    code, out = verify(archive, store, capsys)
    assert code == 1 and "BAD  captures.jsonl: missing, yet the WARC files hold" in out


def test_a_damaged_stretch_inside_a_file_is_not_taken_for_a_cut_tail(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    _, _, per_file = store_figures(store)
    file = next(iter(per_file))
    path = archive / file
    pristine = path.read_bytes()
    data = bytearray(pristine)
    data[30:60] = bytes(b ^ 0xFF for b in data[30:60])  # inside the first record's deflate
    path.write_bytes(bytes(data))
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert "PARTIAL" not in out
    damaged = [line for line in out.splitlines() if ": damaged: " in line]
    assert len(damaged) == 1 and damaged[0].startswith(f"BAD  {file}@0: damaged: ")
    assert "up to the next record at " in damaged[0]
    # what the index and the store name inside it is said to be there, in a few words
    inside = [line for line in out.splitlines() if "in the damaged stretch at" in line]
    assert inside and all(line.endswith(f"{file}@0") for line in inside), out
    assert all(len(line) < 400 and line.isprintable() for line in out.splitlines()), out
    # every record after the damaged one was still read and checked (one per member)
    path.write_bytes(pristine)
    _, intact = verify(archive, store, capsys)
    records = int(intact.split(" record(s)")[0].split()[-1])
    assert f", {records - 1} record(s)" in out, (out, intact)


def test_the_default_store_is_checked_with_the_default_archive_and_a_dead_one_is_an_error(
        crawled: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    monkeypatch.setenv("ADTRACE_ARCHIVE_DIR", str(archive))
    monkeypatch.setenv("ADTRACE_STORE", str(store))
    assert main(["archive", "verify", "--quiet"]) == 0
    assert "store: 3 capture(s)" in capsys.readouterr().out
    monkeypatch.setenv("ADTRACE_STORE", str(store.with_name("not-made-yet.sqlite3")))
    assert main(["archive", "verify", "--quiet"]) == 0
    assert "store: not checked (no store at " in capsys.readouterr().out
    # an Elasticsearch store that is down: an error, not an unchecked OK
    monkeypatch.setenv("ADTRACE_STORE", "http://127.0.0.1:9")
    assert main(["archive", "verify", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "OK" not in captured.out
    assert "Elasticsearch at http://127.0.0.1:9: " in captured.err
    assert "(--no-store checks the archive alone)" in captured.err
    assert main(["archive", "verify", "--quiet", "--no-store"]) == 0


def test_a_hostile_url_in_a_problem_is_printed_escaped(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import json

    archive, store = crawled
    index = archive / "captures.jsonl"
    entry = json.loads(index.read_text(encoding="utf-8").splitlines()[0])
    entry.update(url="http://x.test/\x1b[2J\nBAD  forged line", file="warcs/gone.warc.gz")
    with open(index, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert "(http://x.test/\\x1b[2J\\nBAD  forged line))" in out
    assert "\x1b" not in out and not any(line.startswith("BAD  forged") for line in out.splitlines())


def _flip(path: Path, offset: int) -> None:
    """Flip one byte of ``path`` at ``offset`` (a bad disk block, in small)."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_a_damaged_image_is_named_with_the_ads_that_show_it(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    _, images, _ = store_figures(store)
    sha = sorted(images)[0]
    packed = image_packs.PackIndex(archive).get(sha)
    assert packed is not None
    _flip(image_packs.pack_path(archive, packed.pack), packed.offset + packed.length // 2)
    code, out = verify(archive, store, capsys)
    assert code == 1
    bad = [line for line in out.splitlines() if line.startswith("BAD")]
    assert len(bad) == 2, out  # the pack's bytes, and the ad that shows them
    assert f"content does not match image {sha}" in bad[0]
    assert bad[1].startswith(f"BAD  image {sha} (images/packs/{packed.pack}@{packed.offset}: "
                             "its content does not match its hash): not readable whole, yet "
                             "1 ad version(s) in the store show it (first: ad "), out
    # cut short: said as such, with the ad
    os.truncate(image_packs.pack_path(archive, packed.pack), packed.offset + 10)
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert (f"BAD  image {sha} (images/packs/{packed.pack}@{packed.offset}: cut short (10 of "
            f"{packed.length} bytes)): not readable whole, yet 1 ad version(s)") in out


def test_a_damaged_second_copy_of_an_image_costs_no_ad_its_image(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Two processes that archive one image at once each pack it: the first line is the
    copy the archive gives out, so damage to the other is a problem of the pack alone."""
    archive, store = crawled
    _, images, _ = store_figures(store)
    sha = sorted(images)[0]
    served = find_image(archive, sha)
    assert served is not None
    body = served.read()
    second = image_packs.PackWriter(archive).add(sha, body, "jpg", ("", 0, 0, ""))
    _flip(image_packs.pack_path(archive, second.pack), second.offset)
    code, out = verify(archive, store, capsys)
    assert code == 1
    bad = [line for line in out.splitlines() if line.startswith("BAD")]
    assert len(bad) == 1 and f"content does not match image {sha}" in bad[0], out
    assert "ad version(s) in the store show it" not in out


CHANGED = "block digest does not match (the record's HTTP head or body was changed)"


def test_a_status_line_changed_in_place_is_bad_and_no_longer_the_stores(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The ad page answered 200; its record is made to say 404 (the ad removed), its
    body and gzip member left sound: the block digest tells, and so does the store."""
    archive, store = crawled
    label, cap = ad_captures(store)[0]
    assert cap.status == 200
    rewrite_record(archive / cap.warc_file, cap.warc_offset,
                   *(edit_block(b"HTTP/1.1 200 OK", forged) for forged in (
                       b"HTTP/1.1 404 OK", b"HTTP/1.1 404 ", b"HTTP/1.1 404", b"HTTP/1.1 404 X")))
    code, out = verify(archive, store, capsys)
    assert code == 1
    where = f"{cap.warc_file}@{cap.warc_offset}"
    assert [line for line in out.splitlines() if line.startswith("BAD")] == [
        f"BAD  {where}: response record of {cap.url}: {CHANGED}",
        f"BAD  store, {label} ({cap.url}): {where}: HTTP status 404 in the record, 200 in "
        "the store",
    ], out


def test_a_request_record_changed_in_place_is_bad(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    archive, store = crawled
    _, cap = ad_captures(store)[0]
    request_at = cap.warc_offset + cap.warc_length  # the writer puts it right after
    rewrite_record(archive / cap.warc_file, request_at,
                   *(edit_block(b"User-Agent: adtrace/0.1", forged) for forged in (
                       b"User-Agent: Mozilla/5", b"User-Agent: Mozilla", b"User-Agent: curl",
                       b"User-Agent: x")))
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("BAD")] == [
        f"BAD  {cap.warc_file}@{request_at}: request record of {cap.url}: {CHANGED}"], out


def test_a_store_capture_that_disagrees_with_its_record_is_named_with_both_values(
        crawled: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The store's status and fetch time of a capture are the record's (to the µs)."""
    archive, store = crawled
    (label1, cap1), (label2, cap2) = ad_captures(store)[:2]
    later = to_iso(cap2.fetched_at + timedelta(microseconds=1))
    with sqlite3.connect(store) as db:
        db.execute("UPDATE captures SET status = 404 WHERE url = ?", (cap1.url,))
        db.execute("UPDATE captures SET fetched_at = ? WHERE url = ?", (later, cap2.url))
    db.close()
    assert from_iso(later) != cap2.fetched_at
    code, out = verify(archive, store, capsys)
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("BAD")] == [
        f"BAD  store, {label1} ({cap1.url}): {cap1.warc_file}@{cap1.warc_offset}: "
        "HTTP status 200 in the record, 404 in the store",
        f"BAD  store, {label2} ({cap2.url}): {cap2.warc_file}@{cap2.warc_offset}: "
        f"fetched at {to_iso(cap2.fetched_at)} in the record, {later} in the store",
    ], out
