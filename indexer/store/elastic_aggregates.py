"""ElasticStore's dashboard aggregates: pure request bodies and hit parsing.

The current version of every ad carries the ad's first seen, last seen, removal and the
version's places, indicators and phones, so one filtered scan of current versions (deep
paged with search_after, only the needed fields) gives the ``AdSpan`` rows; the counting
is ``indexer.store.aggregates.compute``, shared with SQLite so both backends agree.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from indexer.model import from_iso
from indexer.store.aggregates import AdSpan

PAGE = 2000
FIELDS = ("source_id", "ad_first_seen", "last_seen", "removed_at", "places", "indicators",
          "phones")


def spans_body(themes: tuple[str, ...] | None, since: date | None, until: date | None,
               after: list[Any] | None = None, size: int = PAGE) -> dict[str, Any]:
    """Current versions of ads online in the window, in a stable order for search_after."""
    filters: list[dict[str, Any]] = [{"term": {"is_current": True}}]
    if themes is not None:
        filters.append({"terms": {"theme": list(themes)}})
    if until is not None:
        filters.append({"range": {"ad_first_seen": {"lt": (until + timedelta(days=1)).isoformat()}}})
    if since is not None:
        # online until removal, or until last seen when never removed
        filters.append({"bool": {"should": [
            {"range": {"removed_at": {"gte": since.isoformat()}}},
            {"bool": {"must_not": {"exists": {"field": "removed_at"}},
                      "filter": {"range": {"last_seen": {"gte": since.isoformat()}}}}},
        ], "minimum_should_match": 1}})
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filters}},
        "_source": list(FIELDS),
        "sort": [{"version_id": "asc"}],
        "size": size,
        "track_total_hits": False,
    }
    if after:
        body["search_after"] = after
    return body


def span_from(source: dict[str, Any]) -> AdSpan:
    removed = source.get("removed_at")
    return AdSpan(source["source_id"], from_iso(source["ad_first_seen"]),
                  from_iso(source["last_seen"]), from_iso(removed) if removed else None,
                  tuple(source.get("places") or ()), tuple(source.get("indicators") or ()),
                  tuple(source.get("phones") or ()))
