"""The perceptual hash of a picture: imagehash's ``phash``, with numpy alone.

The picture is made grey and 32×32 (LANCZOS), its 2-D DCT-II taken, and each of the
8×8 lowest frequencies compared with their median: 64 bits, written as 16 hex digits,
first bit highest, as ``str(imagehash.phash(img))`` writes them. Near-duplicates (a
re-encode, a resize, a light crop) differ in a few bits, other pictures in about half;
the hashes stay comparable with those other tools compute with imagehash (the archive
hashes a JPEG's draft and another format's picture reduced to that size, which moves a
few of them by a bit or two: indexer.archive.images).

imagehash takes the DCT with scipy, which cost each ingest worker a third of a second
of imports at start, and computes all 32×32 frequencies to keep 64. Here only the 8
lowest of each axis are computed, as two small matrix products with scipy.fftpack's
formula. The products round differently from scipy's FFT in the last bits, and a
picture with flat areas has frequencies that are zero but for that rounding: compared
with their median (zero too), they would give bits of noise. The frequencies are
therefore rounded to 1e-6 first (far below any real one: pixels are 0…255), which gives
imagehash's bits on flat pictures as on photos (tests/archive/test_phash.py). Where a
frequency is rounding noise within 1e-6 of the median in scipy's result too, imagehash's
bit there is that noise, and the two can differ in that one bit: seen on a few synthetic
patterns (3 of 88 checkerboards, 5 of 121 single dots on a flat ground), never on a photo.

The 32×32 picture is Pillow's LANCZOS resize, computed here (``_lanczos``) with Pillow's
own arithmetic: its filter weights, scaled to 22-bit integers as Pillow scales them, one
pass per axis in the order Pillow 13 takes them (``_down_first``), each rounded and clipped
to 0…255 as Pillow does. The result is Pillow's, pixel for pixel (tests/archive/
test_phash.py compares them on every size up to 80×80 and on larger ones), at about half
the cost: Pillow works out the weights (some 3,600 sines for a 120×160 picture) on every
call, and here they are kept per picture size, so that a pass is one matrix product
(exact: every term is an integer below 2^53). An archive hashes a picture per new photo,
and the resize was a third of the hash. pyproject.toml asks for Pillow 13 for that reason:
another Pillow may order the passes otherwise, which the tests would show.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

HASH_SIZE = 8  # 8×8 bits
SIDE = HASH_SIZE * 4  # the picture the DCT reads: 32×32, imagehash's highfreq_factor 4
DECIMALS = 6  # frequencies rounded to this: rounding noise is not a bit of the hash
PRECISION_BITS = 22  # Pillow's fixed point for 8-bit pictures: 32 - 8 - 2
_HALF = float(1 << (PRECISION_BITS - 1))  # added before the shift: rounds to nearest
_SCALE = 1.0 / (1 << PRECISION_BITS)  # a power of two: the product is exact
# sides up to this are resized by _lanczos, whose weights are SIDE × side doubles (at most
# 256 KB; a photo's draft is mostly under 300 pixels a side, 77 KB); a longer side (a
# strip of 40 million pixels could be 625,000 long) goes to Pillow's resize, which gives
# the same pixels. The weights of WEIGHTS_KEPT sides are kept (24 MB at the very most):
# working them out costs more than Pillow's whole resize, so photos of many sizes must
# not push each other's out
WEIGHTS_MAX_SIDE = 1024
WEIGHTS_KEPT = 96


def phash_hex(image: Any) -> str:
    """The 64-bit perceptual hash of a PIL image as 16 hex digits."""
    import numpy

    grey = image if image.mode == "L" else image.convert("L")
    if max(grey.size) <= WEIGHTS_MAX_SIDE:
        pixels = _lanczos(numpy.asarray(grey, dtype=numpy.float64))
    else:  # a long strip: Pillow's banded weights stay small where a full matrix would not
        from PIL import Image

        small = grey.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
        pixels = numpy.asarray(small, dtype=numpy.float64)
    basis = _dct_basis()
    low = numpy.round(basis @ pixels @ basis.T, DECIMALS)  # DCT-II, lowest frequencies
    return numpy.packbits((low > _median(low)).ravel()).tobytes().hex()


def _median(values: Any) -> Any:
    """numpy.median of the frequencies (the mean of the two middle ones: the same bits
    of the hash), without its generic path, which cost up to a tenth of the hash."""
    import numpy

    ordered = numpy.sort(values, axis=None)
    n = ordered.size
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


@lru_cache(maxsize=1)
def _dct_basis() -> Any:
    """Rows k < HASH_SIZE of the unnormalised DCT-II of length SIDE, as scipy.fftpack.dct
    computes it: y[k] = 2 · Σ x[n] · cos(π·k·(2n+1) / (2·SIDE))."""
    import numpy

    k = numpy.arange(HASH_SIZE)[:, None]
    n = numpy.arange(SIDE)[None, :]
    return 2.0 * numpy.cos(math.pi * k * (2 * n + 1) / (2 * SIDE))


def _lanczos(pixels: Any) -> Any:
    """``pixels`` (grey, rows × columns) resized to SIDE × SIDE as Pillow's LANCZOS resize
    gives them: a side already SIDE long is left as it is, and the two passes run in
    Pillow's order (``_down_first``)."""
    rows, columns = pixels.shape
    if _down_first(rows, columns):
        return _rounded(_rounded(_weights(rows) @ pixels) @ _weights(columns).T)
    if columns != SIDE:
        pixels = _rounded(pixels @ _weights(columns).T)
    if rows != SIDE:
        pixels = _rounded(_weights(rows) @ pixels)
    return pixels


def _down_first(rows: int, columns: int) -> bool:
    """Whether Pillow (13) resizes a picture of this size to SIDE × SIDE down first, then
    across: when it shrinks in height and is less than half as wide as tall, give or take
    SIDE (2·columns < rows + SIDE). The rule is Pillow's behaviour, not its documentation:
    found by comparing both orders with Pillow on every size up to 129 × 129 and on random
    sizes beyond (tests/archive/test_phash.py checks it against the Pillow installed)."""
    return rows > SIDE and columns != SIDE and 2 * columns < rows + SIDE


def _rounded(sums: Any) -> Any:
    """Fixed-point sums as Pillow's clip8 makes them pixels: shifted right by
    PRECISION_BITS after adding half, and clipped to 0…255 (in place)."""
    import numpy

    sums += _HALF
    sums *= _SCALE
    numpy.floor(sums, out=sums)
    return numpy.clip(sums, 0.0, 255.0, out=sums)


@lru_cache(maxsize=WEIGHTS_KEPT)
def _weights(size: int) -> Any:
    """The SIDE × ``size`` matrix of Pillow's integer LANCZOS weights for resizing a side
    of ``size`` pixels to SIDE (Resample.c: precompute_coeffs, normalize_coeffs_8bpc),
    as floats. The sums run in the same order as Pillow's, so the doubles are the same."""
    import numpy

    scale = float(size) / SIDE
    filterscale = max(scale, 1.0)
    support = 3.0 * filterscale  # LANCZOS's support: 3
    ss = 1.0 / filterscale
    weights = numpy.zeros((SIDE, size))
    for out in range(SIDE):
        center = (out + 0.5) * scale
        first = max(0, int(center - support + 0.5))
        count = min(size, int(center + support + 0.5)) - first
        taps = [_lanczos_filter((x + first - center + 0.5) * ss) for x in range(count)]
        total = 0.0
        for w in taps:
            total += w
        for x, w in enumerate(taps):
            k = w / total if total != 0.0 else w
            weights[out, first + x] = int(k * (1 << PRECISION_BITS) + (0.5 if k >= 0 else -0.5))
    weights.flags.writeable = False  # shared by every hash (and thread) of the process
    return weights


def _lanczos_filter(x: float) -> float:
    """Pillow's LANCZOS filter: sinc(x)·sinc(x/3) on [-3, 3), computed as Resample.c does."""
    if -3.0 <= x < 3.0:
        return _sinc(x) * _sinc(x / 3)
    return 0.0


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x
