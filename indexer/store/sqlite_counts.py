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

Why deltas: an UPSERT per trigger row (a primary-key probe plus two index rewrites, the
count being in the value index) cost more than the rest of an ingest. The triggers only
append (source, facet, value, +-1) rows to ``facet_deltas``, and ``flush`` folds them
into ``facet_counts`` once per write transaction, grouped (a batch of 2,000 new ads:
~18,000 appends, a few hundred UPSERTs). Every write transaction must ``flush`` before
it commits (``SqliteStore._tx`` does), so a committed store never holds pending deltas.
Each trigger also has a WHEN guard so the rows it cannot touch (an ad inserted before
its first version, a version not yet current) cost one lookup, not a dozen empty SELECTs.
``facet_columns`` is a constant five-row table (the column facets' names) the triggers
cross with one looked-up row.
"""

from __future__ import annotations

import sqlite3

from indexer.search.query import RISK_BANDS
from indexer.store.sqlite_schema import execute_all

TABLE = "facet_counts"
DELTAS = "facet_deltas"
NAMES = "facet_columns"  # the five column facets, one row each (see _columns_once)
RISK_OF = "CASE " + " ".join(
    f"WHEN {{r}} < {hi} THEN '{name}'" for name, _lo, hi in RISK_BANDS if hi != float("inf")
) + f" ELSE '{RISK_BANDS[-1][0]}' END"
INTO = f"INSERT INTO {DELTAS} (source_id, facet, value, n)"
UPSERT = " ON CONFLICT(source_id, facet, value) DO UPDATE SET n = n + excluded.n"


def _columns(sign: str, src: str, removed: str, first: str, risk: str, lang: str,
             where: str) -> str:
    """SELECTs (one per column facet) of an ad's column contributions, for an INSERT."""
    status = f"CASE WHEN {removed} IS NULL THEN 'live' ELSE 'removed' END"
    values = [("site", src), ("lang", lang), ("risk", RISK_OF.format(r=risk)),
              ("status", status), ("day", f"substr({first}, 1, 10)")]
    return " UNION ALL ".join(f"SELECT {src}, '{f}', {v}, {sign} {where}" for f, v in values)


def _columns_once(sign: str, src: str, removed: str, first: str, risk: str, lang: str,
                  table: str, where: str) -> str:
    """The same contributions as ``_columns`` from ONE lookup of ``table``, crossed with
    the five rows of ``facet_columns`` (a trigger's hot path: five SELECTs each probing
    the row cost five times the work, and a VALUES list is materialised on every firing).
    ``_columns`` stays the from-scratch definition the tests compare these against."""
    status = f"CASE WHEN {removed} IS NULL THEN 'live' ELSE 'removed' END"
    value = (f"CASE f.name WHEN 'site' THEN {src} WHEN 'lang' THEN {lang} "
             f"WHEN 'risk' THEN {RISK_OF.format(r=risk)} WHEN 'status' THEN {status} "
             f"ELSE substr({first}, 1, 10) END")
    return (f"SELECT {src}, f.name, {value}, {sign} FROM {table} CROSS JOIN "
            f"{NAMES} f WHERE {where}")


def _ad_delta(sign: str, row: str) -> str:
    """The whole contribution of ad ``row`` (OLD or NEW) added (+1) or taken away (-1)."""
    cols = _columns_once(sign, f"{row}.source_id", f"{row}.removed_at", f"{row}.first_seen",
                         "v.risk", "v.language", "versions v", f"v.rowid = {row}.current_rowid")
    ents = (f"SELECT {row}.source_id, 'e:' || e.kind, e.value, {sign} FROM entities e "
            f"WHERE e.version_rowid = {row}.current_rowid AND EXISTS "
            f"(SELECT 1 FROM versions v WHERE v.rowid = {row}.current_rowid)")
    return f"{INTO} {cols} UNION ALL {ents};"


def _version_delta(sign: str, row: str, what: str) -> str:
    """A current version's own contribution (columns and/or entities) for version ``row``."""
    parts = []
    if "cols" in what:
        parts.append(_columns_once(sign, "a.source_id", "a.removed_at", "a.first_seen",
                                   f"{row}.risk", f"{row}.language", "ads a",
                                   f"a.rowid = {row}.ad_rowid AND a.current_rowid = {row}.rowid"))
    if "ents" in what:
        parts.append(f"SELECT a.source_id, 'e:' || e.kind, e.value, {sign} FROM entities e "
                     f"JOIN ads a ON a.rowid = {row}.ad_rowid AND a.current_rowid = {row}.rowid "
                     f"WHERE e.version_rowid = {row}.rowid")
    return f"{INTO} {' UNION ALL '.join(parts)};"


def _entity_delta(sign: str, row: str) -> str:
    return (f"{INTO} SELECT a.source_id, "
            f"'e:' || {row}.kind, {row}.value, {sign} FROM ads a WHERE a.rowid = {row}.ad_rowid "
            f"AND a.current_rowid = {row}.version_rowid AND EXISTS (SELECT 1 FROM versions v "
            f"WHERE v.rowid = {row}.version_rowid);")


def _is_current(row: str, version: str) -> str:
    """WHEN guard: version ``version`` of row ``row`` is its ad's current one (only then
    does it count; the write path inserts a version before making it current)."""
    return (f"EXISTS (SELECT 1 FROM ads WHERE rowid = {row}.ad_rowid "
            f"AND current_rowid = {row}.{version})")


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
-- this transaction's changes, appended by the triggers, folded in by flush(); no index
CREATE TABLE IF NOT EXISTS {DELTAS} (
    source_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS {NAMES} (name TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT OR IGNORE INTO {NAMES} VALUES ('site'), ('lang'), ('risk'), ('status'), ('day');
-- newest first, with what a search's walk reads of each ad (so it never reads the ad's
-- row for the ads it passes over): replaces the narrower ads_newest of schema 2
DROP INDEX IF EXISTS ads_newest;
CREATE INDEX IF NOT EXISTS ads_newest_rows ON ads(first_seen DESC, id, current_rowid, source_id,
    removed_at);
CREATE INDEX IF NOT EXISTS ads_oldest ON ads(first_seen, id);
-- one site's ads newest first: a site selection walks to its first matches, no sort
CREATE INDEX IF NOT EXISTS ads_source_newest ON ads(source_id, first_seen DESC, id);
CREATE TRIGGER IF NOT EXISTS fc_ad_insert AFTER INSERT ON ads WHEN NEW.current_rowid IS NOT NULL
    BEGIN {_ad_delta('1', 'NEW')} END;
CREATE TRIGGER IF NOT EXISTS fc_ad_delete AFTER DELETE ON ads WHEN OLD.current_rowid IS NOT NULL
    BEGIN {_ad_delta('-1', 'OLD')} END;
-- an ad's first version (current_rowid from NULL) has nothing to take away: two triggers
CREATE TRIGGER IF NOT EXISTS fc_ad_update_old AFTER UPDATE OF current_rowid, removed_at,
    first_seen, source_id ON ads WHEN OLD.current_rowid IS NOT NULL AND ({_AD_CHANGED})
    BEGIN {_ad_delta('-1', 'OLD')} END;
CREATE TRIGGER IF NOT EXISTS fc_ad_update_new AFTER UPDATE OF current_rowid, removed_at,
    first_seen, source_id ON ads WHEN NEW.current_rowid IS NOT NULL AND ({_AD_CHANGED})
    BEGIN {_ad_delta('1', 'NEW')} END;
CREATE TRIGGER IF NOT EXISTS fc_version_insert AFTER INSERT ON versions
    WHEN {_is_current('NEW', 'rowid')} BEGIN {_version_delta('1', 'NEW', 'cols ents')} END;
CREATE TRIGGER IF NOT EXISTS fc_version_delete AFTER DELETE ON versions
    WHEN {_is_current('OLD', 'rowid')} BEGIN {_version_delta('-1', 'OLD', 'cols ents')} END;
CREATE TRIGGER IF NOT EXISTS fc_version_update AFTER UPDATE OF risk, language ON versions
    WHEN ({_V_CHANGED}) AND {_is_current('NEW', 'rowid')}
    BEGIN {_version_delta('-1', 'OLD', 'cols')} {_version_delta('1', 'NEW', 'cols')} END;
CREATE TRIGGER IF NOT EXISTS fc_entity_insert AFTER INSERT ON entities
    WHEN {_is_current('NEW', 'version_rowid')} BEGIN {_entity_delta('1', 'NEW')} END;
CREATE TRIGGER IF NOT EXISTS fc_entity_delete AFTER DELETE ON entities
    WHEN {_is_current('OLD', 'version_rowid')} BEGIN {_entity_delta('-1', 'OLD')} END;
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
    """Create (or upgrade) the tables and triggers, inside the schema transaction of
    ``sqlite_schema.create``.

    Triggers are replaced whole (an older store's UPSERT triggers would bypass the deltas).
    A store made before the counts is counted once from scratch; a store that already
    kept them (exact, by the older triggers) keeps them, so upgrading a large store does
    not recount it.
    """
    had_counts = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (TABLE,)).fetchone() is not None
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                "AND name GLOB 'fc_*'").fetchall():
        conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    execute_all(conn, DDL)
    if had_counts:
        flush(conn)
    else:
        rebuild(conn)


def flush(conn: sqlite3.Connection) -> None:
    """Fold the pending deltas into the counts, one UPSERT per distinct key; every write
    transaction calls this before COMMIT (inside it: all or nothing with the writes)."""
    conn.execute(f"INSERT INTO {TABLE} (source_id, facet, value, n) SELECT source_id, facet, "
                 f"value, sum(n) FROM {DELTAS} WHERE true GROUP BY source_id, facet, value "
                 f"HAVING sum(n) != 0{UPSERT}")
    conn.execute(f"DELETE FROM {DELTAS}")


def rebuild(conn: sqlite3.Connection) -> None:
    """Throw the counts away and count from scratch (first open, or repair)."""
    conn.execute(f"DELETE FROM {DELTAS}")
    conn.execute(f"DELETE FROM {TABLE}")
    conn.execute(f"INSERT INTO {TABLE} (source_id, facet, value, n) {FROM_SCRATCH}")


def from_scratch(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """Counts computed now from the tables (for tests and `verify`)."""
    return {(r[0], r[1], r[2]): int(r[3]) for r in conn.execute(FROM_SCRATCH)}


def maintained(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """The kept counts, zero rows left out."""
    return {(r[0], r[1], r[2]): int(r[3])
            for r in conn.execute(f"SELECT source_id, facet, value, n FROM {TABLE} WHERE n != 0")}
