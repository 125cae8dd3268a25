"""Photos of the demo world, drawn with Pillow: deterministic, local, harmless.

A photo id ``p<person>-<k>`` always gives the same picture, so the same "person" photo
reused in several ads (or under several numbers) is byte-identical on one site, and
perceptually identical across sites (PNG on velvet, JPEG on board).
"""

from __future__ import annotations

import io
import random
import re
from functools import lru_cache

from PIL import Image, ImageDraw

PHOTO_ID = re.compile(r"p(\d{1,7})-(\d{1,2})")
SIZE = (240, 320)


def parse_photo_id(photo: str) -> tuple[int, int] | None:
    m = PHOTO_ID.fullmatch(photo)
    return (int(m.group(1)), int(m.group(2))) if m else None


def draw(seed: int, person: int, k: int) -> Image.Image:
    """A person's k-th photo: a figure in the person's colours on a varied backdrop."""
    who = random.Random(f"{seed}:person:{person}")
    shot = random.Random(f"{seed}:photo:{person}:{k}")
    skin = tuple(who.randrange(120, 240) for _ in range(3))
    dress = tuple(who.randrange(0, 256) for _ in range(3))
    hair = tuple(who.randrange(0, 120) for _ in range(3))
    back = tuple(shot.randrange(0, 256) for _ in range(3))
    img = Image.new("RGB", SIZE, back)
    d = ImageDraw.Draw(img)
    for _ in range(6):  # backdrop shapes vary per photo
        x, y = shot.randrange(SIZE[0]), shot.randrange(SIZE[1])
        r = shot.randrange(10, 60)
        d.rectangle((x, y, x + r, y + r), fill=tuple(shot.randrange(256) for _ in range(3)))
    cx = SIZE[0] // 2 + shot.randrange(-30, 31)
    d.ellipse((cx - 40, 40, cx + 40, 60 + 80), fill=hair)
    d.ellipse((cx - 30, 55, cx + 30, 125), fill=skin)
    d.polygon([(cx - 60, 320), (cx - 35, 140), (cx + 35, 140), (cx + 60, 320)], fill=dress)
    return img


@lru_cache(maxsize=512)
def photo_bytes(seed: int, person: int, k: int, fmt: str) -> bytes:
    """Encoded image; ``fmt`` is PNG or JPEG. Cached: listings show the same photos often."""
    if fmt not in ("PNG", "JPEG"):
        raise ValueError(f"image format {fmt!r}: use PNG or JPEG")
    buf = io.BytesIO()
    img = draw(seed, person, k)
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=85)
    else:
        img.save(buf, "PNG", optimize=False)
    return buf.getvalue()
