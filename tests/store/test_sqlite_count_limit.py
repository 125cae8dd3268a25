"""The embedded store counts at most ``count_limit`` matches: beyond, the total is a lower
bound, and the page and facets come from the kept matches (the most recently recorded,
or the earliest for "oldest first")."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from contract_data import seed  # noqa: E402

from indexer.model import ad_id_for  # noqa: E402
from indexer.search.parse import parse_args  # noqa: E402
from indexer.search.query import FACETS, QueryError  # noqa: E402
from indexer.store.sqlite import SqliteStore  # noqa: E402

# "massage OR nouvelle" matches a2, b1 and a3, recorded in that order.
TEXT = "massage OR nouvelle"
ORDER = ["a2", "b1", "a3"]
ID = {ad_id_for(s, x): x for s in ("alpha", "beta") for x in ORDER}


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "limit.sqlite3")
    seed(s)
    yield s
    s.close()


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


def test_a_facet_out_of_time_leaves_the_page_match_set_and_transaction_alone(tmp_path):
    """An interrupted write inside a read transaction rolls the whole transaction back,
    temp tables and all; a selected facet's own set is therefore made outside its
    deadline, and only its read is interrupted."""
    from contract_data import at, enr, obs

    from indexer.store import sqlite_search

    s = SqliteStore(tmp_path / "slow.sqlite3")
    try:
        s.write_many([(obs("alpha", f"s{i}", at(1, minute=i % 60), f"girl {i}"),
                       enr((f"+3161234{i:04d}",), ("Utrecht",))) for i in range(3000)])
        q = replace(parse_args({"q": "girl", "f.site": "alpha"}), count_limit=5000)
        with s._borrow() as conn:
            conn.execute("BEGIN")
            kept, _ = sqlite_search._keep(conn, sqlite_search.MATCHES, q)
            site = sqlite_search.run_facet(conn, q, "site", 0)
            assert site.timed_out
            assert conn.in_transaction
            assert conn.execute(f"SELECT count(*) FROM {sqlite_search.MATCHES}").fetchone()[0] == kept == 3000
            conn.execute("COMMIT")
    finally:
        s.close()
