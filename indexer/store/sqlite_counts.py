"""Facet and total counts of the current ads, maintained on write by triggers.

Why: the search page's no-text browse counts every current ad into a dozen facets; done
from scratch that reads the whole store on every page view (seconds at 100k ads). These
counts are kept per source (so theme walls still apply: sum over the allowed sources)
and per (facet, value), always equal to what a from-scratch count would give.

What one ad contributes: if its current version exists, one count each for its site,
language, risk band, status (live / removed) and first-seen day, and one per entity row
of its current version (facet ``e:<kind>``). Every trigger adds or takes away exactly the
change in that contribution for the row it sees, judged against the other tables as they
stand, so any order of statements (write, new version, removal, correction, reindex,
signals refresh, purge) keeps the counts exact. Rows whose count reaches 0 stay and are
left out when read. Assessment and theme are not kept here: theme comes from the site
counts, and assessments are few enough to count directly.
"""

from __future__ import annotations

import sqlite3

from indexer.search.query import RISK_BANDS
from indexer.store.sqlite_schema import execute_all

TABLE = "facet_counts"
RISK_OF = "CASE " + " ".join(
    f"WHEN {{r}} < {hi} THEN '{name}'" for name, _lo, hi in RISK_BANDS if hi != float("inf")
) + f" ELSE '{RISK_BANDS[-1][0]}' END"
UPSERT = " ON CONFLICT(source_id, facet, value) DO UPDATE SET n = n + excluded.n"


def _columns(sign: str, src: str, removed: str, first: str, risk: str, lang: str,
             where: str) -> str:
    """SELECTs (one per column facet) of an ad's column contributions, for an INSERT."""
    status = f"CASE WHEN {removed} IS NULL THEN 'live' ELSE 'removed' END"
    values = [("site", src), ("lang", lang), ("risk", RISK_OF.format(r=risk)),
              ("status", status), ("day", f"substr({first}, 1, 10)")]
    return " UNION ALL ".join(f"SELECT {src}, '{f}', {v}, {sign} {where}" for f, v in values)


def _ad_delta(sign: str, row: str) -> str:
    """The whole contribution of ad ``row`` (OLD or NEW) added (+1) or taken away (-1)."""
    v = f"FROM versions v WHERE v.rowid = {row}.current_rowid"
    cols = _columns(sign, f"{row}.source_id", f"{row}.removed_at", f"{row}.first_seen",
                    "v.risk", "v.language", v)
    ents = (f"SELECT {row}.source_id, 'e:' || e.kind, e.value, {sign} FROM entities e "
            f"WHERE e.version_rowid = {row}.current_rowid AND EXISTS "
            f"(SELECT 1 FROM versions v WHERE v.rowid = {row}.current_rowid)")
    return f"INSERT INTO {TABLE} (source_id, facet, value, n) {cols} UNION ALL {ents}{UPSERT};"


def _version_delta(sign: str, row: str, what: str) -> str:
    """A current version's own contribution (columns and/or entities) for version ``row``."""
    a = f"FROM ads a WHERE a.current_rowid = {row}.rowid AND a.rowid = {row}.ad_rowid"
    parts = []
    if "cols" in what:
        parts.append(_columns(sign, "a.source_id", "a.removed_at", "a.first_seen",
                              f"{row}.risk", f"{row}.language", a))
    if "ents" in what:
        parts.append(f"SELECT a.source_id, 'e:' || e.kind, e.value, {sign} FROM entities e "
                     f"JOIN ads a ON a.rowid = {row}.ad_rowid AND a.current_rowid = {row}.rowid "
                     f"WHERE e.version_rowid = {row}.rowid")
    return f"INSERT INTO {TABLE} (source_id, facet, value, n) {' UNION ALL '.join(parts)}{UPSERT};"


def _entity_delta(sign: str, row: str) -> str:
    return (f"INSERT INTO {TABLE} (source_id, facet, value, n) SELECT a.source_id, "
            f"'e:' || {row}.kind, {row}.value, {sign} FROM ads a WHERE a.rowid = {row}.ad_rowid "
            f"AND a.current_rowid = {row}.version_rowid AND EXISTS (SELECT 1 FROM versions v "
            f"WHERE v.rowid = {row}.version_rowid){UPSERT};")


_AD_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in
                          ("current_rowid", "removed_at", "first_seen", "source_id"))
_V_CHANGED = "OLD.risk IS NOT NEW.risk OR OLD.language IS NOT NEW.language"

DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    source_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (source_id, facet, value)
) WITHOUT ROWID;
-- one facet's values in (case-insensitive) order with their counts: grouped without a sort
CREATE INDEX IF NOT EXISTS facet_counts_values ON facet_counts(facet, value COLLATE NOCASE, source_id, n);
CREATE INDEX IF NOT EXISTS ads_newest ON ads(first_seen DESC, id);
CREATE INDEX IF NOT EXISTS ads_oldest ON ads(first_seen, id);
CREATE TRIGGER IF NOT EXISTS fc_ad_insert AFTER INSERT ON ads BEGIN {_ad_delta('1', 'NEW')} END;
CREATE TRIGGER IF NOT EXISTS fc_ad_delete AFTER DELETE ON ads BEGIN {_ad_delta('-1', 'OLD')} END;
CREATE TRIGGER IF NOT EXISTS fc_ad_update AFTER UPDATE OF current_rowid, removed_at, first_seen,
    source_id ON ads WHEN {_AD_CHANGED} BEGIN {_ad_delta('-1', 'OLD')} {_ad_delta('1', 'NEW')} END;
CREATE TRIGGER IF NOT EXISTS fc_version_insert AFTER INSERT ON versions
    BEGIN {_version_delta('1', 'NEW', 'cols ents')} END;
CREATE TRIGGER IF NOT EXISTS fc_version_delete AFTER DELETE ON versions
    BEGIN {_version_delta('-1', 'OLD', 'cols ents')} END;
CREATE TRIGGER IF NOT EXISTS fc_version_update AFTER UPDATE OF risk, language ON versions
    WHEN {_V_CHANGED} BEGIN {_version_delta('-1', 'OLD', 'cols')} {_version_delta('1', 'NEW', 'cols')} END;
CREATE TRIGGER IF NOT EXISTS fc_entity_insert AFTER INSERT ON entities BEGIN {_entity_delta('1', 'NEW')} END;
CREATE TRIGGER IF NOT EXISTS fc_entity_delete AFTER DELETE ON entities BEGIN {_entity_delta('-1', 'OLD')} END;
"""

# Every contribution computed from scratch: the definition the triggers must keep equal to.
FROM_SCRATCH = (
    "WITH c(source_id, facet, value, one) AS (" + _columns(
        "1", "a.source_id", "a.removed_at", "a.first_seen", "v.risk", "v.language",
        "FROM ads a JOIN versions v ON v.rowid = a.current_rowid") +
    " UNION ALL SELECT a.source_id, 'e:' || e.kind, e.value, 1 FROM ads a JOIN versions v "
    "ON v.rowid = a.current_rowid JOIN entities e ON e.version_rowid = v.rowid) "
    "SELECT source_id, facet, value, count(*) AS n FROM c GROUP BY source_id, facet, value")


def create(conn: sqlite3.Connection) -> None:
    """Create the table and triggers and count once from scratch (inside the schema
    transaction of ``sqlite_schema.create``: a store made before them is counted here)."""
    execute_all(conn, DDL)
    rebuild(conn)


def rebuild(conn: sqlite3.Connection) -> None:
    """Throw the counts away and count from scratch (first open, or repair)."""
    conn.execute(f"DELETE FROM {TABLE}")
    conn.execute(f"INSERT INTO {TABLE} (source_id, facet, value, n) {FROM_SCRATCH}")


def from_scratch(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """Counts computed now from the tables (for tests and `verify`)."""
    return {(r[0], r[1], r[2]): int(r[3]) for r in conn.execute(FROM_SCRATCH)}


def maintained(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """The kept counts, zero rows left out."""
    return {(r[0], r[1], r[2]): int(r[3])
            for r in conn.execute(f"SELECT source_id, facet, value, n FROM {TABLE} WHERE n != 0")}
