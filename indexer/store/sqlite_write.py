"""Writes to the SQLite store: one observation in, rows out, inside the caller's transaction.

The rules (see indexer.store.base): a known capture id changes nothing; an equal
fingerprint only extends the current version's last seen; a new fingerprint closes the
current version (valid_to) and opens the next; a removed ad seen again after its removal
is live again and its absence period is closed, never erased (a capture older than the
removal joins the history and leaves the ad removed); a removal older than the ad's last
sighting changes nothing. The ad's url and last seen are its latest sighting's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from indexer.model import (
    AdFields,
    Capture,
    Enrichment,
    Observation,
    SourceInfo,
    WriteResult,
    ad_id_for,
    short_hash,
    to_iso,
)
from indexer.store import row_json, sqlite_images
from indexer.store.sqlite_entities import hide_suppressed
from indexer.store.sqlite_schema import search_copy


def version_id_for(ad_id: str, seq: int, fingerprint: str) -> str:
    """Deterministic: the same ad, position and content give the same id in any backend."""
    return short_hash(ad_id, str(seq), fingerprint, length=24)


def upsert_source(conn: sqlite3.Connection, s: SourceInfo) -> None:
    conn.execute(
        "INSERT INTO sources (id, name, theme, country, base_url, reason, approved_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
        "theme=excluded.theme, country=excluded.country, base_url=excluded.base_url, "
        "reason=excluded.reason, approved_by=excluded.approved_by",
        (s.id, s.name, s.theme, s.country, s.base_url, s.reason, s.approved_by),
    )


# (versions rowid, title, body, attrs): one version's row in versions_fts
TextRow = tuple[int, str, str, str]


@dataclass
class Batch:
    """What the writes of one transaction share (``begin`` ... ``write`` ... ``finish``).

    ``texts``: new versions' search texts, indexed by ``finish`` after the last write.
    Why: FTS5 flushes its pending index to a new segment at every statement savepoint,
    and every statement here that fires a trigger opens one -- indexed one by one, each
    version's text became a segment of its own, and writing and merging those cost about
    a sixth of a batched ingest's CPU. ``corrections``: whether any analyst correction is
    active; when none is (asked once per batch: writes add none), new versions skip
    looking for theirs.
    """

    texts: list[TextRow] = field(default_factory=list)
    corrections: bool = True


def begin(conn: sqlite3.Connection) -> Batch:
    """A batch for the writes of the caller's transaction."""
    active = conn.execute("SELECT EXISTS (SELECT 1 FROM suppressions WHERE lifted_at IS NULL)")
    return Batch(corrections=bool(active.fetchone()[0]))


def finish(conn: sqlite3.Connection, batch: Batch) -> None:
    """Index the batch's search texts: one statement without savepoints (a plain insert
    into the virtual table), so FTS5 gathers them in memory and writes one segment."""
    conn.executemany("INSERT INTO versions_fts (rowid, title, body, attrs) VALUES (?, ?, ?, ?)",
                     batch.texts)
    batch.texts.clear()


def write(conn: sqlite3.Connection, obs: Observation, enrichment: Enrichment,
          batch: Batch | None = None) -> WriteResult:
    """Apply one observation; the caller owns the transaction. Without ``batch`` the
    write is complete on return; with one, it is after ``finish(conn, batch)``."""
    if batch is not None:
        return _write(conn, obs, enrichment, batch)
    own = Batch()
    result = _write(conn, obs, enrichment, own)
    finish(conn, own)
    return result


# One statement, one row: the version that already holds the capture (known: a duplicate)
# and the ad with its current version (NULLs: a new ad).
_LOOKUP = (
    "SELECT (SELECT kv.id FROM captures c JOIN versions kv ON kv.rowid = c.version_rowid "
    "WHERE c.id = ?) AS known, a.rowid, a.removed_at, v.rowid AS vrow, v.id AS vid, v.seq, "
    "v.fingerprint FROM (SELECT 1) one LEFT JOIN ads a ON a.id = ? "
    "LEFT JOIN versions v ON v.rowid = a.current_rowid"
)


def _write(conn: sqlite3.Connection, obs: Observation, enrichment: Enrichment,
           batch: Batch) -> WriteResult:
    cap = obs.capture
    ad_id = obs.ad_id
    cap_id = cap.id  # a hash: computed once per write
    ad = conn.execute(_LOOKUP, (cap_id, ad_id)).fetchone()  # always one row
    if ad["known"] is not None:
        return WriteResult(ad_id, ad["known"], False, False, True)
    at = to_iso(cap.fetched_at)
    fingerprint = obs.fields.fingerprint()
    if ad["rowid"] is None:
        ad_rowid = _insert_ad(conn, obs, at)
        vrow, vid = _insert_version(conn, ad_id, ad_rowid, 1, fingerprint, obs.fields, enrichment,
                                    at, batch)
        _insert_capture(conn, cap, cap_id, at, vrow)
        return WriteResult(ad_id, vid, True, True, False)
    ad_rowid = ad["rowid"]
    reappeared = returns(ad["removed_at"], at)
    if reappeared:
        _return_from_absence(conn, ad_rowid, at)
    if ad["fingerprint"] == fingerprint:
        vrow, vid, new_version = ad["vrow"], ad["vid"], False
        conn.execute("UPDATE versions SET last_seen = max(last_seen, ?) WHERE rowid = ?", (at, vrow))
    else:
        seq = ad["seq"] + 1
        conn.execute("UPDATE versions SET valid_to = ? WHERE rowid = ?", (at, ad["vrow"]))
        vrow, vid = _insert_version(conn, ad_id, ad_rowid, seq, fingerprint, obs.fields, enrichment,
                                    at, batch)
        new_version = True
    conn.execute(  # the url is the last sighting's: a capture older than it keeps it
        "UPDATE ads SET last_seen = max(last_seen, ?), "
        "url = CASE WHEN ? >= last_seen THEN ? ELSE url END, current_rowid = ?, "
        "versions = (SELECT count(*) FROM versions WHERE ad_rowid = ?) WHERE rowid = ?",
        (at, at, obs.url, vrow, ad_rowid, ad_rowid),
    )
    _insert_capture(conn, cap, cap_id, at, vrow)
    return WriteResult(ad_id, vid, False, new_version, False, reappeared)


def returns(removed_at: str | None, at: str) -> bool:
    """Whether a capture fetched ``at`` brings an ad removed at ``removed_at`` (ISO times)
    back: only one fetched after the removal does. An older one (written to the spool
    before the removal, replayed after it) adds to the history of the time before, and
    the ad stays removed."""
    return removed_at is not None and at > removed_at


def mark_removed(conn: sqlite3.Connection, source_id: str, site_ad_id: str, at: datetime,
                 reason: str) -> bool:
    """Mark an ad removed and open an absence period; False (nothing changed) if unknown,
    already removed, or seen after ``at``: such a removal is stale (a spool replayed again
    after the ad came back replays its removal too) and must not end the ad's return."""
    row = conn.execute("SELECT rowid, removed_at, last_seen FROM ads WHERE id = ?",
                       (ad_id_for(source_id, site_ad_id),)).fetchone()
    when = to_iso(at)  # ISO times in UTC sort as text
    if row is None or row["removed_at"] is not None or row["last_seen"] > when:
        return False
    conn.execute("UPDATE ads SET removed_at = ?, removed_reason = ? WHERE rowid = ?",
                 (when, reason, row["rowid"]))
    conn.execute("INSERT INTO absences (ad_rowid, removed_at, reason) VALUES (?, ?, ?)",
                 (row["rowid"], when, reason))
    return True


def _return_from_absence(conn: sqlite3.Connection, ad_rowid: int, at: str) -> None:
    conn.execute("UPDATE ads SET removed_at = NULL, removed_reason = '' WHERE rowid = ?", (ad_rowid,))
    conn.execute("UPDATE absences SET returned_at = ? WHERE ad_rowid = ? AND returned_at IS NULL",
                 (at, ad_rowid))


def _insert_ad(conn: sqlite3.Connection, obs: Observation, at: str) -> int:
    cur = conn.execute(
        "INSERT INTO ads (id, source_id, site_ad_id, url, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (obs.ad_id, obs.source_id, obs.site_ad_id, obs.url, at, at),
    )
    return int(cur.lastrowid or 0)


def _insert_version(conn: sqlite3.Connection, ad_id: str, ad_rowid: int, seq: int,
                    fingerprint: str, fields: AdFields, enrichment: Enrichment,
                    at: str, batch: Batch) -> tuple[int, str]:
    vid = version_id_for(ad_id, seq, fingerprint)
    title = search_copy(fields.title)
    body = search_copy(fields.text)
    attrs = search_copy(" ".join(f"{k} {v}" for k, v in sorted(fields.attributes.items()) if v))
    summary = {
        "phones": enrichment.values("phone"),
        "places": enrichment.values("place"),
        "indicators": enrichment.values("indicator"),
        "thumbnail": fields.images[0].sha256 if fields.images else "",
    }
    cur = conn.execute(
        "INSERT INTO versions (id, ad_rowid, seq, fingerprint, first_seen, last_seen, title, body, "
        "attrs, fields_json, enrichment_json, risk, language, summary) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (vid, ad_rowid, seq, fingerprint, at, at, title, body, attrs,
         row_json.dumps(fields), row_json.dumps(enrichment),
         enrichment.risk_score, enrichment.language, row_json.dumps(summary)),
    )
    vrow = int(cur.lastrowid or 0)
    batch.texts.append((vrow, title, body, attrs))  # indexed by finish() (see Batch)
    conn.executemany(
        "INSERT OR IGNORE INTO entities (kind, value, version_rowid, ad_rowid) VALUES (?, ?, ?, ?)",
        [(kind, value, vrow, ad_rowid) for kind, value in entity_rows(enrichment)],
    )
    if fields.images:
        sqlite_images.index_version(conn, vrow, ad_rowid, (i.sha256 for i in fields.images))
    if batch.corrections:
        hide_suppressed(conn, ad_id, vrow)  # an analyst's corrections hold for new versions too
    conn.execute("UPDATE ads SET current_rowid = ?, versions = ? WHERE rowid = ?",
                 (vrow, seq, ad_rowid))
    return vrow, vid


def entity_rows(e: Enrichment) -> list[tuple[str, str]]:
    """(kind, value) pairs a version is findable by: facets and identifier links."""
    rows: list[tuple[str, str]] = [("phone", p.e164) for p in e.phones]
    rows += [(i.kind, i.value) for i in e.identifiers]
    rows += [("place", p.name) for p in e.places]
    rows += [("province", p.province) for p in e.places if p.province]
    rows += [("indicator", i.id) for i in e.indicators]
    if e.language:
        rows.append(("lang", e.language))
    return [r for r in dict.fromkeys(rows) if r[1]]


def _insert_capture(conn: sqlite3.Connection, cap: Capture, cap_id: str, at: str,
                    vrow: int) -> None:
    """``cap_id`` and ``at`` are ``cap.id`` and its ISO time, already computed by the caller."""
    conn.execute(
        "INSERT OR IGNORE INTO captures (id, version_rowid, url, fetched_at, status, sha256, "
        "warc_file, warc_offset, warc_length, content_type, revisit_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cap_id, vrow, cap.url, at, cap.status, cap.sha256, cap.warc_file,
         cap.warc_offset, cap.warc_length, cap.content_type, cap.revisit_of),
    )
