"""Read one archived record back at (file, offset) and check it is what was written.

Used by the web UI (serve the archived copy, never the live site), by reindex (rebuild
enrichment from evidence) and by ``archive_verify``. A revisit record is resolved to
the original response that holds the payload: where its WARC-Refers-To-Filename and
-Offset say, else (a header lost or damaged) by its WARC-Refers-To record id through the
capture index. A revisit whose original cannot be found is an ArchiveError: its own
payload is empty, never the evidence of the digest it carries.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from indexer.archive.digest import hex_from_warc_digest, sha256_hex
from indexer.archive.index import original_place
from indexer.model import Capture

T = TypeVar("T")
_HEAD_CHUNK = 16 * 1024  # read at a time while looking for the end of an HTTP head
MAX_HEAD_BYTES = 17 * 1024 * 1024  # crawler.http_handler reads 1000 headers of 16 KiB at most


class ArchiveError(RuntimeError):
    """A record cannot be read or fails its digest; the message names file and offset."""


@dataclass(frozen=True)
class ArchivedRecord:
    file: str
    offset: int
    type: str  # response | revisit | request | warcinfo
    url: str
    date: str
    status: int
    headers: tuple[tuple[str, str], ...]
    payload: bytes  # as received (content-encoding not undone); for a revisit: the original's
    sha256: str  # hex digest of payload
    refers_to: tuple[str, int] | None = None  # (file, offset) of a revisit's original
    record_id: str = ""  # WARC-Record-ID
    refers_to_id: str = ""  # a revisit's WARC-Refers-To: its original's record id
    truncated: str = ""  # WARC-Truncated: why the payload stops short ("length": the size cap)

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def decoded(self) -> bytes:
        """The payload with gzip/deflate content-encoding undone (what the page said)."""
        encoding = next((v for k, v in self.headers if k.lower() == "content-encoding"), "")
        encoding = encoding.strip().lower()
        if encoding in {"gzip", "x-gzip"}:
            return zlib.decompress(self.payload, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(self.payload)
            except zlib.error:
                return zlib.decompress(self.payload, -zlib.MAX_WBITS)
        return self.payload


def read_raw(root: str | Path, file: str, offset: int) -> ArchivedRecord:
    """The record at (file, offset), digest-checked; a revisit is not resolved."""
    return _read_at(root, file, offset, lambda record: _to_archived(record, file, offset))


def read_http_head(root: str | Path, file: str, offset: int) -> bytes:
    """The HTTP head of the response or revisit record at (file, offset) as archived:
    the status line and header lines, the bytes the site sent, without the blank line.

    ``ArchivedRecord.headers`` is text (warcio reads a line as UTF-8, else Latin-1), in
    which a Latin-1 ``é`` and a UTF-8 ``é`` read the same; what a header said to a
    client that read its bytes (Scrapy following a redirect) needs the bytes."""
    return _read_at(root, file, offset, _head_of, parse=False)


def _read_at(root: str | Path, file: str, offset: int, read: Callable[[Any], T],
             parse: bool = True) -> T:
    """``read`` applied to the record at (file, offset) (its HTTP head parsed by warcio
    unless ``parse`` is False); any failure to read it is an ArchiveError naming it."""
    path = _safe_path(Path(root), file)
    where = f"{file}@{offset}"
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return read(next(iter(ArchiveIterator(fh, no_record_parse=not parse))))
    except StopIteration:
        raise ArchiveError(f"{where}: no record at this offset") from None
    except (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError) as exc:
        raise ArchiveError(f"{where}: unreadable record ({exc})") from exc
    except AttributeError as exc:  # warcio, on a record whose WARC header is cut short
        raise ArchiveError(f"{where}: unreadable record (its WARC header is cut short or "
                           f"lacks WARC-Target-URI: {exc})") from exc


def _head_of(record: Any) -> bytes:
    """The block's bytes up to its first blank line (a revisit's block is the head only).
    Every head this archive writes ends in one: a block without it, within the largest
    head the crawl reads, is a record cut short or damaged."""
    stream, head = record.raw_stream, bytearray()
    while len(head) <= MAX_HEAD_BYTES:
        chunk = stream.read(_HEAD_CHUNK)
        start = max(len(head) - 3, 0)  # the blank line may straddle two chunks
        head += chunk
        end = head.find(b"\r\n\r\n", start)
        if end >= 0:
            return bytes(head[:end])
        if not chunk:
            break
    raise ValueError(f"no end of the HTTP head in its first {len(head)} bytes")


def read_record(root: str | Path, file: str, offset: int) -> ArchivedRecord:
    """The record at (file, offset) with its payload; revisits carry the original's (an
    ArchiveError naming the revisit when it cannot be found)."""
    rec = read_raw(root, file, offset)
    if rec.type != "revisit":
        return rec
    place = rec.refers_to or original_place(root, rec.refers_to_id)
    if place is None:
        raise ArchiveError(f"{file}@{offset}: {unplaced(rec.refers_to_id)}: its payload "
                           "cannot be given")
    original = read_raw(root, *place)
    wrong = "" if rec.refers_to else not_named(original, rec.refers_to_id)
    if wrong:
        raise ArchiveError(f"{file}@{offset}: {wrong}")
    if original.sha256 != rec.sha256:
        raise ArchiveError(f"{file}@{offset}: revisit digest differs from its original "
                           f"at {place[0]}@{place[1]}")
    return replace(rec, payload=original.payload, refers_to=place)


def unplaced(refers_to_id: str) -> str:
    """Why a revisit's original is not found (for read_record's and verify's messages)."""
    named = (f"its original {refers_to_id} is not in the capture index" if refers_to_id
             else "it names no original (no WARC-Refers-To)")
    return f"revisit without a usable WARC-Refers-To-Filename/-Offset, and {named}"


def not_named(original: ArchivedRecord, refers_to_id: str) -> str:
    """'' when the record the capture index placed is the one a revisit names by its
    WARC-Refers-To; else why not (the index is an aid, not evidence: it may be wrong)."""
    if original.record_id == refers_to_id:
        return ""
    return (f"the capture index places its original {refers_to_id} at "
            f"{original.file}@{original.offset}, which holds "
            f"{original.record_id or 'a record without a WARC-Record-ID'}")


def read_capture(root: str | Path, capture: Capture) -> ArchivedRecord:
    """The archived response behind a Capture, checked against the capture's hash."""
    rec = read_record(root, capture.warc_file, capture.warc_offset)
    if rec.sha256 != capture.sha256:
        raise ArchiveError(f"{capture.warc_file}@{capture.warc_offset}: payload sha256 "
                           f"{rec.sha256} differs from the capture's {capture.sha256}")
    return rec


def _to_archived(record, file: str, offset: int) -> ArchivedRecord:  # noqa: ANN001
    headers = record.rec_headers
    rtype = headers.get_header("WARC-Type") or ""
    if not rtype:  # warcio reads a member cut inside its WARC headers as an empty record
        raise ValueError("no WARC-Type: the record is cut short in its WARC headers")
    payload = record.raw_stream.read()
    declared = hex_from_warc_digest(headers.get_header("WARC-Payload-Digest") or "")
    http = record.http_headers
    status = int(http.get_statuscode() or 0) if http and rtype in {"response", "revisit"} else 0
    refers_to = None
    if rtype == "revisit":
        sha = declared
        ref_file = headers.get_header("WARC-Refers-To-Filename")
        ref_off = headers.get_header("WARC-Refers-To-Offset")
        if ref_file and ref_off and ref_off.isdigit():
            refers_to = (ref_file, int(ref_off))
    else:
        sha = sha256_hex(payload)
        if rtype == "response" and declared != sha:
            raise ArchiveError(f"{file}@{offset}: payload sha256 {sha} does not match "
                               f"WARC-Payload-Digest ({declared or 'missing'})")
    return ArchivedRecord(
        file=file, offset=offset, type=rtype,
        url=headers.get_header("WARC-Target-URI") or "", date=headers.get_header("WARC-Date") or "",
        status=status, headers=tuple(http.headers) if http else (), payload=payload,
        sha256=sha, refers_to=refers_to, record_id=headers.get_header("WARC-Record-ID") or "",
        refers_to_id=(headers.get_header("WARC-Refers-To") or "") if rtype == "revisit" else "",
        truncated=headers.get_header("WARC-Truncated") or "",
    )


def _safe_path(root: Path, file: str) -> Path:
    """Resolve ``file`` inside the archive root; a path that escapes it is refused."""
    path = (root / file).resolve()
    if root.resolve() not in path.parents:
        raise ArchiveError(f"{file}: not inside the archive {root}")
    return path
