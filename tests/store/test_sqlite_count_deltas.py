"""Facet counts kept through per-transaction deltas (schema 3), and the upgrade of a
schema-2 store whose triggers UPSERTed into facet_counts row by row.

The counts must equal ``sqlite_counts.from_scratch`` after every committed transaction,
whatever mix of statements it held; nothing may be left pending in facet_deltas.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from contract_data import PHONE_A, PHONE_B, at, enr, obs, seed

from indexer.search.query import FACETS, Clause, Query, Term
from indexer.store import sqlite_counts, sqlite_write
from indexer.store.sqlite import SqliteStore
from indexer.store.sqlite_schema import SCHEMA_VERSION

V2_TRIGGERS = Path(__file__).parent / "data" / "schema_v2_count_triggers.sql"


def counts_exact_and_nothing_pending(path: Path) -> dict[tuple[str, str, str], int]:
    conn = sqlite3.connect(path)
    try:
        kept = sqlite_counts.maintained(conn)
        assert kept == sqlite_counts.from_scratch(conn)
        assert conn.execute(f"SELECT count(*) FROM {sqlite_counts.DELTAS}").fetchone()[0] == 0
        return kept
    finally:
        conn.close()


def test_one_batch_of_mixed_changes_folds_into_exact_counts(tmp_path):
    path = tmp_path / "batch.sqlite3"
    with SqliteStore(path) as s:
        seed(s)
        batch = [(obs("alpha", f"n{i}", at(10, i), f"new ad {i}"), enr((PHONE_A,), ("Utrecht",)))
                 for i in range(20)]
        batch += [(obs("alpha", "a1", at(11), "a1 changed in the batch"), enr((PHONE_B,))),
                  (obs("alpha", "n3", at(12), "n3 changed after its first sighting"),
                   enr((PHONE_B,), ("Amsterdam",), (("youth", 3.0),), lang="en")),
                  (obs("alpha", "n4", at(12), "new ad 4"), enr((PHONE_A,), ("Utrecht",)))]
        results = s.write_many(batch)
        assert sum(r.new_ad for r in results) == 20 and sum(r.new_version for r in results) == 22
        s.mark_removed("alpha", "n5", at(13), "gone")
        kept = counts_exact_and_nothing_pending(path)
        assert kept[("alpha", "e:phone", PHONE_A)] >= 19
        assert s.search(Query(facets=tuple(FACETS))).total == 26


def test_a_failed_batch_leaves_no_deltas_behind(tmp_path):
    path = tmp_path / "fail.sqlite3"
    with SqliteStore(path) as s:
        seed(s)
        before = counts_exact_and_nothing_pending(path)
        with pytest.raises(Exception):  # noqa: B017 - any failure: all of it rolls back
            s.write_many([(obs("beta", "x1", at(9), "fine"), enr((PHONE_A,))),
                          (obs("beta", "x2", at(9), "bad"), None)])
        assert counts_exact_and_nothing_pending(path) == before


def make_v2_shaped(path: Path) -> None:
    """A store as schema 2 left it: UPSERT triggers, no delta table, version 2; then
    written by those triggers (new ads, a new version, a removal) so its counts are
    the old triggers' work, not a recount."""
    with SqliteStore(path) as s:
        seed(s)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row  # as the store's connections (sqlite_write reads by name)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                "AND (name GLOB 'fc_*' OR name GLOB 'ft_*')").fetchall():
        conn.execute(f"DROP TRIGGER {name}")  # schema 3's count triggers (and totals')
    for table in (sqlite_counts.DELTAS, sqlite_counts.NAMES, "facet_totals"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")  # tables schema 2 did not have
    conn.executescript(V2_TRIGGERS.read_text())
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.execute("BEGIN IMMEDIATE")
    sqlite_write.write(conn, obs("gamma", "v2new", at(20), "written under schema 2"),
                       enr((PHONE_B,), ("Amsterdam",), (("youth", 2.0),)))
    sqlite_write.write(conn, obs("alpha", "a1", at(21), "a1 v2-era version"), enr((PHONE_A,)))
    sqlite_write.mark_removed(conn, "beta", "b1", at(21), "gone")
    conn.execute("COMMIT")
    conn.close()


def test_a_schema_2_store_is_upgraded_keeping_exact_counts(tmp_path):
    path = tmp_path / "v2.sqlite3"
    make_v2_shaped(path)
    conn = sqlite3.connect(path)
    v2_counts = sqlite_counts.maintained(conn)
    assert v2_counts == sqlite_counts.from_scratch(conn)  # the old triggers were exact
    conn.close()

    with SqliteStore(path) as s:
        assert counts_exact_and_nothing_pending(path) == v2_counts  # kept, not recounted
        conn = sqlite3.connect(path)
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        triggers = [r[0] for r in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'fc_*'")]
        conn.close()
        assert version == str(SCHEMA_VERSION)
        assert triggers and not any("ON CONFLICT" in t or "facet_counts" in t for t in triggers)
        s.write_many([(obs("gamma", "after", at(22), "after the upgrade"), enr((PHONE_A,))),
                      (obs("beta", "b1", at(23), "b1 is back"), enr((PHONE_B,), ("Utrecht",)))])
        s.refresh_signals()
        s.purge("alpha", at(3))
        counts_exact_and_nothing_pending(path)
        assert s.search(Query(facets=tuple(FACETS))).total == s.stats()["ads"]


def test_a_batch_keeps_corrections_and_indexes_its_texts(tmp_path):
    """write_many defers the search texts to the end of its batch and looks for active
    corrections once: both must give what single writes give."""
    path = tmp_path / "corr.sqlite3"
    with SqliteStore(path) as s:
        seed(s)
        a1 = next(h.ad_id for h in s.search(Query(per_page=100)).hits if h.url.endswith("/a1"))
        assert s.suppress_extraction(a1, "phone", PHONE_A, "u", "not her number")
        s.write_many([(obs("alpha", "a1", at(30), "zebracrossing text of a1 now"), enr((PHONE_A,))),
                      (obs("gamma", "q1", at(30), "zebracrossing also here"), enr((PHONE_A,)))])
        linked = {h.url.rsplit("/", 1)[1] for h in s.ads_for_identifier("phone", PHONE_A)}
        assert "q1" in linked and "a1" not in linked  # the correction held for the new version
        assert [p.e164 for p in s.get_ad(a1).current.enrichment.phones] == [PHONE_A]  # evidence
        found = s.search(Query(text="zebracrossing", clauses=(
            Clause((Term("word", "zebracrossing"),)),)))
        assert found.total == 2
        counts_exact_and_nothing_pending(path)
