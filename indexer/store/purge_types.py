"""Plain data for retention: what a purge removed (or would remove) and legal holds.

Kept apart from indexer.model (the shared evidence model) because only the purge, the
hold commands and the store backends use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class PurgedCapture:
    """Where a purged capture's WARC record lies, so the archive can drop it too."""

    capture_id: str
    warc_file: str
    warc_offset: int
    fetched_at: datetime


@dataclass(frozen=True)
class PurgeResult:
    """One source's purge: what went (or, for a dry run, would go) from the store."""

    source_id: str
    before: datetime | None  # None: the whole source (a wipe)
    captures: tuple[PurgedCapture, ...] = ()
    versions: int = 0
    ads: int = 0
    ad_ids: tuple[str, ...] = ()  # ads deleted whole, sorted (a sample is shown on dry run)
    images: tuple[str, ...] = ()  # image hashes no longer referenced by any version
    held: int = 0  # ads with captures in range that a legal hold kept
    dry_run: bool = False


@dataclass(frozen=True)
class Hold:
    """An ad under legal hold: never purged until the hold is removed."""

    ad_id: str
    reason: str
    held_by: str
    held_at: datetime


def image_hashes(fields: dict) -> list[str]:
    """The well-formed image hashes in stored ad fields (hostile input: checked)."""
    out = []
    for img in fields.get("images") or ():
        sha = img.get("sha256") if isinstance(img, dict) else None
        if isinstance(sha, str) and _SHA256.fullmatch(sha):
            out.append(sha)
    return out
