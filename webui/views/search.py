"""The search page: query box, facets, date range, sort, result cards, paging; and the
CSV export of a search. The whole state is in the URL."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, render_template, request

from indexer.search.parse import parse_args, query_to_args
from indexer.search.query import FACETS, MAX_PER_PAGE, SORTS, Query, SearchResult
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
CSV_COLUMNS = ("ad_id", "site", "title", "first_seen", "last_seen", "removed_at", "versions",
               "risk_score", "places", "phones", "indicators", "language")


def _page(query: Query, result: SearchResult | None, error: str = "") -> str:
    sources = sources_by_id() if result is not None else {}
    return render_template(
        "search.html",
        query=query,
        result=result,
        facets=facet_dicts(result, {"site": {k: v.name for k, v in sources.items()}})
        if result else [],
        chips=selected_chips(query, FACETS),
        hidden=hidden_fields(query),
        pages=page_links(result) if result else {},
        sources=sources,
        sorts=SORTS,
        export_url=search_url(query, "search.export") if result else "",
        error=error,
    )


@bp.route("/")
@bp.route("/search")
def search() -> str:
    query = walled(parse_args(request.args))
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
    """Every hit of the search (up to EXPORT_LIMIT) as CSV; audited with its size."""
    asked = walled(parse_args(request.args))
    store, sources = get_store(), sources_by_id()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    query = replace(asked, page=1, per_page=MAX_PER_PAGE, facets=())
    rows = 0
    while rows < EXPORT_LIMIT:
        result = store.search(query)
        for h in result.hits[: EXPORT_LIMIT - rows]:
            site = sources[h.source_id].name if h.source_id in sources else h.source_id
            writer.writerow([_csv_safe(v) for v in (
                h.ad_id, site, h.title, h.first_seen.isoformat(), h.last_seen.isoformat(),
                h.removed_at.isoformat() if h.removed_at else "", h.versions, h.risk_score,
                "; ".join(h.places), "; ".join(h.phones), "; ".join(h.indicators), h.language)])
            rows += 1
        if query.page >= result.pages or not result.hits:
            break
        query = query.with_page(query.page + 1)
    audit.record("export", target=asked.text,
                 details={"args": query_to_args(asked), "rows": rows,
                          "format": "csv"})
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=adtrace-search.csv"})
