"""Which register sections listed each ad (SQLite): ``ad_listings``.

A removal by absence asks whether the listings that would show an ad were read. An ad
that a section since taken off the register listed is absent from every later run's
listings without being gone; knowing its sections, a crawl does not count that absence
(crawler.revisits.listed_outside). One row per (ad, section), only ever added to: an ad
a site moves to another section belongs to both. A section is an opaque string here
(the crawler's ``section_key``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping

from indexer.model import LiveAd, ad_id_for, from_iso

DDL = """
CREATE TABLE IF NOT EXISTS ad_listings (
    ad_rowid INTEGER NOT NULL,
    section TEXT NOT NULL,
    PRIMARY KEY (ad_rowid, section)
) WITHOUT ROWID;
"""


def create(conn: sqlite3.Connection) -> None:
    conn.execute(DDL)


def note(conn: sqlite3.Connection, source_id: str, listed: Mapping[str, Iterable[str]]) -> int:
    """Add the sections to each known ad; how many ads gained one (unknown ads: none)."""
    gained = 0
    for site_ad_id, sections in listed.items():
        row = conn.execute("SELECT rowid FROM ads WHERE id = ?",
                           (ad_id_for(source_id, site_ad_id),)).fetchone()
        if row is None:
            continue
        before = conn.total_changes
        conn.executemany("INSERT OR IGNORE INTO ad_listings (ad_rowid, section) VALUES (?, ?)",
                         [(row[0], s) for s in sorted(set(sections))])
        gained += conn.total_changes > before
    return gained


def live_ads(conn: sqlite3.Connection, source_id: str) -> list[LiveAd]:
    """The source's ads not marked removed, each with its sections (sorted)."""
    rows = conn.execute(
        "SELECT a.site_ad_id, a.url, a.last_seen, (SELECT json_group_array(l.section) "
        "FROM ad_listings l WHERE l.ad_rowid = a.rowid) FROM ads a "
        "WHERE a.source_id = ? AND a.removed_at IS NULL ORDER BY a.site_ad_id",
        (source_id,)).fetchall()
    return [LiveAd(r[0], r[1], from_iso(r[2]), tuple(sorted(json.loads(r[3])))) for r in rows]
