"""What changed between two versions of an ad: pure functions, no Flask, no I/O.

Text is compared word by word (whitespace kept with the word before it), so an analyst
sees "new in town" become "only a few days" rather than two whole paragraphs; fields are
compared one by one; images by content hash (added, removed, kept). The result is plain
data a template loops over; ad text stays text and is escaped by Jinja.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from indexer.model import AdFields, ImageRef

_TOKEN = re.compile(r"\S+\s*|\s+")
MAX_TOKENS = 20_000  # hostile pages can be huge: beyond this, compare whole lines


@dataclass(frozen=True)
class Piece:
    op: str  # same | added | removed
    text: str


@dataclass(frozen=True)
class FieldDiff:
    name: str
    old: str
    new: str
    changed: bool
    pieces: tuple[Piece, ...]  # word-level diff of old → new


@dataclass(frozen=True)
class ImageDiff:
    added: tuple[ImageRef, ...]
    removed: tuple[ImageRef, ...]
    kept: tuple[ImageRef, ...]


@dataclass(frozen=True)
class VersionDiff:
    fields: tuple[FieldDiff, ...]
    images: ImageDiff

    @property
    def changed(self) -> list[str]:
        names = [f.name for f in self.fields if f.changed]
        if self.images.added or self.images.removed:
            names.append("images")
        return names


def tokens(text: str) -> list[str]:
    """Words with their trailing whitespace; joining them gives the text back exactly."""
    found = _TOKEN.findall(text)
    if len(found) > MAX_TOKENS:
        return text.splitlines(keepends=True)
    return found


def word_diff(old: str, new: str) -> tuple[Piece, ...]:
    """Old → new as pieces; same + removed give old back, same + added give new back."""
    a, b = tokens(old), tokens(new)
    out: list[Piece] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _add(out, "same", "".join(a[i1:i2]))
            continue
        if op in ("delete", "replace"):
            _add(out, "removed", "".join(a[i1:i2]))
        if op in ("insert", "replace"):
            _add(out, "added", "".join(b[j1:j2]))
    return tuple(out)


def _add(out: list[Piece], op: str, text: str) -> None:
    if not text:
        return
    if out and out[-1].op == op:
        out[-1] = Piece(op, out[-1].text + text)
    else:
        out.append(Piece(op, text))


def field_diff(name: str, old: str, new: str) -> FieldDiff:
    return FieldDiff(name, old, new, old != new, word_diff(old, new))


def image_diff(old: tuple[ImageRef, ...], new: tuple[ImageRef, ...]) -> ImageDiff:
    """By content hash: a re-uploaded identical photo is 'kept', a new file is 'added'."""
    old_hashes = {i.sha256 for i in old}
    new_hashes = {i.sha256 for i in new}
    return ImageDiff(
        added=tuple(i for i in _unique(new) if i.sha256 not in old_hashes),
        removed=tuple(i for i in _unique(old) if i.sha256 not in new_hashes),
        kept=tuple(i for i in _unique(new) if i.sha256 in old_hashes),
    )


def _unique(images: tuple[ImageRef, ...]) -> list[ImageRef]:
    return list({i.sha256: i for i in images}.values())


def diff_versions(old: AdFields, new: AdFields) -> VersionDiff:
    """Title, text, then every attribute either version has (sorted), then images."""
    rows = [field_diff("title", old.title, new.title), field_diff("text", old.text, new.text)]
    for key in sorted(set(old.attributes) | set(new.attributes)):
        rows.append(field_diff(key, old.attributes.get(key, ""), new.attributes.get(key, "")))
    return VersionDiff(tuple(rows), image_diff(old.images, new.images))
