"""Maintained facet counts (indexer.store.sqlite_counts) equal counts made from scratch.

Every kind of write is checked: new ads, new versions, re-sightings, removals and
returns, corrections and their lifting, reindex (update_enrichment), signal refresh,
assessments and purge. The search answers from the counts must equal the answers from
the match set for the same query (the path used before the counts existed).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from contract_data import PHONE_A, PHONE_B, at, enr, obs, seed

from indexer.search.query import FACETS, Query
from indexer.search.sql import compile_matches
from indexer.store import sqlite_counts, sqlite_search
from indexer.store.sqlite import SqliteStore

ALL = tuple(FACETS)


def assert_exact(store: SqliteStore) -> None:
    """Kept counts == from scratch, and the search answers agree with the match set."""
    with store._borrow() as conn:
        kept = sqlite_counts.maintained(conn)
        assert kept == sqlite_counts.from_scratch(conn)
        for themes in (None, ("trafficking",), ("other",), ()):
            q = Query(facets=ALL, themes=themes)
            fast = sqlite_search.search(conn, q, 5000, store.path)
            conn.execute(f"CREATE TABLE {sqlite_search.MATCHES} AS {compile_matches(q)[0]}",
                         compile_matches(q)[1])
            total = conn.execute(f"SELECT count(*) FROM {sqlite_search.MATCHES}").fetchone()[0]
            slow = tuple(sqlite_search.run_facet(conn, q, f, 5000) for f in ALL)
            conn.execute(f"DROP TABLE IF EXISTS {sqlite_search.MATCHES}")
            assert fast.total == total
            assert [replace(f) for f in fast.facets] == list(slow), themes


def test_seeded_store_counts_are_exact(store):
    assert_exact(store)
    r = store.search(Query(facets=ALL))
    assert r.total == 6 and sum(v.count for v in _facet(r, "status")) == 6


def test_new_versions_resightings_removals_and_returns(store):
    store.write(obs("alpha", "a1", at(4), "Sweet girl changed text", "Lisa in Utrecht"),
                enr((PHONE_B,), ("Amsterdam",), (("youth", 2.0),), lang="en"))
    assert_exact(store)
    store.write(obs("alpha", "a1", at(5), "Sweet girl changed text", "Lisa in Utrecht"),
                enr((PHONE_B,), ("Amsterdam",), (("youth", 2.0),), lang="en"))  # seen again
    assert_exact(store)
    assert store.mark_removed("beta", "b1", at(6), "gone")
    assert_exact(store)
    assert [v.value for v in _facet(store.search(Query(facets=ALL)), "status")] == ["live", "removed"]
    store.write(obs("beta", "b1", at(7), "Back again in Antwerpen", "Nina"),
                enr((PHONE_A,), ("Antwerpen",)))  # returns with a new version
    assert_exact(store)


def test_corrections_and_lifting_them(store):
    assert store.suppress_extraction(store_ad(store, "alpha", "a1"), "phone", PHONE_A, "u", "wrong")
    assert_exact(store)
    phones = {v.value: v.count for v in _facet(store.search(Query(facets=ALL)), "phone")}
    assert phones.get(PHONE_A) == 1  # only b2 still carries it
    assert store.unsuppress(store_ad(store, "alpha", "a1"), "phone", PHONE_A, "u", "right after all")
    assert_exact(store)


def test_reindex_signals_and_assessments(store):
    record = store.get_ad(store_ad(store, "gamma", "g1"))
    assert store.update_enrichment(record.versions[-1].id,
                                   enr((PHONE_A,), ("Amsterdam",), (("youth", 9.0),), lang="de"))
    assert_exact(store)
    langs = {v.value for v in _facet(store.search(Query(facets=ALL)), "lang")}
    assert "de" in langs
    store.refresh_signals()
    assert_exact(store)
    store.set_assessment(record.id, "u", _a_label(), "note")
    assert_exact(store)


def test_purge_partial_and_whole(store):
    store.write(obs("alpha", "a1", at(8), "A later version", "Lisa"), enr((PHONE_B,), ("Amsterdam",)))
    store.purge("alpha", at(2), dry_run=True)
    assert_exact(store)
    store.purge("alpha", at(5))  # a1's first version and a2 go; a1 keeps its later version
    assert_exact(store)
    store.purge("beta", None)
    assert_exact(store)
    assert {v.value for v in _facet(store.search(Query(facets=ALL)), "site")} == {"alpha", "gamma"}


def test_a_store_made_before_the_counts_is_counted_on_open(tmp_path):
    path = tmp_path / "old.sqlite3"
    s = SqliteStore(path)
    seed(s)
    s.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE facet_counts")  # as a database from before this module
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                "AND name LIKE 'fc_%'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")  # its version
    conn.close()
    s = SqliteStore(path)
    try:
        assert_exact(s)
        assert s.search(Query(facets=ALL)).total == 6
    finally:
        s.close()


def test_a_batch_that_fails_leaves_the_counts_as_they_were(store):
    with store._borrow() as conn:
        before = sqlite_counts.maintained(conn)
    bad = obs("alpha", "z9", at(9), "text")
    with pytest.raises(Exception):  # noqa: B017 - any failure: the batch must roll back
        store.write_many([(obs("alpha", "z8", at(9), "fine"), enr((PHONE_A,))), (bad, None)])
    with store._borrow() as conn:
        assert sqlite_counts.maintained(conn) == before
    assert_exact(store)


def store_ad(store: SqliteStore, source: str, site_ad_id: str) -> str:
    return next(h.ad_id for h in store.search(Query(per_page=100)).hits
                if h.source_id == source and h.url.endswith(f"/{site_ad_id}"))


def _facet(result, name):
    return next(f for f in result.facets if f.name == name).values


def _a_label() -> str:
    from indexer.assessment import LABELS

    return next(iter(LABELS))
