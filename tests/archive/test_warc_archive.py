"""The archive keeps every fetch as verifiable evidence (real files, real warcio)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from indexer.archive import (
    ArchiveError,
    Fetched,
    WarcWriter,
    archive_verify,
    find_image,
    image_packs,
    read_capture,
    read_record,
    store_image,
)
from indexer.archive.digest import sha256_hex
from indexer.archive.index import CaptureIndex
from indexer.model import Capture
from tests.archive.warc_tamper import drop_header, rewrite_record

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def fetched(url: str, body: bytes, *, status: int = 200, at: datetime = T0) -> Fetched:
    return Fetched(url=url, status=status, body=body, fetched_at=at,
                   headers=[("Content-Type", "text/html; charset=utf-8")],
                   request_headers=[("User-Agent", "adtrace-test")])


def test_response_is_written_and_read_back_with_its_digest(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        cap = w.write(fetched("http://x.test/ad/1", b"<h1>Ad one</h1>"))
    assert cap.sha256 == sha256_hex(b"<h1>Ad one</h1>")
    assert cap.warc_file.startswith("warcs/") and cap.warc_file.endswith(".warc.gz")
    assert cap.warc_length > 0 and cap.revisit_of == ""
    rec = read_capture(tmp_path, cap)
    assert (rec.type, rec.url, rec.status, rec.payload) == (
        "response", "http://x.test/ad/1", 200, b"<h1>Ad one</h1>")
    assert rec.date.startswith("2026-11-01T12:00:00")
    assert rec.content_type == "text/html; charset=utf-8"


def test_same_payload_again_becomes_a_revisit_pointing_at_the_original(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        first = w.write(fetched("http://x.test/ad/1", b"same"))
        second = w.write(fetched("http://x.test/ad/1", b"same", at=T0 + timedelta(days=1)))
        changed = w.write(fetched("http://x.test/ad/1", b"new", at=T0 + timedelta(days=2)))
    assert second.revisit_of == first.id and changed.revisit_of == ""
    raw = read_record(tmp_path, second.warc_file, second.warc_offset)
    assert raw.type == "revisit" and raw.payload == b"same"
    assert raw.refers_to == (first.warc_file, first.warc_offset)
    # a new writer (a later crawl process) still sees the history through the index
    with WarcWriter(tmp_path) as w2:
        third = w2.write(fetched("http://x.test/ad/1", b"new", at=T0 + timedelta(days=3)))
    assert third.revisit_of == changed.id
    assert read_capture(tmp_path, third).payload == b"new"
    assert archive_verify(tmp_path).ok


def test_files_rotate_by_size_and_all_records_verify(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, max_file_bytes=2000) as w:
        caps = [w.write(fetched(f"http://x.test/ad/{i}", (f"ad {i} " * 200).encode()))
                for i in range(6)]
    assert len({c.warc_file for c in caps}) > 1
    for cap in caps:
        assert read_capture(tmp_path, cap).payload.startswith(f"ad {caps.index(cap)} ".encode())
    report = archive_verify(tmp_path)
    assert report.ok and report.files >= 2 and report.records == 12  # request + response each


def test_tampered_payload_is_detected(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        cap = w.write(fetched("http://x.test/ad/1", b"original evidence"))
    from dataclasses import replace

    with pytest.raises(ArchiveError, match="differs from the capture"):
        read_capture(tmp_path, replace(cap, sha256="0" * 64))


def test_partial_record_after_a_kill_is_reported_and_the_rest_still_verifies(
        tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        good = w.write(fetched("http://x.test/ad/1", b"kept"))
        w.write(fetched("http://x.test/ad/2", b"x" * 5000))
    path = tmp_path / good.warc_file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 700])  # cut the last record short
    index = tmp_path / "captures.jsonl"
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(b"".join(lines[:-1]))  # a kill mid-record comes before its index line
    report = archive_verify(tmp_path)
    assert not report.ok and len(report.truncated) == 1
    assert report.truncated[0][0] == good.warc_file
    assert report.records >= 2 and not report.problems and report.index_entries == 1
    assert read_capture(tmp_path, good).payload == b"kept"
    # a file cut short after its records were indexed: the index names the lost capture
    index.write_bytes(b"".join(lines))
    report = archive_verify(tmp_path)
    assert len(report.problems) == 1 and "line 2 (http://x.test/ad/2)" in report.problems[0]
    assert "unfinished one at the end of the file" in report.problems[0]


def test_writer_killed_mid_crawl_leaves_a_verifiable_archive(tmp_path: Path) -> None:
    """A real child process writes records and is killed: flushed records survive."""
    script = (
        "import sys, os, signal\n"
        "from datetime import UTC, datetime\n"
        "from indexer.archive import Fetched, WarcWriter\n"
        "w = WarcWriter(sys.argv[1])\n"
        "for i in range(3):\n"
        "    w.write(Fetched(f'http://x.test/{i}', 200, [], b'body%d' % i, datetime.now(UTC)))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=Path.cwd())
    assert proc.returncode != 0
    report = archive_verify(tmp_path)
    assert report.ok and report.records == 6


def test_reader_refuses_paths_outside_the_archive(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not inside"):
        read_record(tmp_path, "../../etc/passwd", 0)


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (64, 48), color)
    for x in range(0, 64, 8):
        for y in range(48):
            img.putpixel((x, y), (255 - color[0], 0, 0))
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_images_are_content_addressed_with_a_perceptual_hash(tmp_path: Path) -> None:
    body = _png((10, 200, 30))
    ref = store_image(tmp_path, body, "http://x.test/img/a.png", "image/png")
    sha = sha256_hex(body)
    assert ref.sha256 == sha and (ref.width, ref.height) == (64, 48)
    assert len(ref.phash) == 16 and ref.content_type == "image/png"
    found = find_image(tmp_path, sha)
    assert found is not None and (found.ext, found.size, found.read()) == ("png", len(body), body)
    again = store_image(tmp_path, body, "http://other.test/b.png", "image/png")
    assert again.sha256 == sha and len(list(image_packs.lines(tmp_path))) == 1
    assert archive_verify(tmp_path).images == 1


def test_undecodable_image_is_kept_without_a_phash(tmp_path: Path) -> None:
    ref = store_image(tmp_path, b"<script>alert(1)</script>", "http://x.test/i.jpg", "image/jpeg")
    assert ref.phash == "" and ref.width == 0
    assert find_image(tmp_path, ref.sha256) is not None
    assert find_image(tmp_path, "../../etc") is None


def test_tampered_image_is_reported(tmp_path: Path) -> None:
    ref = store_image(tmp_path, _png((1, 2, 3)), "", "image/png")
    found = find_image(tmp_path, ref.sha256)
    assert found is not None and found.packed is not None
    with open(image_packs.pack_path(tmp_path, found.packed.pack), "r+b") as fh:
        fh.seek(found.packed.offset + 20)
        fh.write(b"changed")
    report = archive_verify(tmp_path)
    assert not report.ok and report.problems == [
        f"images/packs/{found.packed.pack}@0: content does not match image {ref.sha256}"]


def test_verify_checks_a_revisit_against_its_original(tmp_path: Path) -> None:
    """The index is only an aid: a revisit pointing at the wrong record is caught."""
    with WarcWriter(tmp_path) as w:
        w.write(fetched("http://x.test/a", b"payload a"))
        other = w.write(fetched("http://x.test/b", b"payload b"))
    index = tmp_path / "captures.jsonl"
    lines = index.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["original_offset"] = other.warc_offset  # corrupt the aid
    index.write_text(json.dumps(entry) + "\n" + lines[1] + "\n")
    with WarcWriter(tmp_path) as w:
        w.write(fetched("http://x.test/a", b"payload a", at=T0 + timedelta(days=1)))
    report = archive_verify(tmp_path)
    assert any("revisit digest differs from its original" in p for p in report.problems)


AD = "http://x.test/ad/1"
PAGE = b"<p>the ad</p>" * 20


def _revisited(root: Path) -> tuple[Capture, Capture]:
    """An ad fetched twice unchanged (a response, then a revisit of it), with another ad
    between them (so the capture index keeps a line when the ad's are lost)."""
    with WarcWriter(root) as w:
        first = w.write(fetched(AD, PAGE))
        w.write(fetched("http://x.test/ad/2", b"<p>another ad</p>"))
        again = w.write(fetched(AD, PAGE, at=T0 + timedelta(days=1)))
    assert again.revisit_of == first.id
    return first, again


def _original_id(root: Path, capture: Capture) -> str:
    """The WARC-Record-ID of ``capture``'s record, as the capture index has it."""
    return next(e.record_id for e in CaptureIndex(root).entries() if e.capture_id == capture.id)


def _offset_spoilt(by: bytes) -> Callable[[bytes], bytes]:
    """An edit that makes WARC-Refers-To-Offset no number (its first digit ``by``)."""
    return lambda rec: re.sub(rb"(WARC-Refers-To-Offset: )\d", rb"\g<1>" + by, rec, count=1)


LOST_PLACE: dict[str, list[Callable[[bytes], bytes]]] = {
    "offset lost": [drop_header(b"WARC-Refers-To-Offset")],
    "file lost": [drop_header(b"WARC-Refers-To-Filename")],
    "offset unusable": [_offset_spoilt(by) for by in (b"x", b"-", b"?", b"O", b"l")],
}


@pytest.mark.parametrize("edits", LOST_PLACE.values(), ids=LOST_PLACE)
def test_a_revisit_that_lost_where_its_original_is_is_read_through_its_record_id(
        tmp_path: Path, edits: list[Callable[[bytes], bytes]]) -> None:
    """Its WARC-Refers-To names the original: the capture index places it, and the record
    there carries that id and the revisit's digest (the empty payload of the revisit
    itself is never the evidence)."""
    first, again = _revisited(tmp_path)
    rewrite_record(tmp_path / again.warc_file, again.warc_offset, *edits)
    rec = read_capture(tmp_path, again)
    assert rec.payload == PAGE and rec.refers_to == (first.warc_file, first.warc_offset)
    assert archive_verify(tmp_path).ok


def test_a_revisit_whose_original_cannot_be_found_is_refused_and_bad(tmp_path: Path) -> None:
    """No WARC-Refers-To-Offset, and the capture index lost the ad's lines: nothing can
    give its payload, so it is not read (an empty page under the capture's sha256) and
    verify says so."""
    first, again = _revisited(tmp_path)
    original = _original_id(tmp_path, first)
    rewrite_record(tmp_path / again.warc_file, again.warc_offset,
                   drop_header(b"WARC-Refers-To-Offset"))
    index = tmp_path / "captures.jsonl"
    index.write_text("".join(line for line in index.read_text().splitlines(keepends=True)
                             if original not in line))
    where = f"{again.warc_file}@{again.warc_offset}"
    why = (f"revisit without a usable WARC-Refers-To-Filename/-Offset, and its original "
           f"{original} is not in the capture index")
    with pytest.raises(ArchiveError, match=re.escape(f"{where}: {why}: its payload cannot be given")):
        read_capture(tmp_path, again)
    assert archive_verify(tmp_path).problems == [
        f"{where}: revisit record of {AD}: {why}: its payload cannot be read"]


def test_a_revisit_placed_by_a_wrong_capture_index_is_not_read_from_another_record(
        tmp_path: Path) -> None:
    """The index is an aid: the record it places a revisit's original at must carry the
    id the revisit names."""
    first, again = _revisited(tmp_path)
    original = _original_id(tmp_path, first)
    other = next(e for e in CaptureIndex(tmp_path).entries() if e.url != AD)
    rewrite_record(tmp_path / again.warc_file, again.warc_offset,
                   drop_header(b"WARC-Refers-To-Offset"))
    index = tmp_path / "captures.jsonl"
    index.write_text(index.read_text().replace(f'"offset": {first.warc_offset},',
                                               f'"offset": {other.offset},', 1))
    wrong = (f"the capture index places its original {original} at "
             f"{other.file}@{other.offset}, which holds {other.record_id}")
    with pytest.raises(ArchiveError, match=re.escape(wrong)):
        read_capture(tmp_path, again)
    assert f"{again.warc_file}@{again.warc_offset}: revisit record of {AD}: {wrong}" in \
        archive_verify(tmp_path).problems


def test_a_revisit_from_another_tool_is_held_to_its_digest_and_never_served_empty(
        tmp_path: Path) -> None:
    """A revisit naming no original (no WARC-Refers-To-*): verify holds it to its digest
    alone, as before; the reader refuses it rather than give its empty payload."""
    _first, again = _revisited(tmp_path)
    names = (b"WARC-Refers-To-Offset", b"WARC-Refers-To-Filename", b"WARC-Refers-To")

    def foreign(rec: bytes) -> bytes:
        for name in names:
            rec = drop_header(name)(rec)
        return rec

    rewrite_record(tmp_path / again.warc_file, again.warc_offset, foreign)
    with pytest.raises(ArchiveError, match=re.escape(
            f"{again.warc_file}@{again.warc_offset}: revisit without a usable "
            "WARC-Refers-To-Filename/-Offset, and it names no original (no WARC-Refers-To)")):
        read_capture(tmp_path, again)
    assert archive_verify(tmp_path).ok


@pytest.mark.parametrize("cut", [1, 30, 120, 169, 176, 183, 260])
def test_a_file_cut_inside_a_record_the_index_names_is_reported_not_a_crash(
        tmp_path: Path, cut: int) -> None:
    """A file cut short by damage after its records were indexed, at any byte of the
    last one: its WARC header may end before WARC-Target-URI (warcio then failed with an
    AttributeError, and verify with it); the lost capture is named, the rest verifies."""
    with WarcWriter(tmp_path) as w:
        caps = [w.write(fetched(f"http://x.test/{i}", b"<p>page %d</p>" % i * 50,
                                at=T0 + timedelta(minutes=i))) for i in range(3)]
    path = tmp_path / caps[0].warc_file
    path.write_bytes(path.read_bytes()[:caps[2].warc_offset + cut])
    report = archive_verify(tmp_path)
    assert len(report.truncated) == 1 and len(report.problems) == 1
    assert "(http://x.test/2)" in report.problems[0]
    assert read_capture(tmp_path, caps[1]).payload == b"<p>page 1</p>" * 50
    with pytest.raises(ArchiveError, match=f"{caps[2].warc_file}@{caps[2].warc_offset}"):
        read_capture(tmp_path, caps[2])


def test_damage_inside_a_file_is_reported_and_reading_goes_on_to_the_cut_tail(
        tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        caps = [w.write(fetched(f"http://x.test/ad/{i}", f"ad {i} ".encode() * 400))
                for i in range(4)]
    path = tmp_path / caps[0].warc_file
    data = bytearray(path.read_bytes())
    hit = caps[1].warc_offset + 40  # inside the second response's compressed body
    data[hit:hit + 8] = b"\x1f\x8b\x08" + bytes(5)  # damage that even looks like a header
    path.write_bytes(bytes(data[:-30]))  # and the last record (a request) cut short
    report = archive_verify(tmp_path)
    last_request = caps[3].warc_offset + caps[3].warc_length
    assert report.truncated == [(caps[0].warc_file, last_request)]
    assert report.damaged == [(caps[0].warc_file, caps[1].warc_offset,
                               caps[1].warc_offset + caps[1].warc_length)]
    # 4 responses and 4 requests, less the damaged response and the cut request: the
    # request after the damage and the captures after it were found and read
    assert report.records == 8 - 1 - 1
    bad = [p for p in report.problems if "damaged:" in p]
    assert len(bad) == 1 and bad[0].startswith(f"{caps[0].warc_file}@{caps[1].warc_offset}: ")
    # and the capture index's entry for it says where it went
    assert any("line 2 (http://x.test/ad/1)" in p and "damaged stretch" in p
               for p in report.problems), report.problems


def test_a_missing_original_is_said_once_for_all_the_revisits_that_need_it(
        tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        first = w.write(fetched("http://x.test/ad/1", b"same page"))
    for day in (1, 2, 3):  # each crawl writes a file of its own
        with WarcWriter(tmp_path) as w:
            again = w.write(fetched("http://x.test/ad/1", b"same page",
                                    at=T0 + timedelta(days=day)))
            assert again.revisit_of
    assert archive_verify(tmp_path).ok
    (tmp_path / first.warc_file).unlink()
    report = archive_verify(tmp_path)
    assert report.problems == [
        f"{first.warc_file}: missing, yet 3 revisit record(s) refer to it (first: "
        f"{sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / 'warcs').iterdir())[0]}@0)",
        f"{first.warc_file}: missing, yet captures.jsonl names 1 capture(s) in it (first: "
        "captures.jsonl line 1 (http://x.test/ad/1))",
    ], report.problems


def test_a_record_a_running_crawl_finishes_after_the_scan_is_not_called_cut_short(
        tmp_path: Path) -> None:
    """The scan can meet a record half written (crawls hold the archive lock shared with
    verify); by the time the capture index is read, the crawl has finished it."""
    from indexer.archive import verify, verify_refs

    with WarcWriter(tmp_path) as w:
        w.write(fetched("http://x.test/ad/1", b"one " * 100))
        second = w.write(fetched("http://x.test/ad/2", b"two " * 100))
    path, index = tmp_path / second.warc_file, tmp_path / "captures.jsonl"
    whole, lines = path.read_bytes(), index.read_bytes().splitlines(keepends=True)
    path.write_bytes(whole[: second.warc_offset + 50])  # what the scan saw
    index.write_bytes(lines[0])
    report = verify._verify(tmp_path, lambda _n: None)
    assert report.truncated == [(second.warc_file, second.warc_offset)]
    path.write_bytes(whole)  # the crawl finished the record, then indexed it
    index.write_bytes(b"".join(lines))
    verify_refs.check_index(tmp_path, report)
    assert report.problems == [] and report.index_entries == 2


def test_a_damaged_stretch_full_of_false_gzip_headers_ends_at_the_real_next_member(
        tmp_path: Path) -> None:
    import gzip

    from indexer.archive.verify import gzip_members

    real = gzip.compress(b"WARC/1.0\r\n" + bytes(range(256)) * 8)
    fake_headers = b"\x1f\x8b\x08\x00" * 50_000  # damage that looks like members everywhere
    path = tmp_path / "x.warc.gz"
    path.write_bytes(real + b"\x1f\x8b\x08\x00garbage" + fake_headers + real)
    with open(path, "rb") as fh:
        members = list(gzip_members(fh, chunk=4096))
    assert [(m.offset, bool(m.data), m.damage[:8]) for m in members] == [
        (0, True, ""), (len(real), False, "damaged:"),
        (path.stat().st_size - len(real), True, "")]


def test_an_index_line_left_unfinished_never_takes_the_next_writers_line_with_it(
        tmp_path: Path) -> None:
    """Two crawl processes share captures.jsonl: one dies mid-line (killed, a full disk)
    while the other runs on. The running one's next entry is still read, by a new index
    and by archive verify, and the unfinished line is the only one skipped."""
    from indexer.archive.index import INDEX_FILE, CaptureIndex

    running = WarcWriter(tmp_path)
    running.write(Fetched("http://x.test/a", 200, [], b"a", T0))
    with open(tmp_path / INDEX_FILE, "ab") as fh:
        fh.write(b'\n{"url": "http://x.test/dead", "fetched_')  # the other one, cut short
    running.write(Fetched("http://x.test/b", 200, [], b"b", T0))
    running.close()
    index = CaptureIndex(tmp_path)
    assert index.latest("http://x.test/a") is not None
    assert index.latest("http://x.test/b") is not None
    report = archive_verify(tmp_path)
    assert report.ok and report.index_entries == 2, report.notes


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_lost_pack_index_is_a_problem_and_its_packs_no_leftovers(tmp_path: Path,
                                                                  how: str) -> None:
    """Without images/packs.jsonl nothing names the packs: they must not be called
    leftovers ("safe to delete"), since they hold every archived photo."""
    for seed in (1, 2):
        store_image(tmp_path, _png((seed * 60, 90, 30)), f"http://x.test/{seed}.png", "image/png")
    index = image_packs.index_path(tmp_path)
    index.unlink() if how == "deleted" else index.write_bytes(b"")
    report = archive_verify(tmp_path)
    assert not report.ok and report.leftovers == []
    state = "missing" if how == "deleted" else "no readable line"
    assert report.problems == [f"{image_packs.INDEX_FILE}: {state}, yet 1 pack file(s) hold "
                               "images: the archive cannot find its photos (the packs are "
                               "evidence, not leftovers: keep them)"]


@pytest.mark.parametrize("content", [b"", b"\n", b"{broken"])
def test_an_empty_capture_index_is_as_bad_as_a_missing_one(tmp_path: Path,
                                                           content: bytes) -> None:
    with WarcWriter(tmp_path) as w:
        w.write(fetched("http://x.test/a", b"payload a"))
    (tmp_path / "captures.jsonl").write_bytes(content)
    report = archive_verify(tmp_path)
    assert not report.ok
    assert any(p.startswith("captures.jsonl: ") and "yet the WARC files hold 2 record(s)" in p
               for p in report.problems), report.problems


def test_an_unchanged_page_whose_original_file_is_gone_is_written_whole(
        tmp_path: Path) -> None:
    """The file holding a page's original is lost (left out of a restore): the next
    unchanged fetch is not a revisit pointing at it but a whole record, the original of
    the revisits after it."""
    with WarcWriter(tmp_path) as w:
        first = w.write(fetched("http://x.test/ad/1", b"same page"))
    (tmp_path / first.warc_file).unlink()
    with WarcWriter(tmp_path) as w:
        again = w.write(fetched("http://x.test/ad/1", b"same page", at=T0 + timedelta(days=1)))
        third = w.write(fetched("http://x.test/ad/1", b"same page", at=T0 + timedelta(days=2)))
    assert again.revisit_of == "" and third.revisit_of == again.id
    assert read_capture(tmp_path, again).payload == read_capture(tmp_path, third).payload
