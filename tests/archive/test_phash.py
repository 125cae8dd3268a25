"""The perceptual hash is imagehash's phash (imagehash, with scipy, is a test dependency
only: the reference): bit for bit on photos and on flat pictures, where rounding noise
would otherwise decide bits; within one bit on patterns where scipy's own result is that
noise; and it tells near-duplicates from other pictures."""

from __future__ import annotations

import io
import random

import imagehash
import numpy
import pytest
from PIL import Image, ImageFilter

from indexer.archive.phash import SIDE, _lanczos, _median, phash_hex


def _photo(seed: int, size: tuple[int, int]) -> Image.Image:
    """A busy picture: rectangles of many colours on a backdrop."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(6, max(8, size[0] // 4))
        img.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + r, y + r))
    return img


def _flat_pictures() -> list[Image.Image]:
    """Pictures whose frequencies are mostly zero: one colour, halves, gradients."""
    half = Image.new("L", (64, 64), 0)
    half.paste(255, (0, 0, 32, 64))
    return [Image.new("L", (64, 64), 128), Image.new("RGB", (300, 200), (10, 200, 30)),
            half, Image.linear_gradient("L"), Image.radial_gradient("L"),
            Image.radial_gradient("L").resize((480, 640))]


def _distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@pytest.mark.parametrize("size", [(32, 32), (64, 48), (240, 320), (480, 640), (1000, 90),
                                  (3000, 40), (40, 2100)])
def test_a_photo_hashes_as_imagehash_bit_for_bit(size: tuple[int, int]) -> None:
    for seed in range(25):
        img = _photo(seed, size)
        assert phash_hex(img) == str(imagehash.phash(img)), (size, seed)


def test_a_flat_picture_hashes_as_imagehash_not_as_rounding_noise() -> None:
    for i, img in enumerate(_flat_pictures()):
        assert phash_hex(img) == str(imagehash.phash(img)), i


def test_where_scipy_leaves_rounding_noise_at_the_median_one_bit_may_differ() -> None:
    """Checkerboards and a lone dot have frequencies that are zero but for rounding, in
    scipy's result too: imagehash's bit there is noise, so a bit may differ, no more."""
    pictures = []
    for square in range(1, 12):
        for size in (32, 64, 320):
            grid = numpy.indices((size, size)) // square
            pictures.append(Image.fromarray((grid.sum(0) % 2 * 255).astype("uint8")))
    for x in range(0, 32, 3):
        dot = Image.new("L", (32, 32), 128)
        dot.putpixel((x, 31 - x), 0)
        pictures.append(dot)
    assert all(_distance(phash_hex(p), str(imagehash.phash(p))) <= 1 for p in pictures)


def test_near_duplicates_are_near_and_other_pictures_far() -> None:
    def reencoded(img: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=60)
        return Image.open(io.BytesIO(buf.getvalue()))

    for seed in range(20):
        img = _photo(seed, (480, 640))
        h = phash_hex(img)
        assert _distance(h, phash_hex(reencoded(img))) <= 4
        assert _distance(h, phash_hex(img.resize((240, 320)))) <= 4
        assert _distance(h, phash_hex(img.filter(ImageFilter.GaussianBlur(1)))) <= 4
        assert _distance(h, phash_hex(_photo(seed + 1000, (480, 640)))) >= 12


def test_the_median_is_numpys() -> None:
    """The hash's own median gives numpy.median's value, ties and flat pictures included."""
    rng = numpy.random.default_rng(4)
    cases = [numpy.zeros((8, 8)), numpy.full((8, 8), 3.5), numpy.arange(64.0).reshape(8, 8),
             numpy.round(rng.normal(0, 1e3, (8, 8)), 6),
             rng.integers(-3, 4, (8, 8)).astype(float)]
    for values in cases:
        assert _median(values) == numpy.median(values)


def _pillow_and_ours(rng: numpy.random.Generator, columns: int, rows: int,
                     ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """A noisy grey picture of the size resized to 32×32 by Pillow's LANCZOS and by
    ``_lanczos`` (noise: every rounding of every pass shows)."""
    pixels = rng.integers(0, 256, (rows, columns), dtype=numpy.uint8)
    pillow = Image.fromarray(pixels, "L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    return numpy.asarray(pillow, dtype=numpy.float64), _lanczos(pixels.astype(numpy.float64))


def test_the_resize_is_pillows_pixel_for_pixel_on_every_small_size() -> None:
    """Every size up to 80 × 80, shrunk or enlarged on either side, with either pass first:
    the same pixels as Pillow's resize, which the hash read before."""
    rng = numpy.random.default_rng(7)
    wrong = [(columns, rows) for columns in range(1, 81) for rows in range(1, 81)
             if not numpy.array_equal(*_pillow_and_ours(rng, columns, rows))]
    assert wrong == []


def test_the_resize_is_pillows_pixel_for_pixel_on_photo_sizes() -> None:
    """Sizes a photo's draft has (portrait and landscape, near the order's boundary), and
    random ones up to 1,500 pixels a side."""
    rng = numpy.random.default_rng(8)
    sizes = [(120, 160), (160, 120), (75, 100), (100, 75), (100, 168), (100, 169),
             (100, 170), (64, 96), (64, 97), (300, 568), (300, 569), (500, 969), (1000, 90)]
    sizes += [tuple(int(v) for v in rng.integers(1, 1500, 2)) for _ in range(60)]
    wrong = [size for size in sizes if not numpy.array_equal(*_pillow_and_ours(rng, *size))]
    assert wrong == []


def test_the_kept_weights_cannot_be_changed_by_a_caller() -> None:
    """Every hash of the process (every thread of the web UI too) reads the same arrays."""
    from indexer.archive.phash import _weights

    weights = _weights(160)
    with pytest.raises(ValueError, match="read-only"):
        weights[0, 0] = 1.0
    assert _weights(160) is weights
