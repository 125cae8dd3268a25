"""Images stored content-addressed: ``images/ab/abcdef….<ext>`` by SHA-256.

The same photo on many ads and sites is stored once and named by its hash, so it can
be cited and linked; a perceptual hash (imagehash.phash) finds near-duplicates that a
re-encode or a crop changed. Ad images are hostile input: decoding is bounded and a
file that does not decode is still kept as evidence, without a perceptual hash.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from indexer.archive.digest import sha256_hex
from indexer.model import ImageRef

IMAGE_DIR = "images"
MAX_PIXELS = 40_000_000
_EXTENSIONS = {
    "image/jpeg": "jpg", "image/jpg": "jpg", "image/png": "png", "image/gif": "gif",
    "image/webp": "webp", "image/bmp": "bmp", "image/avif": "avif", "image/svg+xml": "svg",
}
_PIL_EXT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}


def image_path(root: str | Path, sha256: str, ext: str) -> Path:
    return Path(root) / IMAGE_DIR / sha256[:2] / f"{sha256}.{ext}"


def find_image(root: str | Path, sha256: str) -> Path | None:
    """The stored file for a hash, whatever its extension; None if not archived."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    return next(iter(sorted((Path(root) / IMAGE_DIR / sha256[:2]).glob(f"{sha256}.*"))), None)


def store_image(root: str | Path, body: bytes, source_url: str = "",
                content_type: str = "") -> ImageRef:
    """Keep ``body`` under its hash (once) and describe it as an ImageRef."""
    sha = sha256_hex(body)
    phash, width, height, fmt = _inspect(body)
    ext = _PIL_EXT.get(fmt) or _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "bin")
    path = image_path(root, sha, ext)
    if not path.exists() and find_image(root, sha) is None:
        _write_atomic(path, body)
    return ImageRef(sha256=sha, phash=phash, source_url=source_url,
                    content_type=content_type.split(";")[0].strip(), width=width, height=height)


def _inspect(body: bytes) -> tuple[str, int, int, str]:
    """(phash, width, height, format) or blanks if the bytes are not a decodable image."""
    import imagehash
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as img:
                fmt = img.format or ""
                width, height = img.size
                img.load()
                return str(imagehash.phash(img)), width, height, fmt
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image we read"
        return "", 0, 0, ""


def _write_atomic(path: Path, body: bytes) -> None:
    """Write whole or not at all (temp file + rename: a killed crawl leaves no half file).

    No fsync: the image's bytes are already evidence in the WARC (every image response
    is archived there first), so this file is a derived, content-addressed copy that can
    be rebuilt; an fsync per image blocked the crawl's one thread for most of its time.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(body)
    os.replace(tmp, path)
