"""SQLite: cross-ad signals and replacing a version's enrichment (reindex).

Why signals live in the ``entities`` table (kind ``signal``, one row per version of a
flagged ad): search and facets already filter and count by entity rows, so
``signal:phone_many_ads`` and the ``signal`` facet work exactly like ``phone:`` and the
phone facet, current or "as of" a day, with no second code path. The explanations (which
number, which cities, which names) are kept in ``signal_reasons``.

Signals depend on every ad, so ``refresh`` recomputes them all in one transaction
(readers see the old set or the new one, never half) rather than on each single write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from indexer.model import Enrichment, from_iso, to_dict
from indexer.signals import AdFacts, Sighting, SignalResult, compute_signals
from indexer.store.sqlite_entities import hide_suppressed
from indexer.store.sqlite_schema import execute_all
from indexer.store.sqlite_write import entity_rows

SIGNAL_KIND = "signal"

DDL = """
CREATE TABLE IF NOT EXISTS signal_reasons (
    ad_rowid INTEGER NOT NULL,
    signal TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS signal_reasons_ad ON signal_reasons(ad_rowid, signal);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the table (inside the schema transaction of ``sqlite_schema.create``)."""
    execute_all(conn, DDL)


def facts(conn: sqlite3.Connection) -> Iterator[AdFacts]:
    """Every ad's facts, read from versions in ad order without loading captures."""
    rows = conn.execute(
        "SELECT a.id AS ad_id, a.source_id, v.first_seen, v.summary, v.fields_json, v.enrichment_json "
        "FROM ads a JOIN versions v ON v.ad_rowid = a.rowid ORDER BY a.rowid, v.seq")
    current: tuple[str, str] | None = None
    sightings: list[Sighting] = []
    for r in rows:
        key = (r["ad_id"], r["source_id"])
        if key != current:
            if current is not None:
                yield AdFacts(current[0], current[1], tuple(sightings))
            current, sightings = key, []
        sightings.append(_sighting(r))
    if current is not None:
        yield AdFacts(current[0], current[1], tuple(sightings))


def _sighting(r: sqlite3.Row) -> Sighting:
    """Phones and places come from the version's summary, which an analyst's correction
    (sqlite_entities.suppress) has already cleaned: a number read wrongly must not link
    unrelated ads into one network."""
    enr = json.loads(r["enrichment_json"])
    fields = json.loads(r["fields_json"])
    summary = json.loads(r["summary"] or "{}")
    return Sighting(
        at=from_iso(r["first_seen"]),
        phones=tuple(summary.get("phones", ())),
        places=tuple(summary.get("places", ())),
        names=tuple(dict.fromkeys(a["value"] for a in enr.get("attributes", ()) if a["kind"] == "name")),
        images=tuple(dict.fromkeys(i["sha256"] for i in fields.get("images", ()) if i.get("sha256"))),
        text=fields.get("text", ""),
    )


def refresh(conn: sqlite3.Connection) -> dict[str, int]:
    """Recompute every signal and store it; the caller owns the transaction."""
    result = compute_signals(facts(conn))
    store(conn, result)
    return result.counts()


def store(conn: sqlite3.Connection, result: SignalResult) -> None:
    conn.execute("DELETE FROM entities WHERE kind = ?", (SIGNAL_KIND,))
    conn.execute("DELETE FROM signal_reasons")
    for ad_id, signals in result.ads.items():
        versions = conn.execute("SELECT v.rowid, v.ad_rowid FROM versions v JOIN ads a "
                                "ON a.rowid = v.ad_rowid WHERE a.id = ?", (ad_id,)).fetchall()
        if not versions:
            continue
        conn.executemany(
            "INSERT OR IGNORE INTO entities (kind, value, version_rowid, ad_rowid) VALUES (?, ?, ?, ?)",
            [(SIGNAL_KIND, s, v[0], v[1]) for v in versions for s in sorted(signals)])
        conn.executemany("INSERT INTO signal_reasons VALUES (?, ?, ?)",
                         [(versions[0][1], s, why) for s, whys in sorted(signals.items()) for why in whys])


def reasons(conn: sqlite3.Connection, ad_id: str) -> dict[str, list[str]]:
    """Why an ad carries each of its signals, as of the last refresh."""
    rows = conn.execute(
        "SELECT r.signal, r.reason FROM signal_reasons r JOIN ads a ON a.rowid = r.ad_rowid "
        "WHERE a.id = ? ORDER BY r.signal, r.rowid", (ad_id,)).fetchall()
    out: dict[str, list[str]] = {}
    for sig, why in rows:
        out.setdefault(sig, []).append(why)
    return out


def update_enrichment(conn: sqlite3.Connection, version_id: str, enrichment: Enrichment) -> bool:
    """Replace one version's enrichment; its entity rows and summary follow. False if
    the version is unknown. Signal rows stay (they follow the next refresh); corrected
    extractions stay corrected."""
    row = conn.execute("SELECT v.rowid, v.ad_rowid, v.summary, a.id AS ad_id FROM versions v "
                       "JOIN ads a ON a.rowid = v.ad_rowid WHERE v.id = ?", (version_id,)).fetchone()
    if row is None:
        return False
    summary = json.loads(row["summary"] or "{}")
    summary.update(phones=enrichment.values("phone"), places=enrichment.values("place"),
                   indicators=enrichment.values("indicator"))
    conn.execute(
        "UPDATE versions SET enrichment_json = ?, risk = ?, language = ?, summary = ? WHERE rowid = ?",
        (json.dumps(to_dict(enrichment), ensure_ascii=False), enrichment.risk_score,
         enrichment.language, json.dumps(summary, ensure_ascii=False), row["rowid"]))
    conn.execute("DELETE FROM entities WHERE version_rowid = ? AND kind != ?", (row["rowid"], SIGNAL_KIND))
    conn.executemany(
        "INSERT OR IGNORE INTO entities (kind, value, version_rowid, ad_rowid) VALUES (?, ?, ?, ?)",
        [(kind, value, row["rowid"], row["ad_rowid"]) for kind, value in entity_rows(enrichment)])
    hide_suppressed(conn, row["ad_id"], row["rowid"])  # an analyst's corrections still hold
    return True


