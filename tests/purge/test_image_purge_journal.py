"""The images a purge takes out are written down as soon as the store lets them go: a
purge stopped halfway is finished by the next one, and no crawl archives images
meanwhile (checks may read the archive)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from indexer.archive import find_image, store_image
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
