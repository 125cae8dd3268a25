"""``archive verify`` holds every record's block (a response's HTTP head and body as
stored, a request's head, a revisit's head) against its WARC-Block-Digest, and the
store's view of a capture (its HTTP status and time) against its record. The records
are written by the real WarcWriter and edited in place with their gzip members kept
valid (warc_tamper), so only a digest can tell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from indexer.archive import Fetched, WarcWriter, archive_verify, read_capture
from indexer.archive.reader import read_raw
from indexer.archive.verify import KEY_MASK, VerifyReport, located_value
from indexer.archive.verify_refs import locate
from indexer.model import Capture
from tests.archive.warc_tamper import drop_header, edit_block, rewrite_record

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
URL = "http://x.test/ad/1"
CHANGED = "block digest does not match (the record's HTTP head or body was changed)"


def gone(at: datetime = T0, status: int = 404, body: bytes = b"<p>This ad was removed</p>",
         content_type: str = "text/html") -> Fetched:
    """The fetch that is the evidence of an ad's removal."""
    return Fetched(URL, status, [("Content-Type", content_type),
                                 ("Date", "Sun, 01 Nov 2026 12:00:00 GMT")],
                   body, at, reason="Not Found" if status == 404 else "",
                   request_headers=[("User-Agent", "adtrace-test")])


def problem(cap: Capture, rtype: str = "response", offset: int | None = None) -> str:
    at = cap.warc_offset if offset is None else offset
    return f"{cap.warc_file}@{at}: {rtype} record of {cap.url}: {CHANGED}"


def edits(old: bytes, *news: bytes) -> list[Callable[[bytes], bytes]]:
    """Edits that change the same thing (warc_tamper.rewrite_record uses one that fits)."""
    return [edit_block(old, new) for new in news]


UNDONE = edits(b"HTTP/1.1 404 Not Found", b"HTTP/1.1 200 OK", b"HTTP/1.1 200 Found",
               b"HTTP/1.1 200 Okay", b"HTTP/1.1 200 ")  # the removal undone
MOVED = edits(b"Date: Sun, 01 Nov 2026", *(b"Date: %s, 0%d Nov 2026" % (day, n) for n, day in
                                           enumerate((b"Mon", b"Tue", b"Wed", b"Thu"), 2)))


@pytest.mark.parametrize("forged", [UNDONE, MOVED], ids=["status", "date"])
def test_a_response_head_changed_in_place_is_bad(
        tmp_path: Path, forged: list[Callable[[bytes], bytes]]) -> None:
    with WarcWriter(tmp_path) as w:
        cap = w.write(gone())
    assert archive_verify(tmp_path).ok
    rewrite_record(tmp_path / cap.warc_file, cap.warc_offset, *forged)
    assert read_capture(tmp_path, cap).payload == b"<p>This ad was removed</p>"  # body intact
    report = archive_verify(tmp_path)
    assert report.problems == [problem(cap)], report.problems
    assert report.records == 2 and not report.truncated  # the file is still read whole


def test_a_head_changed_where_the_payload_is_stored_as_received_is_bad(tmp_path: Path) -> None:
    """A photo (payload_is_compressed) is stored without deflating it again: its block
    digest covers the same head + body."""
    photo = bytes(range(256)) * 40
    with WarcWriter(tmp_path) as w:
        cap = w.write(gone(status=200, body=photo, content_type="image/jpeg"))
    assert archive_verify(tmp_path).ok
    rewrite_record(tmp_path / cap.warc_file, cap.warc_offset,
                   *edits(b"HTTP/1.1 200 OK", b"HTTP/1.1 410 OK", b"HTTP/1.1 410 Gone",
                          b"HTTP/1.1 404 ", b"HTTP/1.1 410"))
    assert archive_verify(tmp_path).problems == [problem(cap)]


def test_a_request_record_changed_in_place_is_bad(tmp_path: Path) -> None:
    with WarcWriter(tmp_path) as w:
        cap = w.write(gone())
    request_at = cap.warc_offset + cap.warc_length  # written right after its response
    rewrite_record(tmp_path / cap.warc_file, request_at,
                   *edits(b"User-Agent: adtrace-test", b"User-Agent: bot", b"User-Agent: curl",
                          b"User-Agent: a-browser", b"User-Agent: x"))
    report = archive_verify(tmp_path)
    assert report.problems == [problem(cap, "request", request_at)], report.problems


def test_a_revisit_head_changed_in_place_is_bad(tmp_path: Path) -> None:
    """A revisit (written by warcio) keeps the HTTP head of its own fetch: a later 404
    of an unchanged page is evidence too."""
    with WarcWriter(tmp_path) as w:
        w.write(gone())
        again = w.write(gone(at=T0 + timedelta(days=1)))
    assert again.revisit_of and archive_verify(tmp_path).ok
    rewrite_record(tmp_path / again.warc_file, again.warc_offset, *UNDONE)
    assert archive_verify(tmp_path).problems == [problem(again, "revisit")]


def test_a_record_without_a_block_digest_is_bad(tmp_path: Path) -> None:
    """Every record adtrace writes has one; taking it out would hide any edit."""
    with WarcWriter(tmp_path) as w:
        cap = w.write(gone())
    rewrite_record(tmp_path / cap.warc_file, cap.warc_offset, drop_header(b"WARC-Block-Digest"))
    assert archive_verify(tmp_path).problems == [
        f"{cap.warc_file}@{cap.warc_offset}: response record of {URL}: no WARC-Block-Digest "
        "(its HTTP head cannot be checked)"]


@pytest.mark.parametrize("revisit", [False, True])
@pytest.mark.parametrize("scanned", [True, False])
def test_a_capture_is_held_against_its_records_status_and_time(
        tmp_path: Path, revisit: bool, scanned: bool) -> None:
    """Whether the scan located the record or it is read again (a record the scan did
    not see), the store's status and fetched_at must be the record's, to the µs."""
    with WarcWriter(tmp_path) as w:
        cap = w.write(gone())
        if revisit:
            cap = w.write(gone(at=T0 + timedelta(days=1)))
    report = archive_verify(tmp_path) if scanned else VerifyReport()
    assert bool(report.located) is scanned
    where = f"{cap.warc_file}@{cap.warc_offset}"

    def check(capture: Capture) -> str:
        return locate(tmp_path, report, capture.warc_file, capture.warc_offset,
                      capture.sha256, capture)

    assert check(cap) == ""
    assert check(replace(cap, status=200)) == (
        f"{where}: HTTP status 404 in the record, 200 in the store")
    later = cap.fetched_at + timedelta(microseconds=1)
    stamp = cap.fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert check(replace(cap, fetched_at=later)) == (
        f"{where}: fetched at {stamp}Z in the record, {later.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z "
        "in the store")
    # the capture index's check has no status or time to compare
    assert locate(tmp_path, report, cap.warc_file, cap.warc_offset, cap.sha256) == ""
    assert read_raw(tmp_path, cap.warc_file, cap.warc_offset).status == 404


def test_a_located_value_packs_the_digest_key_status_and_date() -> None:
    sha = "ab" * 32
    packed = located_value(sha, 404, "2026-11-01T12:00:00.123456Z")
    assert packed & KEY_MASK == int(sha[:16], 16) and packed.bit_length() <= 141
    assert packed != located_value(sha, 200, "2026-11-01T12:00:00.123456Z")
    assert packed != located_value(sha, 404, "2026-11-01T12:00:00.123457Z")
    # a date not as the writer writes it, or a status that does not fit: the key alone,
    # which no capture's packed value equals (it is re-read and compared as text)
    for status, date in ((404, "2026-11-01T12:00:00Z"), (404, "2026-11-01T12:00:00.123456+00:00"),
                         (404, "٢٠٢٦-11-01T12:00:00.123456Z"), (5000, "2026-11-01T12:00:00.123456Z")):
        assert located_value(sha, status, date) == int(sha[:16], 16)
