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
from indexer.archive.verify import KEY_AND_URL, KEY_MASK, VerifyReport, located_value
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
                      capture.sha256, capture.url, capture)

    assert check(cap) == ""
    assert check(replace(cap, status=200)) == (
        f"{where}: HTTP status 404 in the record, 200 in the store")
    later = cap.fetched_at + timedelta(microseconds=1)
    stamp = cap.fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert check(replace(cap, fetched_at=later)) == (
        f"{where}: fetched at {stamp}Z in the record, {later.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z "
        "in the store")
    # the capture index's check has no status or time to compare
    assert locate(tmp_path, report, cap.warc_file, cap.warc_offset, cap.sha256, cap.url) == ""
    assert read_raw(tmp_path, cap.warc_file, cap.warc_offset).status == 404


def test_a_located_value_packs_the_digest_key_url_status_and_date() -> None:
    sha = "ab" * 32
    packed = located_value(sha, URL, 404, "2026-11-01T12:00:00.123456Z")
    assert packed & KEY_MASK == int(sha[:16], 16) and packed.bit_length() <= 173
    assert packed != located_value(sha, URL, 200, "2026-11-01T12:00:00.123456Z")
    assert packed != located_value(sha, URL, 404, "2026-11-01T12:00:00.123457Z")
    assert packed != located_value(sha, URL + "7", 404, "2026-11-01T12:00:00.123456Z")
    # a date not as the writer writes it, or a status that does not fit: the keys of the
    # digest and the URL alone, which no capture's packed value equals (it is re-read and
    # compared as text)
    for status, date in ((404, "2026-11-01T12:00:00Z"), (404, "2026-11-01T12:00:00.123456+00:00"),
                         (404, "٢٠٢٦-11-01T12:00:00.123456Z"), (5000, "2026-11-01T12:00:00.123456Z")):
        assert located_value(sha, URL, status, date) == located_value(sha, URL) & KEY_AND_URL


def _moved_to(old: str, new: str) -> Callable[[bytes], bytes]:
    """An edit of the record's WARC-Target-URI (its WARC headers, which no block digest
    covers): the evidence given to another ad."""
    def edit(record: bytes) -> bytes:
        line = b"WARC-Target-URI: " + old.encode()
        assert record.count(line + b"\r\n") == 1
        return record.replace(line + b"\r\n", b"WARC-Target-URI: " + new.encode() + b"\r\n")
    return edit


@pytest.mark.parametrize("url", [URL, "http://x.test/ad/café-1?stad=Zürich"],
                         ids=["ascii", "non-ascii"])
def test_a_record_moved_to_another_url_is_bad_against_the_index_and_the_store(
        tmp_path: Path, url: str) -> None:
    """The record's URL is held against the capture index's and the store's, as each
    keeps it (the crawl's text, not %-encoded): unedited, a URL with any characters
    agrees."""
    from indexer.model import AdFields, Enrichment, Observation, SourceInfo, ad_id_for
    from indexer.store.sqlite import SqliteStore

    root = tmp_path / "archive"
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.upsert_source(SourceInfo("x", "X", "trafficking", "NL", "http://x.test"))
    with WarcWriter(root) as w:
        cap = w.write(replace(gone(), url=url))
    store.write(Observation("x", "1", url, cap, AdFields(title="1", text="ad one")), Enrichment())
    try:
        assert archive_verify(root, store).ok
        # one of them fits the member (warc_tamper): another ad, else a shorter URL
        others = ([url.replace("1", n, 1) for n in "723456789abcdef"]
                  + [url.replace("/ad/1", short, 1) for short in ("/ad/", "/a/1", "/1", "/")])
        moved = others[rewrite_record(root / cap.warc_file, cap.warc_offset,
                                      *(_moved_to(url, other) for other in others))]
        assert read_capture(root, cap).url == moved  # the archive now names another ad
        report = archive_verify(root, store)
    finally:
        store.close()
    said = f"{cap.warc_file}@{cap.warc_offset}: URL {moved} in the record, {url} in"
    assert report.problems == [f"captures.jsonl line 1 ({url}): {said} the capture index",
                               f"store, ad {ad_id_for('x', '1')} version 1 ({url}): {said} "
                               "the store"], report.problems


@pytest.mark.parametrize("scanned", [True, False])
def test_a_capture_is_held_against_its_records_url(tmp_path: Path, scanned: bool) -> None:
    """Whether the scan located the record (by a key of its URL) or it is read again, a
    capture whose URL is not the record's is said, with both URLs."""
    with WarcWriter(tmp_path) as w:
        cap = w.write(gone())
    report = archive_verify(tmp_path) if scanned else VerifyReport()
    other = URL.replace("1", "7")
    where = f"{cap.warc_file}@{cap.warc_offset}"
    assert locate(tmp_path, report, cap.warc_file, cap.warc_offset, cap.sha256, other) == (
        f"{where}: URL {URL} in the record, {other} in the capture index")
    assert locate(tmp_path, report, cap.warc_file, cap.warc_offset, cap.sha256, other,
                  replace(cap, url=other)) == f"{where}: URL {URL} in the record, {other} in the store"
