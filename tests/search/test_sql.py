"""The Query → SQL compiler is pure: checked here without a database connection."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date

import pytest

from indexer.search.parse import parse_args, parse_text
from indexer.search.query import COUNT_LIMIT, FACETS
from indexer.search.sql import (
    HELD,
    compile_facet_from,
    compile_matches,
    compile_search,
    day_end,
    entity_filters,
    fts_expression,
)


def q(**args):
    return parse_args(args)


def test_plain_text_goes_to_one_fts_match_with_every_term_quoted():
    assert fts_expression(q(q='girl "new in town" mass* a OR b')) == (
        '"girl" AND "new in town" AND "mass" * AND ("a" OR "b")')


def test_typed_fts_operators_stay_literal():
    expr = fts_expression(q(q='NEAR(x) AND "y""z" ^col:1'))
    assert expr.startswith('"NEAR(x)" AND "AND"')
    assert '"^col:1"' in expr


def test_fields_and_exclusions_become_sql_conditions_with_params():
    sql, params = compile_search(q(q="-agency city:utrecht phone:0612345678"))
    assert "NOT (v.rowid IN (SELECT rowid FROM versions_fts WHERE versions_fts MATCH ?))" in sql
    assert params.count('"agency"') == 1
    assert params[params.index("place"):params.index("place") + 2] == ["place", "utrecht"]
    assert "+31612345678" in params
    assert "utrecht" not in sql and "agency" not in sql  # values only ever as parameters


def test_placeholders_and_params_agree_for_every_sort_and_facet():
    base = q(q="girl -x site:a OR city:b*", **{"f.site": ["s1", "s2"], "f.risk": ["high"],
                                               "as_of": "2026-03-01", "from": "2026-01-01"})
    for sort in ("relevance", "newest", "oldest", "risk"):
        sql, params = compile_search(replace(base, sort=sort))
        assert sql.count("?") == len(params)
    for dense in (frozenset(), frozenset({("place", ("b",))})):
        for facet in ("", *FACETS):
            sql, params = compile_matches(base, facet, dense)
            assert sql.count("?") == len(params) and params[-1] == COUNT_LIMIT + 1
    for facet in FACETS:
        compiled = compile_facet_from(base, facet, "m")
        if compiled:
            assert compiled[0].count("?") == len(compiled[1])


def test_a_facet_leaves_out_only_its_own_selection():
    query = q(**{"f.site": ["alpha"], "f.city": ["Utrecht"]})
    _, site_params = compile_matches(query, "site")
    assert "alpha" not in site_params and "Utrecht" in site_params
    _, city_params = compile_matches(query, "city")
    assert "alpha" in city_params and "Utrecht" not in city_params
    _, listed = compile_facet_from(query, "site", "m")
    assert listed == ["alpha", query.facet_size + 1]  # the selection only to list it first


def test_dense_entity_conditions_are_probed_per_row_and_sparse_ones_drive():
    query = q(q="city:utrecht phone:0612345678", **{"f.city": ["Utrecht", "Breda"]})
    assert entity_filters(query) == [("place", ("Utrecht", "Breda")), ("place", ("utrecht",)),
                                     ("phone", ("+31612345678",))]
    sparse, _ = compile_matches(query)
    assert sparse.count("v.rowid IN (SELECT version_rowid FROM entities") == 3
    dense, params = compile_matches(query, dense=frozenset({("place", ("Utrecht", "Breda"))}))
    assert dense.count("EXISTS (SELECT 1 FROM entities e WHERE e.version_rowid = a.current_rowid") == 1
    with_text, _ = compile_matches(replace(query, clauses=query.clauses + parse_text("girl")),
                                   dense=frozenset({("place", ("Utrecht", "Breda"))}))
    assert "e.version_rowid = versions_fts.rowid" in with_text  # probed before the row is read
    assert dense.count("v.rowid IN (SELECT version_rowid FROM entities") == 2
    assert params == compile_matches(query)[1]  # the same values either way


def test_the_match_set_is_cut_in_an_order_sqlite_walks_without_sorting():
    assert "ORDER BY versions_fts.rowid DESC LIMIT ?" in compile_matches(q(q="girl"))[0]
    assert "ORDER BY versions_fts.rowid ASC LIMIT ?" in compile_matches(q(q="girl", sort="oldest"))[0]
    assert "ORDER BY a.first_seen DESC, a.id LIMIT ?" in compile_matches(q(**{"f.site": ["a"]}))[0]


def test_as_of_is_a_range_test_at_the_end_of_the_day():
    assert day_end(date(2026, 3, 1)) == "2026-03-02T00:00:00.000000Z"
    sql, params = compile_search(q(as_of="2026-03-01"))
    assert "v.valid_to IS NULL OR v.valid_to >= ?" in sql and "absences" in sql
    assert params.count("2026-03-02T00:00:00.000000Z") == 5
    assert "a.current_rowid" not in sql
    assert "v.rowid = a.current_rowid" in compile_search(q())[0]


def test_date_range_and_sorts():
    sql, params = compile_search(q(**{"from": "2026-03-01", "to": "2026-03-02"}, sort="oldest"))
    assert "a.first_seen >= ?" in sql and "a.first_seen < ?" in sql
    assert "2026-03-01T00:00:00.000000Z" in params and "2026-03-03T00:00:00.000000Z" in params
    assert "ORDER BY a.first_seen ASC" in sql
    assert "bm25" in compile_search(q(q="girl"))[0]
    assert "bm25" not in compile_search(q())[0]


def test_assessment_facet_and_filter_read_the_current_label():
    sql, params = compile_matches(q(**{"f.assessment": ["yes"]}))
    assert "ad_assessment" in sql and "yes" in params
    facet_sql, _ = compile_facet_from(q(), "assessment", "m")
    assert "ad_assessment" in facet_sql


@pytest.mark.parametrize("facet", list(FACETS))
def test_every_compiled_facet_is_valid_sql_for_the_schema(facet):
    """Prepared against the real schema in memory: a syntax error would fail here."""
    from indexer.store.sqlite_assessments import DDL as ASSESSMENT_DDL
    from indexer.store.sqlite_schema import DDL

    conn = sqlite3.connect(":memory:")
    conn.executescript(DDL)
    conn.executescript(ASSESSMENT_DDL)
    query = q(q="girl -x city:utrecht", **{"f.site": ["a"], "f.status": ["live"], "as_of": "2026-01-01"})
    held = frozenset((kind, values, HELD) for kind, values in entity_filters(query))
    for dense in (frozenset(), frozenset(entity_filters(query)), held):
        conn.execute("DROP TABLE IF EXISTS m")
        conn.execute("CREATE TEMP TABLE m AS " + compile_matches(query, facet, dense)[0],
                     compile_matches(query, facet, dense)[1])
        compiled = compile_facet_from(query, facet, "m")
        if compiled:
            assert conn.execute(*compiled).fetchall() == []
    assert conn.execute(*compile_search(query)).fetchall() == []


@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_a_theme_wall_filters_the_newest_first_walk_instead_of_sorting_every_ad(tmp_path, sort):
    """Behind a theme wall the first page must come from the ordered index (no sort of
    every ad of the theme): the wall alone made a browse 350 ms at 100k ads."""
    from indexer.store.sqlite import SqliteStore

    path = tmp_path / "plan.sqlite3"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    try:
        sql, params = compile_search(replace(q(sort=sort), themes=("trafficking",)))
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        conn.close()
    assert "ads_newest_rows" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan
