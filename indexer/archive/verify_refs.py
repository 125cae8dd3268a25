"""What refers to the archive must be in it: the capture index, and the store.

A scan of the WARC files checks what is there; it cannot see a WARC file or an image
that is gone. The capture index (``captures.jsonl``) and the store both say where each
capture is (file, offset, digest) and the store says which images each ad version
shows, so each of them is held against the archive here. A capture that is not where
the scan found records (one written after the scan, by a crawl running meanwhile) is
re-read from its file before it is called missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.archive.images import find_image
from indexer.archive.index import INDEX_FILE, IndexEntry
from indexer.archive.reader import ArchiveError, read_raw
from indexer.archive.verify import VerifyReport, digest_key

if TYPE_CHECKING:
    from indexer.store.base import Store

SHOWN_DAMAGED_LINES = 5
MAX_REASON = 200
_NO_FILE = "no such file"  # locate(): the file named is not in the archive


@dataclass
class _Gone:
    """Captures (or ads) that name a file or an image the archive does not have."""

    count: dict[str, int] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, example: str) -> None:
        self.count[name] = self.count.get(name, 0) + 1
        self.first.setdefault(name, example)


def check_index(root: Path, report: VerifyReport) -> None:
    """Every readable entry of captures.jsonl is a record at its place, with its digest."""
    path = root / INDEX_FILE
    if not path.exists():
        if report.records:
            report.problems.append(
                f"{INDEX_FILE}: missing, yet the WARC files hold {report.records} record(s): "
                "a crawl would archive unchanged pages in full again (no revisit records)")
        return
    gone = _Gone()
    damaged: list[int] = []
    for lineno, entry in _index_entries(path, damaged):
        report.index_entries += 1
        label = f"{INDEX_FILE} line {lineno} ({entry.url})"
        problem = locate(root, report, entry.file, entry.offset, entry.sha256)
        if problem == _NO_FILE:
            gone.add(entry.file, label)
        elif problem:
            report.problems.append(f"{label}: {problem}")
    _report_gone_files(report, gone, INDEX_FILE)
    if damaged:
        shown = ", ".join(map(str, damaged[:SHOWN_DAMAGED_LINES]))
        more = " …" if len(damaged) > SHOWN_DAMAGED_LINES else ""
        report.notes.append(
            f"{INDEX_FILE}: {len(damaged)} unreadable line(s) skipped (line {shown}{more}); "
            "a crawl killed while appending leaves one, and its record is still in the WARC "
            "files")


def _index_entries(path: Path, damaged: list[int]) -> Iterator[tuple[int, IndexEntry]]:
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield lineno, IndexEntry(**json.loads(line))
            except (ValueError, TypeError):
                damaged.append(lineno)


def check_store(root: Path, store: Store, report: VerifyReport) -> None:
    """Every capture of every ad version in the store is a record at its place with its
    digest, and every image a version shows is archived."""
    gone_files, gone_images = _Gone(), _Gone()
    looked_for: set[str] = set()
    missing_images: set[str] = set()
    for ad in store.iter_ads():
        for version in ad.versions:
            label = f"ad {ad.id} version {version.seq}"
            for capture in version.captures:
                report.store_captures += 1
                problem = locate(root, report, capture.warc_file, capture.warc_offset,
                                 capture.sha256)
                if problem == _NO_FILE:
                    gone_files.add(capture.warc_file, f"{label}, {capture.url}")
                elif problem:
                    report.problems.append(f"store, {label} ({capture.url}): {problem}")
            for image in version.fields.images:
                if image.sha256 not in looked_for:
                    looked_for.add(image.sha256)
                    report.store_images += 1
                    if find_image(root, image.sha256) is None:
                        missing_images.add(image.sha256)
                if image.sha256 in missing_images:
                    gone_images.add(image.sha256, label)
    _report_gone_files(report, gone_files, "the store")
    for sha, n in gone_images.count.items():
        report.problems.append(f"images: {sha} is missing, yet {n} ad version(s) in the store "
                               f"show it (first: {gone_images.first[sha]})")



def locate(root: Path, report: VerifyReport, file: str, offset: int, sha256: str) -> str:
    """'' when (file, offset) holds a record with this payload digest; _NO_FILE when the
    file is not there; else what is wrong. A record the scan did not see is re-read."""
    if report.located.get(file, {}).get(offset) == digest_key(sha256):
        return ""
    if (file, offset) in report.truncated:
        return (f"{file}@{offset}: its record is the unfinished one at the end of the file "
                "(written whole once, since it was indexed; the file was cut short since)")
    for damaged_file, start, end in report.damaged:
        if damaged_file == file and start <= offset < end:
            return f"{file}@{offset}: its record is in the damaged stretch at {file}@{start}"
    try:
        record = read_raw(root, file, offset)
    except ArchiveError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return _NO_FILE
        text = str(exc)  # warcio quotes the bytes it could not parse: keep the gist
        return text if len(text) <= MAX_REASON else text[:MAX_REASON] + " …"
    if record.sha256 != sha256:
        return f"{file}@{offset}: the record's payload sha256 {record.sha256} is not {sha256}"
    return ""


def _report_gone_files(report: VerifyReport, gone: _Gone, who: str) -> None:
    for file, n in gone.count.items():
        report.problems.append(f"{file}: missing, yet {who} names {n} capture(s) in it "
                               f"(first: {gone.first[file]})")
