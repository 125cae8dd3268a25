"""The all-source facet totals stay equal to the per-source counts summed, and an
unwalled browse reads its facets from them with the same answers as a walled one that
sees every theme."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contract_data import PHONE_A, enr, obs

from indexer.search.query import FACETS, Query
from indexer.store import sqlite_totals
from indexer.store.sqlite import SqliteStore


def check(store, phone_a: int) -> None:
    with store._borrow() as conn:
        kept = sqlite_totals.kept(conn)
        assert kept == sqlite_totals.from_counts(conn)
        assert kept[("e:phone", PHONE_A.casefold())] == phone_a
        assert any(f == "week" for f, _ in kept)


def test_totals_follow_writes_removals_and_purges(store):
    check(store, 2)
    when = datetime(2026, 3, 9, 12, tzinfo=UTC)
    store.write_many([(obs("beta", f"n{i}", when + timedelta(minutes=i), f"Ad {i} call now"),
                       enr((PHONE_A,), ("Utrecht",), ())) for i in range(5)])
    check(store, 7)
    store.mark_removed("beta", "n1", when + timedelta(days=1), "gone")
    store.write(obs("beta", "n2", when + timedelta(days=2), "Changed text, other number"),
                enr(("+31687654321",), ("Amsterdam",), ()))
    check(store, 6)  # n2's new version has another number
    store.purge("beta", None)
    with store._borrow() as conn:
        kept = sqlite_totals.kept(conn)
        assert kept == sqlite_totals.from_counts(conn)
        assert not any(value == "beta" for facet, value in kept if facet == "site")


def test_unwalled_browse_answers_like_a_wall_that_sees_every_theme(store):
    every = tuple({s.theme for s in store.sources()})
    plain = store.search(Query(facets=tuple(FACETS), facet_size=50))
    walled = store.search(Query(facets=tuple(FACETS), facet_size=50, themes=every))
    assert plain.total == walled.total == 6
    for a, b in zip(plain.facets, walled.facets, strict=True):
        assert (a.name, sorted((v.value.casefold(), v.count) for v in a.values)) == \
               (b.name, sorted((v.value.casefold(), v.count) for v in b.values))


def test_an_upgraded_store_gets_its_totals_summed_once(store):
    with store._borrow() as conn:
        conn.execute("DELETE FROM facet_totals")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    store.close()
    again = SqliteStore(store.path)
    try:
        check(again, 2)
        phones = again.search(Query(facets=("phone",))).facets[0].values
        assert (phones[0].value, phones[0].count) == (PHONE_A, 2)
    finally:
        again.close()
