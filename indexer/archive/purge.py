"""Remove purged captures from the WARC archive: rewrite files without their records.

WARC files are append-only and hold many captures, so purging a capture rewrites each
affected file without its records. Every record is its own gzip member, so a kept record
is copied byte for byte; only a revisit whose original moved is re-written, and then
only its ``WARC-Refers-To-Offset`` header changes (the file keeps its name, so
``WARC-Refers-To-Filename`` stays true, and the block digest covers the block, not the
WARC headers). A purged response that a kept revisit still points at is kept: it holds
the same payload as a capture that stays, so keeping it keeps no purged information.

Files are split into members as verify splits them (verify.gzip_members). The
unfinished record a killed crawl left at the end of a file is copied byte for byte to
the end of the rewritten file (it is the trace of a fetch, and verify goes on reporting
it); a damaged member inside a file makes the purge refuse, naming the file and offset,
before anything is changed.

The records due are written down (``purge-records.json``, ``note_records``) before the
store lets go of their captures (indexer.purge), since nothing else would name them
once it has: a purge that fails or is killed before they are out leaves them there for
the next purge to take out with its own, and crawls refuse to start meanwhile (their
offsets must stay true). The note goes with the journal of the rewrite that took them
out. Only the files that hold due records must be whole; a damaged file that only
holds other records is reported (``unread``), not held against the purge.

Crash safety: new files are written beside the old ones, then a journal
(``purge-journal.json``: temp file → file, and capture id → new place) is written, then
files are swapped in with ``os.replace``, the store and the capture index are updated by
capture id (idempotent), and the journal is deleted. ``resume`` finishes a journal a
crash left behind. Each step's folder is synced before the next step relies on it
(indexer.archive.files.sync_dirs), so this holds after a power cut too, not only after
a killed process. No crawl writes to the archive while a purge runs: indexer.purge
holds the archive's lock alone (indexer.archive.lock).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from indexer.archive import image_packs
from indexer.archive.digest import hex_from_warc_digest
from indexer.archive.files import replace_synced, sync_dirs
from indexer.archive.images import IMAGE_DIR, meta_path
from indexer.archive.index import INDEX_FILE, CaptureIndex
from indexer.archive.lock import IMAGE_JOURNAL, JOURNAL, RECORD_JOURNAL
from indexer.archive.reader import ArchiveError
from indexer.archive.verify import Member, gzip_members
from indexer.archive.verify_records import short
from indexer.archive.writer import WARC_DIR
from indexer.model import from_iso, short_hash, to_iso

Moves = dict[str, tuple[str, int, int]]  # capture id → (file, offset, length)
Place = tuple[str, int]  # a record's (file, offset)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class _Record:
    file: str
    offset: int
    length: int
    type: str
    record_id: str
    concurrent_to: str
    refers_offset: int | None
    capture_id: str  # for response/revisit records; "" otherwise


@dataclass
class ArchivePurgeResult:
    removed_records: int = 0
    kept_for_revisits: int = 0
    rewritten: list[str] = field(default_factory=list)
    deleted_files: list[str] = field(default_factory=list)
    moves: Moves = field(default_factory=dict)
    deleted_images: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # "file@offset: what" in files not purged


@dataclass
class _Scanned:
    """One WARC file split into gzip members as verify splits it (verify.gzip_members)."""

    records: list[_Record] = field(default_factory=list)
    tail: int | None = None  # offset of a record a killed crawl left unfinished at the end
    damage: list[str] = field(default_factory=list)  # "file@offset: what" per unread member


def _scan(root: Path, rel: str) -> _Scanned:
    """Every record of one file with its place and the headers a purge needs, the cut
    tail a killed crawl left (kept as it is: verify reports it), and what cannot be read.
    warcio's iterator is not used over the file: it crashes on a cut tail or reads past
    it, and a rewrite would then drop the trace of that partial record."""
    out = _Scanned()
    with open(root / rel, "rb") as fh:
        for member in gzip_members(fh):
            if member.damage == "truncated":
                out.tail = member.offset
            elif member.damage:
                out.damage.append(f"{rel}@{member.offset}: {member.damage}")
            else:
                _add_record(out, rel, member)
    return out


def _add_record(out: _Scanned, rel: str, member: Member) -> None:
    """The member's record, or damage when it does not hold exactly one (a member is
    copied or dropped whole, so it must be one record)."""
    try:
        it = ArchiveIterator(io.BytesIO(member.data), no_record_parse=True)
        heads = [rec.rec_headers for rec in it if rec.rec_type]
    except (EOFError, ArchiveLoadFailed, ValueError, AttributeError) as exc:
        out.damage.append(f"{rel}@{member.offset}: unreadable record ({short(str(exc))})")
        return
    if len(heads) != 1:
        out.damage.append(f"{rel}@{member.offset}: {len(heads)} WARC records in one gzip "
                          "member, not one")
        return
    h = heads[0]
    rtype = h.get_header("WARC-Type") or ""
    cid = ""
    if rtype in ("response", "revisit"):
        digest = h.get_header("WARC-Payload-Digest") or ""
        date = to_iso(from_iso(h.get_header("WARC-Date")))
        cid = short_hash(h.get_header("WARC-Target-URI") or "", date,
                         hex_from_warc_digest(digest), length=32)
    ref = h.get_header("WARC-Refers-To-Offset")
    out.records.append(_Record(rel, member.offset, member.length, rtype,
                               h.get_header("WARC-Record-ID") or "",
                               h.get_header("WARC-Concurrent-To") or "",
                               int(ref) if ref and ref.isdigit() else None, cid))


def _refuse_damaged(scans: Mapping[str, _Scanned]) -> None:
    """A damaged member inside a file cannot be copied as a record nor told apart from
    one: refuse, naming it, before anything in the archive is changed (verify reports
    it too). The records due stay written down for the purge after it is mended."""
    damage = [d for f in sorted(scans) for d in scans[f].damage]
    if damage:
        more = f" (and {len(damage) - 1} more)" if len(damage) > 1 else ""
        raise ArchiveError(f"archive purge refused, nothing in the archive was changed: "
                           f"{damage[0]}{more}; the records due stay written down "
                           f"({RECORD_JOURNAL}) and crawls wait until a purge takes them out")


def _refers_file(root: Path, rec: _Record) -> str:
    """The file a revisit points at (read again only for revisits)."""
    with open(root / rec.file, "rb") as fh:
        fh.seek(rec.offset)
        head = gzip.decompress(fh.read(rec.length)).split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"warc-refers-to-filename:"):
            return line.split(b":", 1)[1].strip().decode("utf-8", "replace")
    return ""


def _patched(root: Path, rec: _Record, new_ref: int) -> bytes:
    """The revisit record with only its WARC-Refers-To-Offset header changed."""
    with open(root / rec.file, "rb") as fh:
        fh.seek(rec.offset)
        raw = gzip.decompress(fh.read(rec.length))
    head, sep, block = raw.partition(b"\r\n\r\n")
    lines = [f"WARC-Refers-To-Offset: {new_ref}".encode()
             if ln.lower().startswith(b"warc-refers-to-offset:") else ln
             for ln in head.split(b"\r\n")]
    return gzip.compress(b"\r\n".join(lines) + sep + block)


def purge_records(root: str | Path, captures: Iterable[Place],
                  store: Any = None) -> ArchivePurgeResult:
    """Remove the records of captures at (file, offset) and their request records, with
    those an earlier purge wrote down and did not take out (``note_records``).

    ``store`` (optional) gets the new places of captures that moved. Returns what was done.
    """
    base = Path(root)
    resume(base, store)
    note_records(base, captures)
    noted = noted_records(base)
    doomed: dict[str, set[int]] = {}
    for file, offset in noted:
        doomed.setdefault(file, set()).add(offset)
    result = ArchivePurgeResult()
    if not doomed:
        return result
    files = sorted(str(p.relative_to(base)) for p in (base / WARC_DIR).glob("*.warc.gz"))
    scans = {f: _scan(base, f) for f in files}
    _refuse_damaged({f: scans[f] for f in files if f in doomed})
    result.unread = [d for f in files if f not in doomed for d in scans[f].damage]
    records = {f: scans[f].records for f in files}
    revisits = [(r, _refers_file(base, r)) for f in files for r in records[f]
                if r.type == "revisit" and r.refers_offset is not None]
    drop = _drop_set(records, doomed, revisits, result, _originals_indexed(base, doomed))
    rewrite = _files_to_rewrite(drop, revisits)
    if not rewrite:
        _forget_records(base, noted)  # nothing moved: the note's offsets were all still true
        return result
    _refuse_damaged({f: scans[f] for f in rewrite})  # a revisit's file to be patched
    layout = _layout(base, records, drop, rewrite, revisits)
    _commit(base, layout, records, {f: scans[f].tail for f in rewrite}, noted, store, result)
    return result


def _originals_indexed(base: Path, doomed: Mapping[str, set[int]]) -> set[Place]:
    """The originals the capture index says kept revisits read: also those of a revisit
    the scan could not read (in a damaged stretch of another file) or that lost its
    WARC-Refers-To-Offset (the reader finds its original through the index). Keeping
    them keeps what those revisits stand for."""
    return {(e.original_file, e.original_offset) for e in CaptureIndex(base).entries()
            if e.type == "revisit" and e.offset not in doomed.get(e.file, ())}


def _drop_set(records: Mapping[str, list[_Record]], doomed: Mapping[str, set[int]],
              revisits: list[tuple[_Record, str]], result: ArchivePurgeResult,
              indexed: set[Place]) -> set[tuple[str, int]]:
    keep_for = {(f, r.refers_offset) for r, f in revisits
                if r.offset not in doomed.get(r.file, ())} | indexed
    drop: set[tuple[str, int]] = set()
    dropped_ids: set[str] = set()
    for f, recs in records.items():
        for r in recs:
            if r.offset in doomed.get(f, ()) and r.type in ("response", "revisit"):
                if (f, r.offset) in keep_for:
                    result.kept_for_revisits += 1
                    continue
                drop.add((f, r.offset))
                dropped_ids.add(r.record_id)
    for f, recs in records.items():
        drop.update((f, r.offset) for r in recs
                    if r.type == "request" and r.concurrent_to in dropped_ids)
    result.removed_records = len(drop)
    return drop


def _files_to_rewrite(drop: set[tuple[str, int]], revisits: list[tuple[_Record, str]]
                      ) -> set[str]:
    """Files losing records, plus (until nothing changes) files of revisits whose
    original lies in a file being rewritten."""
    rewrite = {f for f, _ in drop}
    changed = True
    while changed:
        changed = False
        for r, target in revisits:
            if target in rewrite and r.file not in rewrite and (r.file, r.offset) not in drop:
                rewrite.add(r.file)
                changed = True
    return rewrite


def _layout(base: Path, records: Mapping[str, list[_Record]], drop: set[tuple[str, int]],
            rewrite: set[str], revisits: list[tuple[_Record, str]]
            ) -> dict[str, list[tuple[_Record, bytes | None, int]]]:
    """New place of every kept record; repeated until revisit offsets stop changing."""
    target_of = {(r.file, r.offset): f for r, f in revisits}
    new_off: dict[tuple[str, int], int] = {}
    for _ in range(10):
        layout: dict[str, list[tuple[_Record, bytes | None, int]]] = {}
        nxt: dict[tuple[str, int], int] = {}
        for f in sorted(rewrite):
            pos = 0
            rows = []
            for r in records[f]:
                if (f, r.offset) in drop:
                    continue
                data = None
                target = target_of.get((f, r.offset))
                if target in rewrite and r.refers_offset is not None:
                    data = _patched(base, r, new_off.get((target, r.refers_offset),
                                                         r.refers_offset))
                rows.append((r, data, pos))
                nxt[(f, r.offset)] = pos
                pos += len(data) if data is not None else r.length
            layout[f] = rows
        if nxt == new_off:
            return layout
        new_off = nxt
    raise RuntimeError("archive purge: revisit offsets did not settle")


def _commit(base: Path, layout: Mapping[str, list[tuple[_Record, bytes | None, int]]],
            records: Mapping[str, list[_Record]], tails: Mapping[str, int | None],
            noted: list[Place], store: Any, result: ArchivePurgeResult) -> None:
    swaps: list[tuple[str, str]] = []
    for f, rows in sorted(layout.items()):
        tmp = f"{f}.purge-tmp"
        tail = tails.get(f)
        if rows or tail is not None:
            _write_rewritten(base, f, tmp, rows, tail)
            result.rewritten.append(f)
        else:
            result.deleted_files.append(f)
        swaps.append((tmp if rows or tail is not None else "", f))
        for r, data, pos in rows:
            if r.capture_id:
                result.moves[r.capture_id] = (f, pos, len(data) if data else r.length)
    sync_dirs((base / f).parent for f in layout)  # the journal must not name what a power cut lost
    journal = {"swaps": swaps, "moves": result.moves, "noted": noted,
               "dropped": sorted({r.capture_id for f in layout for r in records[f]
                                  if r.capture_id and r.capture_id not in result.moves})}
    replace_synced(base / JOURNAL, json.dumps(journal).encode())
    resume(base, store)


def _write_rewritten(base: Path, f: str, tmp: str,
                     rows: list[tuple[_Record, bytes | None, int]], tail: int | None) -> None:
    """The file's kept records, then the unfinished record a killed crawl left at its end
    byte for byte: it is still its trace, and verify still reports it."""
    with open(base / f, "rb") as src, open(base / tmp, "wb") as out:
        for r, data, _pos in rows:
            if data is None:
                src.seek(r.offset)
                data = src.read(r.length)
            out.write(data)
        if tail is not None:
            src.seek(tail)
            shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())


def resume(root: str | Path, store: Any = None) -> bool:
    """Finish a purge a crash interrupted (see the module doc); True if there was one."""
    base = Path(root)
    path = base / JOURNAL
    if not path.exists():
        return False
    journal = json.loads(path.read_text(encoding="utf-8"))
    for tmp, dest in journal["swaps"]:
        if tmp and (base / tmp).exists():
            os.replace(base / tmp, base / dest)
        elif not tmp and (base / dest).exists():
            os.unlink(base / dest)
    sync_dirs((base / dest).parent for _tmp, dest in journal["swaps"])  # before the store moves
    moves = {k: (v[0], int(v[1]), int(v[2])) for k, v in journal["moves"].items()}
    if store is not None and moves:
        store.relocate_captures(moves)
    _rewrite_index(base, moves, set(journal["dropped"]))
    _forget_records(base, [(f, int(o)) for f, o in journal.get("noted", [])])
    path.unlink()
    return True


def _rewrite_index(base: Path, moves: Moves, dropped: set[str]) -> None:
    """The capture index without dropped captures, with moved ones at their new place."""
    entries = []
    for e in CaptureIndex(base).entries():
        if e.capture_id in dropped:
            continue
        if e.capture_id in moves:
            f, off, length = moves[e.capture_id]
            e = replace(e, file=f, offset=off, length=length)
        if e.original_id in moves:
            e = replace(e, original_file=moves[e.original_id][0],
                        original_offset=moves[e.original_id][1])
        entries.append(e)
    text = "".join(json.dumps(asdict(e), sort_keys=True) + "\n" for e in entries)
    replace_synced(base / INDEX_FILE, text.encode("utf-8"))


def note_records(root: str | Path, places: Iterable[Place],
                 pending: tuple[str, datetime | None] | None = None) -> None:
    """Write down WARC records to take out (RECORD_JOURNAL), with those already written
    down: done before the store lets go of their captures, after which nothing else
    names them (indexer.purge). ``pending`` is the store purge about to run (source id,
    before): until ``set_noted_records`` says what it let go, the note may name captures
    the store still holds (it was killed before it committed), and the next purge runs
    it again first (``pending_purge``)."""
    base = Path(root)
    note = _records_note(base)
    due = sorted({(str(f), int(o)) for f, o in places})
    chosen = {(f, int(o)) for f, o in note.get("records", [])} | set(due)
    if not chosen:
        return
    body: dict[str, Any] = {"records": sorted(chosen)}
    if pending is not None:
        source_id, before = pending
        body["pending"] = {"source_id": source_id, "records": due,
                           "before": to_iso(before) if before else None}
    elif note.get("pending"):
        body["pending"] = note["pending"]
    replace_synced(base / RECORD_JOURNAL, json.dumps(body).encode())


def noted_records(root: str | Path) -> list[Place]:
    """The records written down to take out, as (file, offset)."""
    return [(f, int(o)) for f, o in _records_note(Path(root)).get("records", [])]


def pending_purge(root: str | Path) -> tuple[str, datetime | None, list[Place]] | None:
    """The store purge the note was written for and that may not have finished (source
    id, before, the records it made due), or None."""
    pending = _records_note(Path(root)).get("pending")
    if not pending:
        return None
    before = pending["before"]
    return (pending["source_id"], from_iso(before) if before else None,
            [(f, int(o)) for f, o in pending["records"]])


def _records_note(base: Path) -> dict[str, Any]:
    path = base / RECORD_JOURNAL
    if not path.exists():
        return {}
    note: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return note


def set_noted_records(root: str | Path, places: Iterable[Place]) -> None:
    """The note as exactly ``places`` (none: no note), with no store purge pending: once
    the store has said which of the captures written down it really let go
    (indexer.purge)."""
    path = Path(root) / RECORD_JOURNAL
    chosen = sorted({(str(f), int(o)) for f, o in places})
    if chosen:
        replace_synced(path, json.dumps({"records": chosen}).encode())
    elif path.exists():
        path.unlink()
        sync_dirs([path.parent])


def _forget_records(base: Path, taken: Iterable[Place]) -> None:
    """The note without the records a purge has taken out, synced before the journal
    that took them out goes: a note that came back after a power cut would name
    offsets the rewrite gave to other records."""
    set_noted_records(base, set(noted_records(base)) - set(taken))


def note_images(root: str | Path, hashes: Iterable[str]) -> None:
    """Write down photos to take out (IMAGE_JOURNAL), with those already written down:
    done as soon as the store no longer shows them, before anything else can fail."""
    chosen = set(_noted(Path(root))) | {sha for sha in hashes if _SHA256.fullmatch(sha)}
    if chosen:
        replace_synced(Path(root) / IMAGE_JOURNAL, json.dumps({"hashes": sorted(chosen)}).encode())


def delete_images(root: str | Path, hashes: Iterable[str]) -> list[str]:
    """Delete archived images by hash (the store said no version shows them any more), and
    those a purge cut short had written down (``note_images``): taken out of their packs
    (image_packs.remove), or, in archives made before packs, their files unlinked. The
    note is deleted once they are all out; until then crawls refuse to start
    (indexer.archive.lock), and the next purge takes them out with its own. With the pack
    index lost while packs hold bytes, image_packs.PackIndexLost is raised and nothing is
    deleted (the note stays: they go once the index is restored)."""
    base = Path(root)
    note_images(base, hashes)
    chosen = _noted(base)
    if not chosen:
        return []
    deleted = set(image_packs.remove(root, chosen))
    unlinked: list[Path] = []
    for sha in chosen:
        for p in sorted((base / IMAGE_DIR / sha[:2]).glob(f"{sha}.*")):
            p.unlink()
            unlinked.append(p.parent)
            deleted.add(sha)
        meta_path(root, sha).unlink(missing_ok=True)  # what it decoded to goes with it
    sync_dirs(unlinked)  # the note goes only once a power cut cannot bring them back
    (base / IMAGE_JOURNAL).unlink()
    return sorted(deleted)


def _noted(base: Path) -> list[str]:
    path = base / IMAGE_JOURNAL
    return json.loads(path.read_text(encoding="utf-8"))["hashes"] if path.exists() else []


__all__ = ["ArchivePurgeResult", "delete_images", "note_images", "note_records",
           "noted_records", "purge_records", "resume", "set_noted_records"]
