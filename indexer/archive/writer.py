"""The WARC writer: every fetched response is evidence, written before it is used.

Each record is built in memory, then appended to the current gzipped WARC file in one
write and flushed, so a kill can at worst leave one partial record at the end of a
file (``archive_verify`` detects and reports it; new writes always go to a new file).
Files rotate by size. A response whose payload equals the previous capture of the same
URL becomes a ``revisit`` record (profile identical-payload-digest) that points at the
original. A capture index (``captures.jsonl``) is kept apart from the content so that
revisit detection survives across crawl processes.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from indexer.archive import lock as archive_lock
from indexer.archive import records
from indexer.archive.digest import warc_digest_of
from indexer.archive.index import CaptureIndex, IndexEntry
from indexer.model import Capture

WARC_DIR = "warcs"
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """One HTTP exchange as received, before anyone interprets it."""

    url: str
    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    reason: str = ""
    method: str = "GET"
    request_headers: Sequence[tuple[str, str]] = field(default_factory=tuple)
    truncated: str = ""  # WARC-Truncated reason ("length": stopped at the size cap)

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""


class _Sha256Writer(WARCWriter):
    """warcio's writer with SHA-256 block and payload digests instead of SHA-1."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


class _HeadAsReceived(StatusAndHeaders):
    """A response's head whose bytes, as warcio writes them into a record, are the bytes
    received (``records.http_head``): warcio would otherwise encode them anew before each
    write, %-encoding every value that is not ASCII."""

    def __init__(self, status_line: str, headers: Sequence[tuple[str, str]]) -> None:
        super().__init__(status_line, list(headers), protocol="HTTP/1.1")
        self.headers_buff = records.http_head(status_line, headers)

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        """Kept as received (warcio calls this before writing a record)."""


def warc_date_of(ts: datetime) -> str:
    """A fetch time as its record's WARC-Date says it (verify holds the store's times
    against the records in this form)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WarcWriter:
    """Appends request/response (or revisit) records to rotating ``.warc.gz`` files."""

    def __init__(self, root: str | Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 prefix: str = "adtrace") -> None:
        self.root = Path(root)
        (self.root / WARC_DIR).mkdir(parents=True, exist_ok=True)
        self.max_file_bytes = max_file_bytes
        self.prefix = prefix
        self._fh: io.BufferedWriter | None = None
        # one record builder for every record: warcio's looks up the host name and makes
        # a header parser each time one is made, which cost as much as building a record
        self._records = _Sha256Writer(io.BytesIO(), gzip=True, warc_version="1.1")
        self._rel = ""
        self._seq = 0
        self._files_held: dict[str, bool] = {}  # original WARC files asked about (_holds)
        # no purge from here to close(); taken before the index is read (a purge rewrites it)
        self._lock: int | None = archive_lock.hold_shared(self.root)
        try:
            self.index = CaptureIndex(self.root)
        except BaseException:
            archive_lock.release(self._lock)
            raise

    # ------------------------------------------------------------------ public
    def write(self, fetched: Fetched) -> Capture:
        """Archive one exchange and return its Capture (file relative to the root)."""
        digest = hashlib.sha256(fetched.body).digest()
        sha = digest.hex()
        previous = self.index.latest(fetched.url)
        warc_date = warc_date_of(fetched.fetched_at)
        if previous is not None and previous.sha256 == sha and self._holds(previous):
            record = self._revisit_record(fetched, previous, digest, warc_date)
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            data = self._serialise(record)
            revisit_of = previous.original_id
        else:
            record_id = records.new_record_id()
            http = self._http_headers(fetched)
            data = records.response_record(
                fetched.url, record_id, warc_date, warc_digest_of(digest),
                http.headers_buff, fetched.body, fetched.truncated,
                compressed_payload=records.payload_is_compressed(
                    http.get_header("Content-Type", ""), http.get_header("Content-Encoding", "")))
            revisit_of = ""
        rel, offset = self._append(data)
        capture = Capture(
            url=fetched.url, fetched_at=fetched.fetched_at, status=fetched.status,
            sha256=sha, warc_file=rel, warc_offset=offset, warc_length=len(data),
            content_type=fetched.content_type, revisit_of=revisit_of,
        )
        self._append(self._request_record(fetched, record_id, warc_date))
        self.index.add(IndexEntry.for_capture(capture, record_id, previous))
        return capture

    def _holds(self, previous: IndexEntry) -> bool:
        """Whether the file of the original a revisit would point at is in the archive
        (asked once per file and writer). A file gone (lost, or left out of a restore)
        would leave every later unchanged fetch pointing at a payload nobody can read:
        then the fetch is written whole, and its record becomes the original."""
        found = self._files_held.get(previous.original_file)
        if found is None:
            found = (self.root / previous.original_file).is_file()
            self._files_held[previous.original_file] = found
        return found

    def close(self) -> None:
        """Finish the current file and let a purge have the archive (once nothing else
        writes to it)."""
        self._close_file()
        archive_lock.release(self._lock)
        self._lock = None

    def _close_file(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ records
    def _http_headers(self, fetched: Fetched) -> StatusAndHeaders:
        status_line = f"{fetched.status} {fetched.reason or _reason(fetched.status)}"
        return _HeadAsReceived(status_line, fetched.headers)

    def _revisit_record(self, fetched: Fetched, previous: IndexEntry,  # noqa: ANN202
                        digest: bytes, warc_date: str):
        return self._records.create_revisit_record(
            fetched.url, warc_digest_of(digest), previous.url, previous.original_warc_date,
            http_headers=self._http_headers(fetched),
            warc_headers_dict={
                "WARC-Date": warc_date,
                "WARC-Refers-To": previous.original_record_id,
                "WARC-Refers-To-Filename": previous.original_file,
                "WARC-Refers-To-Offset": str(previous.original_offset),
            },
        )

    @staticmethod
    def _request_record(fetched: Fetched, concurrent_to: str, warc_date: str) -> bytes:
        path = fetched.url.split("://", 1)[-1].partition("/")[2]
        head = records.http_head(f"{fetched.method} /{path} HTTP/1.1",
                                 fetched.request_headers, request=True)
        return records.request_record(fetched.url, records.new_record_id(), warc_date,
                                      concurrent_to, head)

    def _serialise(self, record) -> bytes:  # noqa: ANN001
        """The record as one gzip member (warcio writes to the builder's ``out``)."""
        out = self._records.out = io.BytesIO()
        self._records.write_record(record)
        return out.getvalue()

    # ------------------------------------------------------------------ files
    def _append(self, data: bytes) -> tuple[str, int]:
        """One write, one flush: a kill leaves at most this record partial."""
        fh = self._file_for(len(data))
        offset = fh.tell()
        fh.write(data)
        fh.flush()
        return self._rel, offset

    def _file_for(self, size: int) -> io.BufferedWriter:
        if self._fh is not None and self._fh.tell() + size > self.max_file_bytes \
                and self._fh.tell() > 0:
            self._close_file()
        if self._fh is None:
            self._open_new()
        assert self._fh is not None
        return self._fh

    def _open_new(self) -> None:
        self._seq += 1
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{secrets.token_hex(3)}-{self._seq:05d}.warc.gz"
        self._rel = f"{WARC_DIR}/{name}"
        self._fh = open(self.root / self._rel, "xb")  # noqa: SIM115 - kept open across writes


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"

