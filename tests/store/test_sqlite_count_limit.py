"""The embedded store counts at most ``count_limit`` matches: beyond, the total is a lower
bound, and the page and facets come from the kept matches (the most recently recorded,
or the earliest for "oldest first")."""

from __future__ import annotations

from dataclasses import replace

import pytest
from contract_data import at, obs, seed

from indexer.model import ad_id_for
from indexer.search.parse import parse_args
from indexer.search.query import FACETS, QueryError
from indexer.search.sql import HELD, compile_matches
from indexer.store import sqlite_search
from indexer.store.sqlite import SqliteStore

# "massage OR nouvelle" matches a2, b1 and a3, recorded in that order.
TEXT = "massage OR nouvelle"
ORDER = ["a2", "b1", "a3"]
ID = {ad_id_for(s, x): x for s in ("alpha", "beta") for x in ORDER}


def ask(store, limit: int, **args):
    q = replace(parse_args({"q": TEXT, **args}), count_limit=limit, facets=tuple(FACETS))
    return store.search(q)


def test_under_the_limit_everything_is_exact(store):
    result = ask(store, 3)
    assert result.total == 3 and not result.total_is_lower_bound
    assert sorted(ID[h.ad_id] for h in result.hits) == sorted(ORDER)
    assert not any(f.sampled for f in result.facets)


def test_over_the_limit_total_is_a_lower_bound_and_facets_are_sampled(store):
    result = ask(store, 2)
    assert result.total == 2 and result.total_is_lower_bound
    assert result.pages == 1
    # the two most recently recorded matches, whatever the sort
    assert sorted(ID[h.ad_id] for h in result.hits) == ["a3", "b1"]
    site = next(f for f in result.facets if f.name == "site")
    assert site.sampled and sum(v.count for v in site.values) == 2
    assert all(f.sampled for f in result.facets if f.values)


def test_oldest_first_keeps_the_earliest_matches(store):
    result = ask(store, 2, sort="oldest")
    assert result.total_is_lower_bound
    assert [ID[h.ad_id] for h in result.hits] == ["a2", "b1"]


def test_a_selected_facet_counts_its_own_bounded_set(store):
    # site "beta" selected: the site facet counts without it (all three matches), cut at 2
    result = ask(store, 2, **{"f.site": "beta"})
    assert [ID[h.ad_id] for h in result.hits] == ["b1"]
    assert result.total == 1 and not result.total_is_lower_bound
    site = next(f for f in result.facets if f.name == "site")
    assert site.sampled and sum(v.count for v in site.values) == 2
    city = next(f for f in result.facets if f.name == "city")
    assert not city.sampled


def test_a_cached_page_keeps_the_lower_bound(store):
    first = ask(store, 2)
    again = ask(store, 2, sort="risk")  # same counts, another page order: from the cache
    assert (again.total, again.total_is_lower_bound) == (first.total, True)


def test_a_limit_below_one_is_refused(store):
    with pytest.raises(QueryError, match="count limit 0"):
        ask(store, 0)


def test_the_order_is_flagged_only_when_taken_from_the_kept_matches(store):
    assert ask(store, 2).order_sampled  # relevance among the two most recent
    assert not ask(store, 3).order_sampled  # all matches kept: the real order
    browse = store.search(replace(parse_args({"sort": "newest"}), count_limit=2))
    assert browse.total == 6 and not browse.total_is_lower_bound and not browse.order_sampled
    by_risk = store.search(replace(parse_args({"sort": "risk"}), count_limit=2))
    # every current ad is counted exactly; only the order is taken from the newest two
    assert by_risk.total == 6 and not by_risk.total_is_lower_bound and by_risk.order_sampled
    assert len(by_risk.hits) == 2
    exact = store.search(replace(parse_args({"sort": "risk"}), count_limit=6))
    assert not exact.order_sampled
    risks = [h.risk_score for h in exact.hits]
    assert risks == sorted(risks, reverse=True)


def test_the_store_limit_applies_unless_a_query_asks_for_its_own(tmp_path):
    small = SqliteStore(tmp_path / "small.sqlite3", count_limit=2)
    try:
        seed(small)
        default = small.search(parse_args({"q": TEXT}))
        assert (default.total, default.total_is_lower_bound, default.query.count_limit) == (2, True, 2)
        export = small.search(replace(parse_args({"q": TEXT}), count_limit=10))
        assert (export.total, export.total_is_lower_bound) == (3, False)
    finally:
        small.close()


def test_a_facet_out_of_time_leaves_the_page_match_set_and_transaction_alone(many_ads):
    """An interrupted write inside a read transaction rolls the whole transaction back,
    temp tables and all; a selected facet's own set is therefore made outside its
    deadline, and only its read is interrupted."""
    s = many_ads(3000, "girl")
    q = replace(parse_args({"q": "girl", "f.site": "alpha"}), count_limit=5000)
    with s._borrow() as conn:
        conn.execute("BEGIN")
        kept, _ = sqlite_search._keep(conn, sqlite_search.MATCHES, q)
        site = sqlite_search.run_facet(conn, q, "site", 0)
        assert site.timed_out
        assert conn.in_transaction
        assert conn.execute(f"SELECT count(*) FROM {sqlite_search.MATCHES}").fetchone()[0] == kept == 3000
        conn.execute("COMMIT")


def test_the_plan_walks_for_common_values_and_lists_rare_ones(many_ads):
    """From the kept totals: a city every ad has is probed per row in sample order; a
    number two ads carry drives the query, alone or with the city."""
    s = many_ads(200, phone=lambda i: "+31612340000" if i < 2 else f"+3161234{i:04d}")
    with s._borrow() as conn:
        def dense(args):
            return sqlite_search.dense_filters(conn, replace(parse_args(args), count_limit=10))
        assert dense({"f.city": "Utrecht"}) == {("place", ("Utrecht",))}
        assert dense({"q": "city:utrecht"}) == {("place", ("utrecht",))}
        assert dense({"f.phone": "+31612340000"}) == frozenset()
        assert dense({"f.city": "Utrecht", "f.phone": "+31612340000"}) == frozenset()
        assert dense({"f.site": "alpha"}) == frozenset()  # no entity condition to probe
    both = s.search(parse_args({"f.city": "Utrecht", "f.phone": "+31612340000"}))
    assert both.total == 2 and not both.total_is_lower_bound


def test_a_walked_condition_with_few_versions_is_held_in_memory(many_ads):
    """Text every ad has, and a number 43 of 300 ads carry: the walk reads about 70 rows
    to keep 10, so the number's versions are listed once and each row looked up in
    memory; a number every ad carries (far more versions than the walk reads) is probed."""
    s = many_ads(300, phone=lambda i: "+31612340000" if i % 7 == 0 else f"+3161234{i:04d}")
    q = replace(parse_args({"q": "ad", "f.phone": "+31612340000", "sort": "newest"}), count_limit=10)
    with s._borrow() as conn:
        dense = sqlite_search.dense_filters(conn, q)
        assert dense == {("phone", ("+31612340000",), HELD)}
        sql, params = compile_matches(q, dense=dense)
        assert "+versions_fts.rowid IN (SELECT version_rowid FROM entities" in sql
        probed = compile_matches(q, dense=frozenset({("phone", ("+31612340000",))}))
        assert "EXISTS" in probed[0] and "EXISTS" not in sql
        assert conn.execute(sql, params).fetchall() == conn.execute(*probed).fetchall()
        everyone = replace(parse_args({"q": "ad", "f.city": "Utrecht"}), count_limit=10)
        assert sqlite_search.dense_filters(conn, everyone) == {("place", ("Utrecht",))}
    hits = s.search(q).hits
    assert len(hits) == 10 and all(int(h.url.rsplit("p", 1)[1]) % 7 == 0 for h in hits)


def test_a_rare_entity_drives_instead_of_a_selected_site(many_ads):
    s = many_ads(300)
    q = replace(parse_args({"f.phone": "+31612340007", "f.site": "alpha"}), count_limit=10)
    with s._borrow() as conn:
        dense = sqlite_search.dense_filters(conn, q)
        assert dense == {("site", ("alpha",))}
        sql, params = compile_matches(q, dense=dense)
        assert "+a.source_id IN (?)" in sql
        plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "ads_source" not in plan, plan  # the number's one version is looked up first
    assert [h.url for h in s.search(q).hits] == [obs("alpha", "p7", at(1), "").url]


def test_a_facet_no_current_ad_has_a_value_for_is_not_counted(many_ads):
    s = many_ads(50)  # numbers and places; no cross-ad signals computed yet
    statements: list[str] = []
    q = replace(parse_args({"q": "ad"}), facets=("signal", "phone"))
    with s._borrow() as conn:
        conn.set_trace_callback(statements.append)
        try:
            conn.execute("BEGIN")
            result = sqlite_search.search(conn, q, 1000, s.path)
            conn.execute("COMMIT")
        finally:
            conn.set_trace_callback(None)
    signal, phone = result.facets
    assert signal.values == () and not signal.timed_out and len(phone.values) == 10
    counted = [x for x in statements if "CROSS JOIN entities e" in x]
    assert len(counted) == 1 and "'phone'" in counted[0], counted
