"""Captures found again by (URL, time), from the capture index and the WARC records.

A write to Elasticsearch cut short after its claim on the ad leaves the ad seen at the
capture's time, with no record of that capture in the store. The capture itself is in
the archive; this rebuilds it, as the crawl that fetched it made it, for
``Store.finish_cut_writes``: id, hash, file and offset from the index line, the content
type from the record's HTTP headers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from indexer.archive.index import INDEX_FILE, IndexEntry, read_lines
from indexer.archive.reader import ArchiveError, read_raw
from indexer.model import Capture, from_iso, to_iso


class CapturesSince:
    """The archive's captures fetched at or after ``since``; called with (URL, time), the
    Capture fetched then (None: none, or its record cannot be read)."""

    def __init__(self, root: str | Path, since: datetime) -> None:
        self.root = Path(root)
        floor = to_iso(since)  # index times are written as to_iso writes them: sortable
        self._entries: dict[tuple[str, str], IndexEntry] = {
            (e.url, e.fetched_at): e for _n, e in read_lines(self.root / INDEX_FILE)
            if e is not None and e.fetched_at >= floor}

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, url: str, at: datetime) -> Capture | None:
        entry = self._entries.get((url, to_iso(at)))
        if entry is None:
            return None
        try:
            content_type = read_raw(self.root, entry.file, entry.offset).content_type
        except ArchiveError:
            return None
        return Capture(url=entry.url, fetched_at=from_iso(entry.fetched_at),
                       status=entry.status, sha256=entry.sha256, warc_file=entry.file,
                       warc_offset=entry.offset, warc_length=entry.length,
                       content_type=content_type,
                       revisit_of=entry.original_id if entry.type == "revisit" else "")
