"""Archived images kept in packs: append-only files of image bytes, an index line each.

A file per image (``images/ab/<sha256>.<ext>``) cost an inode per photo, and creating it
cost this project's machines 40–850 µs of kernel CPU (ext4 on a virtual disk, worst at
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
(``remove``) while it holds the archive alone (indexer.archive.lock). A process's view of the index
(``PackIndex``) reads the lines appended since it last looked whenever it is asked for a
hash, and the whole file again when a purge replaced it. Images are content-addressed
as before: the same bytes are packed once, and the first line naming a hash is the one
read (two processes packing the same bytes at the same moment both write it; either copy
is the image).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

PACK_DIR = "images/packs"
INDEX_FILE = "images/packs.jsonl"
MAX_PACK_BYTES = 64 * 1024 * 1024  # a purge copies a pack to drop an image from it
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PACK_NAME = re.compile(r"[0-9A-Za-z_.-]+\.pack")
_EXT = re.compile(r"[0-9a-z]{1,5}")

Inspection = tuple[str, int, int, str]  # (phash, width, height, format), as images.py has it


class PackDamaged(OSError):
    """A pack lacks bytes its index line names (cut short, or gone)."""


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
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode("ascii")


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
          and all(isinstance(v, int) and v >= 0 for v in
                  (packed.offset, packed.length, packed.width, packed.height))
          and isinstance(packed.phash, str) and isinstance(packed.format, str))
    return packed if ok else None


def pack_path(root: str | Path, name: str) -> Path:
    return Path(root) / PACK_DIR / name


def index_path(root: str | Path) -> Path:
    return Path(root) / INDEX_FILE


def read(root: str | Path, packed: Packed) -> bytes:
    """The image's bytes, as packed; PackDamaged when the pack is gone or cut short."""
    try:
        with open(pack_path(root, packed.pack), "rb") as fh:
            fh.seek(packed.offset)
            data = fh.read(packed.length)
    except FileNotFoundError as exc:
        raise PackDamaged(f"{PACK_DIR}/{packed.pack}: missing") from exc
    if len(data) != packed.length:
        raise PackDamaged(f"{PACK_DIR}/{packed.pack}@{packed.offset}: cut short "
                          f"({len(data)} of {packed.length} bytes)")
    return data


def lines(root: str | Path) -> Iterator[tuple[int, Packed | None]]:
    """(line number, entry) per non-empty line of the index, in write order; None for a
    line that cannot be read. No index: nothing."""
    try:
        fh = open(index_path(root), "rb")  # noqa: SIM115 - closed below, iterated lazily
    except FileNotFoundError:
        return
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if raw.strip():
                yield lineno, parse_line(raw)


class PackIndex:
    """One process's view of the index: sha256 → the first line naming it."""

    def __init__(self, root: str | Path) -> None:
        self.path = index_path(root)
        self._entries: dict[str, Packed] = {}
        self._pos = 0  # bytes of whole lines read so far
        self._ident: tuple[int, int] | None = None  # (device, inode) of the file read

    def get(self, sha256: str) -> Packed | None:
        """The image's entry, as the index says now: the lines appended since the last
        read are read first (one stat when there are none), all of them when a purge
        replaced the file."""
        self.refresh()
        return self._entries.get(sha256)

    def refresh(self) -> None:
        """Read the whole lines appended since the last read (all of them again if the
        file was replaced, by a purge)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._entries, self._pos, self._ident = {}, 0, None
            return
        ident = (st.st_dev, st.st_ino)
        if ident != self._ident or st.st_size < self._pos:
            self._entries, self._pos, self._ident = {}, 0, ident
        if st.st_size == self._pos:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._pos)
            data = fh.read(st.st_size - self._pos)
        whole = data.rfind(b"\n") + 1  # a line still being written is read next time
        for raw in data[:whole].splitlines():
            if raw.strip() and (packed := parse_line(raw)) is not None:
                self._entries.setdefault(packed.sha256, packed)
        self._pos += whole


class PackWriter:
    """Adds images to this process's own pack: made at its first image, and a new one
    once the next image would take it past MAX_PACK_BYTES."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._name = ""
        self._size = 0  # bytes in the current pack (this process alone appends to it)
        self._seq = 0
        self._index_checked = False

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
            _write_all(fd, body)
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
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

    def _append_line(self, line: bytes) -> None:
        path = index_path(self.root)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if not self._index_checked:  # a line a crash cut short: end it, once
                self._index_checked = True
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line
            _write_all(fd, line)
        finally:
            os.close(fd)


def remove(root: str | Path, hashes: Iterable[str]) -> set[str]:
    """Take the images of ``hashes`` out of the packs; returns the hashes taken out.

    Only while the archive is held alone (a purge): nothing appends meanwhile. Each pack
    holding one of them is copied without it into a new pack (synced), then the index is
    replaced by one without their lines (temp file, synced, renamed), then the old packs
    are unlinked, and their bytes with them. A crash before the rename leaves the old
    index and packs as they were (the new packs, which no line names, are deleted by the
    next removal; ``archive verify`` lists them); a crash after it leaves old packs no
    line names, deleted the same way. A pack that cannot give an image it keeps whole
    stops the removal before the index changes (PackDamaged; ``archive verify`` tells
    more): the copies made so far are packs no line names, deleted the same way.
    """
    base, drop = Path(root), set(hashes)
    entries = [packed for _n, packed in lines(base) if packed is not None]
    _delete_unnamed(base, {p.pack for p in entries})
    affected = sorted({p.pack for p in entries if p.sha256 in drop})
    if not affected:
        return set()
    moved = {}
    for seq, name in enumerate(affected, 1):
        kept = [p for p in entries if p.pack == name and p.sha256 not in drop]
        moved.update(_copy(base, kept, _new_name(seq)) if kept else {})
    out = b"".join(moved.get((p.pack, p.offset), p).line()
                   for p in entries if p.sha256 not in drop)
    _replace_synced(index_path(base), out)
    for name in affected:
        pack_path(base, name).unlink(missing_ok=True)
    return {p.sha256 for p in entries if p.sha256 in drop}


def _copy(base: Path, kept: list[Packed], name: str) -> dict[tuple[str, int], Packed]:
    """The kept images of one pack, copied into a new pack (synced): old place → entry."""
    bodies = {(p.pack, p.offset): read(base, p) for p in kept}  # all whole, or nothing done
    moved: dict[tuple[str, int], Packed] = {}
    fd = os.open(pack_path(base, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        offset = 0
        for p in kept:
            if (p.pack, p.offset) in moved:
                continue
            _write_all(fd, bodies[(p.pack, p.offset)])
            moved[(p.pack, p.offset)] = replace(p, pack=name, offset=offset)
            offset += p.length
        os.fsync(fd)
    finally:
        os.close(fd)
    return moved


def _delete_unnamed(base: Path, named: set[str]) -> None:
    """Delete the packs no index line names (see ``remove``)."""
    folder = base / PACK_DIR
    for path in folder.glob("*.pack") if folder.is_dir() else ():
        if path.name not in named:
            path.unlink()


def _replace_synced(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _new_name(seq: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}-{seq:05d}.pack"


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (a short write is retried with the rest; an error raises)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
