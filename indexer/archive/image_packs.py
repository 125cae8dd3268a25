"""Archived images kept in packs: append-only files of image bytes, an index line each.

A file per image (``images/ab/<sha256>.<ext>``) cost an inode per photo, and creating it
cost this project's machines 40–870 µs of kernel CPU (ext4 on a virtual disk, worst at
the start of a burst): up to a tenth of a crawl's CPU at 1.7 photos per ad page.
Appending 6 KB to an open pack costs about 16 µs. So images go into packs:

- ``images/packs/<stamp>-<pid>-<random>-<seq>.pack``: image bytes back to back, appended
  by the one process that named the pack and never reopened by another, so a kill
  leaves at most bytes that no index line names, at the end of that process's own pack;
- ``images/packs.jsonl``: one JSON line per packed image (sha256, pack, offset, length,
  ext and what the bytes decoded to), appended with one write once its bytes are in the
  pack. An image is archived once its line is there.

Any number of processes add images at once: each to a pack of its own, the index lines
as single ``O_APPEND`` writes (as ``captures.jsonl``'s). A purge takes images out
(``remove``) while it holds the archive alone (indexer.archive.lock). A process's view
of the index (``PackIndex``) reads the lines appended since it last looked whenever it
is asked for a hash, and the whole file again when a purge replaced it. Images are content-addressed
as before: the same bytes are packed once, and the first line naming a hash is the one
read (two processes packing the same bytes at the same moment both write it; either copy
is the image).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from indexer.archive.files import replace_synced, sync_dirs, write_all

PACK_DIR = "images/packs"
INDEX_FILE = "images/packs.jsonl"
MAX_PACK_BYTES = 64 * 1024 * 1024  # a purge copies a pack to drop an image from it
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PACK_NAME = re.compile(r"[0-9A-Za-z_.-]+\.pack")
_EXT = re.compile(r"[0-9a-z]{1,5}")
_SHA_FIELD = b'"sha256": "'  # in a line as Packed.line writes it (keys sorted)
_MAX_LINE = 4096  # an index line is about 300 bytes
_GENERATION = b'{"generation": '  # the first line of an index a purge wrote

Inspection = tuple[str, int, int, str]  # (phash, width, height, format), as images.py has it


class PackDamaged(OSError):
    """A pack lacks bytes its index line names (cut short, or gone)."""


class PackIndexLost(RuntimeError):
    """Packs hold bytes and the index names none of them (it is missing, cannot be read,
    or has no readable line): nothing then tells a pack's photos from a leftover, so a
    removal, which deletes the packs no line names, would delete every photo. Nothing
    is removed; the message names the archive and what to do."""


@dataclass(frozen=True)
class Packed:
    """Where an image's bytes are, and what they decoded to."""

    sha256: str
    pack: str  # file name under PACK_DIR
    offset: int
    length: int
    ext: str  # the extension a file of these bytes would have (jpg, png … bin)
    phash: str
    width: int
    height: int
    format: str

    @property
    def inspection(self) -> Inspection:
        return self.phash, self.width, self.height, self.format

    def line(self) -> bytes:
        """The index line, with a newline before it too: a line another process left cut
        short (a crash, a full disk) is ended by it, not glued to it. vars(), not
        dataclasses.asdict: the fields are plain str and int, and asdict's deep copy cost
        a third of packing a photo's line."""
        return ("\n" + json.dumps(vars(self), sort_keys=True) + "\n").encode("ascii")


def parse_line(raw: bytes) -> Packed | None:
    """An index line as a Packed; None for a line that is cut short, damaged, or names a
    pack outside PACK_DIR."""
    try:
        data = json.loads(raw)
        packed = Packed(**data)
    except (ValueError, TypeError):
        return None
    ok = (_SHA256.fullmatch(str(packed.sha256)) and _PACK_NAME.fullmatch(str(packed.pack))
          and _EXT.fullmatch(str(packed.ext))
          and all(type(v) is int and v >= 0 for v in
                  (packed.offset, packed.length, packed.width, packed.height))
          and isinstance(packed.phash, str) and isinstance(packed.format, str))
    return packed if ok else None


def pack_path(root: str | Path, name: str) -> Path:
    return Path(root) / PACK_DIR / name


def index_path(root: str | Path) -> Path:
    return Path(root) / INDEX_FILE


def read(root: str | Path, packed: Packed) -> bytes:
    """The image's bytes, as packed; PackDamaged when the pack is gone or cut short."""
    data = _bytes_at(root, packed)
    if data is None:
        raise PackDamaged(f"{PACK_DIR}/{packed.pack}: missing")
    if len(data) != packed.length:
        raise PackDamaged(f"{PACK_DIR}/{packed.pack}@{packed.offset}: cut short "
                          f"({len(data)} of {packed.length} bytes)")
    return data


def _bytes_at(root: str | Path, packed: Packed) -> bytes | None:
    """What the pack holds where the line says (fewer bytes if it is cut short); None when
    the pack is gone."""
    try:
        with open(pack_path(root, packed.pack), "rb") as fh:
            fh.seek(packed.offset)
            return fh.read(packed.length)
    except FileNotFoundError:
        return None


def lines(root: str | Path) -> Iterator[tuple[int, Packed | None]]:
    """(line number, entry) per non-empty line of the index, in write order; None for a
    line that cannot be read. No index: nothing."""
    try:
        fh = open(index_path(root), "rb")  # noqa: SIM115 - closed below, iterated lazily
    except FileNotFoundError:
        return
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if raw.strip() and not raw.startswith(_GENERATION):
                yield lineno, parse_line(raw)


class PackIndex:
    """One process's view of the index: sha256 → where the first line naming it starts.

    Only the hash and the line's place are held (about 150 bytes an image, against about
    1.3 KB for a parsed entry; the index is scanned at about 0.15 s per 100,000 lines, a
    seventh of parsing them); the line is read and parsed when its image is asked for, and
    must name that hash. A purge replaces the file, and the new one starts with a line of
    its own (``remove``): a view whose file's first line changed, or that shrank, reads it
    all again (the inode alone does not tell: a replaced file may get the old one's). A
    line that names the hash and does not parse is passed over for a later one.
    Safe to share between threads (the web UI serves from several).
    """

    def __init__(self, root: str | Path) -> None:
        self.path = index_path(root)
        self._starts: dict[str, int] = {}
        self._pos = 0  # bytes of whole lines read so far
        self._head = b""  # the file's first line as last read
        self._bad: set[int] = set()  # starts of lines that name a hash and do not parse
        self._lock = threading.Lock()

    def get(self, sha256: str) -> Packed | None:
        """The image's entry, as the index says now: the lines appended since the last
        read are read first, all of them when a purge replaced the file."""
        with self._lock:
            for attempt in range(2):
                fh = self._open()
                if fh is None:
                    return None
                with fh:
                    self._catch_up(fh)
                    start = self._starts.get(sha256)
                    if start is None:
                        return None
                    fh.seek(start)
                    raw = fh.readline(_MAX_LINE)
                packed = parse_line(raw)
                if packed is not None and packed.sha256 == sha256:
                    return packed
                if sha256.encode() in raw:  # a damaged line: a later one may name it
                    self._bad.add(start)
                if attempt == 0:
                    self._pos = -1  # or the file changed under the view: read it all again
            return None

    def _open(self) -> BinaryIO | None:
        try:
            return open(self.path, "rb")  # noqa: SIM115 - the callers close it
        except FileNotFoundError:
            self._starts, self._pos, self._head, self._bad = {}, 0, b"", set()
            return None

    def _catch_up(self, fh: BinaryIO) -> None:
        """Read, from the open file, what this view has not: all of it when the file is
        not the one read so far."""
        size = os.fstat(fh.fileno()).st_size
        head = fh.readline(_MAX_LINE)  # "\n" as writers start it; a purge's own line
        if self._pos < 0 or size < self._pos or (self._pos and head != self._head):
            if self._pos >= 0:  # another file, not a second look at this one
                self._bad = set()
            self._starts, self._pos = {}, 0
        self._head = head
        if size == self._pos:
            return
        fh.seek(self._pos)
        data = fh.read(size - self._pos)
        whole = data.rfind(b"\n") + 1  # a line still being written is read next time
        pos = self._pos
        for raw in data[:whole].splitlines(keepends=True):
            at = raw.find(_SHA_FIELD)
            if at >= 0 and raw.endswith(b"}\n") and pos not in self._bad:  # cut: skipped
                sha = raw[at + len(_SHA_FIELD):at + len(_SHA_FIELD) + 64].decode("latin-1")
                self._starts.setdefault(sha, pos)
            pos += len(raw)
        self._pos += whole


class PackWriter:
    """Adds images to this process's own pack: made at its first image, and a new one
    once the next image would take it past MAX_PACK_BYTES."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._name = ""
        self._size = 0  # bytes in the current pack (this process alone appends to it)
        self._seq = 0

    def add(self, sha256: str, body: bytes, ext: str, found: Inspection) -> Packed:
        """Pack ``body`` and append its index line (the bytes first: a line never names
        bytes that are not there)."""
        name, offset = self._append(body)
        phash, width, height, fmt = found
        packed = Packed(sha256=sha256, pack=name, offset=offset, length=len(body), ext=ext,
                        phash=phash, width=width, height=height, format=fmt)
        self._append_line(packed.line())
        return packed

    def _append(self, body: bytes) -> tuple[str, int]:
        if not self._name or (self._size and self._size + len(body) > MAX_PACK_BYTES):
            self._new_pack()
        try:
            fd = os.open(pack_path(self.root, self._name), os.O_WRONLY | os.O_APPEND)
        except FileNotFoundError:  # gone since it was made (a purge dropped it): a new one
            self._new_pack()
            fd = os.open(pack_path(self.root, self._name), os.O_WRONLY | os.O_APPEND)
        try:
            offset = os.lseek(fd, 0, os.SEEK_END)
            write_all(fd, body)
        finally:
            os.close(fd)
        self._size = offset + len(body)
        return self._name, offset

    def _new_pack(self) -> None:
        self._seq += 1
        self._size = 0
        self._name = _new_name(self._seq)
        path = pack_path(self.root, self._name)
        path.parent.mkdir(parents=True, exist_ok=True)
        _make_index(self.root)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

    def _append_line(self, line: bytes) -> None:
        path = index_path(self.root)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            write_all(fd, line)
        finally:
            os.close(fd)


def _generation_line() -> bytes:
    return _GENERATION + json.dumps(secrets.token_hex(8)).encode() + b"}\n"


def _make_index(root: str | Path) -> None:
    """Make the index, with its generation line, if there is none, before a pack holds
    bytes: a missing index beside packs that hold bytes is then one lost, never the
    first photo's write cut short before its line (a purge refuses the one and takes the
    other for a leftover: ``require_index``). Made whole or not at all (a link of a
    finished file), so another process never sees it empty."""
    path = index_path(root)
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    tmp.write_bytes(_generation_line())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process made it meanwhile
    finally:
        tmp.unlink()


def holding_packs(root: str | Path) -> list[Path]:
    """The packs that hold bytes (an empty one holds no photo, so no evidence)."""
    folder = Path(root) / PACK_DIR
    packs = sorted(folder.glob("*.pack")) if folder.is_dir() else []
    return [path for path in packs if path.stat().st_size]


def index_trouble(root: str | Path) -> str:
    """'' when the index has a readable line (its generation line counts: the index is
    made with one before any pack holds bytes, and a removal writes one first, so an
    index with that line alone names no photo, and bytes in packs are a write cut short
    or a removal's leftovers); else what is wrong with it ("missing", "cannot be read
    (…)", "no readable line"). Read only up to its first readable line: a purge asks
    this before it touches the store."""
    try:
        with open(index_path(root), "rb") as fh:
            for raw in fh:
                if raw.startswith(_GENERATION) or (raw.strip()
                                                   and parse_line(raw) is not None):
                    return ""
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return "no readable line"


def require_index(root: str | Path) -> None:
    """Raise PackIndexLost when packs hold bytes and no readable index line names any
    of them: ``remove`` would take every pack for a leftover. ``archive verify`` says
    the same of this state (the packs are evidence, not leftovers: keep them)."""
    holding = holding_packs(root)
    trouble = index_trouble(root) if holding else ""
    if trouble:
        raise PackIndexLost(
            f"archive {root}: {INDEX_FILE}: {trouble}, yet {len(holding)} pack file(s) in "
            f"{PACK_DIR} hold photos, and nothing tells which of them are leftovers: nothing "
            f"was purged. Restore {INDEX_FILE} (from a backup of the archive), check it with "
            "`adtrace archive verify`, then purge again")


def remove(root: str | Path, hashes: Iterable[str]) -> set[str]:
    """Take the images of ``hashes`` out of the packs; returns the hashes taken out.

    Only while the archive is held alone (a purge): nothing appends meanwhile. Each pack
    holding one of them is copied without it into a new pack (synced), and so is each
    pack with bytes no line names (a process killed between an image's bytes and its
    line: those may be a copy of one of them); then the index is replaced by one without
    their lines, starting with a line of its own (temp file, synced, renamed: see
    PackIndex); then the old packs are unlinked, and their bytes with them. A line that
    cannot be read is kept as it was; a pack it names is neither taken for a leftover nor
    compacted for bytes no readable line names (they may be its image). A kept image its
    pack cannot give whole is copied as far as it goes, after the whole ones, under its
    line as it was: ``archive verify`` still says it is cut short, and the removal goes
    through. A crash before the rename leaves the old index and packs as they were (the
    new packs, which no line names, are deleted by the next removal; ``archive verify``
    lists them); a crash after it leaves old packs no line names, deleted the same way.
    A hash whose only line cannot be read is not found here (``archive verify`` notes
    unreadable lines). A pack no line names is taken for a leftover only when the index
    has a readable line: with none (the index lost, or unreadable) every pack would be
    one, so then nothing is removed (PackIndexLost, ``require_index``).
    """
    base, drop = Path(root), set(hashes)
    require_index(base)
    rows = _rows(base)
    entries = [packed for _raw, packed in rows if packed is not None]
    _delete_unnamed(base, b"\n".join(raw for raw, _packed in rows))
    unreadable = b"\n".join(raw for raw, packed in rows if packed is None)
    affected = sorted({p.pack for p in entries if p.sha256 in drop}
                      | {name for name in _with_unnamed_bytes(base, entries)
                         if name.encode() not in unreadable})
    if not affected:
        return set()
    moved = {}
    for seq, name in enumerate(affected, 1):
        kept = [p for p in entries if p.pack == name and p.sha256 not in drop]
        moved.update(_copy(base, kept, _new_name(seq)) if kept else {})
    sync_dirs([base / PACK_DIR])  # the new packs are there before an index names them
    out = [_generation_line()]
    for raw, packed in rows:
        if packed is None:
            out.append(b"\n" + raw + b"\n")
        elif packed.sha256 not in drop:
            out.append(moved.get((packed.pack, packed.offset), packed).line())
    replace_synced(index_path(base), b"".join(out))
    for name in affected:
        pack_path(base, name).unlink(missing_ok=True)
    sync_dirs([base / PACK_DIR])  # gone for good before the purge's note is deleted
    return {p.sha256 for p in entries if p.sha256 in drop}


def _rows(base: Path) -> list[tuple[bytes, Packed | None]]:
    """Every line of the index but blanks and a purge's first line: (bytes, entry)."""
    try:
        data = index_path(base).read_bytes()
    except FileNotFoundError:
        return []
    return [(raw, parse_line(raw)) for raw in data.splitlines()
            if raw.strip() and not raw.startswith(_GENERATION)]


def _with_unnamed_bytes(base: Path, entries: list[Packed]) -> set[str]:
    """The packs with bytes that none of their lines names (the union of the named
    stretches is measured, so lines naming the same or overlapping bytes count once)."""
    named: dict[str, list[tuple[int, int]]] = {}
    for p in entries:
        named.setdefault(p.pack, []).append((p.offset, p.offset + p.length))
    out = set()
    for name, spans in named.items():
        try:
            size = pack_path(base, name).stat().st_size
        except FileNotFoundError:
            continue
        covered, end = 0, 0
        for start, stop in sorted(spans):
            start, stop = max(start, end), min(stop, size)
            if stop > start:
                covered += stop - start
                end = stop
        if size > covered:
            out.add(name)
    return out


def _copy(base: Path, kept: list[Packed], name: str) -> dict[tuple[str, int], Packed]:
    """The kept images of one pack, copied into a new pack (synced): old place → entry.
    One the pack cannot give whole goes after the whole ones, as far as it goes, under
    its length as its line says (see ``remove``)."""
    whole, partial = [], []
    for p in {(p.pack, p.offset): p for p in kept}.values():
        try:
            whole.append((p, read(base, p)))
        except PackDamaged:
            partial.append((p, _bytes_at(base, p) or b""))
    moved: dict[tuple[str, int], Packed] = {}
    fd = os.open(pack_path(base, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        offset = 0
        for p, body in whole + partial:
            write_all(fd, body)
            moved[(p.pack, p.offset)] = replace(p, pack=name, offset=offset)
            offset += len(body)
        os.fsync(fd)
    finally:
        os.close(fd)
    return moved


def _delete_unnamed(base: Path, index: bytes) -> None:
    """Delete the packs whose name is nowhere in the index (see ``remove``)."""
    folder = base / PACK_DIR
    for path in folder.glob("*.pack") if folder.is_dir() else ():
        if path.name.encode() not in index:
            path.unlink()


def _new_name(seq: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}-{seq:05d}.pack"
