"""Assessments in the SQLite store: a history table and the current label per ad.

``assessments`` keeps every judgement (append-only); ``ad_assessment`` holds the newest
label of each ad, keyed by the ad's rowid, so the ``assessment`` facet and filter are
a primary-key lookup per matching ad rather than a scan of the history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime

from indexer.assessment import Assessment, check
from indexer.model import from_iso, to_iso
from indexer.store.sqlite_schema import execute_all

DDL = """
CREATE TABLE IF NOT EXISTS assessments (
    id INTEGER PRIMARY KEY,
    ad_id TEXT NOT NULL,
    user TEXT NOT NULL,
    label TEXT NOT NULL,
    note TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assessments_ad ON assessments(ad_id, id);
CREATE TABLE IF NOT EXISTS ad_assessment (
    ad_rowid INTEGER PRIMARY KEY,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ad_assessment_label ON ad_assessment(label);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the tables (inside the schema transaction of ``sqlite_schema.create``)."""
    execute_all(conn, DDL)


def set_assessment(conn: sqlite3.Connection, ad_id: str, user: str, label: str, note: str,
                   at: datetime) -> Assessment:
    """Append one judgement and make it the ad's current label (inside a transaction)."""
    note = check(ad_id, user, label, note)
    row = conn.execute("SELECT rowid FROM ads WHERE id = ?", (ad_id,)).fetchone()
    if row is None:
        raise KeyError(f"no ad {ad_id!r} to assess")
    conn.execute("INSERT INTO assessments (ad_id, user, label, note, at) VALUES (?, ?, ?, ?, ?)",
                 (ad_id, user, label, note, to_iso(at)))
    conn.execute("INSERT INTO ad_assessment (ad_rowid, label) VALUES (?, ?) "
                 "ON CONFLICT(ad_rowid) DO UPDATE SET label = excluded.label", (row[0], label))
    return Assessment(ad_id, user, label, note, from_iso(to_iso(at)))


def _row(r: sqlite3.Row) -> Assessment:
    return Assessment(r["ad_id"], r["user"], r["label"], r["note"], from_iso(r["at"]))


def assessments(conn: sqlite3.Connection, ad_id: str) -> list[Assessment]:
    """Every judgement of one ad, newest first."""
    rows = conn.execute("SELECT * FROM assessments WHERE ad_id = ? ORDER BY id DESC", (ad_id,))
    return [_row(r) for r in rows]


def iter_assessments(conn: sqlite3.Connection) -> Iterator[Assessment]:
    """Every judgement ever made, oldest first (the labelled-data export)."""
    for r in conn.execute("SELECT * FROM assessments ORDER BY id"):
        yield _row(r)
