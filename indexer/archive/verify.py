"""Re-read every archived record and check its hashes: the evidence is what it says.

A partially written record at the end of a file (a crawl killed mid-write) does not
make the file unreadable: every complete record before it is still checked, and the
damaged tail is reported with its offset. A damaged stretch inside a file (a flipped
byte, a bad disk block) is reported as damaged, with its span, and the check goes on
from the next record it can find. Images are checked against their names.

The archive is also held against what refers to it (``indexer.archive.verify_refs``):
every capture the capture index and the store name must be a record at its file and
offset with its digest, and every image an ad shows must be archived and readable
whole. A WARC file or an image that is gone is thus reported, where a scan of what is
there could not see it, and a damaged image is tied to the ads that show it.

Every record's block (for a response: its HTTP head and body as stored) is held against
its WARC-Block-Digest, so an HTTP status line or Date header changed in place, with the
body left alone, is found as surely as a changed body; a request record too. The
store's view of a capture (its HTTP status and fetch time) is held against its record.
This module scans files and gzip members; indexer.archive.verify_records checks each
record.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from warcio.exceptions import ArchiveLoadFailed

from indexer.archive import image_packs
from indexer.archive import lock as archive_lock
from indexer.archive.digest import sha256_hex
from indexer.archive.images import IMAGE_DIR, find_image
from indexer.archive.index import INDEX_FILE
from indexer.archive.verify_records import records_of, short
from indexer.archive.writer import WARC_DIR

if TYPE_CHECKING:
    from indexer.store.base import Store

GZIP_MAGIC = b"\x1f\x8b\x08"
PROBE_BYTES = 1024  # what a gzip header found after damage must inflate to be a member


@dataclass
class Tally:
    """Things found missing, each counted with the first place that needed it: one line
    per missing file or image, however many records or ads refer to it."""

    count: dict[str, int] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, example: str) -> None:
        self.count[name] = self.count.get(name, 0) + 1
        self.first.setdefault(name, example)

    def lines(self, what: str, state: str = "missing") -> list[str]:
        """``{name}: {state}, yet {what} (first: …)`` per name; ``{n}`` in ``what`` is
        the count."""
        return [f"{name}: {state}, yet {what.format(n=n)} (first: {self.first[name]})"
                for name, n in self.count.items()]


SHOWN_DAMAGED_LINES = 5  # line numbers a note names of an index's unreadable lines


@dataclass
class VerifyReport:
    files: int = 0
    records: int = 0
    images: int = 0
    index_entries: int = 0  # captures.jsonl entries held against the WARC files
    store_captures: int = 0  # captures the store names, held against the WARC files
    store_images: int = 0  # distinct images the store's ads show, looked for
    problems: list[str] = field(default_factory=list)  # "file@offset: what is wrong"
    truncated: list[tuple[str, int]] = field(default_factory=list)  # (file, offset)
    # what a killed crawl or purge left that nothing refers to, so not evidence problems:
    # an image file's temporary file (archives made before packs wrote temp file +
    # rename), a pack no index line names, what a purge killed before its journal wrote
    # (_purge_leftovers); safe to delete
    leftovers: list[str] = field(default_factory=list)
    # image hash -> what is wrong, for images the archive cannot give out whole: the
    # store's ads that show one are named (verify_refs.check_store)
    damaged_images: dict[str, str] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
    damaged: list[tuple[str, int, int]] = field(default_factory=list)  # (file, start, end)
    gone_originals: Tally = field(default_factory=Tally, repr=False)  # revisits' files
    # (file, offset) -> located_value(): the payload digest's first 16 hex digits, a key
    # of the WARC-Target-URI, the HTTP status and the WARC-Date packed in one int, what
    # the cross-checks look things up in (a miss is then re-read from the file itself).
    # About 118 bytes per response or revisit record (measured over a million: 114, of
    # which the packed int was 44, 8 more than the digest key alone took; the URL's key
    # makes the int 48, and costs 0.7 µs a record): 1.2 GB for ten million of them.
    located: dict[str, dict[int, int]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.truncated


def digest_key(sha256: str) -> int:
    """A short, cheap key for a digest: a located record is confirmed by this, a miss
    by re-reading the record, so a few million records fit in memory."""
    try:
        return int(sha256[:16], 16)
    except ValueError:
        return -1


KEY_MASK = (1 << 64) - 1  # a located value's digest_key
URL_BITS = 32  # a located value's url_key, above its digest_key
KEY_AND_URL = (1 << (64 + URL_BITS)) - 1  # what a located value of the index's says
STATUS_BITS = 10  # HTTP status codes are three digits
# a WARC-Date as the writer writes it (writer.warc_date_of); its digits make an int of
# at most 67 bits, so a packed value (64 + 32 + 10 + 67 bits) is a 48-byte int
_URL_SALT = secrets.token_bytes(16)  # per process: see url_key
_WARC_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})Z", re.ASCII)


def url_key(url: str) -> int:
    """A short key of a URL (its text as the record, the index and the store keep it,
    any characters): 32 bits of a BLAKE2b keyed afresh in each process, so no URL can be
    chosen to share another's key (a record moved to another ad's URL that still matched
    would pass unread); one in four billion match by chance."""
    data = url.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=URL_BITS // 8,
                                          key=_URL_SALT).digest(), "big")


def located_value(sha256: str, url: str, status: int = -1, warc_date: str = "") -> int:
    """A record's digest_key, its WARC-Target-URI's url_key, its HTTP status and its
    WARC-Date packed in one int: equal values are an equal digest key, URL key, status
    and date text (the date's digits, its shape fixed). A status or date that does not
    pack leaves the key and the URL's key alone (all the index's check compares), which
    no capture's packed value equals: such a capture is re-read and compared as text."""
    key = digest_key(sha256)
    if key < 0:
        return key
    keys = key | url_key(url) << 64
    date = _WARC_DATE.fullmatch(warc_date)
    if date is None or not 0 <= status < 1 << STATUS_BITS:
        return keys
    return (keys | status << (64 + URL_BITS)
            | int("".join(date.groups())) << (64 + URL_BITS + STATUS_BITS))


def archive_verify(archive_dir: str | Path, store: Store | None = None,
                   on_progress: Callable[[int], None] | None = None,
                   on_ad: Callable[[], None] | None = None) -> VerifyReport:
    """Check every WARC record's digests and every image's content address, then that
    what the capture index (and ``store``, when given) names is there and intact.

    ``on_progress`` is told how many bytes of WARC and image files were read, as they
    are; ``on_ad`` is called per ad of the store checked. A purge rewrites files and deletes images, so the check holds the archive lock
    shared (indexer.archive.lock) as crawls do: it waits for a running purge to end, a
    purge started meanwhile refuses, and ArchiveBusy is raised when a purge was
    interrupted (to be finished first)."""
    from indexer.archive import verify_refs

    root = Path(archive_dir)
    if not root.is_dir():
        report = VerifyReport(problems=[f"{root}: no such archive folder"])
        if store is not None:
            verify_refs.check_store(root, store, report, on_ad)
        return report
    progress = on_progress or (lambda _n: None)
    with archive_lock.held(root):
        report = _verify(root, progress)
        verify_refs.check_index(root, report)
        if store is not None:
            verify_refs.check_store(root, store, report, on_ad)
        return report


def _verify(root: Path, progress: Callable[[int], None]) -> VerifyReport:
    report = VerifyReport()
    for path in sorted((root / WARC_DIR).glob("*.warc.gz")):
        report.files += 1
        _verify_file(root, path, report, progress)
    report.problems += report.gone_originals.lines("{n} revisit record(s) refer to it")
    _purge_leftovers(root, report)
    for path in sorted((root / IMAGE_DIR).glob("[0-9a-f][0-9a-f]/*")):  # files of their own
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            report.leftovers.append(str(path.relative_to(root)))
            continue
        report.images += 1
        body = path.read_bytes()
        progress(len(body))
        if sha256_hex(body) != path.stem:
            report.problems.append(f"{path.relative_to(root)}: content does not match its name")
            report.damaged_images[path.stem] = "its content does not match its hash"
    _verify_packs(root, report, progress)
    _keep_unreadable(root, report.damaged_images)
    return report


def _keep_unreadable(root: Path, damaged: dict[str, str]) -> None:
    """Of the images found damaged, keep those the archive cannot give out whole: one
    stored twice (two processes archived it at once) may have a sound copy, which is the
    one the UI and exports read (images.find_image)."""
    for sha in list(damaged):
        stored = find_image(root, sha)
        try:
            sound = stored is not None and sha256_hex(stored.read()) == sha
        except (OSError, image_packs.PackDamaged):
            sound = False
        if sound:
            del damaged[sha]


def _purge_leftovers(root: Path, report: VerifyReport) -> None:
    """What a purge killed before its journal leaves: a WARC file rewritten beside the
    old one (``*.purge-tmp``), and the temporary file of a file replaced whole (the
    journal, the notes of photos and of records, the capture index;
    indexer.archive.files). A purge whose journal is there is finished before any check
    (archive_lock.held), so nothing names these: the next purge writes them anew."""
    found = sorted((root / WARC_DIR).glob("*.purge-tmp"))
    for name in (archive_lock.JOURNAL, archive_lock.IMAGE_JOURNAL,
                 archive_lock.RECORD_JOURNAL, INDEX_FILE):
        found += sorted(root.glob(f".{name}.*.tmp"))
    report.leftovers += [str(path.relative_to(root)) for path in found]


def _verify_packs(root: Path, report: VerifyReport, progress: Callable[[int], None]) -> None:
    """Every image the pack index names is in its pack, whole, with its hash; a pack no
    line names is a leftover (a kill before its first line, or a purge cut short)."""
    named: set[str] = set()
    hashes: set[str] = set()
    damaged: list[int] = []
    for lineno, packed in image_packs.lines(root):
        if packed is None:
            damaged.append(lineno)
            continue
        named.add(packed.pack)
        hashes.add(packed.sha256)
        try:
            body = image_packs.read(root, packed)
        except image_packs.PackDamaged as exc:
            report.problems.append(f"{exc} (image {packed.sha256})")
            report.damaged_images[packed.sha256] = str(exc)
            continue
        progress(len(body))
        if sha256_hex(body) != packed.sha256:
            where = f"{image_packs.PACK_DIR}/{packed.pack}@{packed.offset}"
            report.problems.append(f"{where}: content does not match image {packed.sha256}")
            report.damaged_images[packed.sha256] = f"{where}: its content does not match its hash"
    report.images += len(hashes)
    packs = sorted((root / image_packs.PACK_DIR).glob("*.pack"))
    holding = image_packs.holding_packs(root)
    # the index gone or unreadable: nothing tells a leftover (a purge refuses as well:
    # require_index); one with its generation line alone names no photo: leftovers
    state = image_packs.index_trouble(root) if holding and not named else ""
    if state:
        report.problems.append(
            f"{image_packs.INDEX_FILE}: {state}, yet {len(holding)} pack file(s) hold "
            "images: the archive cannot find its photos (the packs are evidence, not "
            "leftovers: keep them)")
        return
    for path in packs:
        if path.name not in named:
            report.leftovers.append(str(path.relative_to(root)))
    index = image_packs.index_path(root)
    for path in sorted(index.parent.glob(f".{index.name}.*.tmp")):  # a purge's, cut short
        report.leftovers.append(str(path.relative_to(root)))
    if damaged:
        report.notes.append(skipped_lines(
            image_packs.INDEX_FILE, damaged, "a crash while appending leaves one (an image "
            "the store shows and no line names is said below)"))


def skipped_lines(name: str, damaged: list[int], why: str) -> str:
    """The note for an index's unreadable lines: how many, the first few, and why."""
    shown = ", ".join(map(str, damaged[:SHOWN_DAMAGED_LINES]))
    more = " …" if len(damaged) > SHOWN_DAMAGED_LINES else ""
    return f"{name}: {len(damaged)} unreadable line(s) skipped (line {shown}{more}); {why}"


def _verify_file(root: Path, path: Path, report: VerifyReport,
                 progress: Callable[[int], None]) -> None:
    rel = str(path.relative_to(root))
    located = report.located.setdefault(rel, {})
    with open(path, "rb") as fh:
        for member in gzip_members(fh):
            progress(member.length)
            if member.damage == "truncated":
                report.truncated.append((rel, member.offset))
                return
            if member.damage:
                report.damaged.append((rel, member.offset, member.offset + member.length))
                report.problems.append(f"{rel}@{member.offset}: {member.damage}")
                continue
            try:
                records = list(records_of(root, member.data))
            except (EOFError, ArchiveLoadFailed, ValueError) as exc:
                report.problems.append(f"{rel}@{member.offset}: unreadable record "
                                       f"({short(str(exc))})")
                continue
            for checked in records:
                report.records += 1
                if checked.gone_original:
                    report.gone_originals.add(checked.gone_original, f"{rel}@{member.offset}")
                if checked.problem:
                    report.problems.append(f"{rel}@{member.offset}: {checked.problem}")
                elif checked.digest:
                    located[member.offset] = located_value(checked.digest, checked.url,
                                                           checked.status, checked.date)


@dataclass(frozen=True)
class Member:
    """One gzip member of a WARC file, or a stretch of it that could not be read."""

    offset: int
    length: int  # compressed bytes, from offset to where the next member starts
    data: bytes = b""
    damage: str = ""  # "" | "truncated" (unfinished at the end) | what is damaged


def gzip_members(fh: BinaryIO, chunk: int = 1 << 16) -> Iterator[Member]:
    """Every member in order. An unfinished member at the end is "truncated" and ends
    the file; a member that does not inflate is damaged: its stretch up to the next
    member that does is reported as one, and reading goes on from there."""
    offset, pending = 0, b""
    while True:
        data = pending or fh.read(chunk)
        if not data:
            return
        inflated = _inflate(fh, data, chunk)
        if isinstance(inflated, tuple):
            out, used, pending = inflated
            yield Member(offset, used, out)
            offset += used
            continue
        if inflated == "truncated":
            yield Member(offset, _size(fh) - offset, damage="truncated")
            return
        resume = _next_member(fh, offset + 1, chunk)
        end = _size(fh) if resume is None else resume
        yield Member(offset, end - offset, damage=(
            f"damaged: {end - offset} byte(s) up to "
            f"{'the end of the file' if resume is None else f'the next record at {end}'} "
            f"cannot be read ({inflated}); the records around them are checked"))
        if resume is None:
            return
        offset, pending = resume, b""
        fh.seek(resume)


def _inflate(fh: BinaryIO, data: bytes, chunk: int) -> tuple[bytes, int, bytes] | str:
    """(inflated, compressed length, bytes read past its end) for the member ``data``
    starts; or "truncated" when the file ends inside it, or why it does not inflate."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out: list[bytes] = []
    used = 0
    while True:
        try:
            out.append(d.decompress(data))
        except zlib.error as exc:
            return str(exc)
        if d.eof:
            used += len(data) - len(d.unused_data)
            return b"".join(out), used, d.unused_data
        used += len(data)
        data = fh.read(chunk)
        if not data:
            return "truncated"


def _next_member(fh: BinaryIO, start: int, chunk: int) -> int | None:
    """The offset of the next member after a damaged stretch: a gzip header whose first
    PROBE_BYTES inflate (a header's three bytes can occur by chance inside compressed
    data, and nearly always fail within them). Linear in the stretch: each window is
    read once and candidates are probed in it."""
    pos = start
    while True:
        fh.seek(pos)
        window = fh.read(chunk + PROBE_BYTES)
        if len(window) < len(GZIP_MAGIC):
            return None
        hit = window.find(GZIP_MAGIC)
        while 0 <= hit < chunk:
            if _inflates(window[hit:hit + PROBE_BYTES]):
                return pos + hit
            hit = window.find(GZIP_MAGIC, hit + 1)
        if len(window) <= chunk:  # the end of the file is in this window
            return None
        pos += chunk


def _inflates(start: bytes) -> bool:
    """Whether ``start`` inflates as the beginning of a gzip member (a real member is
    then inflated once, by gzip_members, not here in full as well)."""
    try:
        zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(start)
    except zlib.error:
        return False
    return True


def _size(fh: BinaryIO) -> int:
    return fh.seek(0, io.SEEK_END)
