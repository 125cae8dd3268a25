"""Crawl runs in SQLite: one row per run, the run itself kept as JSON.

Only a few columns are queried (source, start time), so the rest lives in one JSON
column: adding a counter to CrawlRun needs no migration. The table is made with the rest
of the schema (``sqlite_schema.create``, once per database, not per call).
"""

from __future__ import annotations

import json
import sqlite3

from indexer.crawl_runs import CrawlRun, run_from_dict, run_to_dict
from indexer.model import to_iso
from indexer.store.sqlite_schema import execute_all

DDL = """
CREATE TABLE IF NOT EXISTS crawl_runs (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    started TEXT NOT NULL,
    run_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS crawl_runs_source ON crawl_runs(source_id, started);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the table (inside the schema transaction of ``sqlite_schema.create``)."""
    execute_all(conn, DDL)


def record(conn: sqlite3.Connection, run: CrawlRun) -> None:
    """Insert or replace (the id is deterministic: recording a run twice keeps one)."""
    conn.execute("INSERT OR REPLACE INTO crawl_runs (id, source_id, started, run_json) "
                 "VALUES (?, ?, ?, ?)",
                 (run.id, run.source_id, to_iso(run.started), json.dumps(run_to_dict(run))))


def runs(conn: sqlite3.Connection, source_id: str | None, limit: int) -> list[CrawlRun]:
    """Newest first."""
    if source_id is None:
        rows = conn.execute("SELECT run_json FROM crawl_runs ORDER BY started DESC, id "
                            "LIMIT ?", (limit,)).fetchall()
    else:
        rows = conn.execute("SELECT run_json FROM crawl_runs WHERE source_id = ? "
                            "ORDER BY started DESC, id LIMIT ?", (source_id, limit)).fetchall()
    return [run_from_dict(json.loads(r[0])) for r in rows]
