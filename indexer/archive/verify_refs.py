"""What refers to the archive must be in it: the capture index, and the store.

A scan of the WARC files checks what is there; it cannot see a WARC file or an image
that is gone. The capture index (``captures.jsonl``) and the store both say where each
capture is (file, offset, digest, URL) and the store says which images each ad version
shows, so each of them is held against the archive here. A capture that is not where
the scan found records (one written after the scan, by a crawl running meanwhile) is
re-read from its file before anything is said about it. The URL must be the record's
WARC-Target-URI: a record moved to another URL gives the evidence to another ad. The
store also says what each capture's record says of the fetch (its HTTP status and
time): these must agree too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.archive.images import find_image
from indexer.archive.index import INDEX_FILE, read_lines
from indexer.archive.reader import ArchivedRecord, ArchiveError, read_raw
from indexer.archive.verify import (
    KEY_AND_URL,
    Tally,
    VerifyReport,
    located_value,
    skipped_lines,
)
from indexer.archive.verify_records import short
from indexer.archive.writer import warc_date_of

if TYPE_CHECKING:
    from indexer.model import Capture
    from indexer.store.base import Store

_NO_FILE = "no such file"  # locate(): the file named is not in the archive


def check_index(root: Path, report: VerifyReport) -> None:
    """Every readable entry of captures.jsonl is a record at its place, with its digest
    and its URL."""
    path = root / INDEX_FILE
    if not path.exists():
        if report.records:
            report.problems.append(
                f"{INDEX_FILE}: missing, yet the WARC files hold {report.records} record(s): "
                "a crawl would archive unchanged pages in full again (no revisit records)")
        return
    gone = Tally()
    damaged: list[int] = []
    for lineno, entry in read_lines(path):
        if entry is None:
            damaged.append(lineno)
            continue
        report.index_entries += 1
        label = f"{INDEX_FILE} line {lineno} ({entry.url})"
        problem = locate(root, report, entry.file, entry.offset, entry.sha256, entry.url)
        if problem == _NO_FILE:
            gone.add(entry.file, label)
        elif problem:
            report.problems.append(f"{label}: {problem}")
    report.problems += gone.lines(f"{INDEX_FILE} names {{n}} capture(s) in it")
    if report.records and not report.index_entries:
        report.problems.append(
            f"{INDEX_FILE}: {'empty' if not damaged else 'no readable line'}, yet the WARC "
            f"files hold {report.records} record(s): a crawl would archive unchanged pages "
            "in full again (no revisit records)")
    if damaged:
        report.notes.append(skipped_lines(
            INDEX_FILE, damaged, "a crawl killed while appending leaves one, and its record "
            "is still in the WARC files"))


def check_store(root: Path, store: Store, report: VerifyReport,
                on_ad: Callable[[], None] | None = None) -> None:
    """Every capture of every ad version in the store is a record at its place with its
    digest, URL, HTTP status and time (as the record has them), and every image a version
    shows is archived, and readable whole (the scan found which are not:
    ``report.damaged_images``)."""
    gone_files, gone_images, damaged_images = Tally(), Tally(), Tally()
    archived: dict[str, bool] = {}  # image hash -> found, each looked for once
    for ad in store.iter_ads():
        for version in ad.versions:
            label = f"ad {ad.id} version {version.seq}"
            for capture in version.captures:
                report.store_captures += 1
                problem = locate(root, report, capture.warc_file, capture.warc_offset,
                                 capture.sha256, capture.url, capture)
                if problem == _NO_FILE:
                    gone_files.add(capture.warc_file, f"{label}, {capture.url}")
                elif problem:
                    report.problems.append(f"store, {label} ({capture.url}): {problem}")
            for image in version.fields.images:
                if image.sha256 not in archived:
                    archived[image.sha256] = find_image(root, image.sha256) is not None
                if not archived[image.sha256]:
                    gone_images.add(f"image {image.sha256}", label)
                elif (why := report.damaged_images.get(image.sha256)) is not None:
                    damaged_images.add(f"image {image.sha256} ({why})", label)
        if on_ad:
            on_ad()
    report.store_images += len(archived)
    report.problems += gone_files.lines("the store names {n} capture(s) in it")
    report.problems += gone_images.lines("{n} ad version(s) in the store show it")
    report.problems += damaged_images.lines("{n} ad version(s) in the store show it",
                                            state="not readable whole")


def locate(root: Path, report: VerifyReport, file: str, offset: int, sha256: str,
           url: str, capture: Capture | None = None) -> str:
    """'' when (file, offset) holds a record with this payload digest and this URL as
    its WARC-Target-URI (and, for a store's ``capture``, its HTTP status and its time as
    a WARC-Date, as the writer writes it); _NO_FILE when the file is not there; else
    what is wrong. A record the scan did not see (or saw half written, by a crawl
    running meanwhile, or found wrong and said so) is read again, as
    reader.read_capture would but without resolving a revisit: the scan checked
    revisits against their originals."""
    found = report.located.get(file, {}).get(offset)
    if capture is None:
        expected = located_value(sha256, url)
        if found is not None and expected >= 0 and found & KEY_AND_URL == expected:
            return ""
    else:
        expected = located_value(sha256, url, capture.status, warc_date_of(capture.fetched_at))
        if found == expected and expected > KEY_AND_URL:  # status and date packed too
            return ""
    try:
        record = read_raw(root, file, offset)
    except ArchiveError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return _NO_FILE
        return _where_it_went(report, file, offset) or short(str(exc))
    if record.sha256 != sha256:
        return _where_it_went(report, file, offset) or (
            f"{file}@{offset}: the record's payload sha256 {record.sha256} is not {sha256}")
    return _disagreement(file, offset, record, url, capture)


def _disagreement(file: str, offset: int, record: ArchivedRecord, url: str,
                  capture: Capture | None) -> str:
    """What the record and the index's entry or the store's capture say differently of
    the fetch, both sides: its URL (compared as text, as each keeps it), and, with the
    store's capture, its HTTP status and time."""
    said, where = [], "the capture index" if capture is None else "the store"
    if record.url != url:
        said.append(f"URL {record.url or '(no WARC-Target-URI)'} in the record, {url} in "
                    f"{where}")
    if capture is not None and record.status != capture.status:
        said.append(f"HTTP status {record.status} in the record, {capture.status} in the store")
    if capture is not None and record.date != (fetched := warc_date_of(capture.fetched_at)):
        said.append(f"fetched at {record.date or '(no WARC-Date)'} in the record, {fetched} in "
                    "the store")
    return f"{file}@{offset}: " + "; ".join(said) if said else ""


def _where_it_went(report: VerifyReport, file: str, offset: int) -> str:
    """Why a record cannot be read, when the scan found it cut short or damaged."""
    if (file, offset) in report.truncated:
        return (f"{file}@{offset}: its record is the unfinished one at the end of the file "
                "(written whole once, since it was indexed; the file was cut short since)")
    for damaged_file, start, end in report.damaged:
        if damaged_file == file and start <= offset < end:
            return f"{file}@{offset}: its record is in the damaged stretch at {file}@{start}"
    return ""
