"""The Elasticsearch aggregates request body and hit parsing, checked without a server."""

from __future__ import annotations

from datetime import date

from indexer.store.elastic_aggregates import FIELDS, span_from, spans_body


def test_body_filters_current_versions_in_the_window_and_themes() -> None:
    body = spans_body(("trafficking",), date(2026, 3, 2), date(2026, 3, 5), after=["v9"])
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"is_current": True}} in filters
    assert {"terms": {"theme": ["trafficking"]}} in filters
    assert {"range": {"ad_first_seen": {"lt": "2026-03-06"}}} in filters
    online = filters[-1]["bool"]["should"]
    assert online[0] == {"range": {"removed_at": {"gte": "2026-03-02"}}}
    assert body["_source"] == list(FIELDS) and body["search_after"] == ["v9"]
    assert body["sort"] == [{"version_id": "asc"}]


def test_open_body_has_only_the_current_filter() -> None:
    body = spans_body(None, None, None)
    assert body["query"]["bool"]["filter"] == [{"term": {"is_current": True}}]
    assert "search_after" not in body


def test_span_from_source() -> None:
    span = span_from({"source_id": "alpha", "ad_first_seen": "2026-03-02T12:00:00.000000Z",
                      "last_seen": "2026-03-04T12:00:00.000000Z", "removed_at": None,
                      "places": ["Utrecht"], "indicators": None, "phones": ["+31612345678"]})
    assert span.removed_at is None and span.places == ("Utrecht",) and span.indicators == ()
    assert span.end.day == 4
