"""The web UI's own SQLite file (``DATA_DIR/accounts.sqlite3``): users and the audit log.

Kept apart from the ad store on purpose: accounts and the audit trail belong to the
deployment, not to the evidence, and must survive a purge or a backend switch.
The schema is created on open; audit rows are protected by triggers so that even a
careless UPDATE or DELETE through this connection fails (append-only), and each row
carries the hash of the row before it (see webui.audit), so a change made around the
triggers is still detected by ``adtrace audit verify``.

Files made by an earlier adtrace are brought up to date on open (``_migrate``): the
audit hash columns and the account lock columns are added, and the users table is
rebuilt once to allow the ``trends`` role.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.store.sqlite_wal import into_wal

USERS_DDL = """CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('analyst', 'admin', 'trends')),
    themes TEXT NOT NULL DEFAULT '',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT NOT NULL DEFAULT ''
)"""

# Put back on every open, even when the tables are known to exist (see ``connect``).
AUDIT_GUARDS = """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

SCHEMA = USERS_DDL + """;
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_user ON audit (user, at);
""" + AUDIT_GUARDS + """-- saved searches, watch lists and the alert inbox (webui.saved_db, webui.alerts)
CREATE TABLE IF NOT EXISTS saved_searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    name TEXT NOT NULL,
    args TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_run_at TEXT
);
CREATE INDEX IF NOT EXISTS saved_searches_user ON saved_searches (user, id);
CREATE TABLE IF NOT EXISTS watch_numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    phone TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_run_at TEXT,
    UNIQUE (user, phone)
);
CREATE TABLE IF NOT EXISTS alert_seen (
    kind TEXT NOT NULL CHECK (kind IN ('search', 'watch')),
    ref INTEGER NOT NULL,
    ad_id TEXT NOT NULL,
    PRIMARY KEY (kind, ref, ad_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL,
    label TEXT NOT NULL,
    ad_id TEXT NOT NULL,
    title TEXT NOT NULL,
    at TEXT NOT NULL,
    read INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbox_user ON inbox (user, read, id);
CREATE TABLE IF NOT EXISTS alert_email (
    user TEXT PRIMARY KEY,
    email TEXT NOT NULL
);
"""

FILENAME = "accounts.sqlite3"
BUSY_TIMEOUT_S = 10.0


def accounts_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / FILENAME


def connect(data_dir: str | Path, *, schema: bool = True) -> sqlite3.Connection:
    """Open (and if needed create) the accounts file; WAL so readers never block writers.

    ``schema=False`` skips creating and migrating the tables, for callers that know it
    was done (the web app does it once in ``create_app``, not on every request); the
    append-only triggers are put back on every open all the same."""
    path = accounts_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    if schema:
        # kept in the file once set; web workers starting at once on a new data folder
        # would have it refused for a moment (sqlite_wal)
        into_wal(conn, BUSY_TIMEOUT_S)
        conn.executescript(SCHEMA)
        _migrate(conn)
    else:
        conn.executescript(AUDIT_GUARDS)
    return conn


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (the writer lock taken first): committed whole or rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


_USER_COLUMNS = "name, password_hash, role, themes, disabled, created_at"


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file made by an earlier adtrace up to this schema; no row is lost."""
    audit_cols = _columns(conn, "audit")
    for col in ("prev_hash", "hash"):
        if col not in audit_cols:
            conn.execute(f"ALTER TABLE audit ADD COLUMN {col} TEXT NOT NULL DEFAULT ''")
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
    if "'trends'" not in sql:
        # A CHECK constraint cannot be altered: rebuild the table in one transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
            if "'trends'" in sql:  # another process migrated it while we waited
                conn.execute("COMMIT")
                return
            conn.execute("ALTER TABLE users RENAME TO users_old")
            conn.execute(USERS_DDL)
            conn.execute(f"INSERT INTO users ({_USER_COLUMNS}) "
                         f"SELECT {_USER_COLUMNS} FROM users_old")
            conn.execute("DROP TABLE users_old")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
