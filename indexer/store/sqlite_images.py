"""Ads linked by the same photo (archived image SHA-256) in the SQLite store.

Image hashes live inside each version's ``fields_json``; rather than scanning that JSON
on every ad page, ``version_images`` indexes them. It is brought up to date on read
(every version with a rowid above the high-water mark in ``meta``), so the write path
needs no change and a store written by an older adtrace catches up by itself.
"""

from __future__ import annotations

import json
import sqlite3

from indexer.search.query import Hit
from indexer.store.sqlite_read import hit

DDL = """
CREATE TABLE IF NOT EXISTS version_images (
    sha256 TEXT NOT NULL,
    version_rowid INTEGER NOT NULL,
    ad_rowid INTEGER NOT NULL,
    PRIMARY KEY (sha256, version_rowid)
) WITHOUT ROWID;
"""
MARK = "images_indexed_to"


def behind(conn: sqlite3.Connection) -> bool:
    """Whether versions exist that the image index has not seen (a cheap read)."""
    have = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'version_images'").fetchone()
    if not have:
        return True
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (MARK,)).fetchone()
    done = int(row[0]) if row else 0
    top = conn.execute("SELECT max(rowid) FROM versions").fetchone()[0] or 0
    return int(top) > done


def catch_up(conn: sqlite3.Connection) -> None:
    """Index the images of versions written since the last catch-up (in a write tx)."""
    conn.execute(DDL)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (MARK,)).fetchone()
    done = int(row[0]) if row else 0
    rows = conn.execute("SELECT rowid, ad_rowid, fields_json FROM versions WHERE rowid > ? "
                        "ORDER BY rowid", (done,)).fetchall()
    pairs = []
    for r in rows:
        images = json.loads(r["fields_json"]).get("images", [])
        pairs += [(i["sha256"], r["rowid"], r["ad_rowid"]) for i in images if i.get("sha256")]
    conn.executemany("INSERT OR IGNORE INTO version_images VALUES (?, ?, ?)", pairs)
    if rows:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = excluded.value", (MARK, str(rows[-1]["rowid"])))


def ads_for_image(conn: sqlite3.Connection, sha256: str) -> list[Hit]:
    """Each ad that ever showed the image, with the latest version showing it, newest first."""
    rows = conn.execute(
        "SELECT a.id AS ad_id, v.id AS version_id, a.source_id, a.url, v.title, "
        "substr(v.body, 1, 240) AS snippet, v.summary, v.risk, v.language, a.first_seen, "
        "a.last_seen, v.first_seen AS version_first_seen, a.removed_at, a.versions AS versions, "
        "0.0 AS score FROM (SELECT max(version_rowid) AS vrow FROM version_images "
        "WHERE sha256 = ? GROUP BY ad_rowid) m "
        "JOIN versions v ON v.rowid = m.vrow JOIN ads a ON a.rowid = v.ad_rowid "
        "ORDER BY v.first_seen DESC, a.id", (sha256.lower(),)).fetchall()
    return [hit(r) for r in rows]
