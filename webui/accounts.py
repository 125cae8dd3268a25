"""User accounts: name, scrypt password hash, role, themes granted, disabled.

Themes are the data compartments of the rules (one per theme, authorisation per theme):
an analyst sees only ads from sources of the themes granted; ``*`` grants all themes.
Admins see every theme. The ``trends`` role sees aggregates only (the dashboard): no
ad, no person, no identifier, no export — for policy staff who need the picture, not
the people.

Repeated failed sign-ins lock an account for a while (``register_failure``); an admin
can lift the lock early (``unlock``). Both are audited by the caller.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("analyst", "admin", "trends")
ALL_THEMES = "*"
MIN_PASSWORD = 8
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# Checked against when the name is unknown, so a failed login takes the same time
# whether or not the account exists (no user enumeration by timing).
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    """Bad account input; the message names the input."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    themes: tuple[str, ...]
    disabled: bool
    created_at: str
    locked_until: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_ads(self) -> bool:
        """Analysts and admins see ads, people and identifiers; trends users do not."""
        return self.role != "trends"

    def locked(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return bool(self.locked_until) and self.locked_until > _stamp(now)

    @property
    def visible_themes(self) -> tuple[str, ...] | None:
        """Themes for Query.themes: None means all (admins and ``*`` grants)."""
        if self.is_admin or ALL_THEMES in self.themes:
            return None
        return self.themes

    def may_see(self, theme: str) -> bool:
        visible = self.visible_themes
        return visible is None or theme in visible


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row_to_user(row: sqlite3.Row) -> User:
    themes = tuple(t for t in row["themes"].split(",") if t)
    return User(row["name"], row["role"], themes, bool(row["disabled"]), row["created_at"],
                row["locked_until"])


def parse_themes(text: str) -> tuple[str, ...]:
    themes = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    for theme in themes:
        if theme != ALL_THEMES and not re.fullmatch(r"[a-z0-9_-]{1,40}", theme):
            raise AccountError(f"theme {theme!r}: use lower-case letters, digits, - and _")
    return themes


def add_user(
    conn: sqlite3.Connection, name: str, password: str, role: str = "analyst",
    themes: tuple[str, ...] = (ALL_THEMES,),
) -> User:
    """Create a user; refuses weak input rather than storing something half-valid."""
    if not _NAME_RE.match(name):
        raise AccountError(f"user name {name!r}: 1-64 letters, digits, or . _ @ -")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password for {name!r}: at least {MIN_PASSWORD} characters")
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        conn.execute(
            "INSERT INTO users (name, password_hash, role, themes, disabled, created_at)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            (name, generate_password_hash(password, method="scrypt"), role, ",".join(themes),
             created),
        )
    except sqlite3.IntegrityError as exc:
        raise AccountError(f"user {name!r} already exists") from exc
    user = get_user(conn, name)
    assert user is not None
    return user


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _row_to_user(row) if row else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [_row_to_user(r) for r in conn.execute("SELECT * FROM users ORDER BY name")]


def set_disabled(conn: sqlite3.Connection, name: str, disabled: bool) -> None:
    cur = conn.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
    if cur.rowcount == 0:
        raise AccountError(f"user {name!r} does not exist")


def set_password(conn: sqlite3.Connection, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password for {name!r}: at least {MIN_PASSWORD} characters")
    cur = conn.execute(
        "UPDATE users SET password_hash = ? WHERE name = ?",
        (generate_password_hash(password, method="scrypt"), name),
    )
    if cur.rowcount == 0:
        raise AccountError(f"user {name!r} does not exist")


def authenticate(conn: sqlite3.Connection, name: str, password: str) -> User | None:
    """The user if name and password match and the account is enabled and not locked,
    else None. A success resets the run of failures."""
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    ok = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password)
    if not row or not ok or row["disabled"]:
        return None
    user = _row_to_user(row)
    if user.locked():
        return None
    conn.execute("UPDATE users SET failures = 0 WHERE name = ?", (name,))
    return user


def register_failure(conn: sqlite3.Connection, name: str, limit: int,
                     minutes: int) -> bool:
    """Count a failed sign-in for an existing account; True if it is now locked (the
    run of failures reached ``limit``): locked for ``minutes``, the count starts over."""
    cur = conn.execute("UPDATE users SET failures = failures + 1 WHERE name = ? "
                       "RETURNING failures", (name,)).fetchone()
    if cur is None or int(cur[0]) < limit:
        return False
    until = _stamp(datetime.now(UTC) + timedelta(minutes=minutes))
    conn.execute("UPDATE users SET failures = 0, locked_until = ? WHERE name = ?", (until, name))
    return True


def unlock(conn: sqlite3.Connection, name: str) -> None:
    """Lift a lock early (an admin's decision); the run of failures starts over."""
    cur = conn.execute("UPDATE users SET failures = 0, locked_until = '' WHERE name = ?",
                       (name,))
    if cur.rowcount == 0:
        raise AccountError(f"user {name!r} does not exist")
