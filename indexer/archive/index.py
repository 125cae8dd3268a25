"""The capture index: (URL, time, digest, file, offset) kept apart from the content.

One JSON line per archived response or revisit, appended with a single write, so
several crawl processes can share one archive. A partial last line (a kill mid-write)
is skipped on load. The index is an aid (revisit detection, lookup by digest); the
WARC files remain the evidence and ``archive_verify`` never trusts the index.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.archive.files import write_all
from indexer.model import Capture

INDEX_FILE = "captures.jsonl"
# the answers Scrapy's RedirectMiddleware follows (a 300, 304 or 305 it does not)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class IndexEntry:
    url: str
    fetched_at: str
    sha256: str
    status: int
    file: str
    offset: int
    length: int
    type: str  # response | revisit
    capture_id: str
    record_id: str
    original_id: str  # capture id of the response record holding the payload
    original_file: str
    original_offset: int
    original_record_id: str
    original_warc_date: str

    @classmethod
    def for_capture(cls, capture: Capture, record_id: str,
                    previous: IndexEntry | None) -> IndexEntry:
        """The entry for a new capture; a revisit inherits the original's location."""
        revisit = bool(capture.revisit_of) and previous is not None
        date = capture.fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return cls(
            url=capture.url, fetched_at=date, sha256=capture.sha256, status=capture.status,
            file=capture.warc_file, offset=capture.warc_offset, length=capture.warc_length,
            type="revisit" if revisit else "response", capture_id=capture.id,
            record_id=record_id,
            original_id=previous.original_id if revisit and previous else capture.id,
            original_file=previous.original_file if revisit and previous else capture.warc_file,
            original_offset=(previous.original_offset if revisit and previous
                             else capture.warc_offset),
            original_record_id=(previous.original_record_id if revisit and previous
                                else record_id),
            original_warc_date=(previous.original_warc_date if revisit and previous else date),
        )


class CaptureIndex:
    """Latest capture per URL, and latest redirect (3xx) per URL, loaded from and appended
    to ``captures.jsonl``."""

    def __init__(self, root: str | Path) -> None:
        self.path = Path(root) / INDEX_FILE
        self._latest: dict[str, IndexEntry] = {}
        self._redirects: dict[str, IndexEntry] = {}
        for entry in self.entries():
            self._keep(entry)

    def entries(self) -> list[IndexEntry]:
        """Every readable entry, in write order; damaged lines are skipped."""
        return [entry for _n, entry in read_lines(self.path) if entry is not None]

    def latest(self, url: str) -> IndexEntry | None:
        return self._latest.get(url)

    def last_redirect(self, url: str) -> IndexEntry | None:
        """The latest capture of ``url`` that answered with a redirect Scrapy follows
        (REDIRECT_STATUSES), even when later captures of it did not: where an address
        led, once the site stops saying."""
        return self._redirects.get(url)

    def _keep(self, entry: IndexEntry) -> None:
        self._latest[entry.url] = entry
        if entry.status in REDIRECT_STATUSES:
            self._redirects[entry.url] = entry

    def add(self, entry: IndexEntry) -> None:
        """Append the entry's line, with one write. A line another crawl process left
        unfinished (killed mid-write, a full disk) is ended first, so it does not swallow
        this one: crawl processes append to one index while each other runs."""
        # vars(), not dataclasses.asdict: the fields are plain str/int and asdict's
        # recursive deep copy cost more than the rest of the index entry together
        line = (json.dumps(vars(entry), sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            write_all(fd, line)
        finally:
            os.close(fd)
        self._keep(entry)


def original_place(root: str | Path, record_id: str) -> tuple[str, int] | None:
    """Where the index says the response record ``record_id`` lies (its own entry, else a
    revisit entry's original): for a revisit whose WARC-Refers-To-Filename/-Offset are
    lost or unusable, by its WARC-Refers-To. A scan of the file, asked only for such a
    revisit; a line is parsed only when it holds the id. None when no line places it."""
    path = Path(root) / INDEX_FILE
    if not record_id or not path.exists():
        return None
    needle, found = record_id.encode("utf-8"), None
    with open(path, "rb") as fh:
        for line in fh:
            if needle not in line:
                continue
            try:
                entry = IndexEntry(**json.loads(line))
            except (ValueError, TypeError):
                continue
            if entry.record_id == record_id and entry.type == "response":
                return entry.file, entry.offset
            if entry.original_record_id == record_id and found is None:
                found = entry.original_file, entry.original_offset
    return found


def read_lines(path: Path) -> Iterator[tuple[int, IndexEntry | None]]:
    """(line number, entry) per non-empty line of an index file, in write order; None for
    a line that cannot be read (a kill mid-append leaves one). No file: nothing."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield lineno, IndexEntry(**json.loads(line))
            except (ValueError, TypeError):
                yield lineno, None
