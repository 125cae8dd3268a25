"""Query → SQL over the maintained counts (indexer.store.sqlite_counts): pure functions.

Only a query that searches every current ad of some sources (no text, no field terms,
no facet selection but sites, no date range, not "as of") can be answered from the
counts: without a theme wall or site selection from the all-source totals (top values by
an index walk), else by summing over the sources allowed and selected. A facet whose own
set (the query without the facet's own selection: multi-select) is such a query is
counted the same way, exactly, however many ads match; so is the site facet of a query
narrowed by one kept value (counts are kept per source). Anything else returns None and
is counted from the matches as before.
"""

from __future__ import annotations

from dataclasses import replace

from indexer.search.query import Query
from indexer.search.sql import ENTITY_KINDS, Params, _facet_order, _in

TABLE = "facet_counts"
TOTALS = "facet_totals"  # the same over all sources (indexer.store.sqlite_totals)


# Column facets counted per source under their own name; each current ad has exactly one
# value of each, so a sum over several of their values is exact.
KEPT_COLUMNS = ("site", "lang", "risk", "status")


def countable(q: Query) -> bool:
    """True if the total and facets of q are exactly the maintained counts."""
    return (not q.clauses and not any(v for f, v in q.filters.items() if f != "site")
            and q.as_of is None and q.date_from is None and q.date_to is None)


def own_set(q: Query, facet: str) -> Query:
    """The query a facet counts over: q without the facet's own selection (multi-select)."""
    if not q.filters.get(facet):
        return q
    return replace(q, filters={k: v for k, v in q.filters.items() if k != facet})


def _sites(q: Query) -> tuple[str, ...]:
    return tuple(q.filters.get("site") or ())


def _scope(q: Query) -> tuple[str, Params]:
    """The sources q may see (theme walls) and has selected, as a condition on ``c.source_id``."""
    conds: list[str] = []
    params: Params = []
    if q.themes is not None:
        if not q.themes:
            return "0", []
        conds.append(f"c.source_id IN (SELECT id FROM sources WHERE theme IN ({_in(q.themes)}))")
        params += q.themes
    if _sites(q):
        conds.append(f"c.source_id IN ({_in(_sites(q))})")
        params += _sites(q)
    return " AND ".join(conds) or "1", params


def compile_total(q: Query) -> tuple[str, Params]:
    """Every current ad has exactly one status, so the status counts sum to the total."""
    if q.themes is None and not _sites(q):
        return f"SELECT coalesce(sum(n), 0) FROM {TOTALS} WHERE facet = 'status'", []
    scope, params = _scope(q)
    return f"SELECT coalesce(sum(c.n), 0) FROM {TABLE} c WHERE c.facet = 'status' AND {scope}", params


def compile_size(key: str, values: tuple[str, ...]) -> tuple[str, Params]:
    """How many current ads (all sources) have one of ``values`` for the kept facet
    ``key`` ("site", "e:place", ...): a planner's estimate, exact for current ads."""
    return (f"SELECT coalesce(sum(n), 0) FROM {TOTALS} WHERE facet = ? AND value IN "
            f"({_in(values)})", [key, *values])


def compile_kind_present(kind: str) -> tuple[str, Params]:
    """One row if any current ad has an entity of ``kind`` (an index probe)."""
    return f"SELECT 1 FROM {TOTALS} WHERE facet = ? AND n > 0 LIMIT 1", [f"e:{kind}"]


def _from_totals(q: Query, facet: str) -> tuple[str, Params] | None:
    """Without a theme wall: the all-source totals, read in their index's order."""
    order, tail = _facet_order(q, facet)
    kept = (f"e:{ENTITY_KINDS[facet]}" if facet in ENTITY_KINDS else facet
            if facet in KEPT_COLUMNS else "week" if facet == "first_seen" else None)
    if kept is not None:
        return (f"SELECT value, n FROM {TOTALS} WHERE facet = ? AND n > 0 ORDER BY {order} "
                f"LIMIT ?", [kept, *tail])
    if facet == "theme":
        return _top(f"SELECT s.theme AS value, sum(t.n) AS n FROM {TOTALS} t JOIN sources s ON "
                    f"s.id = t.value WHERE t.facet = 'site' GROUP BY 1 HAVING sum(t.n) > 0",
                    order), tail
    return None


def compile_facet_own(q: Query, facet: str) -> tuple[str, Params] | None:
    """One facet of q from the kept counts, if they hold its own set's counts exactly."""
    if countable(own_set(q, facet)):
        return compile_facet_counted(q, facet)
    if facet == "site":
        return compile_site_by_kept(q)
    return None


def compile_site_by_kept(q: Query) -> tuple[str, Params] | None:
    """The site facet of a query narrowed (besides sites) by nothing but one kept value,
    or several values of a facet an ad has one of: the counts are kept per source."""
    rest = own_set(q, "site")
    narrowed = [(f, v) for f, v in rest.filters.items() if v]
    if rest.clauses or rest.as_of or rest.date_from or rest.date_to or len(narrowed) != 1:
        return None
    facet, values = narrowed[0]
    if facet in ENTITY_KINDS and len(values) == 1:  # an ad may have two places: not summed
        key, cond, vals = f"e:{ENTITY_KINDS[facet]}", "c.value = ? COLLATE NOCASE", list(values)
    elif facet in KEPT_COLUMNS:
        key, cond, vals = facet, f"c.value IN ({_in(values)})", list(values)
    else:
        return None
    scope, params = _scope(rest)
    order, tail = _facet_order(q, "site")
    inner = (f"SELECT c.source_id AS value, sum(c.n) AS n FROM {TABLE} c WHERE c.facet = ? AND "
             f"{cond} AND {scope} GROUP BY 1 HAVING sum(c.n) > 0")
    return _top(inner, order), [key, *vals, *params, *tail]


def _top(inner: str, order: str) -> str:
    """The first rows of (value, n) rows in a facet's order. Ordered outside the grouping:
    there, ``value`` could name the counts table's own column rather than the result's."""
    return f"SELECT value, n FROM ({inner}) ORDER BY {order} LIMIT ?"


def compile_facet_counted(q: Query, facet: str) -> tuple[str, Params] | None:
    """(value, count) rows for one facet, facet_size + 1 of them, over q without the
    facet's own selection (which must be countable); None if not kept here."""
    rest = own_set(q, facet)
    if rest.themes is None and not _sites(rest) and facet != "assessment":
        return _from_totals(q, facet)
    scope, params = _scope(rest)
    order, tail = _facet_order(q, facet)
    if facet in ENTITY_KINDS:  # entity values compare case-insensitively, as in entities
        inner, head = (f"SELECT c.value COLLATE NOCASE AS value, sum(c.n) AS n FROM {TABLE} c "
                       f"WHERE c.facet = ? AND {scope} GROUP BY 1"), [f"e:{ENTITY_KINDS[facet]}"]
    elif facet in KEPT_COLUMNS:
        inner, head = (f"SELECT c.value AS value, sum(c.n) AS n FROM {TABLE} c WHERE c.facet = ? "
                       f"AND {scope} GROUP BY 1"), [facet]
    elif facet == "theme":
        inner, head = (f"SELECT s.theme AS value, sum(c.n) AS n FROM {TABLE} c JOIN sources s "
                       f"ON s.id = c.source_id WHERE c.facet = 'site' AND {scope} GROUP BY 1"), []
    elif facet == "first_seen":
        inner, head = (f"SELECT date(c.value, '-6 days', 'weekday 1') AS value, sum(c.n) AS n "
                       f"FROM {TABLE} c WHERE c.facet = 'day' AND {scope} GROUP BY 1"), []
    elif facet == "assessment":  # few assessed ads: counted directly, current ones only
        scope_a = scope.replace("c.source_id", "a.source_id")
        return _top(f"SELECT x.label AS value, count(*) AS n FROM ad_assessment x JOIN ads a "
                    f"ON a.rowid = x.ad_rowid JOIN versions v ON v.rowid = a.current_rowid "
                    f"WHERE {scope_a} GROUP BY 1", order), [*params, *tail]
    else:
        return None
    return _top(inner + " HAVING sum(c.n) > 0", order), [*head, *params, *tail]
