"""Query → SQL over the maintained counts (indexer.store.sqlite_counts): pure functions.

Only a query that searches every current ad (no text, no field terms, no facet
selection, no date range, not "as of") can be answered from the counts: without a theme
wall from the all-source totals (top values by an index walk), behind one by summing
over the sources of the allowed themes. Anything else returns None
and is counted from the matches as before.
"""

from __future__ import annotations

from indexer.search.query import Query
from indexer.search.sql import ENTITY_KINDS, Params, _facet_order, _in

TABLE = "facet_counts"
TOTALS = "facet_totals"  # the same over all sources (indexer.store.sqlite_totals)


def countable(q: Query) -> bool:
    """True if the total and facets of q are exactly the maintained counts."""
    return (not q.clauses and not any(q.filters.values())
            and q.as_of is None and q.date_from is None and q.date_to is None)


def _scope(q: Query) -> tuple[str, Params]:
    """The sources q may see (theme walls), as a condition on ``c.source_id``."""
    if q.themes is None:
        return "1", []
    if not q.themes:
        return "0", []
    return (f"c.source_id IN (SELECT id FROM sources WHERE theme IN ({_in(q.themes)}))",
            list(q.themes))


def compile_total(q: Query) -> tuple[str, Params]:
    """Every current ad has exactly one status, so the status counts sum to the total."""
    if q.themes is None:
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
    kept = f"e:{ENTITY_KINDS[facet]}" if facet in ENTITY_KINDS else {
        "site": "site", "lang": "lang", "risk": "risk", "status": "status",
        "first_seen": "week"}.get(facet)
    if kept is not None:
        return (f"SELECT value, n FROM {TOTALS} WHERE facet = ? AND n > 0 ORDER BY {order} "
                f"LIMIT ?", [kept, *tail])
    if facet == "theme":
        return (f"SELECT s.theme AS value, sum(t.n) AS n FROM {TOTALS} t JOIN sources s ON "
                f"s.id = t.value WHERE t.facet = 'site' GROUP BY 1 HAVING sum(t.n) > 0 "
                f"ORDER BY {order} LIMIT ?", tail)
    return None


def compile_facet_counted(q: Query, facet: str) -> tuple[str, Params] | None:
    """(value, count) rows for one facet, facet_size + 1 of them; None if not kept here."""
    if q.themes is None and facet != "assessment":
        return _from_totals(q, facet)
    scope, params = _scope(q)
    order, tail = _facet_order(q, facet)
    if facet in ENTITY_KINDS:  # entity values compare case-insensitively, as in entities
        sql = (f"SELECT c.value COLLATE NOCASE AS value, sum(c.n) AS n FROM {TABLE} c "
               f"WHERE c.facet = ? AND {scope} GROUP BY 1 HAVING sum(c.n) > 0 "
               f"ORDER BY {order} LIMIT ?")
        return sql, [f"e:{ENTITY_KINDS[facet]}", *params, *tail]
    if facet in ("site", "lang", "risk", "status"):
        sql = (f"SELECT c.value AS value, sum(c.n) AS n FROM {TABLE} c WHERE c.facet = ? AND "
               f"{scope} GROUP BY 1 HAVING sum(c.n) > 0 ORDER BY {order} LIMIT ?")
        return sql, [facet, *params, *tail]
    if facet == "theme":
        sql = (f"SELECT s.theme AS value, sum(c.n) AS n FROM {TABLE} c JOIN sources s "
               f"ON s.id = c.source_id WHERE c.facet = 'site' AND {scope} GROUP BY 1 "
               f"HAVING sum(c.n) > 0 ORDER BY {order} LIMIT ?")
        return sql, [*params, *tail]
    if facet == "first_seen":
        sql = (f"SELECT date(c.value, '-6 days', 'weekday 1') AS value, sum(c.n) AS n FROM "
               f"{TABLE} c WHERE c.facet = 'day' AND {scope} GROUP BY 1 HAVING sum(c.n) > 0 "
               f"ORDER BY {order} LIMIT ?")
        return sql, [*params, *tail]
    if facet == "assessment":  # few assessed ads: counted directly, current ones only
        scope_a = scope.replace("c.source_id", "a.source_id")
        sql = (f"SELECT x.label AS value, count(*) AS n FROM ad_assessment x JOIN ads a "
               f"ON a.rowid = x.ad_rowid JOIN versions v ON v.rowid = a.current_rowid "
               f"WHERE {scope_a} GROUP BY 1 ORDER BY {order} LIMIT ?")
        return sql, [*params, *tail]
    return None
