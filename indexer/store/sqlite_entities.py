"""Identifier summaries and corrected extractions in the SQLite store.

A correction ("this number was read wrongly in this ad") is a row in ``suppressions``;
it removes the (ad, kind, value) rows from ``entities`` and the value from the versions'
search summary, so facets, ``phone:`` search, identifier links and summaries stop
linking the ad. The enrichment itself (``enrichment_json``) is never touched: the
evidence stays, and lifting the correction rebuilds the links from it. Versions written
later for the same ad stay corrected (``hide_suppressed`` runs on every new version).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from indexer.model import enrichment_from_dict, from_iso, to_iso
from indexer.store.entity_summary import (
    EntitySummary,
    Suppression,
    VersionRow,
    carried,
    check_correction,
    summarise,
)
from indexer.store.sqlite_schema import execute_all

DDL = """
CREATE TABLE IF NOT EXISTS suppressions (
    id INTEGER PRIMARY KEY,
    ad_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL COLLATE NOCASE,
    version_id TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    lifted_at TEXT,
    lifted_by TEXT NOT NULL DEFAULT '',
    lift_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS suppressions_active
    ON suppressions(ad_id, kind, value) WHERE lifted_at IS NULL;
CREATE INDEX IF NOT EXISTS suppressions_value ON suppressions(kind, value);
"""

_SUMMARY_KEYS = {"phone": "phones"}  # linkable kinds the search summary lists


def create(conn: sqlite3.Connection) -> None:
    """Create the corrections table (inside the schema transaction of ``sqlite_schema.create``)."""
    execute_all(conn, DDL)


def resolve_ad(conn: sqlite3.Connection, target: str) -> tuple[int, str, str]:
    """(ad rowid, ad id, version id or '') for an ad id or a version id."""
    row = conn.execute("SELECT rowid, id FROM ads WHERE id = ?", (target,)).fetchone()
    if row is not None:
        return int(row[0]), str(row[1]), ""
    row = conn.execute("SELECT a.rowid, a.id, v.id FROM versions v JOIN ads a "
                       "ON a.rowid = v.ad_rowid WHERE v.id = ?", (target,)).fetchone()
    if row is None:
        raise KeyError(f"no ad or version {target!r} in this store")
    return int(row[0]), str(row[1]), str(row[2])


def _versions(conn: sqlite3.Connection, ad_rowid: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT rowid, enrichment_json, summary FROM versions WHERE ad_rowid = ?",
                        (ad_rowid,)).fetchall()


def _carried(enrichment_json: str, kind: str, value: str) -> bool:
    return carried(enrichment_from_dict(json.loads(enrichment_json)), kind, value)


def suppress(conn: sqlite3.Connection, target: str, kind: str, value: str, user: str,
             reason: str, at: datetime) -> bool:
    """Record the correction and unlink; False if it was already in force."""
    check_correction(kind, value, reason)
    ad_rowid, ad_id, version_id = resolve_ad(conn, target)
    rows = _versions(conn, ad_rowid)
    if not any(_carried(r["enrichment_json"], kind, value) for r in rows):
        raise ValueError(f"ad {ad_id} never carried {kind} {value!r}: nothing to correct")
    cur = conn.execute(
        "INSERT OR IGNORE INTO suppressions (ad_id, kind, value, version_id, user, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (ad_id, kind, value, version_id, user, reason, to_iso(at)))
    if cur.rowcount == 0:
        return False
    for r in rows:
        _unlink(conn, r, kind, value)
    return True


def _unlink(conn: sqlite3.Connection, row: sqlite3.Row, kind: str, value: str) -> None:
    conn.execute("DELETE FROM entities WHERE version_rowid = ? AND kind = ? AND value = ?",
                 (row["rowid"], kind, value))
    key = _SUMMARY_KEYS.get(kind)
    if key:
        summary = json.loads(row["summary"] or "{}")
        summary[key] = [v for v in summary.get(key, []) if v.casefold() != value.casefold()]
        conn.execute("UPDATE versions SET summary = ? WHERE rowid = ?",
                     (json.dumps(summary, ensure_ascii=False), row["rowid"]))


def unsuppress(conn: sqlite3.Connection, target: str, kind: str, value: str, user: str,
               reason: str, at: datetime) -> bool:
    """Lift a correction (kept in the history) and link again from the kept enrichment."""
    check_correction(kind, value, reason)
    ad_rowid, ad_id, _ = resolve_ad(conn, target)
    cur = conn.execute(
        "UPDATE suppressions SET lifted_at = ?, lifted_by = ?, lift_reason = ? "
        "WHERE ad_id = ? AND kind = ? AND value = ? AND lifted_at IS NULL",
        (to_iso(at), user, reason, ad_id, kind, value))
    if cur.rowcount == 0:
        return False
    for r in _versions(conn, ad_rowid):
        enr = enrichment_from_dict(json.loads(r["enrichment_json"]))
        found = [v for v in enr.values(kind) if v.casefold() == value.casefold()]
        conn.executemany("INSERT OR IGNORE INTO entities (kind, value, version_rowid, ad_rowid) "
                         "VALUES (?, ?, ?, ?)", [(kind, v, r["rowid"], ad_rowid) for v in found])
        key = _SUMMARY_KEYS.get(kind)
        if found and key:
            summary = json.loads(r["summary"] or "{}")
            summary[key] = [v for v in enr.values(kind)
                            if v in summary.get(key, []) or v in found]
            conn.execute("UPDATE versions SET summary = ? WHERE rowid = ?",
                         (json.dumps(summary, ensure_ascii=False), r["rowid"]))
    return True


def hide_suppressed(conn: sqlite3.Connection, ad_id: str, version_rowid: int) -> None:
    """Keep a new version of a corrected ad corrected (called after its entities are written)."""
    active = conn.execute("SELECT kind, value FROM suppressions WHERE ad_id = ? "
                          "AND lifted_at IS NULL", (ad_id,)).fetchall()
    if not active:
        return
    row = conn.execute("SELECT rowid, enrichment_json, summary FROM versions WHERE rowid = ?",
                       (version_rowid,)).fetchone()
    for kind, value in active:
        _unlink(conn, row, kind, value)


def _suppression(r: sqlite3.Row) -> Suppression:
    return Suppression(ad_id=r["ad_id"], kind=r["kind"], value=r["value"], user=r["user"],
                       reason=r["reason"], at=from_iso(r["at"]), version_id=r["version_id"])


def _theme_cond(themes: tuple[str, ...] | None, ad_col: str) -> tuple[str, list[object]]:
    if themes is None:
        return "", []
    marks = ",".join("?" * len(themes))
    return (f" AND {ad_col} IN (SELECT a.id FROM ads a JOIN sources s ON s.id = a.source_id "
            f"WHERE s.theme IN ({marks}))", list(themes))


def suppressions(conn: sqlite3.Connection, ad_id: str | None = None,
                 themes: tuple[str, ...] | None = None) -> list[Suppression]:
    """Corrections in force, newest first (one ad's, or all)."""
    sql, params = "SELECT * FROM suppressions WHERE lifted_at IS NULL", []
    if ad_id:
        sql, params = sql + " AND ad_id = ?", [ad_id]
    cond, extra = _theme_cond(themes, "ad_id")
    rows = conn.execute(sql + cond + " ORDER BY at DESC, id DESC", [*params, *extra]).fetchall()
    return [_suppression(r) for r in rows]


def entity_summary(conn: sqlite3.Connection, kind: str, value: str,
                   themes: tuple[str, ...] | None) -> EntitySummary:
    if themes is not None and not themes:
        return summarise(kind, value, [], [])
    theme_sql, theme_params = "", []
    if themes is not None:
        theme_sql = (f" AND a.source_id IN (SELECT id FROM sources WHERE theme IN "
                     f"({','.join('?' * len(themes))}))")
        theme_params = list(themes)
    carrying = ("SELECT e.version_rowid FROM entities e JOIN ads a ON a.rowid = e.ad_rowid "
                f"WHERE e.kind = ? AND e.value = ?{theme_sql}")
    params = [kind, value, *theme_params]
    rows = conn.execute(
        "SELECT v.id AS version_id, v.title, v.first_seen, v.last_seen, v.enrichment_json, "
        "a.id AS ad_id, a.source_id, a.removed_at FROM versions v JOIN ads a ON a.rowid = v.ad_rowid "
        f"WHERE v.rowid IN ({carrying})", params).fetchall()
    versions = [VersionRow(
        ad_id=r["ad_id"], version_id=r["version_id"], source_id=r["source_id"], title=r["title"],
        first_seen=from_iso(r["first_seen"]), last_seen=from_iso(r["last_seen"]),
        removed_at=from_iso(r["removed_at"]) if r["removed_at"] else None,
        enrichment=enrichment_from_dict(json.loads(r["enrichment_json"]))) for r in rows]
    captures = [(r[0], from_iso(r[1])) for r in conn.execute(
        "SELECT a.id, c.fetched_at FROM captures c JOIN versions v ON v.rowid = c.version_rowid "
        f"JOIN ads a ON a.rowid = v.ad_rowid WHERE c.version_rowid IN ({carrying})", params)]
    ads_cond = ("SELECT a.id FROM entities e JOIN ads a ON a.rowid = e.ad_rowid "
                f"WHERE e.kind = ? AND e.value = ?{theme_sql}")
    cond, extra = _theme_cond(themes, "ad_id")
    sup = conn.execute(
        f"SELECT * FROM suppressions WHERE lifted_at IS NULL AND (ad_id IN ({ads_cond}) "
        f"OR (kind = ? AND value = ?{cond})) ORDER BY at DESC, id DESC",
        [*params, kind, value, *extra]).fetchall()
    return summarise(kind, value, versions, captures, [_suppression(r) for r in sup])
