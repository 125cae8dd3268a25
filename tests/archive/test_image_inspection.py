"""Image inspection costs as little as it can: a JPEG is decoded at draft size (a PNG is
reduced to that size before its hash), the same bytes are decoded once (per process, and
across crawls through the pack index line; in archives made before packs, through the
line kept on the image's own file, or in ``image_meta`` where there is none)."""

from __future__ import annotations

import errno
import io
import os
import random
from pathlib import Path

import imagehash
import pytest
from PIL import Image

from indexer.archive import archive_verify, image_packs, images, phash
from indexer.archive.digest import sha256_hex
from indexer.archive.images import find_image, store_image
from indexer.archive.phash import phash_hex
from indexer.archive.purge import delete_images


def _photo(seed: int, size: tuple[int, int] = (480, 640)) -> Image.Image:
    """A busy picture (rectangles on a backdrop), like the photos ads carry."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(10, 120)
        img.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + r, y + r))
    return img


def _encoded(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, quality=85) if fmt == "JPEG" else img.save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("seed", range(8))
def test_a_jpeg_decoded_at_draft_size_keeps_its_perceptual_hash(seed: int) -> None:
    body = _encoded(_photo(seed), "JPEG")
    phash, width, height, fmt = images._inspect(body)
    with Image.open(io.BytesIO(body)) as full:
        full_hash = imagehash.phash(full)
    assert (width, height, fmt) == (480, 640, "JPEG")  # the real size, not the draft's
    assert imagehash.hex_to_hash(phash) - full_hash <= 2


@pytest.mark.parametrize("seed", range(8))
def test_a_png_reduced_as_a_jpeg_is_drafted_keeps_its_perceptual_hash(seed: int) -> None:
    img = _photo(seed)
    phash, width, height, fmt = images._inspect(_encoded(img, "PNG"))
    assert (width, height, fmt) == (480, 640, "PNG")  # the real size, not the reduced one
    assert imagehash.hex_to_hash(phash) - imagehash.phash(img) <= 2


@pytest.mark.parametrize("size", [(480, 640), (240, 320), (100, 900), (64, 64), (63, 500),
                                  (1200, 800), (2000, 3000), (40, 30), (1001, 999), (257, 515)])
def test_a_png_is_hashed_from_the_picture_a_jpeg_draft_gives(
        size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A PNG and a JPEG of one picture are hashed from grey pictures of the same size, so
    that they get the same hash as often as can be."""
    img = _photo(5, size)
    with Image.open(io.BytesIO(_encoded(img, "JPEG"))) as jpeg:
        jpeg.draft("L", images.PHASH_DRAFT_SIZE)
        drafted = jpeg.size
    hashed: list[tuple[tuple[int, int], str]] = []

    def spy(picture: Image.Image) -> str:
        hashed.append((picture.size, picture.mode))
        return phash_hex(picture)

    monkeypatch.setattr(phash, "phash_hex", spy)
    images._inspect(_encoded(img, "PNG"))
    assert hashed == [(drafted, "L")]


def test_the_same_bytes_are_decoded_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path
                                         ) -> None:
    body = _encoded(_photo(11), "JPEG")
    first = store_image(tmp_path, body, "http://a.test/1.jpg", "image/jpeg")

    def no_decode(data: bytes) -> tuple[str, int, int, str]:
        raise AssertionError("decoded again")

    monkeypatch.setattr(images, "_inspect", no_decode)
    again = store_image(tmp_path, body, "http://b.test/other.jpg", "image/jpeg")
    assert (again.phash, again.width, again.height) == (first.phash, 480, 640)
    assert again.source_url == "http://b.test/other.jpg"


def test_remembered_inspections_are_bounded(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(images, "SEEN_MAX", 3)
    monkeypatch.setattr(images, "_seen", type(images._seen)())
    bodies = [_encoded(_photo(20 + i, (64, 48)), "PNG") for i in range(5)]
    for body in bodies:
        store_image(tmp_path, body, "", "image/png")
    assert list(images._seen) == [sha256_hex(b) for b in bodies[2:]]


def test_bytes_archived_under_another_extension_are_not_stored_twice(tmp_path: Path) -> None:
    body = b"not an image at all"
    ref = store_image(tmp_path, body, "http://x.test/a.jpg", "image/jpeg")
    store_image(tmp_path, body, "http://x.test/a.gif", "image/gif")
    entries = [entry for _n, entry in image_packs.lines(tmp_path)]
    assert [(e.sha256, e.ext) for e in entries if e] == [(ref.sha256, "jpg")]
    found = find_image(tmp_path, ref.sha256)
    assert found is not None and (found.ext, found.read()) == ("jpg", body)
    other = b"kept as a file of its own"  # an archive made before packs
    legacy = _legacy(tmp_path, other, "jpg")
    store_image(tmp_path, other, "http://x.test/b.gif", "image/gif")
    assert len(list(image_packs.lines(tmp_path))) == 1  # not packed again
    found = find_image(tmp_path, sha256_hex(other))
    assert found is not None and (found.path, found.read()) == (legacy, other)


def _forget(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a new crawl process: nothing remembered in memory."""
    monkeypatch.setattr(images, "_seen", type(images._seen)())
    monkeypatch.setattr(images, "_pack_indexes", {})
    monkeypatch.setattr(images, "_pack_writers", {})


def _no_decode(data: bytes) -> tuple[str, int, int, str]:
    raise AssertionError("decoded again")


def _legacy(root: Path, body: bytes, ext: str, line: bytes | None = b"decoded") -> Path:
    """The image as an archive made before packs kept it: a file of its own, with what it
    decoded to as its attribute (None: without one)."""
    sha = sha256_hex(body)
    path = root / images.IMAGE_DIR / sha[:2] / f"{sha}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    if line is not None:
        os.setxattr(path, images.XATTR,
                    images._line(images._inspect(body)) if line == b"decoded" else line)
    return path


def _line_on(path: Path) -> list[str]:
    return os.getxattr(path, images.XATTR).decode("ascii").split()


def test_a_later_crawl_reads_what_the_bytes_decoded_to(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    body = _encoded(_photo(31), "PNG")
    first = store_image(tmp_path, body, "http://a.test/1.png", "image/png")
    packed = image_packs.PackIndex(tmp_path).get(first.sha256)
    assert packed is not None and packed.inspection == (first.phash, 480, 640, "PNG")
    assert not (tmp_path / images.META_DIR).exists()
    _forget(monkeypatch)
    monkeypatch.setattr(images, "_inspect", _no_decode)
    again = store_image(tmp_path, body, "http://a.test/1.png", "image/png")
    assert (again.phash, again.width, again.height) == (first.phash, 480, 640)
    assert len(list(image_packs.lines(tmp_path))) == 1  # stored once
    _forget(monkeypatch)  # described from the index line, without the bytes at hand
    described = images.describe_stored(tmp_path, first.sha256, "http://b.test/x", "image/png")
    assert described is not None and described.phash == first.phash
    assert archive_verify(tmp_path).ok and archive_verify(tmp_path).images == 1


def test_an_older_archive_file_is_read_by_its_line(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    body = _encoded(_photo(30, (64, 48)), "PNG")
    path = _legacy(tmp_path, body, "png")
    expected = images._inspect(body)
    _forget(monkeypatch)
    monkeypatch.setattr(images, "_inspect", _no_decode)
    again = store_image(tmp_path, body, "http://a.test/1.png", "image/png")
    assert (again.phash, again.width, again.height) == expected[:3]
    assert list(image_packs.lines(tmp_path)) == []  # kept where it is
    found = find_image(tmp_path, again.sha256)
    assert found is not None and found.path == path and found.read() == body
    assert archive_verify(tmp_path).ok and archive_verify(tmp_path).images == 1


def test_a_stored_file_without_its_line_is_described_from_its_bytes(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = _encoded(_photo(39, (64, 48)), "PNG")
    path = _legacy(tmp_path, body, "png", line=None)  # as copied without its attributes
    _forget(monkeypatch)
    again = images.describe_stored(tmp_path, sha256_hex(body), "http://b.test/x", "image/png")
    assert again is not None and again.phash == images._inspect(body)[0]
    assert _line_on(path)[0] == again.phash  # and kept on it again
    assert images.describe_stored(tmp_path, "0" * 64) is None  # not archived


def test_an_older_archive_line_in_image_meta_is_still_read(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    body = _encoded(_photo(35, (64, 48)), "PNG")
    _legacy(tmp_path, body, "png", line=None)  # as an archive written before the attribute
    phash = images._inspect(body)[0]
    meta = images.meta_path(tmp_path, sha256_hex(body))
    meta.parent.mkdir(parents=True)
    meta.write_text(f"{phash} 64 48 PNG\n")
    _forget(monkeypatch)
    monkeypatch.setattr(images, "_inspect", _no_decode)
    again = store_image(tmp_path, body, "", "image/png")
    assert (again.phash, again.width, again.height) == (phash, 64, 48)


def test_without_extended_attributes_the_line_goes_to_image_meta(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = _encoded(_photo(36, (64, 48)), "PNG")
    _legacy(tmp_path, body, "png", line=None)

    def unsupported(*args: object) -> None:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    _forget(monkeypatch)
    first = images.describe_stored(tmp_path, sha256_hex(body))
    assert first is not None
    meta = images.meta_path(tmp_path, first.sha256)
    assert meta.read_text().split() == [first.phash, "64", "48", "PNG"]
    _forget(monkeypatch)
    monkeypatch.setattr(images, "_inspect", _no_decode)
    assert store_image(tmp_path, body, "", "image/png").phash == first.phash


def test_without_extended_attributes_at_all_the_line_goes_to_image_meta(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = _encoded(_photo(37, (64, 48)), "PNG")
    _legacy(tmp_path, body, "png", line=None)
    monkeypatch.setattr(images, "_HAS_XATTRS", False)  # as on a system without os.setxattr
    _forget(monkeypatch)
    first = images.describe_stored(tmp_path, sha256_hex(body))
    assert first is not None
    assert images.meta_path(tmp_path, first.sha256).read_text().split()[0] == first.phash
    _forget(monkeypatch)
    monkeypatch.setattr(images, "_inspect", _no_decode)
    assert store_image(tmp_path, body, "", "image/png").phash == first.phash


@pytest.mark.parametrize("call", ["setxattr", "getxattr"])
def test_a_failing_disk_is_an_error_not_a_photo_to_decode_again(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, call: str) -> None:
    body = _encoded(_photo(38, (64, 48)), "PNG")
    _legacy(tmp_path, body, "png", line=None if call == "setxattr" else b"decoded")
    _forget(monkeypatch)

    def failing(*args: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, call, failing)
    with pytest.raises(OSError, match="Input/output error"):
        store_image(tmp_path, body, "", "image/png")
    assert not (tmp_path / images.META_DIR).exists()  # no line written in its place


@pytest.mark.parametrize("kept_in", ["attribute", "image_meta"])
@pytest.mark.parametrize("damage", [b"", b"zz 1 2 PNG\n", b"../../x 1 2 PNG", b"\xff\xfe",
                                    b"0123456789abcdef 64 48 PN"])  # last: cut short
def test_a_damaged_record_is_decoded_again_and_rewritten(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path, damage: bytes,
                                                         kept_in: str) -> None:
    body = _encoded(_photo(32, (64, 48)), "PNG")
    expected = images._inspect(body)
    if kept_in == "attribute":
        path = _legacy(tmp_path, body, "png", line=damage)
    else:  # an older archive's line
        path = _legacy(tmp_path, body, "png", line=None)
        meta = images.meta_path(tmp_path, sha256_hex(body))
        meta.parent.mkdir(parents=True)
        meta.write_bytes(damage)
    _forget(monkeypatch)
    again = store_image(tmp_path, body, "", "image/png")
    assert (again.phash, again.width, again.height) == expected[:3]
    assert _line_on(path) == [expected[0], "64", "48", "PNG"]


def test_an_undecodable_image_is_remembered_as_such(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    ref = store_image(tmp_path, b"<svg onload=x>", "", "image/svg+xml")
    _forget(monkeypatch)
    monkeypatch.setattr(images, "_inspect", lambda data: ("f" * 16, 1, 1, "PNG"))
    again = store_image(tmp_path, b"<svg onload=x>", "", "image/svg+xml")
    assert (again.phash, again.width, ref.phash) == ("", 0, "")


def test_purging_an_image_takes_what_it_decoded_to(tmp_path: Path) -> None:
    ref = store_image(tmp_path, _encoded(_photo(33, (64, 48)), "PNG"), "", "image/png")
    older = _encoded(_photo(40, (64, 48)), "PNG")
    _legacy(tmp_path, older, "png")
    meta = images.meta_path(tmp_path, sha256_hex(older))  # and an older archive's line
    meta.parent.mkdir(parents=True)
    meta.write_text(f"{images._inspect(older)[0]} 64 48 PNG\n")
    hashes = sorted([ref.sha256, sha256_hex(older)])
    assert delete_images(tmp_path, hashes) == hashes
    assert find_image(tmp_path, ref.sha256) is None  # its index line went with it
    assert find_image(tmp_path, sha256_hex(older)) is None  # its attribute went with it
    assert not meta.exists()


def test_a_purged_archive_takes_the_next_image_in_a_new_pack(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import shutil

    first = store_image(tmp_path, _encoded(_photo(34, (64, 48)), "PNG"), "", "image/png")
    shutil.rmtree(tmp_path / "images")
    _forget(monkeypatch)  # decoded again: its line is kept again too
    again = store_image(tmp_path, _encoded(_photo(34, (64, 48)), "PNG"), "", "image/png")
    found = find_image(tmp_path, again.sha256)
    assert found is not None and again.phash == first.phash
    assert found.packed is not None and found.packed.phash == first.phash
