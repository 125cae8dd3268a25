"""The images a purge takes out are written down first: a purge stopped halfway is
finished by the next one, and no crawl archives images meanwhile."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from indexer.archive import find_image, image_packs, store_image
from indexer.archive import lock as archive_lock
from indexer.archive.purge import delete_images


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buf, "PNG")
    return buf.getvalue()


def test_a_purge_stopped_by_a_damaged_pack_is_finished_by_the_next(tmp_path: Path) -> None:
    gone = store_image(tmp_path, _png((1, 2, 3)), "", "image/png")
    kept = store_image(tmp_path, _png((4, 5, 6)), "", "image/png")
    found = find_image(tmp_path, kept.sha256)
    assert found is not None and found.packed is not None
    pack = image_packs.pack_path(tmp_path, found.packed.pack)
    whole = pack.read_bytes()
    os.truncate(pack, found.packed.offset + 5)  # the image it keeps is cut short
    with pytest.raises(image_packs.PackDamaged):
        delete_images(tmp_path, [gone.sha256])
    journal = tmp_path / archive_lock.IMAGE_JOURNAL
    assert json.loads(journal.read_text())["hashes"] == [gone.sha256]
    with pytest.raises(archive_lock.ArchiveBusy, match=archive_lock.IMAGE_JOURNAL):
        archive_lock.hold_shared(tmp_path)  # no crawl until it is finished
    pack.write_bytes(whole)  # mended (from a copy)
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
