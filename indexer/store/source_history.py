"""The source register's history: a revision each time a source's entry changes.

The rules ask for a public, justified list of sources *and* its history: when a source
was added, when its theme, justification, approver or sections changed. Backends call
``changed`` on every ``upsert_source`` and keep a ``SourceRevision`` when it says so;
re-registering an unchanged source (every crawl does) records nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from indexer.model import SourceInfo

REGISTER_FIELDS = tuple(f.name for f in dataclasses.fields(SourceInfo))


@dataclass(frozen=True)
class SourceRevision:
    """One state of a source's register entry, from ``recorded_at`` on."""

    source_id: str
    seq: int  # 1 = when the source entered the register
    recorded_at: datetime
    info: SourceInfo
    changes: tuple[str, ...]  # fields that differ from the revision before (all at seq 1)


def info_to_dict(info: SourceInfo) -> dict[str, Any]:
    data = dataclasses.asdict(info)
    data["sections"] = list(info.sections)
    return data


def info_from_dict(data: dict[str, Any]) -> SourceInfo:
    """A stored entry back to SourceInfo; unknown keys (a newer adtrace) are ignored."""
    known = {k: v for k, v in data.items() if k in REGISTER_FIELDS}
    known["sections"] = tuple(str(s) for s in known.get("sections") or ())
    known["enabled"] = bool(known.get("enabled", True))
    return SourceInfo(**known)


def changed(old: SourceInfo | None, new: SourceInfo) -> tuple[str, ...]:
    """The register fields that differ; every field for a new source; () if unchanged."""
    if old is None:
        return REGISTER_FIELDS
    return tuple(f for f in REGISTER_FIELDS if getattr(old, f) != getattr(new, f))


def revisions(states: list[tuple[datetime, SourceInfo]]) -> list[SourceRevision]:
    """Stored states (any order) → numbered revisions with what changed, oldest first."""
    out: list[SourceRevision] = []
    previous: SourceInfo | None = None
    for at, info in sorted(states, key=lambda s: s[0]):
        out.append(SourceRevision(info.id, len(out) + 1, at, info, changed(previous, info)))
        previous = info
    return out
