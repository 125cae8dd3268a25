"""The page taken from the kept match set equals the page the direct query returns."""

from __future__ import annotations

from datetime import date

from indexer.search.parse import parse_text
from indexer.search.query import FACETS, Query
from indexer.search.sql import compile_search
from indexer.store import sqlite_search
from indexer.store.sqlite_read import hit


def _queries() -> list[Query]:
    out = []
    for text in ("", "massage", "a* OR b*"):
        for sort in ("relevance", "newest", "oldest", "risk"):
            for page, per_page in ((1, 20), (1, 2), (2, 2)):
                out.append(Query(text=text, clauses=parse_text(text), sort=sort, page=page,
                                 per_page=per_page, facets=tuple(FACETS)))
    out.append(Query(as_of=date(2026, 3, 1), sort="risk", facets=tuple(FACETS)))
    out.append(Query(filters={"city": ("Utrecht",)}, facets=tuple(FACETS)))
    return out


def test_page_from_matches_equals_direct_page(store):
    checked = nonempty = 0
    with store._borrow() as conn:
        for q in _queries():
            direct = [hit(r) for r in conn.execute(*compile_search(q)).fetchall()]
            if sqlite_search.countable(q):
                continue
            total, lower, rows, _facets = sqlite_search._from_matches(conn, q, 5000, None)
            assert [hit(r) for r in rows] == direct, q
            assert total >= len(direct) and not lower
            checked += 1
            nonempty += bool(direct and q.clauses)
    assert checked >= 20 and nonempty >= 5
