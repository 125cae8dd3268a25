"""Reads from the SQLite store: rows back into the model's records and hits."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from indexer.model import (
    AdRecord,
    Capture,
    SourceInfo,
    VersionRecord,
    enrichment_from_dict,
    fields_from_dict,
    from_iso,
)
from indexer.search.query import Highlighted, Hit
from indexer.store.sqlite_schema import MARK_CLOSE, MARK_OPEN


def sources(conn: sqlite3.Connection) -> list[SourceInfo]:
    rows = conn.execute("SELECT id, name, theme, country, base_url, reason, approved_by "
                        "FROM sources ORDER BY id").fetchall()
    return [SourceInfo(*tuple(r)) for r in rows]


def _capture(r: sqlite3.Row) -> Capture:
    return Capture(url=r["url"], fetched_at=from_iso(r["fetched_at"]), status=r["status"],
                   sha256=r["sha256"], warc_file=r["warc_file"], warc_offset=r["warc_offset"],
                   warc_length=r["warc_length"], content_type=r["content_type"],
                   revisit_of=r["revisit_of"])


def _versions(conn: sqlite3.Connection, ad_rowid: int, ad_id: str) -> tuple[VersionRecord, ...]:
    caps: dict[int, list[Capture]] = {}
    for r in conn.execute(
        "SELECT c.* FROM captures c JOIN versions v ON v.rowid = c.version_rowid "
        "WHERE v.ad_rowid = ? ORDER BY c.fetched_at, c.id", (ad_rowid,)
    ):
        caps.setdefault(r["version_rowid"], []).append(_capture(r))
    rows = conn.execute(
        "SELECT rowid, id, seq, fingerprint, fields_json, enrichment_json, first_seen, last_seen "
        "FROM versions WHERE ad_rowid = ? ORDER BY seq", (ad_rowid,)
    ).fetchall()
    return tuple(
        VersionRecord(
            id=r["id"], ad_id=ad_id, seq=r["seq"], fingerprint=r["fingerprint"],
            fields=fields_from_dict(json.loads(r["fields_json"])),
            enrichment=enrichment_from_dict(json.loads(r["enrichment_json"])),
            first_seen=from_iso(r["first_seen"]), last_seen=from_iso(r["last_seen"]),
            captures=tuple(caps.get(r["rowid"], ())),
        )
        for r in rows
    )


def _ad(conn: sqlite3.Connection, r: sqlite3.Row) -> AdRecord:
    return AdRecord(
        id=r["id"], source_id=r["source_id"], site_ad_id=r["site_ad_id"], url=r["url"],
        first_seen=from_iso(r["first_seen"]), last_seen=from_iso(r["last_seen"]),
        removed_at=from_iso(r["removed_at"]) if r["removed_at"] else None,
        removed_reason=r["removed_reason"], versions=_versions(conn, r["rowid"], r["id"]),
    )


_AD_COLS = "rowid, id, source_id, site_ad_id, url, first_seen, last_seen, removed_at, removed_reason"


def get_ad(conn: sqlite3.Connection, ad_id: str) -> AdRecord | None:
    r = conn.execute(f"SELECT {_AD_COLS} FROM ads WHERE id = ?", (ad_id,)).fetchone()
    return _ad(conn, r) if r else None


def iter_ads(conn: sqlite3.Connection, batch: int = 500) -> Iterator[AdRecord]:
    """Every ad in rowid order, fetched in batches so a million ads never sit in memory."""
    last = 0
    while True:
        rows = conn.execute(f"SELECT {_AD_COLS} FROM ads WHERE rowid > ? ORDER BY rowid LIMIT ?",
                            (last, batch)).fetchall()
        if not rows:
            return
        for r in rows:
            yield _ad(conn, r)
        last = rows[-1]["rowid"]


def highlighted(marked: str) -> Highlighted:
    """FTS5 snippet text with private markers → plain text and (start, end) ranges."""
    out: list[str] = []
    ranges: list[tuple[int, int]] = []
    pos, start = 0, -1
    for ch in marked:
        if ch == MARK_OPEN:
            start = pos
        elif ch == MARK_CLOSE:
            if start >= 0 and pos > start:
                ranges.append((start, pos))
            start = -1
        else:
            out.append(ch)
            pos += 1
    return Highlighted("".join(out), tuple(ranges))


def hit(r: sqlite3.Row) -> Hit:
    summary = json.loads(r["summary"] or "{}")
    return Hit(
        ad_id=r["ad_id"], version_id=r["version_id"], source_id=r["source_id"], url=r["url"],
        title=r["title"], snippet=highlighted(r["snippet"] or ""),
        places=tuple(summary.get("places", ())), phones=tuple(summary.get("phones", ())),
        indicators=tuple(summary.get("indicators", ())), risk_score=float(r["risk"]),
        language=r["language"], first_seen=from_iso(r["first_seen"]),
        last_seen=from_iso(r["last_seen"]), version_first_seen=from_iso(r["version_first_seen"]),
        removed_at=from_iso(r["removed_at"]) if r["removed_at"] else None,
        versions=int(r["versions"]), score=float(r["score"] or 0.0),
        thumbnail=summary.get("thumbnail", ""),
    )


def ads_for_identifier(conn: sqlite3.Connection, kind: str, value: str) -> list[Hit]:
    """Each ad that ever carried the identifier, shown with the latest version carrying it."""
    rows = conn.execute(
        "SELECT a.id AS ad_id, v.id AS version_id, a.source_id, a.url, v.title, "
        "substr(v.body, 1, 240) AS snippet, v.summary, v.risk, v.language, a.first_seen, "
        "a.last_seen, v.first_seen AS version_first_seen, a.removed_at, a.versions AS versions, "
        "0.0 AS score FROM (SELECT max(version_rowid) AS vrow FROM entities "
        "WHERE kind = ? AND value = ? GROUP BY ad_rowid) m "
        "JOIN versions v ON v.rowid = m.vrow JOIN ads a ON a.rowid = v.ad_rowid "
        "ORDER BY v.first_seen DESC, a.id",
        (kind, value),
    ).fetchall()
    return [hit(r) for r in rows]


def stats(conn: sqlite3.Connection) -> dict[str, int]:
    one = conn.execute(
        "SELECT (SELECT count(*) FROM ads), (SELECT count(*) FROM versions), "
        "(SELECT count(*) FROM captures), (SELECT count(*) FROM ads WHERE removed_at IS NOT NULL), "
        "(SELECT count(*) FROM sources)"
    ).fetchone()
    return dict(zip(("ads", "versions", "captures", "removed", "sources"), map(int, one), strict=True))
