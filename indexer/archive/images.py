"""Images stored content-addressed: by SHA-256, once, in packs (indexer.archive.image_packs).

The same photo on many ads and sites is stored once and named by its hash, so it can
be cited and linked; a perceptual hash (indexer.archive.phash) finds near-duplicates
that a re-encode or a crop changed. Ad images are hostile input: decoding is bounded
and a file that does not decode is still kept as evidence, without a perceptual hash.

New images are appended to a pack of the writing process's own, with an index line that
also says what the bytes decoded to (image_packs: a file per image cost an inode and, on
this project's machines, up to 0.87 ms of kernel CPU each). Archives made before packs
keep a file per image, ``images/ab/abcdef….<ext>``: those are still found, described,
verified and purged, and an image already kept that way is not packed again.

Decoding is most of an image's cost, so it is done as little as possible: what a
SHA-256 decoded to is remembered, in memory (``_seen``: the same photo in many ads is
decoded once per process) and with the stored image (its pack's index line; on a file of
its own, an extended attribute ``user.adtrace.inspection``, one line: phash, width,
height, format, or where the file system keeps none a line in
``image_meta/ab/<sha256>.txt``), so a revisit that fetches the same photo again reads a
line instead of decoding it. The line is derived data, checked when read and recomputed
when it does not parse; the image bytes stay the evidence. A JPEG is decoded straight to
the small grey picture the perceptual hash reads (``Image.draft``: the decoder scales by
1/2…1/8 in the DCT). That draft changes a JPEG's hash by at most a bit or two against a
full decode, far inside any near-duplicate distance. PNG and other formats are decoded in
full (their formats have no draft), then made grey and reduced by the factor a JPEG draft
would use (``_draft_factor``; ``Image.reduce`` averages boxes of pixels, as the draft
does in the DCT) before the hash's LANCZOS resize, which cost a demo photo nearly as much
as its decode when it read every pixel. That moves the hash of about 3–5% of demo photos
by 2 bits from imagehash's on the full picture, and a PNG and a JPEG of one picture are then
hashed from grey pictures of the same size: they got the same hash at least as often in
every sample tried (demo seed 7, 400 people × 2 photos: 773 of 800, against 761 from the
full PNG). A hash kept with an image inspected before that change stays as it was; a
new copy of such a picture (other bytes) may differ from it by those 2 bits.
"""
from __future__ import annotations

import errno
import io
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.archive import image_packs
from indexer.archive.digest import sha256_hex
from indexer.model import ImageRef

IMAGE_DIR = "images"  # packs under images/packs; archives made before: images/ab/<sha>.<ext>
META_DIR = "image_meta"  # outside IMAGE_DIR: archive_verify hashes every file in there
XATTR = "user.adtrace.inspection"  # what an image file decoded to, kept on the file
_HAS_XATTRS = hasattr(os, "setxattr")  # Linux; elsewhere the image_meta line is used
# a file system (or a mount) that keeps no user attributes: the image_meta line instead
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES)
MAX_PIXELS = 40_000_000
_EXTENSIONS = {
    "image/jpeg": "jpg", "image/jpg": "jpg", "image/png": "png", "image/gif": "gif",
    "image/webp": "webp", "image/bmp": "bmp", "image/avif": "avif", "image/svg+xml": "svg",
}
_PIL_EXT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
# every extension store_image can give a file: checked by stat, not by a directory glob
# (the most common first: an archived photo is found by its first stat or two)
_COMMON_EXT = ("jpg", "png", "webp", "gif")
_ALL_EXT = (*_COMMON_EXT, *sorted({*_EXTENSIONS.values(), *_PIL_EXT.values(), "bin"}
                                  - set(_COMMON_EXT)))
PHASH_DRAFT_SIZE = (64, 64)  # phash reads a 32×32 picture; the JPEG draft stays above it
SEEN_MAX = 50_000  # inspections remembered per process (about 100 bytes each)

Inspection = tuple[str, int, int, str]  # (phash, width, height, format)
_seen: OrderedDict[str, Inspection] = OrderedDict()
_made_dirs: set[str] = set()  # folders this process made (or found) for its writes


@dataclass(frozen=True)
class StoredImage:
    """An archived image: in a pack, or (archives made before packs) in a file of its own."""

    root: Path
    sha256: str
    ext: str  # jpg, png … bin
    size: int
    path: Path | None = None  # its own file
    packed: image_packs.Packed | None = None  # its place in a pack

    def read(self) -> bytes:
        """The image's bytes (image_packs.PackDamaged, or OSError for a file, when they
        cannot be read whole)."""
        if self.path is not None:
            return self.path.read_bytes()
        assert self.packed is not None, "a stored image is in a file or in a pack"
        return image_packs.read(self.root, self.packed)


def find_image(root: str | Path, sha256: str) -> StoredImage | None:
    """The archived image of a hash, packed or in a file of its own; None if not archived."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    packed = _pack_index(root).get(sha256)
    if packed is not None:
        return StoredImage(Path(root), sha256, packed.ext, packed.length, packed=packed)
    path = _stored_file(root, sha256)
    if path is None:
        return None
    try:
        size = path.stat().st_size
    except FileNotFoundError:  # purged meanwhile
        return None
    return StoredImage(Path(root), sha256, path.suffix[1:], size, path=path)


def store_image(root: str | Path, body: bytes, source_url: str = "",
                content_type: str = "") -> ImageRef:
    """Keep ``body`` under its hash (once) and describe it as an ImageRef."""
    sha = sha256_hex(body)
    packed = _pack_index(root).get(sha)
    if packed is not None:
        return _ref(sha, _known(sha, packed.inspection), source_url, content_type)
    stored = _stored_file(root, sha)
    found = _inspection(root, sha, stored, body)
    if stored is None:
        ext = _PIL_EXT.get(found[3]) or _EXTENSIONS.get(_media_type(content_type).lower(), "bin")
        _pack_writer(root).add(sha, body, ext, found)
    return _ref(sha, found, source_url, content_type)


def describe_stored(root: str | Path, sha256: str, source_url: str = "",
                    content_type: str = "") -> ImageRef | None:
    """The ImageRef of an image archived earlier under ``sha256``, without its bytes at
    hand: the remembered inspection (this process, then its pack's index line, or its
    own file's attribute or ``image_meta`` line), else the stored file read and inspected
    again. None when the archive does not hold it."""
    found = _recall(sha256)
    if found is None:
        packed = _pack_index(root).get(sha256)
        if packed is not None:
            found = _known(sha256, packed.inspection)
        else:
            stored = _stored_file(root, sha256)
            if stored is None:
                return None
            found = _inspection(root, sha256, stored, None)
    return _ref(sha256, found, source_url, content_type)


_pack_indexes: dict[str, image_packs.PackIndex] = {}
_pack_writers: dict[str, image_packs.PackWriter] = {}


def _pack_index(root: str | Path) -> image_packs.PackIndex:
    """This process's view of the archive's pack index (one per archive)."""
    return _per_archive(_pack_indexes, image_packs.PackIndex, root)


def _pack_writer(root: str | Path) -> image_packs.PackWriter:
    """This process's pack in the archive (one per archive)."""
    return _per_archive(_pack_writers, image_packs.PackWriter, root)


def _per_archive(made: dict[str, Any], make: Any, root: str | Path) -> Any:
    key = os.path.abspath(root)
    found = made.get(key)
    if found is None:
        found = made[key] = make(key)
    return found


def _known(sha256: str, found: Inspection) -> Inspection:
    """An inspection read from where the image is kept, remembered as the most recent."""
    if _recall(sha256) is None:
        _remember(sha256, found)
    return found


def _inspection(root: str | Path, sha256: str, stored: Path | None,
                body: bytes | None) -> Inspection:
    """What the bytes decoded to: remembered in this process, else saved with the stored
    file, else decoded (``body``, or the stored file's bytes) and saved and remembered."""
    found = _recall(sha256)
    if found is not None:
        return found
    found = _read_saved(root, sha256, stored) if stored is not None else None
    if found is None:
        if body is None:
            assert stored is not None, "no bytes and no stored file to inspect"
            body = stored.read_bytes()
        found = _inspect(body)
        if stored is not None:
            _save(root, sha256, stored, found)
    _remember(sha256, found)
    return found


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip()


def _ref(sha256: str, found: Inspection, source_url: str, content_type: str) -> ImageRef:
    phash, width, height, _fmt = found
    return ImageRef(sha256=sha256, phash=phash, source_url=source_url,
                    content_type=_media_type(content_type), width=width, height=height)


def _recall(sha256: str) -> Inspection | None:
    """What these bytes decoded to, if this process remembers it (as the most recent)."""
    known = _seen.get(sha256)
    if known is not None:
        _seen.move_to_end(sha256)
    return known


def _remember(sha256: str, found: Inspection) -> None:
    _seen[sha256] = found
    if len(_seen) > SEEN_MAX:
        _seen.popitem(last=False)


def meta_path(root: str | Path, sha256: str) -> Path:
    return Path(_meta_place(root, sha256)[1])


def _meta_place(root: str | Path, sha256: str) -> tuple[str, str]:
    """(folder, file) of an image's ``image_meta`` line, as str paths (pathlib cost more
    on the paths every image takes)."""
    folder = os.path.join(root, META_DIR, sha256[:2])
    return folder, os.path.join(folder, f"{sha256}.txt")


def _line(found: Inspection) -> bytes:
    phash, width, height, fmt = found
    return f"{phash or '-'} {width} {height} {fmt or '-'}\n".encode("ascii", "replace")


def _parse(raw: bytes) -> Inspection | None:
    """A saved line as an Inspection, or None when it is not in the expected form."""
    if not raw.endswith(b"\n"):
        return None  # a line cut short (a meta file is written in place: _write_meta)
    try:
        parts = raw.decode("ascii").split()
    except UnicodeDecodeError:
        return None
    if len(parts) != 4 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    phash, fmt = ("" if parts[0] == "-" else parts[0]), ("" if parts[3] == "-" else parts[3])
    if phash and not (len(phash) == 16 and all(c in "0123456789abcdef" for c in phash)):
        return None
    if fmt and fmt not in _PIL_EXT and not fmt.isalnum():
        return None
    return phash, int(parts[1]), int(parts[2]), fmt


def _read_saved(root: str | Path, sha256: str, stored: Path) -> Inspection | None:
    """What the stored file decoded to: its attribute, else its ``image_meta`` line."""
    found = None
    if _HAS_XATTRS:
        try:
            found = _parse(os.getxattr(stored, XATTR))
        except OSError as exc:
            if exc.errno not in (*_NO_XATTRS, errno.ENODATA, errno.ENOENT):
                raise  # a failing disk is an error, not a photo to decode again
    return found if found is not None else _read_meta(root, sha256)


def _save(root: str | Path, sha256: str, stored: Path, found: Inspection) -> None:
    """Remember on the stored file what it decoded to (its ``image_meta`` line where the
    file system keeps no extended attributes)."""
    if _HAS_XATTRS:
        try:
            os.setxattr(stored, XATTR, _line(found))
            return
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return  # purged meanwhile: nothing left to remember it on
            if exc.errno not in _NO_XATTRS:
                raise
    _write_meta(root, sha256, found)


def _read_meta(root: str | Path, sha256: str) -> Inspection | None:
    """The inspection in the image's ``image_meta`` line, or None when missing or not in
    the expected form."""
    try:
        with open(_meta_place(root, sha256)[1], "rb") as fh:
            return _parse(fh.read(200))
    except OSError:
        return None


def _write_meta(root: str | Path, sha256: str, found: Inspection) -> None:
    """One line, written in place with one write: no temp file and rename, which cost
    more than the line. A line that a kill cut short has no newline and is not read
    (``_parse``): the image is decoded again and the line rewritten."""
    fd = _create(*_meta_place(root, sha256))
    try:
        os.write(fd, _line(found))
    finally:
        os.close(fd)


def _create(folder: str, path: str) -> int:
    """A descriptor to write ``path`` in ``folder`` from its start (made or emptied);
    the folder is made once per process, and again if it went (a purge) since."""
    _ensure_dir(folder)
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        _made_dirs.discard(folder)
        _ensure_dir(folder)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)


def _ensure_dir(folder: str) -> None:
    """Make ``folder`` once per process (a set lookup instead of a mkdir per file)."""
    if folder not in _made_dirs:
        os.makedirs(folder, exist_ok=True)
        if len(_made_dirs) >= SEEN_MAX:
            _made_dirs.clear()
        _made_dirs.add(folder)


def _stored_file(root: str | Path, sha256: str) -> Path | None:
    """The archived file of these bytes under any extension it can have (the same bytes
    once served with another content type are not stored twice); a few stats instead of
    a directory glob."""
    folder = os.path.join(root, IMAGE_DIR, sha256[:2])  # str paths: pathlib cost more
    if not os.path.isdir(folder):  # an archive made with packs has no such folders
        return None
    stem = os.path.join(folder, sha256)
    for ext in _ALL_EXT:
        if os.path.exists(candidate := f"{stem}.{ext}"):
            return Path(candidate)
    return None


def _inspect(body: bytes) -> Inspection:
    """(phash, width, height, format) or blanks if the bytes are not a decodable image."""
    from PIL import Image

    from indexer.archive.phash import phash_hex

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as img:
                fmt = img.format or ""
                width, height = img.size  # before the draft, which shrinks the picture
                drafted = fmt in ("JPEG", "MPO")  # MPO: a camera's multi-picture JPEG
                if drafted:
                    img.draft("L", PHASH_DRAFT_SIZE)
                img.load()
                return phash_hex(img if drafted else _reduced(img)), width, height, fmt
    except Exception:  # noqa: BLE001 - any decoder failure means "not an image we read"
        return "", 0, 0, ""


def _draft_factor(size: tuple[int, int]) -> int:
    """The scale a JPEG draft to PHASH_DRAFT_SIZE takes for a picture of ``size``: the
    largest of 8, 4, 2 that keeps both sides at or above it, else 1 (as Pillow's JPEG
    plugin chooses it)."""
    fit = min(size[0] // PHASH_DRAFT_SIZE[0], size[1] // PHASH_DRAFT_SIZE[1])
    return next((f for f in (8, 4, 2) if fit >= f), 1)


def _reduced(img: Any) -> Any:
    """A decoded picture made grey and reduced as a JPEG draft would reduce it."""
    grey = img.convert("L")
    factor = _draft_factor(grey.size)
    return grey.reduce(factor) if factor > 1 else grey
