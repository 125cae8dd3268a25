"""Facet counts over all sources, kept beside the per-source counts (sqlite_counts).

Why: a browse with no theme wall asks for the top values of every facet. Summing the
per-source counts for that means reading every value of the facet: at 1M ads, 200,000
phone numbers, 126 ms, and 41,000 days to group into weeks. These totals hold one row
per (facet, value) with its count over all sources, indexed by count, so the top values
are an index walk; first-seen days are kept as weeks.

They are kept by triggers on ``facet_counts`` itself, which changes only when its
deltas are folded in (once per write transaction, a few hundred rows), so they add
nothing per ad written. Values compare case-insensitively, like the entities they count.
"""

from __future__ import annotations

import sqlite3

from indexer.store.sqlite_schema import execute_all

TABLE = "facet_totals"


def _key(row: str) -> tuple[str, str]:
    """(facet, value) of the totals row a ``facet_counts`` row adds to."""
    return (f"CASE {row}.facet WHEN 'day' THEN 'week' ELSE {row}.facet END",
            f"CASE {row}.facet WHEN 'day' THEN date({row}.value, '-6 days', 'weekday 1') "
            f"ELSE {row}.value END")


def _add(row: str, amount: str) -> str:
    facet, value = _key(row)
    return (f"INSERT INTO {TABLE} (facet, value, n) VALUES ({facet}, {value}, {amount}) "
            f"ON CONFLICT(facet, value) DO UPDATE SET n = n + excluded.n;")


DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    facet TEXT NOT NULL,
    value TEXT NOT NULL COLLATE NOCASE,
    n INTEGER NOT NULL,
    PRIMARY KEY (facet, value)
) WITHOUT ROWID;
-- a facet's values by count: its top values are the first entries
CREATE INDEX IF NOT EXISTS facet_totals_top ON {TABLE}(facet, n DESC, value);
CREATE TRIGGER IF NOT EXISTS ft_insert AFTER INSERT ON facet_counts BEGIN {_add('NEW', 'NEW.n')} END;
CREATE TRIGGER IF NOT EXISTS ft_update AFTER UPDATE OF n ON facet_counts WHEN NEW.n IS NOT OLD.n
    BEGIN {_add('NEW', 'NEW.n - OLD.n')} END;
CREATE TRIGGER IF NOT EXISTS ft_delete AFTER DELETE ON facet_counts BEGIN {_add('OLD', '-OLD.n')} END;
"""

_FACET, _VALUE = _key("c")
FROM_COUNTS = (f"SELECT {_FACET} AS facet, {_VALUE} COLLATE NOCASE AS value, sum(c.n) AS n "
               f"FROM facet_counts c GROUP BY 1, 2")


def create(conn: sqlite3.Connection) -> None:
    """Create the table and triggers and sum the per-source counts once (inside the
    schema transaction, after sqlite_counts.create has counted)."""
    execute_all(conn, DDL)
    conn.execute(f"DELETE FROM {TABLE}")
    conn.execute(f"INSERT INTO {TABLE} (facet, value, n) {FROM_COUNTS}")


def from_counts(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """The totals as the per-source counts give them now (for tests), zeros left out."""
    return {(r[0], r[1].casefold()): int(r[2]) for r in conn.execute(FROM_COUNTS) if r[2]}


def kept(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """The kept totals, zeros left out."""
    return {(r[0], r[1].casefold()): int(r[2])
            for r in conn.execute(f"SELECT facet, value, n FROM {TABLE} WHERE n != 0")}
