"""Re-read every archived record and check its hashes: the evidence is what it says.

A partially written record at the end of a file (a crawl killed mid-write) does not
make the file unreadable: every complete record before it is still checked, and the
damaged tail is reported with its offset. Images are checked against their names.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from indexer.archive import lock as archive_lock
from indexer.archive.digest import hex_from_warc_digest, sha256_hex
from indexer.archive.images import IMAGE_DIR
from indexer.archive.reader import ArchiveError, read_raw
from indexer.archive.writer import WARC_DIR


@dataclass
class VerifyReport:
    files: int = 0
    records: int = 0
    images: int = 0
    problems: list[str] = field(default_factory=list)  # "file@offset: what is wrong"
    truncated: list[tuple[str, int]] = field(default_factory=list)  # (file, offset)
    # unnamed temporary files a killed crawl left (an image write is temp file + rename):
    # never referred to by anything, so not evidence problems; safe to delete
    leftovers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.truncated


def archive_verify(archive_dir: str | Path) -> VerifyReport:
    """Check every WARC record's digests and every image's content address.

    A purge rewrites files and deletes images, so the check holds the archive lock
    shared (indexer.archive.lock) as crawls do: it waits for a running purge to end, a
    purge started meanwhile refuses, and ArchiveBusy is raised when a purge was
    interrupted (to be finished first)."""
    root = Path(archive_dir)
    if not root.is_dir():
        return VerifyReport()
    with archive_lock.held(root):
        return _verify(root)


def _verify(root: Path) -> VerifyReport:
    report = VerifyReport()
    for path in sorted((root / WARC_DIR).glob("*.warc.gz")):
        report.files += 1
        _verify_file(root, path, report)
    for path in sorted((root / IMAGE_DIR).glob("*/*")):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            report.leftovers.append(str(path.relative_to(root)))
            continue
        report.images += 1
        if sha256_hex(path.read_bytes()) != path.stem:
            report.problems.append(f"{path.relative_to(root)}: content does not match its name")
    return report


def _verify_file(root: Path, path: Path, report: VerifyReport) -> None:
    rel = str(path.relative_to(root))
    with open(path, "rb") as fh:
        for offset, member in gzip_members(fh):
            if member is None:
                report.truncated.append((rel, offset))
                return
            try:
                records = list(_records(root, member))
            except (EOFError, ArchiveLoadFailed, ValueError) as exc:
                report.problems.append(f"{rel}@{offset}: unreadable record ({exc})")
                continue
            for problem in records:
                report.records += 1
                if problem:
                    report.problems.append(f"{rel}@{offset}: {problem}")


def gzip_members(fh: BinaryIO, chunk: int = 1 << 16) -> Iterator[tuple[int, bytes | None]]:
    """(offset, decompressed bytes) per gzip member; None for an unfinished tail."""
    offset, pending = 0, b""
    while True:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out: list[bytes] = []
        used = 0
        data = pending or fh.read(chunk)
        if not data:
            return
        while True:
            try:
                out.append(d.decompress(data))
            except zlib.error:
                yield offset, None
                return
            if d.eof:
                used += len(data) - len(d.unused_data)
                pending = d.unused_data
                break
            used += len(data)
            data = fh.read(chunk)
            if not data:
                yield offset, None
                return
        yield offset, b"".join(out)
        offset += used


def _records(root: Path, member: bytes) -> Iterator[str]:
    for record in ArchiveIterator(io.BytesIO(member)):
        yield _check_record(root, record)


def _check_record(root: Path, record) -> str:  # noqa: ANN001 - warcio record
    """'' if the record's digests hold, else what is wrong."""
    headers = record.rec_headers
    rtype = headers.get_header("WARC-Type")
    if rtype == "revisit":
        return _check_revisit(root, headers)
    payload = record.raw_stream.read()
    declared = headers.get_header("WARC-Payload-Digest")
    if rtype == "response":
        if not declared:
            return "response without WARC-Payload-Digest"
        if hex_from_warc_digest(declared) != sha256_hex(payload):
            return f"payload sha256 differs from {declared}"
    return ""


def _check_revisit(root: Path, headers) -> str:  # noqa: ANN001 - warcio headers
    """A revisit must carry a sha256 digest equal to the original it points at."""
    digest = hex_from_warc_digest(headers.get_header("WARC-Payload-Digest") or "")
    if not digest:
        return "revisit without a sha256 payload digest"
    ref_file = headers.get_header("WARC-Refers-To-Filename")
    ref_off = headers.get_header("WARC-Refers-To-Offset") or ""
    if not ref_file or not ref_off.isdigit():
        return ""  # a revisit from another tool: only the digest can be checked
    try:
        original = read_raw(root, ref_file, int(ref_off))
    except ArchiveError as exc:
        return f"revisit's original is unreadable: {exc}"
    return "" if original.sha256 == digest else \
        f"revisit digest differs from its original at {ref_file}@{ref_off}"
