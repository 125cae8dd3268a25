"""Run a compiled search on a connection: hits, total and facets, bounded in work.

Every search but a plain browse of all current ads (answered from the maintained counts)
first keeps its matches in a temp table, at most ``count_limit`` of them: the page is
sorted from that set, and the total and facets are counted over it. A word that matches
every one of a million ads therefore costs what count_limit matches cost; the result then
says its total is a lower bound and its facets are sampled. Each facet runs under a
deadline enforced by SQLite's progress handler; a facet that runs out is returned empty
with ``timed_out`` so the page still renders (as Datasette does).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from indexer.search.query import FACETS, RISK_BANDS, FacetResult, FacetValue, Query, SearchResult
from indexer.search.sql import (
    ENTITY_KINDS,
    Dense,
    compile_facet_from,
    compile_matches,
    compile_search,
    count_limit,
    in_sample_order,
)
from indexer.search.sql_counted import (
    compile_facet_counted,
    compile_facet_own,
    compile_kind_present,
    compile_total,
    countable,
    own_set,
)
from indexer.search.sql_matches import compile_page_from
from indexer.store import sqlite_scoring
from indexer.store.base import StoreError
from indexer.store.sqlite_plan import dense_filters
from indexer.store.sqlite_read import hit
from indexer.store.sqlite_scoring import RunApart

_RISK_ORDER = [b[0] for b in RISK_BANDS]
# Per connection, so per thread: no two searches share them.
MATCHES = "temp.adtrace_matches"
FACET_MATCHES = "temp.adtrace_facet_matches"  # a facet's own: without its own selection


# (total, total is a lower bound, facets): what paging through one search reuses.
Counted = tuple[int, bool, tuple[FacetResult, ...]]


def search(conn: sqlite3.Connection, q: Query, facet_time_limit_ms: int, path: str,
           counted: Counted | None = None, apart: RunApart | None = None,
           generation: str = "") -> SearchResult:
    """One page of hits, the total and the facets (``counted``: total and facets already
    known for this query and this state of the data, e.g. when only the page changed).
    ``apart``: runs a statement on another connection (sqlite_scoring), for the text
    scores of a large store; ``generation``: the store's, as this connection reads it."""
    started = time.perf_counter()
    try:
        if countable(q):  # every current ad: counts are kept
            total, lower, facets = counted or (
                int(conn.execute(*compile_total(q)).fetchone()[0]), False,
                tuple(run_facet(conn, q, f, facet_time_limit_ms, counted=compile_facet_counted(q, f))
                      for f in q.facets if f in FACETS))
            if q.sort == "risk":  # no index gives this order: sorted among the newest
                _, cut, rows, _ = _from_matches(conn, replace(q, facets=()), facet_time_limit_ms)
            else:  # newest / oldest: a walk of the first-seen index
                rows, cut = conn.execute(*compile_search(q)).fetchall(), False
        else:
            total, lower, rows, facets = _from_matches(conn, q, facet_time_limit_ms, counted,
                                                       apart, generation)
            cut = lower
    except sqlite3.OperationalError as exc:
        raise StoreError(f"sqlite store {path}: search {q.text!r} failed: {exc}") from exc
    took = (time.perf_counter() - started) * 1000
    return SearchResult(query=q, total=total, hits=tuple(hit(r) for r in rows), facets=facets,
                        took_ms=round(took, 1), total_is_lower_bound=lower,
                        order_sampled=cut and not in_sample_order(q))


def _keep(conn: sqlite3.Connection, table: str, q: Query, skip_facet: str = "",
          dense: Dense | None = None, scored: bool = True) -> tuple[int, bool]:
    """Fill ``table`` with q's matches, at most count_limit: (how many, whether more match).
    ``dense``: the plan's probed conditions, if already chosen; ``scored``: see
    compile_matches."""
    if dense is None:
        dense = dense_filters(conn, own_set(q, skip_facet))
    sql, params = compile_matches(q, skip_facet, dense, scored)
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} AS {sql}", params)
    kept = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    if kept <= count_limit(q):
        return kept, False
    # the one past the limit only said "more": inserted last, in the sample's order
    conn.execute(f"DELETE FROM {table} WHERE rowid = (SELECT max(rowid) FROM {table})")
    return count_limit(q), True


def _from_matches(conn: sqlite3.Connection, q: Query, limit_ms: int,
                  counted: Counted | None = None, apart: RunApart | None = None,
                  generation: str = "") -> tuple[int, bool, list, tuple]:
    """Total, page and facets from one bounded match set: matched and ranked once, the
    page sorted from its narrow rows. On a large store with a second core, the text
    scores are computed apart while the facets are counted (sqlite_scoring)."""
    try:
        dense = dense_filters(conn, q)
        scoring = None
        if apart is not None and counted is None and sqlite_scoring.worth_apart(conn, q):
            scoring = sqlite_scoring.start(apart, q, dense)
        kept, lower = _keep(conn, MATCHES, q, dense=dense, scored=scoring is None)
        facets = counted[2] if counted is not None else tuple(
            run_facet(conn, q, f, limit_ms, sampled=lower) for f in q.facets if f in FACETS)
        if scoring is not None and not sqlite_scoring.fill(conn, MATCHES, kept, generation, scoring):
            _keep(conn, MATCHES, q, dense=dense)  # read from other data: scored here after all
        rows = conn.execute(*compile_page_from(q, MATCHES)).fetchall()
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {MATCHES}")
    if counted is not None:
        return counted[0], counted[1], rows, counted[2]
    return kept, lower, rows, facets


@contextmanager
def _deadline(conn: sqlite3.Connection, limit_ms: int) -> Iterator[None]:
    """SQLite interrupts any statement of this block once limit_ms have passed."""
    deadline = time.perf_counter() + limit_ms / 1000
    conn.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


def run_facet(conn: sqlite3.Connection, q: Query, facet: str, limit_ms: int, *,
              sampled: bool = False, counted: tuple[str, list[object]] | None = None
              ) -> FacetResult:
    """One facet's values; a facet past its deadline is interrupted and marked timed out.

    ``counted``: SQL over the maintained counts, also used when the kept counts hold the
    facet's own set (``compile_facet_own``). Otherwise a facet with no selection of
    its own counts the shared match set (``sampled``: that set was cut at count_limit); a
    facet with a selection counts without it (multi-select), so it keeps its own set.
    """
    label = FACETS[facet]
    counted = counted or compile_facet_own(q, facet)  # exact, from the kept counts
    sampled = sampled and counted is None
    try:
        if counted is None and q.filters.get(facet):
            # Made outside the deadline (bounded by count_limit, like the page's own set):
            # an interrupted write rolls back the whole read transaction, and with it the
            # page's match set.
            sampled = _keep(conn, FACET_MATCHES, q, skip_facet=facet)[1]
            compiled = compile_facet_from(q, facet, FACET_MATCHES)
        elif counted is None and _absent(conn, q, facet):
            compiled = None  # no current ad has such a value: nothing to count
        else:
            compiled = counted or compile_facet_from(q, facet, MATCHES)
        with _deadline(conn, limit_ms):  # a read only: interrupting it rolls nothing back
            rows = None if compiled is None else conn.execute(*compiled).fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        return FacetResult(facet, label, _selected_only(q, facet), timed_out=True)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {FACET_MATCHES}")
    if rows is None:
        return FacetResult(facet, label, _selected_only(q, facet))
    return _result(q, facet, [(r[0], r[1]) for r in rows], sampled)


def _absent(conn: sqlite3.Connection, q: Query, facet: str) -> bool:
    """True if no current ad has a value for this entity facet (signals before the first
    `adtrace signals`, e-mail on sites without any): its count over the matches would
    probe every match for nothing. Not for "as of", which counts older versions."""
    if facet not in ENTITY_KINDS or q.as_of is not None:
        return False
    return conn.execute(*compile_kind_present(ENTITY_KINDS[facet])).fetchone() is None


def _result(q: Query, facet: str, rows: list[tuple[object, object]], sampled: bool) -> FacetResult:
    """facet_size + 1 (value, count) rows as the facet: the extra one says it was cut."""
    label = FACETS[facet]
    selected = {v.casefold() for v in q.filters.get(facet, ())}
    values = [FacetValue(str(r[0]), _label(facet, str(r[0])), int(r[1]), str(r[0]).casefold() in selected)
              for r in rows[: q.facet_size] if r[0] is not None]
    if facet == "risk":
        values.sort(key=lambda v: _RISK_ORDER.index(v.value) if v.value in _RISK_ORDER else 99)
    return FacetResult(facet, label, tuple(values), truncated=len(rows) > q.facet_size,
                       sampled=sampled)


def _selected_only(q: Query, facet: str) -> tuple[FacetValue, ...]:
    """What a facet shows when it could not count: the selection, so it can be undone."""
    return tuple(FacetValue(v, _label(facet, v), 0, True) for v in q.filters.get(facet, ()))


def _label(facet: str, value: str) -> str:
    if facet == "first_seen":
        return f"week of {value}"
    if facet in ("risk", "status"):
        return value.capitalize()
    return value
