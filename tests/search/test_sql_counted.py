"""Which queries the maintained counts answer, and the SQL they compile to (no I/O)."""

from __future__ import annotations

from datetime import date

import pytest

from indexer.search.query import FACETS, Clause, Query, Term
from indexer.search.sql_counted import compile_facet_counted, compile_total, countable


@pytest.mark.parametrize("q", [
    Query(), Query(sort="risk", page=7), Query(themes=("trafficking",)), Query(themes=()),
    Query(filters={"city": ()}),  # an empty selection selects nothing
])
def test_every_current_ad_queries_are_countable(q):
    assert countable(q)


@pytest.mark.parametrize("q", [
    Query(clauses=(Clause((Term("word", "massage"),)),)),
    Query(clauses=(Clause((Term("word", "+31612345678", field="phone"),)),)),
    Query(filters={"city": ("Utrecht",)}),
    Query(as_of=date(2026, 3, 1)),
    Query(date_from=date(2026, 3, 1)),
    Query(date_to=date(2026, 3, 1)),
])
def test_narrowed_queries_are_not(q):
    assert not countable(q)


def test_every_facet_compiles_with_its_size_and_the_theme_wall():
    q = Query(themes=("trafficking", "other"), facet_size=7)
    for facet in FACETS:
        sql, params = compile_facet_counted(q, facet)
        assert params[-1] == 8  # one more than shown, to know whether it was cut
        assert "trafficking" in params and "other" in params and "theme IN (?,?)" in sql
    sql, params = compile_total(q)
    assert "facet = 'status'" in sql and params == ["trafficking", "other"]


def test_no_themes_allowed_counts_nothing_and_unknown_facets_are_none():
    assert "AND 0" in compile_total(Query(themes=()))[0]
    assert compile_facet_counted(Query(), "no-such-facet") is None


def test_entity_facets_group_case_insensitively_like_the_entities_table():
    sql, params = compile_facet_counted(Query(themes=("trafficking",)), "city")
    assert "COLLATE NOCASE" in sql and params[0] == "e:place"


def test_without_a_wall_facets_are_read_from_the_all_source_totals():
    for facet in FACETS:
        compiled = compile_facet_counted(Query(facet_size=4), facet)
        assert compiled is not None, facet
        sql, params = compiled
        assert sql.count("?") == len(params) and params[-1] == 5
        assert ("facet_totals" in sql) == (facet != "assessment")
    assert compile_facet_counted(Query(), "first_seen")[1][0] == "week"
    assert "facet_totals" in compile_total(Query())[0]
