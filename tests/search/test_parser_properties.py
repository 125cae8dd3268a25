"""Property-based: thousands of random and hostile queries through the parser and both
backends' query builders. Only QueryError may come out; the SQL built always runs on a
real SQLite store; the Elasticsearch body is always plain JSON."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.search import sql
from indexer.search.parse import FIELDS, parse_args
from indexer.search.query import FACETS, SORTS, QueryError
from indexer.store import elastic_query

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from contract_data import seed  # noqa: E402

HOSTILE = ['"', "'", "*", "-", ":", "(", ")", "NEAR", "AND", "OR", "NOT", "^", "\\", "%", "_",
           ";", "--", "/*", "*/", "'; DROP TABLE ads; --", "<script>", "\x00", "\ue000",
           "\ue001", "ﬁ", "İ", "🙂", "+31 6 1234 5678", "0612345678", "{", "}", "[", "]",
           "col:", "title:", "rowid", "\u202e", "\n", "\t", "  "]
WORDS = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from([f"{f}:" for f in FIELDS] + [f"-{f}:" for f in FIELDS]),
    st.text(min_size=0, max_size=12),
    st.text(alphabet="abc123\"*-:+ ", min_size=1, max_size=8),
)
TEXT = st.lists(WORDS, max_size=8).map("".join) | st.lists(WORDS, max_size=8).map(" ".join)
VALUE = st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE),
                  st.sampled_from(["2026-03-02", "2026-W10", "low", "high", "none", "1", "0",
                                   "10001", "-1", "2026-02-30"]))
KEYS = st.sampled_from(["q", "from", "to", "as_of", "sort", "page", "per_page"]
                       + [f"f.{f}" for f in FACETS] + ["f.nope", "zzz"])
ANY_ARGS = st.dictionaries(KEYS, st.one_of(VALUE, TEXT, st.lists(VALUE, max_size=3),
                                           st.sampled_from(list(SORTS))), max_size=6)
# mostly well-formed requests with hostile text and filter values, so most of them get
# past the parser and reach the builders and the database
Q_ARGS = st.fixed_dictionaries({"q": TEXT}, optional={
    "sort": st.sampled_from(list(SORTS)),
    "f.site": st.lists(VALUE, max_size=3), "f.city": st.lists(VALUE, max_size=3),
    "f.phone": VALUE, "f.indicator": VALUE, "f.lang": VALUE, "f.status": VALUE,
    "f.theme": VALUE, "f.assessment": VALUE, "f.signal": VALUE,
    "f.risk": st.sampled_from(["none", "low", "high", "medium"]),
    "from": st.sampled_from(["2026-03-01", "2020-01-01"]),
    "as_of": st.sampled_from(["2026-03-05", "2019-01-01"]),
    "page": st.sampled_from(["1", "2"]), "per_page": st.sampled_from(["1", "50"])})
ARGS = st.one_of(ANY_ARGS, Q_ARGS, Q_ARGS, Q_ARGS)


def _parse(args: dict):  # noqa: ANN202 - Query or None
    try:
        return parse_args(args)
    except QueryError:
        return None


@settings(max_examples=2500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ARGS)
def test_parser_and_builders_raise_only_query_error(args: dict) -> None:
    q = _parse(args)
    if q is None:
        return
    for build in (lambda: sql.compile_search(q), lambda: sql.compile_matches(q),
                  lambda: [sql.compile_matches(q, f, frozenset(sql.entity_filters(q))) for f in FACETS],
                  lambda: [sql.compile_facet_from(q, f, "m") for f in FACETS],
                  lambda: json.dumps(elastic_query.compile_search(q)),
                  lambda: json.dumps(elastic_query.compile_search(
                      q, themes={"alpha": "trafficking"}))):
        with contextlib.suppress(QueryError):
            build()


@pytest.fixture(scope="module")
def store(tmp_path_factory):  # noqa: ANN001, ANN201 - pytest fixture
    from indexer.store.sqlite import SqliteStore

    s = SqliteStore(tmp_path_factory.mktemp("props") / "props.sqlite3")
    seed(s)
    yield s
    s.close()


@settings(max_examples=600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ARGS, st.sampled_from([(), tuple(FACETS)]))
def test_built_sql_always_runs_on_a_real_store(store, args: dict, facets: tuple) -> None:
    q = _parse(args)
    if q is None:
        return
    q = replace(q, facets=facets or q.facets, page=min(q.page, 3))
    try:
        result = store.search(q)
    except QueryError:
        return
    assert result.total >= len(result.hits) >= 0
