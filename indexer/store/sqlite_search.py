"""Run a compiled search on a connection: hits, total and facets under a time limit.

Each facet query runs under a deadline enforced by SQLite's progress handler; a facet that
runs out is returned empty with ``timed_out`` so the page still renders (as Datasette does).
"""

from __future__ import annotations

import sqlite3
import time

from indexer.search.query import FACETS, RISK_BANDS, FacetResult, FacetValue, Query, SearchResult
from indexer.search.sql import (
    compile_count,
    compile_facet,
    compile_facet_from,
    compile_matches,
    compile_search,
)
from indexer.search.sql_counted import compile_facet_counted, compile_total, countable
from indexer.search.sql_matches import compile_page_from
from indexer.store.base import StoreError
from indexer.store.sqlite_read import hit

_RISK_ORDER = [b[0] for b in RISK_BANDS]
MATCHES = "temp.adtrace_matches"  # per connection, so per thread: no two searches share it


Counted = tuple[int, tuple[FacetResult, ...]]


def search(conn: sqlite3.Connection, q: Query, facet_time_limit_ms: int, path: str,
           counted: Counted | None = None) -> SearchResult:
    """One page of hits, the total and the facets (``counted``: total and facets already
    known for this query and this state of the data, e.g. when only the page changed)."""
    started = time.perf_counter()
    try:
        if counted is not None:
            rows = conn.execute(*compile_search(q)).fetchall()
            total, facets = counted
        elif countable(q):  # every current ad: the maintained counts
            rows = conn.execute(*compile_search(q)).fetchall()
            total = int(conn.execute(*compile_total(q)).fetchone()[0])
            facets = tuple(run_facet(conn, q, f, facet_time_limit_ms, compile_facet_counted(q, f))
                           for f in q.facets if f in FACETS)
        elif _keeps_matches(q):
            total, rows, facets = _from_matches(conn, q, facet_time_limit_ms)
        else:  # only facets with a selection of their own: each runs its own query
            rows = conn.execute(*compile_search(q)).fetchall()
            total = int(conn.execute(*compile_count(q)).fetchone()[0])
            facets = tuple(run_facet(conn, q, f, facet_time_limit_ms) for f in q.facets if f in FACETS)
    except sqlite3.OperationalError as exc:
        raise StoreError(f"sqlite store {path}: search {q.text!r} failed: {exc}") from exc
    took = (time.perf_counter() - started) * 1000
    return SearchResult(query=q, total=total, hits=tuple(hit(r) for r in rows), facets=facets,
                        took_ms=round(took, 1))


def _keeps_matches(q: Query) -> bool:
    """The match set is worth keeping in a temp table only if some facet will count it."""
    return any(f in FACETS and not q.filters.get(f) for f in q.facets)


def _from_matches(conn: sqlite3.Connection, q: Query, limit_ms: int) -> tuple[int, list, tuple]:
    """Total, page and facets from one match set: matched and ranked once, the page
    sorted from its narrow rows."""
    sql, params = compile_matches(q)
    conn.execute(f"DROP TABLE IF EXISTS {MATCHES}")
    try:
        conn.execute(f"CREATE TABLE {MATCHES} AS {sql}", params)
        total = int(conn.execute(f"SELECT count(*) FROM {MATCHES}").fetchone()[0])
        rows = conn.execute(*compile_page_from(q, MATCHES)).fetchall()
        facets = tuple(run_facet(conn, q, f, limit_ms) for f in q.facets if f in FACETS)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {MATCHES}")
    return total, rows, facets


def _deadline_rows(conn: sqlite3.Connection, compiled: tuple[str, list[object]],
                   limit_ms: int) -> list | None:
    """The rows, or None if the query ran past limit_ms (interrupted by SQLite)."""
    deadline = time.perf_counter() + limit_ms / 1000
    conn.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1000)
    try:
        return conn.execute(*compiled).fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        return None
    finally:
        conn.set_progress_handler(None, 0)


def run_facet(conn: sqlite3.Connection, q: Query, facet: str, limit_ms: int,
              counted: tuple[str, list[object]] | None = None) -> FacetResult:
    """One facet's values; a query past its deadline is interrupted and marked timed out.

    A facet with a selection of its own counts without that selection (multi-select), so
    it runs its own query; every other facet counts the shared match set (or ``counted``:
    SQL over the maintained counts).
    """
    if counted is not None:
        compiled: tuple[str, list[object]] | None = counted
    elif q.filters.get(facet):
        compiled = compile_facet(q, facet)
    else:
        compiled = compile_facet_from(q, facet, MATCHES)
    label = FACETS[facet]
    if compiled is None:
        return FacetResult(facet, label, _selected_only(q, facet))
    rows = _deadline_rows(conn, compiled, limit_ms)
    if rows is None:
        return FacetResult(facet, label, _selected_only(q, facet), timed_out=True)
    return _result(q, facet, [(r[0], r[1]) for r in rows])


def _result(q: Query, facet: str, rows: list[tuple[object, object]]) -> FacetResult:
    """facet_size + 1 (value, count) rows as the facet: the extra one says it was cut."""
    label = FACETS[facet]
    selected = {v.casefold() for v in q.filters.get(facet, ())}
    values = [FacetValue(str(r[0]), _label(facet, str(r[0])), int(r[1]), str(r[0]).casefold() in selected)
              for r in rows[: q.facet_size] if r[0] is not None]
    if facet == "risk":
        values.sort(key=lambda v: _RISK_ORDER.index(v.value) if v.value in _RISK_ORDER else 99)
    return FacetResult(facet, label, tuple(values), truncated=len(rows) > q.facet_size)


def _selected_only(q: Query, facet: str) -> tuple[FacetValue, ...]:
    """What a facet shows when it could not count: the selection, so it can be undone."""
    return tuple(FacetValue(v, _label(facet, v), 0, True) for v in q.filters.get(facet, ()))


def _label(facet: str, value: str) -> str:
    if facet == "first_seen":
        return f"week of {value}"
    if facet in ("risk", "status"):
        return value.capitalize()
    return value
