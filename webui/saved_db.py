"""Saved searches, watched numbers, the alert inbox and alert addresses in the app database.

Plain functions over the accounts connection (``webui.db``), so the web views, the
alert runner and the ``adtrace alerts`` command share one definition. Every function
that touches one user's rows takes the user's name and filters on it: a user can never
read, rename or delete another user's saved search by guessing its id.
A saved search keeps its URL args (the whole search state) as JSON; the ads it has
already reported are kept per saved search in ``alert_seen`` so only new ones alert.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from indexer.search.parse import normalize_phone
from webui import db

MAX_NAME = 120
MAX_ARGS = 4000
MAX_SAVED_PER_USER = 200
MAX_WATCH_PER_USER = 1000
_EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
# Args that describe a result page, not the search: a saved search re-runs all of it.
PAGE_ARGS = frozenset({"page", "per_page"})


class SavedError(ValueError):
    """Bad input for a saved search or watch entry; the message names the input."""


@dataclass(frozen=True)
class SavedSearch:
    id: int
    user: str
    name: str
    args: tuple[tuple[str, str], ...]
    created_at: str
    last_run_at: str | None


@dataclass(frozen=True)
class WatchNumber:
    id: int
    user: str
    phone: str
    label: str
    created_at: str
    last_run_at: str | None


@dataclass(frozen=True)
class InboxItem:
    id: int
    kind: str  # search | watch
    ref: int
    label: str
    ad_id: str
    title: str
    at: str
    read: bool


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise SavedError("name: give the saved search a name")
    if len(name) > MAX_NAME:
        raise SavedError(f"name: at most {MAX_NAME} characters (got {len(name)})")
    return name


def clean_args(args: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    kept = tuple((str(k), str(v)) for k, v in args if k not in PAGE_ARGS)
    if len(json.dumps(kept)) > MAX_ARGS:
        raise SavedError(f"search: too long to save (more than {MAX_ARGS} characters)")
    return kept


def _saved(row: sqlite3.Row) -> SavedSearch:
    args = tuple((str(k), str(v)) for k, v in json.loads(row["args"]))
    return SavedSearch(row["id"], row["user"], row["name"], args, row["created_at"],
                       row["last_run_at"])


def add_search(conn: sqlite3.Connection, user: str, name: str,
               args: list[tuple[str, str]]) -> SavedSearch:
    name, kept = clean_name(name), clean_args(args)
    (count,) = conn.execute("SELECT count(*) FROM saved_searches WHERE user = ?",
                            (user,)).fetchone()
    if count >= MAX_SAVED_PER_USER:
        raise SavedError(f"saved searches: at most {MAX_SAVED_PER_USER} per user")
    cur = conn.execute(
        "INSERT INTO saved_searches (user, name, args, created_at) VALUES (?, ?, ?, ?)",
        (user, name, json.dumps(kept), now()))
    found = get_search(conn, user, int(cur.lastrowid or 0))
    assert found is not None
    return found


def get_search(conn: sqlite3.Connection, user: str, search_id: int) -> SavedSearch | None:
    row = conn.execute("SELECT * FROM saved_searches WHERE id = ? AND user = ?",
                       (search_id, user)).fetchone()
    return _saved(row) if row else None


def searches(conn: sqlite3.Connection, user: str | None = None) -> list[SavedSearch]:
    """One user's saved searches (None: everyone's, for the alert runner), oldest first."""
    if user is None:
        rows = conn.execute("SELECT * FROM saved_searches ORDER BY id")
    else:
        rows = conn.execute("SELECT * FROM saved_searches WHERE user = ? ORDER BY id", (user,))
    return [_saved(r) for r in rows]


def rename_search(conn: sqlite3.Connection, user: str, search_id: int, name: str) -> bool:
    cur = conn.execute("UPDATE saved_searches SET name = ? WHERE id = ? AND user = ?",
                       (clean_name(name), search_id, user))
    return cur.rowcount == 1


def _delete_with_seen(conn: sqlite3.Connection, kind: str, user: str, ref: int) -> bool:
    """Delete one of the user's saved searches or watched numbers with what it has seen,
    in one transaction; its inbox rows stay (history)."""
    table = "saved_searches" if kind == "search" else "watch_numbers"
    with db.write(conn):
        cur = conn.execute(f"DELETE FROM {table} WHERE id = ? AND user = ?", (ref, user))
        if cur.rowcount == 1:
            conn.execute("DELETE FROM alert_seen WHERE kind = ? AND ref = ?", (kind, ref))
    return cur.rowcount == 1


def delete_search(conn: sqlite3.Connection, user: str, search_id: int) -> bool:
    """Delete the saved search with what it has seen; its inbox rows stay (history)."""
    return _delete_with_seen(conn, "search", user, search_id)


# ---------------------------------------------------------------------- watch list
def parse_phone(text: str) -> str:
    """E.164 for a number typed any way (dashes, spaces, +31, 0031, 06…), else an error."""
    phone = normalize_phone(text.strip()[:64])
    if phone is None:
        raise SavedError(f"number {text.strip()[:64]!r}: not a phone number")
    return phone


def _watch(row: sqlite3.Row) -> WatchNumber:
    return WatchNumber(row["id"], row["user"], row["phone"], row["label"], row["created_at"],
                       row["last_run_at"])


def add_watch(conn: sqlite3.Connection, user: str, number: str, label: str = "") -> WatchNumber:
    phone = parse_phone(number)
    label = " ".join(label.split())[:MAX_NAME]
    (count,) = conn.execute("SELECT count(*) FROM watch_numbers WHERE user = ?",
                            (user,)).fetchone()
    if count >= MAX_WATCH_PER_USER:
        raise SavedError(f"watch list: at most {MAX_WATCH_PER_USER} numbers per user")
    try:
        cur = conn.execute(
            "INSERT INTO watch_numbers (user, phone, label, created_at) VALUES (?, ?, ?, ?)",
            (user, phone, label, now()))
    except sqlite3.IntegrityError as exc:
        raise SavedError(f"number {number.strip()[:64]!r}: {phone} is already on your watch "
                         "list") from exc
    row = conn.execute("SELECT * FROM watch_numbers WHERE id = ?", (cur.lastrowid,)).fetchone()
    return _watch(row)


def watches(conn: sqlite3.Connection, user: str | None = None) -> list[WatchNumber]:
    if user is None:
        rows = conn.execute("SELECT * FROM watch_numbers ORDER BY id")
    else:
        rows = conn.execute("SELECT * FROM watch_numbers WHERE user = ? ORDER BY id", (user,))
    return [_watch(r) for r in rows]


def delete_watch(conn: sqlite3.Connection, user: str, watch_id: int) -> bool:
    """Stop watching a number, with what it has seen; its inbox rows stay (history)."""
    return _delete_with_seen(conn, "watch", user, watch_id)


# ---------------------------------------------------------------------- seen / inbox
def seen(conn: sqlite3.Connection, kind: str, ref: int) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT ad_id FROM alert_seen WHERE kind = ? AND ref = ?", (kind, ref))}


def record_matches(conn: sqlite3.Connection, user: str, kind: str, ref: int, label: str,
                   matches: list[tuple[str, str]], notify: bool) -> list[tuple[str, str]]:
    """Mark (ad_id, title) matches seen; the new ones go to the inbox when ``notify``.

    One transaction: a crash leaves either nothing or both the seen marks and the inbox
    rows, so no alert is lost and none is repeated. Returns the new matches.
    """
    table = "saved_searches" if kind == "search" else "watch_numbers"
    with db.write(conn):
        known = seen(conn, kind, ref)
        new = [(ad_id, title) for ad_id, title in dict(matches).items() if ad_id not in known]
        at = now()
        conn.executemany("INSERT OR IGNORE INTO alert_seen (kind, ref, ad_id) VALUES (?, ?, ?)",
                         [(kind, ref, ad_id) for ad_id, _ in new])
        if notify:
            conn.executemany(
                "INSERT INTO inbox (user, kind, ref, label, ad_id, title, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(user, kind, ref, label, ad_id, title[:300], at) for ad_id, title in new])
        conn.execute(f"UPDATE {table} SET last_run_at = ? WHERE id = ?", (at, ref))
    return new if notify else []


def inbox(conn: sqlite3.Connection, user: str, unread_only: bool = False,
          limit: int = 500) -> list[InboxItem]:
    sql = "SELECT * FROM inbox WHERE user = ?" + (" AND read = 0" if unread_only else "")
    rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", (user, limit))
    return [InboxItem(r["id"], r["kind"], r["ref"], r["label"], r["ad_id"], r["title"], r["at"],
                      bool(r["read"])) for r in rows]


def unread_count(conn: sqlite3.Connection, user: str) -> int:
    return int(conn.execute("SELECT count(*) FROM inbox WHERE user = ? AND read = 0",
                            (user,)).fetchone()[0])


def mark_read(conn: sqlite3.Connection, user: str, item_ids: list[int] | None = None) -> int:
    """Mark some (or, with None, all) of a user's inbox rows read; how many changed."""
    if item_ids is None:
        cur = conn.execute("UPDATE inbox SET read = 1 WHERE user = ? AND read = 0", (user,))
    else:
        marks = ",".join("?" * len(item_ids)) or "NULL"
        cur = conn.execute(f"UPDATE inbox SET read = 1 WHERE user = ? AND id IN ({marks})",
                           (user, *item_ids))
    return cur.rowcount


def set_email(conn: sqlite3.Connection, user: str, email: str) -> str:
    """The address alerts go to; empty switches e-mail off for this user."""
    email = email.strip()
    if not email:
        conn.execute("DELETE FROM alert_email WHERE user = ?", (user,))
        return ""
    if not _EMAIL_RE.match(email):
        raise SavedError(f"e-mail {email[:80]!r}: not an e-mail address")
    conn.execute("INSERT INTO alert_email (user, email) VALUES (?, ?) "
                 "ON CONFLICT (user) DO UPDATE SET email = excluded.email", (user, email))
    return email


def email_of(conn: sqlite3.Connection, user: str) -> str:
    row = conn.execute("SELECT email FROM alert_email WHERE user = ?", (user,)).fetchone()
    return str(row[0]) if row else ""
