"""The audit hook: one function, ``record``, called from views; rows are append-only.

The rules ask that use of the system be logged (user, date, time, action) and that the
notice be accepted and logged at each session. Every search (with its parameters and
result count), every ad or identifier view and every export passes through ``record``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACTIONS = (
    "login", "login_failed", "logout", "notice_accepted",
    "search", "view_ad", "view_identifier", "export",
)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: str
    user: str
    action: str
    target: str
    details: dict[str, Any]


def append(
    conn: sqlite3.Connection, user: str, action: str, target: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Write one row. Unknown actions are a programming error, not silently logged."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {ACTIONS}")
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn.execute(
        "INSERT INTO audit (at, user, action, target, details) VALUES (?, ?, ?, ?, ?)",
        (at, user, action, target, json.dumps(details or {}, sort_keys=True, default=str)),
    )


def events(
    conn: sqlite3.Connection, user: str | None = None, action: str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """Newest first, optionally for one user or action (admin page, tests, reports)."""
    sql, params = "SELECT * FROM audit WHERE 1=1", []
    if user:
        sql, params = sql + " AND user = ?", [*params, user]
    if action:
        sql, params = sql + " AND action = ?", [*params, action]
    rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [
        AuditEvent(r["id"], r["at"], r["user"], r["action"], r["target"], json.loads(r["details"]))
        for r in rows
    ]


def count_since(conn: sqlite3.Connection, action: str, target: str, since: datetime) -> int:
    """How often an action hit a target since a time (sign-in throttling reads this)."""
    row = conn.execute(
        "SELECT count(*) FROM audit WHERE action = ? AND target = ? AND at >= ?",
        (action, target, since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    ).fetchone()
    return int(row[0])


def record(action: str, target: str = "", details: dict[str, Any] | None = None,
           user: str | None = None) -> None:
    """Audit from inside a request: the signed-in user unless ``user`` is given."""
    from flask import g

    from webui.app import get_accounts

    who = user if user is not None else getattr(g.get("user"), "name", "")
    append(get_accounts(), who or "-", action, target, details)
