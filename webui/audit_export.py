"""The audit log as CSV or JSON lines, for admins and auditors (UI and command line).

Every column is written, the hashes too, so an exported log can be checked against the
chain later. Text that a spreadsheet would read as a formula is neutralised in CSV
(a user name or a search can be typed by anyone).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO

from webui.audit import COLUMNS, AuditEvent

FORMATS = ("csv", "jsonl")


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _as_dict(e: AuditEvent) -> dict[str, object]:
    return {"id": e.id, "at": e.at, "user": e.user, "action": e.action, "target": e.target,
            "details": e.details, "prev_hash": e.prev_hash, "hash": e.hash}


def write(events: Iterable[AuditEvent], fmt: str, out: IO[str]) -> int:
    """Write the events in the format; the number written. Unknown format: ValueError."""
    if fmt not in FORMATS:
        raise ValueError(f"export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for e in events:
            row = _as_dict(e)
            writer.writerow([str(row["id"])] + [_cell(row[c]) for c in COLUMNS[1:]])
            n += 1
    else:
        for e in events:
            out.write(json.dumps(_as_dict(e), sort_keys=True, ensure_ascii=False) + "\n")
            n += 1
    return n
