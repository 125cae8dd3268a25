"""Facets whose own set the kept counts hold are read from them: exact, however many match.

A site selection only narrows which sources' counts are summed, so a query narrowed by
sites alone is answered from the counts; a facet whose own set (the query without its
own selection) is such a query is too; and so is the site facet of a query narrowed by
one kept value. Each answer must equal the one counted from the matches (the path used
before), and stay exact when the match set is cut at count_limit.
"""

from __future__ import annotations

from itertools import product

import pytest
from contract_data import PHONE_A, at, enr, obs

from indexer.search import sql_counted
from indexer.search.query import FACETS, Query
from indexer.store import sqlite_search
from indexer.store.sqlite import SqliteStore

ALL = tuple(FACETS)
SELECTIONS = [
    {"site": ("alpha",)}, {"site": ("alpha", "beta")}, {"site": ("nowhere",)},
    {"city": ("Utrecht",)}, {"city": ("utrecht",)}, {"city": ("Antwerpen", "Utrecht")},
    {"city": ("Utrecht",), "site": ("alpha",)}, {"lang": ("en",)}, {"lang": ("en", "nl")},
    {"risk": ("none", "high")}, {"status": ("live",)}, {"phone": (PHONE_A,)},
    {"indicator": ("youth",), "site": ("beta", "gamma")}, {"indicator": ("youth",), "city": ("Antwerpen",)},
    {"theme": ("other",)}, {"theme": ("other",), "site": ("alpha",)},
]
THEMES = [None, ("trafficking",), ("other",)]


def _old_countable(q: Query) -> bool:
    """What the store answered from the counts before: no selection at all."""
    return not q.clauses and not any(q.filters.values()) and q.as_of is None \
        and q.date_from is None and q.date_to is None


def _both(store: SqliteStore, q: Query, monkeypatch: pytest.MonkeyPatch):
    store.forget_answers()
    fast = store.search(q)
    with monkeypatch.context() as m:
        m.setattr(sqlite_search, "countable", _old_countable)
        m.setattr(sqlite_search, "compile_facet_own", lambda q, f: None)
        store.forget_answers()
        slow = store.search(q)
    store.forget_answers()
    return fast, slow


@pytest.mark.parametrize(("filters", "themes"), list(product(SELECTIONS, THEMES)))
def test_counted_answers_equal_the_ones_from_the_matches(store, monkeypatch, filters, themes):
    store.mark_removed("beta", "b2", at(4), "gone")  # a removed ad: status differs
    for sort in ("newest", "risk"):
        q = Query(filters=filters, themes=themes, facets=ALL, sort=sort)
        fast, slow = _both(store, q, monkeypatch)
        assert (fast.total, fast.total_is_lower_bound) == (slow.total, slow.total_is_lower_bound)
        assert [h.ad_id for h in fast.hits] == [h.ad_id for h in slow.hits]
        assert fast.facets == slow.facets, (filters, themes, sort)


def test_site_selection_and_own_sets_stay_exact_past_the_count_limit(tmp_path):
    """With count_limit 1 the match set says "more"; the counted parts do not sample."""
    with SqliteStore(tmp_path / "s.sqlite3") as s:
        s.write_many([(obs("alpha" if i % 3 else "beta", f"x{i}", at(1, minute=i), f"ad {i}"),
                       enr((), ("Utrecht" if i % 2 else "Amsterdam",), lang="nl" if i % 4 else "en"))
                      for i in range(24)])
        by_site = s.search(Query(filters={"site": ("alpha",)}, facets=ALL, count_limit=1))
        assert by_site.total == 16 and not by_site.total_is_lower_bound
        assert {v.value: v.count for v in _facet(by_site, "city").values} == {"Utrecht": 8, "Amsterdam": 8}
        assert {v.value: v.count for v in _facet(by_site, "site").values} == {"alpha": 16, "beta": 8}
        assert not any(f.sampled for f in by_site.facets)

        by_city = s.search(Query(filters={"city": ("Amsterdam",)}, facets=ALL, count_limit=1))
        assert by_city.total_is_lower_bound  # the page's own set is cut ...
        assert _facet(by_city, "lang").sampled  # ... and so are facets counted over it,
        city, site = _facet(by_city, "city"), _facet(by_city, "site")
        assert not city.sampled and not site.sampled  # but not those the counts hold
        assert {v.value: v.count for v in city.values} == {"Utrecht": 12, "Amsterdam": 12}
        assert {v.value: v.count for v in site.values} == {"alpha": 8, "beta": 4}


def test_which_facets_compile_from_the_counts():
    own = sql_counted.compile_facet_own
    assert own(Query(filters={"site": ("a",)}), "city") is not None
    assert own(Query(filters={"city": ("Breda",)}), "city") is not None  # its own set: all
    assert own(Query(filters={"city": ("Breda",)}), "site") is not None  # one kept value
    assert own(Query(filters={"city": ("Breda", "Gent")}), "site") is None  # an ad may have both
    assert own(Query(filters={"lang": ("nl", "en")}), "site") is not None  # one per ad
    assert own(Query(filters={"city": ("Breda",)}), "lang") is None  # a cross count: not kept
    assert own(Query(filters={"city": ("Breda",), "lang": ("nl",)}), "site") is None
    sql, params = own(Query(filters={"site": ("a", "b")}, themes=("t",)), "city")
    assert sql.count("?") == len(params) and params[1:4] == ["t", "a", "b"]


def _facet(result, name):  # type: ignore[no-untyped-def]
    return next(f for f in result.facets if f.name == name)
