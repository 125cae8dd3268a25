"""The images a purge takes out are written down as soon as the store lets them go: a
purge stopped halfway is finished by the next one, and no crawl archives images
meanwhile (checks may read the archive)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from indexer.archive import archive_verify, find_image, image_packs, store_image
from indexer.archive import lock as archive_lock
from indexer.archive.purge import delete_images, note_images


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buf, "PNG")
    return buf.getvalue()


def test_a_purge_killed_once_the_store_let_go_is_finished_by_the_next(tmp_path: Path) -> None:
    gone = store_image(tmp_path, _png((1, 2, 3)), "", "image/png")
    kept = store_image(tmp_path, _png((4, 5, 6)), "", "image/png")
    note_images(tmp_path, [gone.sha256])  # as purge.run does after the store's purge
    # ... and the purge was killed there (before the WARC files and the photos)
    journal = tmp_path / archive_lock.IMAGE_JOURNAL
    with pytest.raises(archive_lock.ArchiveBusy, match=archive_lock.IMAGE_JOURNAL):
        archive_lock.hold_shared(tmp_path)  # no crawl until it is finished
    with archive_lock.held(tmp_path):  # a check may read the archive meanwhile
        assert find_image(tmp_path, gone.sha256) is not None
    assert delete_images(tmp_path, []) == [gone.sha256]  # the next purge, with nothing new
    assert not journal.exists()
    assert find_image(tmp_path, gone.sha256) is None
    again = find_image(tmp_path, kept.sha256)
    assert again is not None and again.read() == _png((4, 5, 6))
    archive_lock.release(archive_lock.hold_shared(tmp_path))


def test_a_purge_killed_while_taking_images_out_is_finished_by_the_next(tmp_path: Path) -> None:
    first = store_image(tmp_path, _png((7, 8, 9)), "", "image/png")
    second = store_image(tmp_path, _png((9, 8, 7)), "", "image/png")
    (tmp_path / archive_lock.IMAGE_JOURNAL).write_text(json.dumps({"hashes": [first.sha256]}))
    assert delete_images(tmp_path, [second.sha256]) == sorted([first.sha256, second.sha256])
    assert find_image(tmp_path, first.sha256) is None
    assert find_image(tmp_path, second.sha256) is None
    assert not (tmp_path / archive_lock.IMAGE_JOURNAL).exists()


def test_a_purge_with_the_pack_index_lost_keeps_every_pack_and_its_note(tmp_path: Path) -> None:
    """verify says of packs no readable line names that they are evidence, not leftovers:
    a purge of any photo then deletes no pack (it deleted them all), and keeps its note
    of the photos to take out once the index is restored."""
    gone = store_image(tmp_path, _png((1, 2, 3)), "", "image/png")
    store_image(tmp_path, _png((4, 5, 6)), "", "image/png")
    packs = {p: p.read_bytes() for p in (tmp_path / image_packs.PACK_DIR).glob("*.pack")}
    index = image_packs.index_path(tmp_path)
    saved = index.read_bytes()
    index.unlink()  # lost (a restore without it, a disk error)
    assert any("packs are evidence" in p for p in archive_verify(tmp_path).problems)
    with pytest.raises(image_packs.PackIndexLost, match="nothing was purged"):
        delete_images(tmp_path, [gone.sha256])
    assert {p: p.read_bytes() for p in (tmp_path / image_packs.PACK_DIR).glob("*.pack")} == packs
    assert json.loads((tmp_path / archive_lock.IMAGE_JOURNAL).read_text()) == {
        "hashes": [gone.sha256]}
    index.write_bytes(saved)  # restored: the next purge takes the photo out
    assert delete_images(tmp_path, []) == [gone.sha256]
    assert find_image(tmp_path, gone.sha256) is None
