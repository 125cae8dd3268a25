"""The audit hook: one function, ``record``, called from views; rows are append-only and
chained by hashes.

The rules ask that use of the system be logged (user, date, time, action) and that the
notice be accepted and logged at each session. Every search (with its parameters and
result count), every ad or identifier view and every export passes through ``record``.

Each row stores the hash of the row before it (``prev_hash``) and its own hash: SHA-256
over a canonical JSON of (id, at, user, action, target, details, prev_hash). Triggers
refuse UPDATE and DELETE; someone who goes around them (drops a trigger, edits the file)
still cannot change or remove a row without breaking the chain, which ``verify`` finds
and names. (Whoever can rewrite the whole file can recompute every hash: keep the head
hash that ``adtrace audit verify`` prints somewhere else to anchor the chain.)
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Every action the log knows. An unknown action is a programming error (refused, not
# logged under a misspelt name); an area with new actions lists them here or calls
# ``register_actions`` when its module is imported.
ACTIONS: tuple[str, ...] = (
    "login", "login_failed", "logout", "notice_accepted", "session_expired",
    "account_locked", "account_unlocked", "account_added", "account_disabled",
    "account_enabled", "password_set", "search", "view_ad", "view_identifier",
    "view_archived", "view_dashboard", "view_report", "export", "assessment",
    "saved_search", "saved_search_delete", "saved_search_rename", "watch_list",
    "batch_search", "correction", "correction_undo", "audit_search", "audit_export",
    "view_sources", "purge", "hold_add", "hold_remove",
)
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def register_actions(*names: str) -> None:
    """Add an area's own actions (snake_case names) to the known list."""
    global ACTIONS
    for name in names:
        if not _ACTION_RE.match(name):
            raise ValueError(f"audit action {name!r}: use a short snake_case name")
    ACTIONS = tuple(dict.fromkeys((*ACTIONS, *names)))


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
COLUMNS = ("id", "at", "user", "action", "target", "details", "prev_hash", "hash")


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: str
    user: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True)
class ChainReport:
    """What ``verify`` found: ok, or the first broken row and why."""

    ok: bool
    rows: int
    legacy: int  # rows written before chaining existed (no hash), at the start only
    head: str  # hash of the last row: note it elsewhere to anchor the chain
    broken_id: int | None = None
    reason: str = ""


def row_hash(id_: int, at: str, user: str, action: str, target: str, details: str,
             prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of the row (details as the stored text)."""
    canonical = json.dumps(
        {"id": id_, "at": at, "user": user, "action": action, "target": target,
         "details": details, "prev_hash": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(
    conn: sqlite3.Connection, user: str, action: str, target: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Write one chained row. A malformed action is a programming error, not logged."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {ACTIONS}")
    at = datetime.now(UTC).strftime(TIME_FORMAT)
    text = json.dumps(details or {}, sort_keys=True, default=str)
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")  # the writer lock: no two rows claim one predecessor
    try:
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        new_id = max(int(seq[0]) if seq else 0, int(last[0]) if last else 0) + 1
        prev = last["hash"] if last else ""
        conn.execute(
            "INSERT INTO audit (id, at, user, action, target, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id, at, user, action, target, text, prev,
             row_hash(new_id, at, user, action, target, text, prev)))
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def verify(conn: sqlite3.Connection) -> ChainReport:
    """Walk the chain oldest first; the first row whose link or content is wrong is named."""
    prev, rows, legacy, chained = "", 0, 0, False
    last_id = 0
    for r in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit ORDER BY id"):
        rows += 1
        last_id = r["id"]
        if not r["hash"] and not chained:
            legacy += 1
            continue
        chained = True
        if r["prev_hash"] != prev:
            return ChainReport(False, rows, legacy, prev, r["id"],
                               f"row {r['id']}: does not follow the row before it "
                               "(a row was deleted, inserted or changed before it)")
        expected = row_hash(r["id"], r["at"], r["user"], r["action"], r["target"],
                            r["details"], r["prev_hash"])
        if r["hash"] != expected:
            return ChainReport(False, rows, legacy, prev, r["id"],
                               f"row {r['id']}: content does not match its hash (changed)")
        prev = r["hash"]
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    if seq and int(seq[0]) > last_id:
        return ChainReport(False, rows, legacy, prev, last_id + 1,
                           f"row {last_id + 1}: missing (rows {last_id + 1}-{seq[0]} "
                           "were written and are gone: the end of the log was cut)")
    # (Dropped triggers are not reported: webui.db.connect puts them back on every open.)
    return ChainReport(True, rows, legacy, prev)


def _event(r: sqlite3.Row) -> AuditEvent:
    try:
        details = json.loads(r["details"])
    except ValueError:
        details = {"unreadable": r["details"]}
    return AuditEvent(r["id"], r["at"], r["user"], r["action"], r["target"], details,
                      r["prev_hash"], r["hash"])


def _time_bound(value: str | datetime | None, what: str, end: bool = False) -> str | None:
    """A date or time from a form or a command line, as the stored text compares."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(TIME_FORMAT)
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return day.strftime("%Y-%m-%dT23:59:59.999999Z" if end else TIME_FORMAT)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{what} {text!r}: give a date (2026-03-01) or a time "
                         "(2026-03-01T10:00)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(TIME_FORMAT)


def events(
    conn: sqlite3.Connection, user: str | None = None, action: str | None = None,
    limit: int | None = 200, since: str | datetime | None = None,
    until: str | datetime | None = None, newest_first: bool = True,
) -> list[AuditEvent]:
    """Rows for one user / action / time range (admin page, CLI, exports, tests).
    A bad date raises ValueError naming it."""
    sql, params = "SELECT * FROM audit WHERE 1=1", []  # type: ignore[var-annotated]
    if user:
        sql, params = sql + " AND user = ?", [*params, user]
    if action:
        sql, params = sql + " AND action = ?", [*params, action]
    low, high = _time_bound(since, "from"), _time_bound(until, "until", end=True)
    if low:
        sql, params = sql + " AND at >= ?", [*params, low]
    if high:
        sql, params = sql + " AND at <= ?", [*params, high]
    sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
    if limit is not None:
        sql, params = sql + " LIMIT ?", [*params, limit]
    return [_event(r) for r in conn.execute(sql, params)]


def count_since(conn: sqlite3.Connection, action: str, target: str, since: datetime) -> int:
    """How often an action hit a target since a time (sign-in throttling reads this)."""
    row = conn.execute(
        "SELECT count(*) FROM audit WHERE action = ? AND target = ? AND at >= ?",
        (action, target, since.astimezone(UTC).strftime(TIME_FORMAT)),
    ).fetchone()
    return int(row[0])


def record(action: str, target: str = "", details: dict[str, Any] | None = None,
           user: str | None = None) -> None:
    """Audit from inside a request: the signed-in user unless ``user`` is given."""
    from flask import g

    from webui.app import get_accounts

    who = user if user is not None else getattr(g.get("user"), "name", "")
    append(get_accounts(), who or "-", action, target, details)
    # This request is now an audited one for ``who``: only such a page may register the
    # photos it shows as covered by its row (webui.shown_images).
    g.audited_user = who
