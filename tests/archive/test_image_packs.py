"""Image packs: bytes appended to a pack of the writing process's own, one index line
each, read back by any process; a cut line or an unindexed tail loses nothing indexed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from indexer.archive import archive_verify, image_packs
from indexer.archive.image_packs import PackDamaged, PackIndex, PackWriter

ROOT = Path(__file__).resolve().parents[2]
FOUND = ("8f373714acfcf4d0", 240, 320, "JPEG")


def _body(n: int, size: int = 6000) -> bytes:
    return hashlib.sha256(str(n).encode()).digest() * (size // 32)


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _pack(root: Path, numbers: range | tuple[int, ...]) -> PackWriter:
    """A writer that has packed the bodies of ``numbers``, in order."""
    writer = PackWriter(root)
    for n in numbers:
        writer.add(_sha(_body(n)), _body(n), "jpg", FOUND)
    return writer


def test_an_image_is_read_back_as_packed_with_what_it_decoded_to(tmp_path: Path) -> None:
    writer, index = PackWriter(tmp_path), PackIndex(tmp_path)
    bodies = [_body(n) for n in range(3)]
    for body in bodies:
        writer.add(_sha(body), body, "jpg", FOUND)
    for body in bodies:
        packed = index.get(_sha(body))
        assert packed is not None
        assert image_packs.read(tmp_path, packed) == body
        assert (packed.ext, packed.inspection) == ("jpg", FOUND)
    assert len(list((tmp_path / image_packs.PACK_DIR).iterdir())) == 1  # one pack, no file each
    assert index.get("0" * 64) is None


def test_a_view_reads_what_another_process_packed_since_it_last_looked(tmp_path: Path
                                                                      ) -> None:
    index = PackIndex(tmp_path)
    assert index.get(_sha(_body(1))) is None  # no index yet
    script = textwrap.dedent(f"""
        import hashlib, sys
        sys.path.insert(0, {str(ROOT)!r})
        from indexer.archive.image_packs import PackWriter
        body = hashlib.sha256(b"1").digest() * 187
        PackWriter({str(tmp_path)!r}).add(hashlib.sha256(body).hexdigest(), body, "png",
                                          ("", 0, 0, ""))
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    packed = index.get(_sha(_body(1)))
    assert packed is not None and image_packs.read(tmp_path, packed) == _body(1)
    assert str(os.getpid()) not in packed.pack  # the other process's own pack


def test_two_processes_packing_at_once_lose_no_line(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import hashlib, sys
        sys.path.insert(0, {str(ROOT)!r})
        from indexer.archive.image_packs import PackWriter
        writer, first = PackWriter({str(tmp_path)!r}), int(sys.argv[1])
        for n in range(first, first + 300):
            body = hashlib.sha256(str(n).encode()).digest() * 187
            writer.add(hashlib.sha256(body).hexdigest(), body, "jpg", ("", 1, 1, "JPEG"))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(first)]) for first in (0, 300)]
    assert [p.wait() for p in procs] == [0, 0]
    entries = [e for _n, e in image_packs.lines(tmp_path)]
    assert len(entries) == 600 and None not in entries
    assert len(list((tmp_path / image_packs.PACK_DIR).iterdir())) == 2
    index = PackIndex(tmp_path)
    for n in range(600):
        packed = index.get(_sha(_body(n, 5984)))
        assert packed is not None and image_packs.read(tmp_path, packed) == _body(n, 5984)


def test_a_line_a_crash_cut_short_is_skipped_and_ended(tmp_path: Path) -> None:
    PackWriter(tmp_path).add(_sha(_body(1)), _body(1), "jpg", FOUND)
    with open(image_packs.index_path(tmp_path), "ab") as fh:
        fh.write(b'{"sha256": "ab')  # a crash mid-line
    index = PackIndex(tmp_path)
    assert index.get(_sha(_body(1))) is not None
    PackWriter(tmp_path).add(_sha(_body(2)), _body(2), "jpg", FOUND)  # a later crawl
    assert index.get(_sha(_body(2))) is not None
    assert [e is None for _n, e in image_packs.lines(tmp_path)] == [False, True, False]
    report = archive_verify(tmp_path)  # said, not a problem: nothing indexed is lost
    assert report.ok and report.images == 2
    # line 1 is the index's generation line, written as it was made
    assert report.notes == ["images/packs.jsonl: 1 unreadable line(s) skipped (line 4); a "
                            "crash while appending leaves one (an image the store shows and "
                            "no line names is said below)"]


def test_bytes_a_kill_left_unindexed_cost_nothing_indexed(tmp_path: Path) -> None:
    writer = PackWriter(tmp_path)
    writer.add(_sha(_body(1)), _body(1), "jpg", FOUND)
    pack = next((tmp_path / image_packs.PACK_DIR).iterdir())
    with open(pack, "ab") as fh:
        fh.write(_body(2)[:1000])  # killed between the bytes and their line
    writer.add(_sha(_body(3)), _body(3), "jpg", FOUND)  # the next image goes after them
    index = PackIndex(tmp_path)
    assert index.get(_sha(_body(2))) is None
    for n in (1, 3):
        packed = index.get(_sha(_body(n)))
        assert packed is not None and image_packs.read(tmp_path, packed) == _body(n)


def test_packs_rotate_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_packs, "MAX_PACK_BYTES", 15_000)
    _pack(tmp_path, range(5))
    sizes = sorted(p.stat().st_size for p in (tmp_path / image_packs.PACK_DIR).iterdir())
    one = len(_body(0))
    assert sizes == [one, 2 * one, 2 * one]
    index = PackIndex(tmp_path)
    assert all(image_packs.read(tmp_path, index.get(_sha(_body(n)))) == _body(n)  # type: ignore[arg-type]
               for n in range(5))


def test_a_pack_cut_short_or_gone_is_said(tmp_path: Path) -> None:
    packed = PackWriter(tmp_path).add(_sha(_body(1)), _body(1), "jpg", FOUND)
    path = image_packs.pack_path(tmp_path, packed.pack)
    os.truncate(path, 100)
    with pytest.raises(PackDamaged, match="cut short"):
        image_packs.read(tmp_path, packed)
    path.unlink()
    with pytest.raises(PackDamaged, match="missing"):
        image_packs.read(tmp_path, packed)


@pytest.mark.parametrize("line", [
    b'{"sha256": "xyz", "pack": "a.pack", "offset": 0, "length": 1, "ext": "jpg", '
    b'"phash": "", "width": 0, "height": 0, "format": ""}',
    b'{"sha256": "' + b"a" * 64 + b'", "pack": "../../etc/passwd", "offset": 0, "length": 1, '
    b'"ext": "jpg", "phash": "", "width": 0, "height": 0, "format": ""}',
    b'{"sha256": "' + b"a" * 64 + b'", "pack": "a.pack", "offset": -5, "length": 1, '
    b'"ext": "jpg", "phash": "", "width": 0, "height": 0, "format": ""}',
    b'{"sha256": "' + b"a" * 64 + b'", "pack": "a.pack"}',
    b"not json",
])
def test_a_line_that_is_not_an_entry_is_not_read(line: bytes) -> None:
    assert image_packs.parse_line(line) is None


def test_a_replaced_index_is_read_again_whole(tmp_path: Path) -> None:
    _pack(tmp_path, range(2))
    index = PackIndex(tmp_path)
    assert index.get(_sha(_body(0))) is not None
    path = image_packs.index_path(tmp_path)
    kept = [line for line in path.read_bytes().splitlines(keepends=True)
            if _sha(_body(0)).encode() not in line]
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(kept))
    os.replace(tmp, path)  # as a purge replaces it
    assert index.get(_sha(_body(0))) is None and index.get(_sha(_body(1))) is not None


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((root / "images").rglob("*")) if p.is_file())


def test_a_removed_image_leaves_no_byte_behind_and_the_rest_stays(tmp_path: Path) -> None:
    _pack(tmp_path, (1, 2, 3))
    kept_pack = PackWriter(tmp_path).add(_sha(_body(4)), _body(4), "png", FOUND).pack
    affected = PackIndex(tmp_path).get(_sha(_body(2)))
    assert affected is not None
    with open(image_packs.pack_path(tmp_path, affected.pack), "ab") as fh:
        fh.write(_body(2)[:500])  # and bytes a kill left unindexed
    assert image_packs.remove(tmp_path, [_sha(_body(2)), "f" * 64]) == {_sha(_body(2))}
    assert _body(2)[:500] not in _all_bytes(tmp_path)
    index = PackIndex(tmp_path)
    assert index.get(_sha(_body(2))) is None
    for n in (1, 3, 4):
        packed = index.get(_sha(_body(n)))
        assert packed is not None and image_packs.read(tmp_path, packed) == _body(n)
    names = {p.name for p in (tmp_path / image_packs.PACK_DIR).iterdir()}
    assert kept_pack in names and affected.pack not in names and len(names) == 2
    assert [e is not None for _n, e in image_packs.lines(tmp_path)] == [True] * 3
    assert image_packs.remove(tmp_path, [_sha(_body(2))]) == set()  # nothing more to do


def test_removing_every_image_of_a_pack_leaves_no_pack(tmp_path: Path) -> None:
    PackWriter(tmp_path).add(_sha(_body(1)), _body(1), "jpg", FOUND)
    assert image_packs.remove(tmp_path, [_sha(_body(1))]) == {_sha(_body(1))}
    assert list((tmp_path / image_packs.PACK_DIR).iterdir()) == []
    assert list(image_packs.lines(tmp_path)) == []


def test_what_a_cut_short_removal_left_goes_at_the_next(tmp_path: Path) -> None:
    PackWriter(tmp_path).add(_sha(_body(1)), _body(1), "jpg", FOUND)
    stray = image_packs.pack_path(tmp_path, "20260101000000-1-abcdef-00001.pack")
    stray.write_bytes(_body(9))  # a copy no line names yet (a crash before the index)
    PackWriter(tmp_path).add(_sha(_body(2)), _body(2), "jpg", FOUND)
    image_packs.remove(tmp_path, [_sha(_body(2))])
    assert not stray.exists()
    packed = PackIndex(tmp_path).get(_sha(_body(1)))
    assert packed is not None and image_packs.read(tmp_path, packed) == _body(1)


def test_a_kept_image_a_pack_cannot_give_whole_does_not_stop_a_removal(tmp_path: Path) -> None:
    _pack(tmp_path, (1, 2, 3))
    pack = next((tmp_path / image_packs.PACK_DIR).iterdir())
    cut = 2 * len(_body(1)) + 100
    os.truncate(pack, cut)  # the third image, kept, is cut short
    assert image_packs.remove(tmp_path, [_sha(_body(1))]) == {_sha(_body(1))}
    assert _body(1) not in _all_bytes(tmp_path)
    index = PackIndex(tmp_path)
    second, third = index.get(_sha(_body(2))), index.get(_sha(_body(3)))
    assert second is not None and image_packs.read(tmp_path, second) == _body(2)
    assert third is not None and third.length == len(_body(3))  # its line as it was
    with pytest.raises(PackDamaged, match="cut short"):  # still said to be damaged
        image_packs.read(tmp_path, third)
    assert _body(3)[:100] in _all_bytes(tmp_path)  # what there was of it is kept


def test_a_line_cut_short_never_takes_the_next_writers_line_with_it(tmp_path: Path) -> None:
    writer = PackWriter(tmp_path)
    writer.add(_sha(_body(1)), _body(1), "jpg", FOUND)
    with open(image_packs.index_path(tmp_path), "ab") as fh:
        fh.write(b'\n{"ext": "jpg", "form')  # another process died mid-line (a full disk)
    writer.add(_sha(_body(2)), _body(2), "jpg", FOUND)  # a writer that had written before
    index = PackIndex(tmp_path)
    assert all(index.get(_sha(_body(n))) is not None for n in (1, 2))


def test_threads_sharing_a_view_all_find_what_is_archived(tmp_path: Path) -> None:
    import threading

    writer = _pack(tmp_path, range(200))
    index, misses = PackIndex(tmp_path), []

    def look() -> None:
        for _round in range(3):
            misses.extend(n for n in range(200) if index.get(_sha(_body(n))) is None)

    threads = [threading.Thread(target=look) for _ in range(4)]
    for t in threads:
        t.start()
    for n in range(200, 400):  # lines appended while they look
        writer.add(_sha(_body(n)), _body(n), "jpg", FOUND)
    for t in threads:
        t.join()
    assert misses == []


def test_an_index_rewritten_in_place_is_read_again(tmp_path: Path) -> None:
    """A purge's new index may get the old one's inode: its first line tells them apart."""
    _pack(tmp_path, range(3))
    index = PackIndex(tmp_path)
    assert index.get(_sha(_body(0))) is not None
    path = image_packs.index_path(tmp_path)
    lines = [line for _n, line in image_packs.lines(tmp_path)]
    extra = PackWriter(tmp_path).add(_sha(_body(9)), _body(9), "jpg", FOUND)
    new = (b'{"generation": "0123456789abcdef"}\n' + extra.line()
           + b"".join(p.line() for p in reversed(lines) if p and p.sha256 != _sha(_body(0))))
    with open(path, "r+b") as fh:  # same inode, longer than what the view read, other order
        fh.write(new + b"\n" * max(0, path.stat().st_size + 10 - len(new)))
        fh.truncate()
    for n in (9, 1, 2):  # the new line first: it lies before where the view had read to
        packed = index.get(_sha(_body(n)))
        assert packed is not None and image_packs.read(tmp_path, packed) == _body(n)
    assert index.get(_sha(_body(0))) is None


def test_a_removal_keeps_unreadable_lines_and_the_packs_they_name(tmp_path: Path) -> None:
    PackWriter(tmp_path).add(_sha(_body(1)), _body(1), "jpg", FOUND)
    named_only_there = image_packs.pack_path(tmp_path, "20260101000000-7-abcdef-00001.pack")
    named_only_there.write_bytes(_body(5))
    damaged = b'{"ext": "jpg", "pack": "20260101000000-7-abcdef-00001.pack", "sha256": "ab'
    with open(image_packs.index_path(tmp_path), "ab") as fh:
        fh.write(b"\n" + damaged + b"\n")
    PackWriter(tmp_path).add(_sha(_body(2)), _body(2), "jpg", FOUND)
    image_packs.remove(tmp_path, [_sha(_body(2))])
    assert named_only_there.exists()
    assert damaged in image_packs.index_path(tmp_path).read_bytes()
    assert PackIndex(tmp_path).get(_sha(_body(1))) is not None


def test_a_removed_image_is_gone_from_a_pack_a_kill_left_it_unnamed_in(tmp_path: Path) -> None:
    writer = PackWriter(tmp_path)
    writer.add(_sha(_body(1)), _body(1), "jpg", FOUND)
    first_pack = next((tmp_path / image_packs.PACK_DIR).iterdir())
    with open(first_pack, "ab") as fh:
        fh.write(_body(2))  # its bytes, and then the process was killed before the line
    PackWriter(tmp_path).add(_sha(_body(2)), _body(2), "jpg", FOUND)  # packed again later
    assert image_packs.remove(tmp_path, [_sha(_body(2))]) == {_sha(_body(2))}
    assert _body(2) not in _all_bytes(tmp_path)
    packed = PackIndex(tmp_path).get(_sha(_body(1)))
    assert packed is not None and image_packs.read(tmp_path, packed) == _body(1)


def _damaged(packed: image_packs.Packed) -> bytes:
    """Its line with a value no entry has (bit rot): whole, naming its hash, unreadable."""
    return packed.line().replace(b'"width": ', b'"width": "x", "w": ')


def test_a_damaged_line_does_not_hide_a_later_one_naming_the_same_image(tmp_path: Path) -> None:
    packed = PackWriter(tmp_path).add(_sha(_body(1)), _body(1), "jpg", FOUND)
    path = image_packs.index_path(tmp_path)
    path.write_bytes(_damaged(packed) + packed.line())
    index = PackIndex(tmp_path)
    for _ in range(2):
        found = index.get(_sha(_body(1)))
        assert found is not None and image_packs.read(tmp_path, found) == _body(1)


def test_a_pack_an_unreadable_line_names_is_not_compacted(tmp_path: Path) -> None:
    writer = PackWriter(tmp_path)
    writer.add(_sha(_body(1)), _body(1), "jpg", FOUND)
    second = writer.add(_sha(_body(2)), _body(2), "jpg", FOUND)
    path = image_packs.index_path(tmp_path)
    path.write_bytes(path.read_bytes().replace(second.line(), _damaged(second)))
    PackWriter(tmp_path).add(_sha(_body(3)), _body(3), "jpg", FOUND)  # another pack
    image_packs.remove(tmp_path, [_sha(_body(3))])
    assert _body(2) in _all_bytes(tmp_path)  # its line is damaged, its bytes are kept


def test_lines_naming_the_same_bytes_do_not_hide_bytes_no_line_names(tmp_path: Path) -> None:
    writer = PackWriter(tmp_path)
    first = writer.add(_sha(_body(1)), _body(1), "jpg", FOUND)
    with open(image_packs.index_path(tmp_path), "ab") as fh:
        fh.write(first.line())  # the same line twice
    pack = image_packs.pack_path(tmp_path, first.pack)
    with open(pack, "ab") as fh:
        fh.write(_body(2))  # a copy of the image to purge, its line never written
    PackWriter(tmp_path).add(_sha(_body(2)), _body(2), "jpg", FOUND)
    image_packs.remove(tmp_path, [_sha(_body(2))])
    assert _body(2) not in _all_bytes(tmp_path)


def _lose_index(root: Path, how: str) -> None:
    """The pack index lost as it happens: deleted (a restore without it), emptied or
    overwritten (a disk error), or not a file that can be read."""
    index = image_packs.index_path(root)
    if how == "deleted":
        index.unlink()
    elif how == "emptied":
        index.write_bytes(b"")
    elif how == "damaged":
        index.write_bytes(b"\x00" * index.stat().st_size)
    else:  # unreadable: a folder where the file was
        index.unlink()
        index.mkdir()


@pytest.mark.parametrize("how", ["deleted", "emptied", "damaged", "unreadable"])
def test_a_removal_with_the_index_lost_deletes_no_pack_and_says_why(
        tmp_path: Path, how: str) -> None:
    """Without a readable index line every pack looks like a leftover; they hold every
    photo, so the removal refuses, naming the archive and what to do."""
    _pack(tmp_path, (1, 2))
    PackWriter(tmp_path).add(_sha(_body(3)), _body(3), "jpg", FOUND)  # a second pack
    packs = {p: p.read_bytes() for p in (tmp_path / image_packs.PACK_DIR).iterdir()}
    _lose_index(tmp_path, how)
    with pytest.raises(image_packs.PackIndexLost) as refused:
        image_packs.remove(tmp_path, [_sha(_body(2))])
    said = str(refused.value)
    assert said.startswith(f"archive {tmp_path}: {image_packs.INDEX_FILE}: ")
    assert "2 pack file(s)" in said and "nothing was purged" in said
    assert "Restore images/packs.jsonl" in said and "adtrace archive verify" in said
    assert {p: p.read_bytes() for p in (tmp_path / image_packs.PACK_DIR).iterdir()} == packs

