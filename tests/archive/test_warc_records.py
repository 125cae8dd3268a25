"""The lean record builder writes what warcio's builder wrote, and warcio reads it."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders

from indexer.archive import archive_verify, read_capture
from indexer.archive.digest import warc_digest_of
from indexer.archive.writer import Fetched, WarcWriter, _Sha256Writer, warc_date_of

AT = datetime(2026, 11, 4, 8, 30, 1, 123456, tzinfo=UTC)


def _fetched(truncated: str = "", odd: str = "caf%C3%A9") -> Fetched:
    return Fetched(url="http://x.test/ad/1?q=%C3%BC", status=200,
                   headers=[("Content-Type", "text/html"), ("X-Odd", odd)],
                   body=b"<html>hi</html>\x00\xff" * 50, fetched_at=AT,
                   request_headers=[("User-Agent", "adtrace"), ("Referer", "http://x.test/")],
                   truncated=truncated)


def _warcio_bytes(f: Fetched) -> bytes:
    """The two records as the writer built them with warcio before."""
    builder = _Sha256Writer(io.BytesIO(), gzip=True, warc_version="1.1")
    headers = {"WARC-Date": warc_date_of(f.fetched_at)}
    if f.truncated:
        headers["WARC-Truncated"] = f.truncated
    headers["WARC-Payload-Digest"] = warc_digest_of(hashlib.sha256(f.body).digest())
    response = builder.create_warc_record(
        f.url, "response", payload=io.BytesIO(f.body), length=len(f.body),
        http_headers=StatusAndHeaders("200 OK", list(f.headers), protocol="HTTP/1.1"),
        warc_headers_dict=headers)
    out = builder.out = io.BytesIO()
    builder.write_record(response)
    path = f.url.split("://", 1)[-1].partition("/")[2]
    request = builder.create_warc_record(
        f.url, "request", http_headers=StatusAndHeaders(
            f"GET /{path} HTTP/1.1", list(f.request_headers), is_http_request=True),
        warc_headers_dict={"WARC-Date": warc_date_of(f.fetched_at),
                           "WARC-Concurrent-To": response.rec_headers.get_header(
                               "WARC-Record-ID")})
    builder.write_record(request)
    return gzip.decompress(out.getvalue())


def _ids_blanked(data: bytes) -> bytes:
    return re.sub(rb"<urn:uuid:[0-9a-f-]{36}>", b"<id>", data)


@pytest.mark.parametrize("truncated", ["", "length"])
def test_records_match_what_warcio_built(tmp_path: Path, truncated: str) -> None:
    f = _fetched(truncated)
    with WarcWriter(tmp_path) as writer:
        capture = writer.write(f)
    written = gzip.decompress((tmp_path / capture.warc_file).read_bytes())
    assert _ids_blanked(written) == _ids_blanked(_warcio_bytes(f))


def test_header_bytes_are_written_as_received(tmp_path: Path) -> None:
    """Where warcio would %-encode a value that is not ASCII, the record holds the bytes
    received (headers arrive as latin-1 text, a character per byte); a value no wire
    gave (a character beyond latin-1) is written as UTF-8. Both read back and verify."""
    wire = "café".encode().decode("latin-1") + " \xe9"  # UTF-8 bytes, then a latin-1 byte
    f = dataclasses.replace(_fetched(odd=wire), request_headers=[("X-Made", "thé ☕")])
    with WarcWriter(tmp_path) as writer:
        capture = writer.write(f)
    written = gzip.decompress((tmp_path / capture.warc_file).read_bytes())
    assert b"\r\nX-Odd: caf\xc3\xa9 \xe9\r\n" in written
    assert "\r\nX-Made: thé ☕\r\n".encode() in written
    assert b"%" not in written.split(b"\r\n\r\n", 2)[1]  # the response's head
    assert read_capture(tmp_path, capture).payload == f.body
    assert not archive_verify(tmp_path).problems


def test_records_read_back_and_verify(tmp_path: Path) -> None:
    f = _fetched()
    with WarcWriter(tmp_path) as writer:
        capture = writer.write(f)
    assert read_capture(tmp_path, capture).payload == f.body
    with open(tmp_path / capture.warc_file, "rb") as fh:
        records = list(ArchiveIterator(fh))
    assert [r.rec_type for r in records] == ["response", "request"]
    assert records[1].rec_headers.get_header("WARC-Concurrent-To") == \
        records[0].rec_headers.get_header("WARC-Record-ID")
    report = archive_verify(tmp_path)
    assert not report.problems and report.files == 1


@pytest.mark.parametrize("size", [0, 300, 509, 1500, 40_000, 300_000])
def test_records_of_every_size_read_back(tmp_path: Path, size: int) -> None:
    """Each record's compressor is sized to it (records._compressor): small, around the
    window sizes and past the largest window, warcio and gzip read back what was sent."""
    body = (bytes(range(256)) * (size // 256 + 1))[:size]
    f = dataclasses.replace(_fetched(), body=body, url=f"http://x.test/s/{size}")
    with WarcWriter(tmp_path) as writer:
        capture = writer.write(f)
    assert read_capture(tmp_path, capture).payload == body
    data = (tmp_path / capture.warc_file).read_bytes()
    assert body in gzip.decompress(data)
    assert archive_verify(tmp_path).ok


@pytest.mark.parametrize(("headers", "stored"), [
    ([("Content-Type", "image/jpeg")], True),
    ([("Content-Type", "IMAGE/PNG; charset=binary")], True),
    ([("Content-Type", "video/mp4")], True),
    ([("Content-Type", "text/html"), ("Content-Encoding", "gzip")], True),
    ([("Content-Type", "text/html"), ("content-encoding", "br")], True),
    ([("Content-Type", "text/html"), ("Content-Encoding", "identity")], False),
    ([("Content-Type", "text/html; charset=utf-8")], False),
    ([("Content-Type", "image/svg+xml")], False),
    ([("Content-Type", "image/bmp")], False),
    ([], False),
])
def test_a_compressed_payload_is_stored_as_it_is_and_reads_back(
        tmp_path: Path, headers: list[tuple[str, str]], stored: bool) -> None:
    """A body compressed already is not deflated again (records.payload_is_compressed):
    its bytes stand in the file as they are, inside a gzip member that any reader
    inflates; a body that deflates is deflated."""
    body = b"<p>the same words, again and again</p>\n" * 200
    f = dataclasses.replace(_fetched(), headers=headers, body=body)
    with WarcWriter(tmp_path) as writer:
        capture = writer.write(f)
    data = (tmp_path / capture.warc_file).read_bytes()
    assert (body in data) is stored
    assert (len(data) > len(body)) is stored
    assert read_capture(tmp_path, capture).payload == body
    with open(tmp_path / capture.warc_file, "rb") as fh:
        assert [r.rec_type for r in ArchiveIterator(fh)] == ["response", "request"]
    assert archive_verify(tmp_path).ok


@pytest.mark.parametrize("keep", [9, 30, 100])
def test_a_record_cut_inside_its_warc_headers_is_an_archive_error(
        tmp_path: Path, keep: int) -> None:
    """A gzip member that ends inside the WARC headers (a damaged copy of the file):
    warcio reads it as a record with no type, no URL and no payload; the reader says it
    is damaged instead of handing that empty record on (to the UI, to verify)."""
    import zlib

    from indexer.archive.reader import ArchiveError, read_http_head, read_raw

    with WarcWriter(tmp_path) as writer:
        capture = writer.write(_fetched())
    warc = tmp_path / capture.warc_file
    member = gzip.decompress(warc.read_bytes()[capture.warc_offset:])
    packed = zlib.compressobj(9, zlib.DEFLATED, 31)
    warc.write_bytes(warc.read_bytes()[:capture.warc_offset]
                     + packed.compress(member[:keep]) + packed.flush())
    for read in (read_raw, read_http_head):
        with pytest.raises(ArchiveError, match=f"{capture.warc_file}@{capture.warc_offset}"):
            read(tmp_path, capture.warc_file, capture.warc_offset)
