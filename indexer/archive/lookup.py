"""Captures found again by (URL, time), from the capture index and the WARC records.

A write to Elasticsearch cut short after its claim on the ad leaves the ad seen at the
capture's time, with no record of that capture in the store. The capture itself is in
the archive; this finds it again for ``Store.finish_cut_writes``: its id from the index
line (so the store can ask which ones it lacks), and, for those only, the whole Capture
as the crawl made it (the content type read from the record's HTTP headers).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property
from pathlib import Path

from indexer.archive.index import INDEX_FILE, IndexEntry
from indexer.archive.reader import ArchiveError, read_raw
from indexer.model import Capture, from_iso, to_iso

_TIME_KEY = b'"fetched_at": "'  # as CaptureIndex.add writes every line (sort_keys)


class CapturesSince:
    """The archive's captures fetched at or after ``since`` (a CaptureLookup). The index
    is read when first asked: a store with nothing to rebuild (SQLite) never reads it."""

    def __init__(self, root: str | Path, since: datetime, until: datetime | None = None) -> None:
        """``until``: captures fetched then or later are left out (None: none are)."""
        self.root = Path(root)
        self.since = since
        self.until = until

    @cached_property
    def _entries(self) -> dict[tuple[str, str], IndexEntry]:
        until = to_iso(self.until) if self.until is not None else None
        return {(e.url, e.fetched_at): e
                for e in _entries_since(self.root / INDEX_FILE, to_iso(self.since))
                if until is None or e.fetched_at < until}

    @cached_property
    def _latest(self) -> dict[str, IndexEntry]:
        latest: dict[str, IndexEntry] = {}
        for entry in self._entries.values():
            if (seen := latest.get(entry.url)) is None or seen.fetched_at <= entry.fetched_at:
                latest[entry.url] = entry
        return latest

    def __len__(self) -> int:
        return len(self._entries)

    def latest(self, url: str) -> Capture | None:
        """The last capture of ``url`` since then, whatever its status (None: none, or
        its record cannot be read): a photo a killed run fetched (crawler.journal_replay)."""
        entry = self._latest.get(url)
        return _whole(self.root, entry) if entry is not None else None

    def capture_id(self, url: str, at: datetime) -> str | None:
        entry = self._entries.get((url, to_iso(at)))
        return _capture(entry, "").id if entry is not None else None

    def capture(self, url: str, at: datetime) -> Capture | None:
        entry = self._entries.get((url, to_iso(at)))
        return _whole(self.root, entry) if entry is not None else None


def _whole(root: Path, entry: IndexEntry) -> Capture | None:
    """The Capture of an index entry, its content type read from the record's headers."""
    try:
        content_type = read_raw(root, entry.file, entry.offset).content_type
    except ArchiveError:
        return None
    return _capture(entry, content_type)


def _capture(entry: IndexEntry, content_type: str) -> Capture:
    return Capture(url=entry.url, fetched_at=from_iso(entry.fetched_at), status=entry.status,
                   sha256=entry.sha256, warc_file=entry.file, warc_offset=entry.offset,
                   warc_length=entry.length, content_type=content_type,
                   revisit_of=entry.original_id if entry.type == "revisit" else "")


def _entries_since(path: Path, floor: str) -> list[IndexEntry]:
    """The index lines fetched at or after ``floor`` (ISO, as the index writes times);
    a line's time is read before the line is parsed, so an archive of years costs a
    scan, not a parse of every line. Lines that cannot be read are skipped."""
    if not path.exists():
        return []
    key = floor.encode("ascii")
    out = []
    with open(path, "rb") as fh:
        for line in fh:
            at = line.find(_TIME_KEY) + len(_TIME_KEY)
            if at >= len(_TIME_KEY) and line[at:at + len(key)] < key:
                continue  # written earlier (a line written otherwise is parsed to tell)
            try:
                entry = IndexEntry(**json.loads(line))
            except (ValueError, TypeError):
                continue
            if entry.fetched_at >= floor:
                out.append(entry)
    return out
