"""Retention in the SQLite store: purge old captures, legal holds, relocate WARC records.

Purge order (one transaction, the caller's): the captures in range go; then every
version left with no capture; then every ad left with no version (with its absences,
entities and search rows). Versions and ads that keep captures get their first seen moved
to what remains, so nothing derived from a purged capture survives. Ads under legal hold
are skipped whole. A dry run computes the same answer and rolls back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime

from indexer.model import from_iso, to_iso
from indexer.store.purge_types import Hold, PurgedCapture, PurgeResult, image_hashes
from indexer.store.sqlite_schema import execute_all

DDL = """
CREATE TABLE IF NOT EXISTS holds (
    ad_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    held_by TEXT NOT NULL,
    held_at TEXT NOT NULL
);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the holds table (inside the schema transaction of ``sqlite_schema.create``)."""
    execute_all(conn, DDL)


# --------------------------------------------------------------------------- holds
def set_hold(conn: sqlite3.Connection, ad_id: str, reason: str, by: str, at: datetime) -> bool:
    """Hold an ad; False if it was already held (the first hold's reason stays)."""
    cur = conn.execute("INSERT OR IGNORE INTO holds (ad_id, reason, held_by, held_at) "
                       "VALUES (?, ?, ?, ?)", (ad_id, reason, by, to_iso(at)))
    return cur.rowcount == 1


def release_hold(conn: sqlite3.Connection, ad_id: str) -> bool:
    return conn.execute("DELETE FROM holds WHERE ad_id = ?", (ad_id,)).rowcount == 1


def holds(conn: sqlite3.Connection) -> list[Hold]:
    rows = conn.execute("SELECT ad_id, reason, held_by, held_at FROM holds ORDER BY ad_id")
    return [Hold(r[0], r[1], r[2], from_iso(r[3])) for r in rows]


# --------------------------------------------------------------------------- purge
def purge(conn: sqlite3.Connection, source_id: str, before: datetime | None,
          dry_run: bool) -> PurgeResult:
    """Delete a source's captures fetched before ``before`` (all if None); see module doc."""
    conn.execute("DROP TABLE IF EXISTS temp.purge_caps")
    conn.execute("CREATE TEMP TABLE purge_caps (id TEXT PRIMARY KEY, version_rowid INTEGER, "
                 "ad_rowid INTEGER)")
    cutoff = to_iso(before) if before is not None else "9999"
    in_range = ("FROM captures c JOIN versions v ON v.rowid = c.version_rowid "
                "JOIN ads a ON a.rowid = v.ad_rowid WHERE a.source_id = ? AND c.fetched_at < ?")
    conn.execute("INSERT INTO purge_caps SELECT c.id, c.version_rowid, a.rowid " + in_range
                 + " AND a.id NOT IN (SELECT ad_id FROM holds)", (source_id, cutoff))
    held = conn.execute("SELECT count(DISTINCT a.id) " + in_range
                        + " AND a.id IN (SELECT ad_id FROM holds)", (source_id, cutoff)
                        ).fetchone()[0]
    captures = tuple(PurgedCapture(r[0], r[1], r[2], from_iso(r[3])) for r in conn.execute(
        "SELECT c.id, c.warc_file, c.warc_offset, c.fetched_at FROM captures c "
        "JOIN purge_caps p ON p.id = c.id ORDER BY c.warc_file, c.warc_offset"))
    dead_versions = [r[0] for r in conn.execute(
        "SELECT DISTINCT p.version_rowid FROM purge_caps p WHERE NOT EXISTS (SELECT 1 FROM "
        "captures c WHERE c.version_rowid = p.version_rowid AND c.id NOT IN "
        "(SELECT id FROM purge_caps))")]
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS purge_versions (rowid INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.purge_versions")
    conn.executemany("INSERT INTO temp.purge_versions VALUES (?)", [(v,) for v in dead_versions])
    dead_ads = conn.execute(
        "SELECT a.rowid, a.id FROM ads a WHERE a.rowid IN (SELECT ad_rowid FROM purge_caps) "
        "AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.ad_rowid = a.rowid AND v.rowid "
        "NOT IN (SELECT rowid FROM temp.purge_versions)) ORDER BY a.id").fetchall()
    images = _orphaned_images(conn)
    result = PurgeResult(source_id, before, captures, len(dead_versions), len(dead_ads),
                         tuple(r[1] for r in dead_ads), images, held, dry_run)
    if not dry_run:
        _delete(conn, [r[0] for r in dead_ads])
    conn.execute("DROP TABLE temp.purge_caps")
    conn.execute("DROP TABLE temp.purge_versions")
    return result


def _orphaned_images(conn: sqlite3.Connection) -> tuple[str, ...]:
    """Hashes of images on dying versions that no surviving version shows."""
    hashes: set[str] = set()
    for (fields_json,) in conn.execute("SELECT fields_json FROM versions WHERE rowid IN "
                                       "(SELECT rowid FROM temp.purge_versions)"):
        hashes.update(image_hashes(json.loads(fields_json)))
    orphaned = []
    for sha in sorted(hashes):  # a checked 64-hex hash: safe inside LIKE
        still = conn.execute("SELECT 1 FROM versions WHERE fields_json LIKE ? AND rowid NOT IN "
                             "(SELECT rowid FROM temp.purge_versions) LIMIT 1",
                             (f'%"{sha}"%',)).fetchone()
        if still is None:
            orphaned.append(sha)
    return tuple(orphaned)


# What other modules keep about a version or an ad: purged with it, because retention
# means the ad is gone, including analysts' notes and corrections about it. (Every one
# exists: sqlite_schema.create makes them all at open.)
_BY_VERSION = (("version_images", "version_rowid"),)
_BY_AD_ROWID = (("ad_assessment", "ad_rowid"), ("signal_reasons", "ad_rowid"),
                ("ad_listings", "ad_rowid"))
_BY_AD_ID = (("assessments", "ad_id"), ("suppressions", "ad_id"))


def _delete_dependents(conn: sqlite3.Connection, dead_ads: list[int]) -> None:
    for table, col in _BY_VERSION:
        conn.execute(f"DELETE FROM {table} WHERE {col} IN (SELECT rowid FROM temp.purge_versions)")
    rows = [(a,) for a in dead_ads]
    for table, col in _BY_AD_ROWID:
        conn.executemany(f"DELETE FROM {table} WHERE {col} = ?", rows)
    for table, col in _BY_AD_ID:
        conn.executemany(f"DELETE FROM {table} WHERE {col} = (SELECT id FROM ads WHERE rowid = ?)",
                         rows)


def _delete(conn: sqlite3.Connection, dead_ads: list[int]) -> None:
    """Captures, then versions with none left, then ads with none left; fix survivors."""
    touched_versions = [r[0] for r in conn.execute(
        "SELECT DISTINCT version_rowid FROM purge_caps WHERE version_rowid NOT IN "
        "(SELECT rowid FROM temp.purge_versions)")]
    touched_ads = [r[0] for r in conn.execute("SELECT DISTINCT ad_rowid FROM purge_caps")]
    conn.execute("DELETE FROM captures WHERE id IN (SELECT id FROM purge_caps)")
    conn.execute(
        "INSERT INTO versions_fts (versions_fts, rowid, title, body, attrs) SELECT 'delete', "
        "rowid, title, body, attrs FROM versions WHERE rowid IN (SELECT rowid FROM "
        "temp.purge_versions)")
    conn.execute("DELETE FROM entities WHERE version_rowid IN (SELECT rowid FROM "
                 "temp.purge_versions)")
    conn.execute("DELETE FROM versions WHERE rowid IN (SELECT rowid FROM temp.purge_versions)")
    _delete_dependents(conn, dead_ads)
    conn.executemany("DELETE FROM absences WHERE ad_rowid = ?", [(a,) for a in dead_ads])
    conn.executemany("DELETE FROM ads WHERE rowid = ?", [(a,) for a in dead_ads])
    conn.executemany(
        "UPDATE versions SET first_seen = (SELECT min(fetched_at) FROM captures WHERE "
        "version_rowid = ?) WHERE rowid = ?", [(v, v) for v in touched_versions])
    survivors = [(a,) * 4 for a in touched_ads if a not in set(dead_ads)]
    conn.executemany(
        "UPDATE ads SET first_seen = (SELECT min(first_seen) FROM versions WHERE ad_rowid = ?), "
        "versions = (SELECT count(*) FROM versions WHERE ad_rowid = ?), current_rowid = "
        "coalesce((SELECT rowid FROM versions WHERE rowid = ads.current_rowid), (SELECT rowid "
        "FROM versions WHERE ad_rowid = ? ORDER BY seq DESC LIMIT 1)) WHERE rowid = ?",
        survivors)


# --------------------------------------------------------------------------- archive moves
def relocate(conn: sqlite3.Connection, moves: Mapping[str, tuple[str, int, int]]) -> int:
    """Point captures at their records' new place after the archive rewrote WARC files.

    Keyed by capture id, so applying the same moves twice (a purge resumed after a
    crash) gives the same rows.
    """
    cur = conn.executemany(
        "UPDATE captures SET warc_file = ?, warc_offset = ?, warc_length = ? WHERE id = ?",
        [(f, off, length, cid) for cid, (f, off, length) in moves.items()])
    return cur.rowcount
