"""Per-user interface settings (language, blurred thumbnails) in the accounts file.

Kept in their own small table beside the users, created on first use, so no other
module's schema has to change. Values are validated here: a preference can only take
one of the values listed in PREFS.
"""

from __future__ import annotations

import sqlite3

from flask import g, session

DDL = """CREATE TABLE IF NOT EXISTS preferences (
    user TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user, key)
)"""
# name → allowed values (the first is the default)
PREFS: dict[str, tuple[str, ...]] = {
    "lang": ("", "en", "nl"),  # '' = follow the browser
    "blur": ("on", "off"),  # thumbnails blurred until clicked
}


def _check(key: str, value: str) -> None:
    if key not in PREFS:
        raise ValueError(f"unknown preference {key!r}; known: {', '.join(PREFS)}")
    if value not in PREFS[key]:
        raise ValueError(f"preference {key}={value!r}: choose one of {', '.join(PREFS[key])}")


def get(conn: sqlite3.Connection, user: str, key: str) -> str:
    _check(key, PREFS[key][0] if key in PREFS else "")
    conn.execute(DDL)
    row = conn.execute("SELECT value FROM preferences WHERE user = ? AND key = ?",
                       (user, key)).fetchone()
    return str(row[0]) if row and row[0] in PREFS[key] else PREFS[key][0]


def put(conn: sqlite3.Connection, user: str, key: str, value: str) -> None:
    _check(key, value)
    conn.execute(DDL)
    conn.execute("INSERT INTO preferences (user, key, value) VALUES (?, ?, ?) "
                 "ON CONFLICT(user, key) DO UPDATE SET value = excluded.value", (user, key, value))


def current(key: str) -> str:
    """The signed-in user's preference, cached in the session for the rest of it."""
    cached = session.get(f"pref_{key}")
    if isinstance(cached, str) and cached in PREFS[key]:
        return cached
    user = getattr(g.get("user"), "name", "")
    if not user:
        return PREFS[key][0]
    from webui.app import get_accounts

    value = get(get_accounts(), user, key)
    session[f"pref_{key}"] = value
    return value


def set_current(key: str, value: str) -> None:
    """Save for the signed-in user (kept across sessions) and in this session."""
    from webui.app import get_accounts

    put(get_accounts(), g.user.name, key, value)
    session[f"pref_{key}"] = value
