"""Ads linked by the same photo (archived image SHA-256) in the SQLite store.

Image hashes live inside each version's ``fields_json``; rather than scanning that JSON
on every ad page, ``version_images`` indexes them. A version's rows are written with the
version (``index_version``, called by the write path) and deleted with it by a purge;
a store made before the index existed is filled once when its schema is upgraded.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from indexer.search.query import Hit
from indexer.store.sqlite_read import hit
from indexer.store.sqlite_schema import execute_all

DDL = """
CREATE TABLE IF NOT EXISTS version_images (
    sha256 TEXT NOT NULL,
    version_rowid INTEGER NOT NULL,
    ad_rowid INTEGER NOT NULL,
    PRIMARY KEY (sha256, version_rowid)
) WITHOUT ROWID;
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the index (inside the schema transaction of ``sqlite_schema.create``) and
    fill it from the versions an older store already holds (none in a new store)."""
    execute_all(conn, DDL)
    rows = conn.execute("SELECT rowid, ad_rowid, fields_json FROM versions WHERE rowid NOT IN "
                        "(SELECT version_rowid FROM version_images)").fetchall()
    for r in rows:
        images = json.loads(r["fields_json"]).get("images", [])
        index_version(conn, r["rowid"], r["ad_rowid"], (i["sha256"] for i in images))


def index_version(conn: sqlite3.Connection, version_rowid: int, ad_rowid: int,
                  hashes: Iterable[str]) -> None:
    """Index one version's images (in the caller's write transaction)."""
    conn.executemany("INSERT OR IGNORE INTO version_images VALUES (?, ?, ?)",
                     [(h.lower(), version_rowid, ad_rowid) for h in hashes if h])


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


def ad_ids_for_image(conn: sqlite3.Connection, sha256: str, sources: frozenset[str] | None,
                     limit: int) -> list[str]:
    """Ids of up to ``limit`` ads that showed the image, of ``sources`` only (None: any)."""
    sql = ("SELECT DISTINCT a.id FROM version_images vi JOIN ads a ON a.rowid = vi.ad_rowid "
           "WHERE vi.sha256 = ?")
    params: list[object] = [sha256.lower()]
    if sources is not None:
        if not sources:
            return []
        sql += f" AND a.source_id IN ({', '.join('?' * len(sources))})"
        params += sorted(sources)
    return [r[0] for r in conn.execute(sql + " LIMIT ?", (*params, limit)).fetchall()]
