"""An analyst's judgement of an ad: "does it show signals of exploitation?".

Assessments are kept as history (every judgement, by whom and when, with its note); the
newest one counts for the ad's search facet. They are labelled data for later model
training, so the label set is closed and every record says who labelled what and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from indexer.model import from_iso, to_iso

# label → what the analyst said
LABELS: dict[str, str] = {
    "yes": "Signals of exploitation",
    "no": "No signals",
    "unsure": "Unsure",
}
MAX_NOTE = 4000
MAX_USER = 64


@dataclass(frozen=True)
class Assessment:
    ad_id: str
    user: str
    label: str  # one of LABELS
    note: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        return {"ad_id": self.ad_id, "user": self.user, "label": self.label,
                "note": self.note, "at": to_iso(self.at)}

    @classmethod
    def from_json(cls, d: dict[str, str]) -> Assessment:
        return cls(d["ad_id"], d["user"], d["label"], d.get("note", ""), from_iso(d["at"]))


def check(ad_id: str, user: str, label: str, note: str) -> str:
    """Validate an assessment before it is stored; returns the note, trimmed.

    Raises ValueError naming the bad input, so nothing half-valid is ever written.
    """
    if label not in LABELS:
        raise ValueError(f"assessment label {label!r} for ad {ad_id!r}: "
                         f"choose one of {', '.join(LABELS)}")
    if not user or len(user) > MAX_USER:
        raise ValueError(f"assessment of ad {ad_id!r}: user {user[:80]!r} is empty or too long")
    if not ad_id or len(ad_id) > 64:
        raise ValueError(f"assessment: ad id {ad_id[:80]!r} is empty or too long")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValueError(f"assessment note for ad {ad_id!r} is {len(note)} characters; "
                         f"at most {MAX_NOTE}")
    return note
