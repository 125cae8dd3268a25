"""Search state ↔ URLs, and facet results as plain dicts for the ``_facets.html`` partial.

As in Datasette, everything a template needs (label, count, selected, the URL that
toggles the value) is computed here in Python; the partial only loops. The whole search
state lives in the URL, so a search can be bookmarked, shared and cited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import url_for

from indexer.search.parse import query_to_args
from indexer.search.query import Query, SearchResult


def search_url(query: Query, endpoint: str = "search.search", base: str = "") -> str:
    """``base``: the endpoint's URL when the caller already has it (a sidebar builds
    hundreds of these per page)."""
    args = query_to_args(query)
    return (base or url_for(endpoint)) + ("?" + urlencode(args) if args else "")


def hidden_fields(query: Query) -> list[tuple[str, str]]:
    """State the search form has no visible input for (selected facets, page size)."""
    return [(k, v) for k, v in query_to_args(query) if k.startswith("f.") or k == "per_page"]


def facet_dicts(
    result: SearchResult, value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """``value_labels`` gives nicer labels per facet (site id → site name)."""
    query = result.query
    value_labels = value_labels or {}
    base = url_for("search.search")
    out = []
    for facet in result.facets:
        names = value_labels.get(facet.name, {})
        values = [
            {
                "value": v.value,
                "label": names.get(v.value) or v.label or v.value,
                "count": v.count,
                "selected": v.selected,
                "url": search_url(query.toggled(facet.name, v.value), base=base),
            }
            for v in facet.values
        ]
        out.append({
            "name": facet.name,
            "label": facet.label,
            "values": values,
            "truncated": facet.truncated,
            "timed_out": facet.timed_out,
            "sampled": facet.sampled,
        })
    return out


def selected_chips(query: Query, labels: dict[str, str]) -> list[dict[str, str]]:
    """The active filters as removable chips above the results."""
    return [
        {"facet": labels.get(name, name), "value": value,
         "url": search_url(query.toggled(name, value))}
        for name, values in query.filters.items()
        for value in values
    ]


def page_links(result: SearchResult) -> dict[str, str]:
    query = result.query
    links = {}
    if query.page > 1:
        links["prev"] = search_url(query.with_page(query.page - 1))
    if query.page < result.pages:
        links["next"] = search_url(query.with_page(query.page + 1))
    return links
