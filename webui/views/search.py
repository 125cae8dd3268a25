"""The search page: query box, facets, date range, sort, result cards, paging; and the
CSV export of a search. The whole state is in the URL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context

from indexer.assessment import LABELS as ASSESSMENT_LABELS
from indexer.search.parse import parse_args, query_to_args
from indexer.search.query import (
    DEFAULT_FACETS,
    FACETS,
    MAX_PER_PAGE,
    SORTS,
    Query,
    SearchResult,
)
from webui import audit
from webui.app import get_store
from webui.facets import (
    facet_dicts,
    hidden_fields,
    page_links,
    search_url,
    selected_chips,
)
from webui.views.common import sources_by_id, walled

bp = Blueprint("search", __name__)

EXPORT_LIMIT = 10_000
SIDEBAR_FACETS = (*DEFAULT_FACETS, "assessment")
FACET_SHOWN = 10  # values shown per facet; the rest (up to FACET_FETCH) behind "show more"
FACET_FETCH = 40
CSV_COLUMNS = ("ad_id", "site", "title", "first_seen", "last_seen", "removed_at", "versions",
               "risk_score", "places", "phones", "indicators", "language")


@cache
def indicator_levels() -> dict[str, str]:
    """Indicator id → evidence level, for the chips on result cards (the catalogue is
    read once per process; do not change the dict returned)."""
    from indexer.enrich.catalogue import load_catalogue

    return {i.id: i.evidence_level for i in load_catalogue().indicators}


def _page(query: Query, result: SearchResult | None, error: str = "") -> str:
    sources = sources_by_id() if result is not None else {}
    return render_template(
        "search.html",
        query=query,
        result=result,
        facets=facet_dicts(result, {"site": {k: v.name for k, v in sources.items()},
                                    "assessment": ASSESSMENT_LABELS})
        if result else [],
        chips=selected_chips(query, FACETS),
        hidden=hidden_fields(query),
        pages=page_links(result) if result else {},
        sources=sources,
        sorts=SORTS,
        levels=indicator_levels(),
        export_url=search_url(query, "search.export") if result else "",
        error=error,
    )


@bp.route("/")
@bp.route("/search")
def search() -> str:
    query = replace(walled(parse_args(request.args)), facets=SIDEBAR_FACETS,
                    facet_size=FACET_FETCH)
    result = get_store().search(query)
    audit.record("search", target=query.text,
                 details={"args": query_to_args(query), "total": result.total})
    return _page(query, result)


def render_query_error(message: str) -> str:
    """The search page as typed, with the reason the query cannot run and no results."""
    query = Query(text=request.args.get("q", "")[:500])
    return _page(query, None, error=message)


def _csv_safe(value: Any) -> str:
    """Hostile text must not become a spreadsheet formula when the CSV is opened."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/export.csv")
def export() -> Response:
    """Every hit of the search (up to EXPORT_LIMIT) as CSV, streamed page by page so a
    large export neither waits nor fills memory; audited with the rows handed out however
    the stream ends (done, cut off by the client, or failed), and whether it was whole."""
    asked = walled(parse_args(request.args))  # a bad query fails here, before streaming

    def rows() -> Iterator[str]:
        # Opened inside the stream: the request's own store is closed once the view returns.
        store, sources = get_store(), sources_by_id()
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        # counted as far as it exports: the page's own limit would cut the file short
        query = replace(asked, page=1, per_page=MAX_PER_PAGE, facets=(), count_limit=EXPORT_LIMIT)
        count, whole = 0, False
        try:
            while count < EXPORT_LIMIT:
                result = store.search(query)
                for h in result.hits[: EXPORT_LIMIT - count]:
                    site = sources[h.source_id].name if h.source_id in sources else h.source_id
                    writer.writerow([_csv_safe(v) for v in (
                        h.ad_id, site, h.title, h.first_seen.isoformat(),
                        h.last_seen.isoformat(), h.removed_at.isoformat() if h.removed_at else "",
                        h.versions, h.risk_score, "; ".join(h.places), "; ".join(h.phones),
                        "; ".join(h.indicators), h.language)])
                    count += 1
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
                if query.page >= result.pages or not result.hits:
                    break
                query = query.with_page(query.page + 1)
            whole = True
        finally:
            audit.record("export", target=asked.text,
                         details={"args": query_to_args(asked), "rows": count, "format": "csv",
                                  "complete": whole})

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=adtrace-search.csv"})
