"""SQL over the match set kept in a temp table (indexer.search.sql.compile_matches): pure.

A text search that matches most ads spent its time matching and ranking twice (once for
the page, once for the facets) and passing over the matches once per identifier facet.
With the set kept, the page is sorted from the set's own narrow columns (score, risk,
first seen, id) and only its rows are joined to the wide tables. (Counting every
identifier facet in one GROUP BY over entities was tried: slower, one large sort.)
"""

from __future__ import annotations

from indexer.search.query import Query
from indexer.search.sql import (
    SNIPPET_SQL,
    Params,
    fts_expression,
)
from indexer.store.sqlite_schema import MARK_CLOSE, MARK_OPEN

# The same orders as sql.SORT_SQL / relevance, on the match-set columns.
PAGE_ORDER: dict[str, str] = {
    "newest": "m.fs DESC, m.aid",
    "oldest": "m.fs ASC, m.aid",
    "risk": "m.rsk DESC, m.fs DESC, m.aid",
    "relevance": "m.score DESC, m.fs DESC, m.aid",
}


def _order(q: Query) -> str:
    if q.sort in PAGE_ORDER and q.sort != "relevance":
        return PAGE_ORDER[q.sort]
    return PAGE_ORDER["relevance"] if fts_expression(q) else PAGE_ORDER["newest"]


def compile_page_from(q: Query, table: str) -> tuple[str, Params]:
    """One page of hits (same columns as compile_search) sorted from the match set.

    The sort runs over the set's narrow rows; only the page's rows are joined to versions
    and ads, and the snippet is made by a rowid lookup in the full-text index.
    """
    fts = fts_expression(q)
    order = _order(q)
    if fts:
        snippet = f"(SELECT {SNIPPET_SQL} FROM versions_fts WHERE versions_fts MATCH ? AND rowid = p.vrow)"
        head: Params = [MARK_OPEN, MARK_CLOSE, fts]
    else:
        snippet, head = "substr(v.body, 1, 240)", []
    removed = "NULL" if q.as_of else "a.removed_at"
    versions = "v.seq" if q.as_of else "a.versions"
    page_order = order.replace("m.", "p.")
    sql = (
        f"WITH p AS (SELECT m.vrow, m.arow, m.score, m.rsk, m.fs, m.aid FROM {table} m "
        f"ORDER BY {order} LIMIT ? OFFSET ?) "
        f"SELECT a.id AS ad_id, v.id AS version_id, a.source_id, a.url, v.title, {snippet} AS snippet, "
        f"v.summary, v.risk, v.language, a.first_seen, a.last_seen, v.first_seen AS version_first_seen, "
        f"{removed} AS removed_at, {versions} AS versions, p.score AS score "
        f"FROM p JOIN versions v ON v.rowid = p.vrow JOIN ads a ON a.rowid = p.arow ORDER BY {page_order}"
    )
    return sql, [q.per_page, q.offset, *head]
