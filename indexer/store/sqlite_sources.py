"""The source register and its history in the SQLite store.

The ``sources`` table keeps the columns labels and theme walls read; the full register
entry of each revision (justification, approver, approval date, sections, enabled) is
kept in ``source_history``, one row per change, never rewritten.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from indexer.model import SourceInfo, from_iso, to_iso
from indexer.store import sqlite_read, sqlite_write
from indexer.store.source_history import (
    SourceRevision,
    changed,
    info_from_dict,
    info_to_dict,
    revisions,
)
from indexer.store.sqlite_schema import execute_all

DDL = """
CREATE TABLE IF NOT EXISTS source_history (
    source_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    info_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS source_history_by_source ON source_history (source_id, recorded_at);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the table (inside the schema transaction of ``sqlite_schema.create``)."""
    execute_all(conn, DDL)


def _latest(conn: sqlite3.Connection, source_id: str) -> SourceInfo | None:
    row = conn.execute("SELECT info_json FROM source_history WHERE source_id = ? "
                       "ORDER BY recorded_at DESC, rowid DESC LIMIT 1", (source_id,)).fetchone()
    return info_from_dict(json.loads(row[0])) if row else None


def upsert(conn: sqlite3.Connection, source: SourceInfo, at: datetime | None = None) -> bool:
    """Register or update a source (inside the caller's transaction); True if the entry
    changed and a revision was recorded."""
    sqlite_write.upsert_source(conn, source)
    if not changed(_latest(conn, source.id), source):
        return False
    conn.execute("INSERT INTO source_history (source_id, recorded_at, info_json) VALUES (?, ?, ?)",
                 (source.id, to_iso(at or datetime.now(UTC)),
                  json.dumps(info_to_dict(source), sort_keys=True)))
    return True


def sources(conn: sqlite3.Connection) -> list[SourceInfo]:
    """Every source, with the full register entry where its history has one."""
    latest = {r[0]: info_from_dict(json.loads(r[1])) for r in conn.execute(
        "SELECT h.source_id, h.info_json FROM source_history h WHERE h.rowid = ("
        "SELECT rowid FROM source_history WHERE source_id = h.source_id "
        "ORDER BY recorded_at DESC, rowid DESC LIMIT 1)")}  # one query, not one per source
    return [latest.get(base.id, base) for base in sqlite_read.sources(conn)]


def history(conn: sqlite3.Connection, source_id: str) -> list[SourceRevision]:
    rows = conn.execute("SELECT recorded_at, info_json FROM source_history WHERE source_id = ? "
                        "ORDER BY recorded_at, rowid", (source_id,)).fetchall()
    return revisions([(from_iso(r[0]), info_from_dict(json.loads(r[1]))) for r in rows])
