"""Putting an SQLite file into WAL mode while other processes open it too.

SQLite answers ``PRAGMA journal_mode=WAL`` with "database is locked" at once, without
waiting out the connection's busy timeout, when another connection holds the file's
write lock in the old journal mode: it cannot wait for a lock whose holder may be
waiting for its own. That happens on a new file that several processes open at the same
moment (two crawl processes writing into a fresh store, the ingest workers, web workers
starting on a fresh data folder): one of them turns the file into WAL, and another,
asking the same meanwhile, was refused. Four processes opening one new store at once
failed that way in a third of the tries on these machines, and a refused crawl read no
known ads. Here the change is asked again, after a pause that grows, until the file is
in WAL mode or ``wait_s`` is over (then the refusal is raised as it came); one ask may
itself wait out the connection's busy timeout, when another connection reads the file
in the old mode. A file in WAL mode already answers at once: WAL stays set in the file.
"""

from __future__ import annotations

import sqlite3
import time

FIRST_PAUSE_S = 0.001
LONGEST_PAUSE_S = 0.05


def into_wal(conn: sqlite3.Connection, wait_s: float) -> str:
    """Set WAL mode on ``conn``'s file, asking again while another connection's lock
    refuses it (no new ask after ``wait_s``); return the journal mode the file is in (SQLite
    keeps another where WAL cannot be: an in-memory database)."""
    deadline = time.monotonic() + wait_s
    pause = FIRST_PAUSE_S
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() + pause > deadline:
                raise
        _pause(pause)
        pause = min(pause * 2, LONGEST_PAUSE_S)


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused for a lock another connection holds (SQLITE_BUSY and its
    extended codes), not for anything waiting would not mend."""
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _pause(seconds: float) -> None:
    """The wait between two asks (a seam for the tests, which free the lock here)."""
    time.sleep(seconds)
