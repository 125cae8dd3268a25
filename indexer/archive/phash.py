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
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

HASH_SIZE = 8  # 8×8 bits
SIDE = HASH_SIZE * 4  # the picture the DCT reads: 32×32, imagehash's highfreq_factor 4
DECIMALS = 6  # frequencies rounded to this: rounding noise is not a bit of the hash


def phash_hex(image: Any) -> str:
    """The 64-bit perceptual hash of a PIL image as 16 hex digits."""
    import numpy
    from PIL import Image

    small = image.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
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
