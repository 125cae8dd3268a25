"""Query → Elasticsearch search body: a pure compiler, tested without a server.

Search runs on the versions index: without ``as_of`` on each ad's current version
(``is_current``), with ``as_of`` on the version that was valid at the end of that day
(``valid_from < end <= valid_to``). Multi-select facets follow one rule: filters on
faceted fields go to ``post_filter`` (so hits are narrowed), and each facet's
aggregation is wrapped in a filter of every OTHER facet's selection (so a facet's own
selection does not narrow its own counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from indexer.model import to_iso
from indexer.search.query import FACETS, RISK_BANDS, SORTS, Clause, Query, QueryError, Term

# Private highlight markers: Unicode private-use characters, stripped and checked on
# the way back so ad text that contains them cannot forge a highlight.
HL_PRE = "\ue000"
HL_POST = "\ue001"

TEXT_FIELDS: tuple[str, ...] = ("title^2", "text", "title.folded^2", "text.folded",
                                "text.nl", "text.en")
HIGHLIGHT_FIELDS: tuple[str, ...] = ("text", "text.folded", "text.nl", "text.en")

# Facet name → keyword field in a version document (risk and first_seen are special).
FACET_FIELDS: dict[str, str] = {
    "site": "source_id",
    "theme": "theme",
    "city": "places",
    "province": "provinces",
    "phone": "phones",
    "indicator": "indicators",
    "signal": "signals",  # cross-ad signals (indexer.store.elastic_signals)
    "lang": "language",
    "status": "status",
    "assessment": "assessment",
    "risk": "risk_score",
    "first_seen": "ad_first_seen",
}
# Query-text field (``phone:+31…``, ``city:Utrecht``) → keyword field.
TERM_FIELDS: dict[str, str] = {
    **{k: v for k, v in FACET_FIELDS.items() if k not in ("risk", "first_seen")},
    "email": "emails",
    "handle": "handles",
    "url": "urls",
    "image": "image_hashes",
}
MAX_WINDOW = 10_000  # index.max_result_window: beyond it, page with search_after
TIEBREAK = {"ad_id": "asc"}  # one version per ad in any result: ad id is unique


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` (UTC): 'as of' and 'to' are inclusive of the day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# --------------------------------------------------------------------------- text
def term_query(term: Term) -> dict[str, Any]:
    """One parsed term as a (positive) query clause; the caller applies ``negate``."""
    if term.field:
        field = TERM_FIELDS.get(term.field)
        if field is None:
            raise QueryError(f"unknown search field {term.field!r} in {term.field}:{term.value}")
        if term.kind == "prefix":
            return {"prefix": {field: {"value": term.value, "case_insensitive": True}}}
        return {"term": {field: {"value": term.value, "case_insensitive": True}}}
    if term.kind == "phrase":
        return {"multi_match": {"query": term.value, "type": "phrase", "fields": list(TEXT_FIELDS)}}
    if term.kind == "prefix":
        return {"multi_match": {"query": term.value, "type": "phrase_prefix",
                                "fields": list(TEXT_FIELDS)}}
    if term.kind == "word":
        return {"multi_match": {"query": term.value, "type": "best_fields",
                                "fields": list(TEXT_FIELDS), "operator": "and"}}
    raise QueryError(f"unknown term kind {term.kind!r} for {term.value!r}")


def clause_query(clause: Clause) -> dict[str, Any]:
    """Terms joined by OR; a negated term inside means 'or not x'."""
    parts = []
    for term in clause.terms:
        q = term_query(term)
        parts.append({"bool": {"must_not": [q]}} if term.negate else q)
    if len(parts) == 1:
        return parts[0]
    return {"bool": {"should": parts, "minimum_should_match": 1}}


# --------------------------------------------------------------------------- filters
def facet_filter(facet: str, values: tuple[str, ...], q: Query | None = None,
                 themes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A selection in one facet: any of its values (OR within a facet)."""
    if facet not in FACET_FIELDS:
        raise QueryError(f"unknown facet {facet!r}; known: {', '.join(FACETS)}")
    if facet == "theme":
        return {"terms": {"source_id": sources_of(themes or {}, values)}}
    if facet == "status" and q is not None and q.as_of is not None:
        # As of a day only ads present that day are searched: every hit is live.
        return {"match_all": {}} if "live" in values else {"match_none": {}}
    if facet == "risk":
        return {"bool": {"should": [_risk_range(v) for v in values], "minimum_should_match": 1}}
    if facet == "first_seen":
        return {"bool": {"should": [_week_range(v) for v in values], "minimum_should_match": 1}}
    return {"terms": {FACET_FIELDS[facet]: list(values)}}


def _risk_range(band: str) -> dict[str, Any]:
    for name, lo, hi in RISK_BANDS:
        if name == band:
            rng: dict[str, float] = {}
            if lo != float("-inf"):
                rng["gte"] = lo
            if hi != float("inf"):
                rng["lt"] = hi
            return {"range": {"risk_score": rng}}
    raise QueryError(f"unknown risk band {band!r}; known: {', '.join(b[0] for b in RISK_BANDS)}")


def _week_range(value: str) -> dict[str, Any]:
    try:
        start = date.fromisoformat(value)
    except ValueError as exc:
        raise QueryError(f"first_seen week {value!r} is not a date (YYYY-MM-DD)") from exc
    return {"range": {"ad_first_seen": {"gte": to_iso(start_of_day(start)),
                                        "lt": to_iso(start_of_day(start + timedelta(days=7)))}}}


def sources_of(themes: Mapping[str, str], wanted: tuple[str, ...]) -> list[str]:
    """Source ids of the wanted themes: themes are read from the register at query time."""
    return sorted(sid for sid, theme in themes.items() if theme in wanted)


def base_filters(q: Query, themes: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Filters that narrow hits AND every facet: validity in time, themes, date range."""
    filters: list[dict[str, Any]] = []
    if q.as_of is None:
        filters.append({"term": {"is_current": True}})
    else:
        end = to_iso(end_of_day(q.as_of))
        filters.append({"range": {"valid_from": {"lt": end}}})
        filters.append({"bool": {"should": [
            {"bool": {"must_not": [{"exists": {"field": "valid_to"}}]}},
            {"range": {"valid_to": {"gte": end}}},
        ], "minimum_should_match": 1}})
        filters.append({"bool": {"must_not": [{"term": {"absences": end}}]}})
    if q.themes is not None:
        filters.append({"terms": {"source_id": sources_of(themes or {}, q.themes)}})
    if q.date_from or q.date_to:
        rng: dict[str, str] = {}
        if q.date_from:
            rng["gte"] = to_iso(start_of_day(q.date_from))
        if q.date_to:
            rng["lt"] = to_iso(end_of_day(q.date_to))
        filters.append({"range": {"ad_first_seen": rng}})
    return filters


def main_query(q: Query, themes: Mapping[str, str] | None = None) -> dict[str, Any]:
    must = [clause_query(c) for c in q.clauses]
    body: dict[str, Any] = {"filter": base_filters(q, themes)}
    if must:
        body["must"] = must
    return {"bool": body}


def selections(q: Query, themes: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    return {f: facet_filter(f, vals, q, themes) for f, vals in q.filters.items() if vals}


def post_filter(q: Query, themes: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    sel = selections(q, themes)
    return {"bool": {"filter": list(sel.values())}} if sel else None


# --------------------------------------------------------------------------- facets
def facet_agg(facet: str, size: int, as_of: bool = False) -> dict[str, Any]:
    """The inner aggregation of one facet; ``size + 1`` buckets reveal truncation."""
    if facet == "status" and as_of:
        return {"filters": {"filters": {"live": {"match_all": {}}}}}
    if facet == "theme":  # per source, folded into themes by the result reader
        return {"terms": {"field": "source_id", "size": 10_000}}
    if facet == "risk":
        ranges = []
        for name, lo, hi in RISK_BANDS:
            rng: dict[str, Any] = {"key": name}
            if lo != float("-inf"):
                rng["from"] = lo
            if hi != float("inf"):
                rng["to"] = hi
            ranges.append(rng)
        return {"range": {"field": "risk_score", "ranges": ranges}}
    if facet == "first_seen":
        return {
            "date_histogram": {"field": "ad_first_seen", "calendar_interval": "week",
                               "format": "yyyy-MM-dd", "min_doc_count": 1},
            "aggs": {"cut": {"bucket_sort": {"sort": [{"_key": {"order": "desc"}}],
                                             "size": size + 1}}},
        }
    if facet not in FACET_FIELDS:
        raise QueryError(f"unknown facet {facet!r}; known: {', '.join(FACETS)}")
    return {"terms": {"field": FACET_FIELDS[facet], "size": size + 1,
                      "order": [{"_count": "desc"}, {"_key": "asc"}]}}


def facet_aggs(q: Query, themes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Each facet wrapped in a filter of all OTHER facets' selections."""
    sel = selections(q, themes)
    aggs: dict[str, Any] = {}
    for facet in q.facets:
        others = [flt for name, flt in sel.items() if name != facet]
        inner: dict[str, Any] = {"values": facet_agg(facet, q.facet_size, q.as_of is not None)}
        chosen = q.filters.get(facet, ())
        if chosen and facet not in ("risk", "first_seen", "theme", "status"):
            # Counts for selected values even when they fall outside the top N.
            inner["selected"] = {"filters": {"filters": {
                v: {"term": {FACET_FIELDS[facet]: v}} for v in chosen}}}
        aggs[f"facet_{facet}"] = {
            "filter": {"bool": {"filter": others}} if others else {"match_all": {}},
            "aggs": inner,
        }
    return aggs


# --------------------------------------------------------------------------- sort + paging
def sort_clause(q: Query) -> list[Any]:
    if q.sort not in SORTS:
        raise QueryError(f"unknown sort {q.sort!r}; known: {', '.join(SORTS)}")
    if q.sort == "newest":
        return [{"ad_first_seen": "desc"}, TIEBREAK]
    if q.sort == "oldest":
        return [{"ad_first_seen": "asc"}, TIEBREAK]
    if q.sort == "risk":
        return [{"risk_score": "desc"}, {"ad_first_seen": "desc"}, TIEBREAK]
    return [{"_score": "desc"}, {"ad_first_seen": "desc"}, TIEBREAK]


def highlight() -> dict[str, Any]:
    return {
        "pre_tags": [HL_PRE],
        "post_tags": [HL_POST],
        "encoder": "default",
        "fields": {f: {"fragment_size": 200, "number_of_fragments": 1, "no_match_size": 200}
                   for f in HIGHLIGHT_FIELDS},
    }


def compile_search(q: Query, *, themes: Mapping[str, str] | None = None,
                   timeout_ms: int = 1000) -> dict[str, Any]:
    """The full search body for one page of a Query (from/size within the window)."""
    if q.page < 1 or q.per_page < 1:
        raise QueryError(f"page {q.page} / per_page {q.per_page} must be at least 1")
    body: dict[str, Any] = {
        "query": main_query(q, themes),
        "sort": sort_clause(q),
        "from": q.offset,
        "size": q.per_page,
        "track_total_hits": True,
        "track_scores": True,
        "timeout": f"{timeout_ms}ms",
        "highlight": highlight(),
        "aggs": facet_aggs(q, themes),
    }
    pf = post_filter(q, themes)
    if pf:
        body["post_filter"] = pf
    return body


def needs_search_after(q: Query) -> bool:
    return q.offset + q.per_page > MAX_WINDOW


def scan_body(q: Query, size: int, after: list[Any] | None, *,
              themes: Mapping[str, str] | None = None, timeout_ms: int = 1000) -> dict[str, Any]:
    """One step of deep paging: same query and order, no facets, ``search_after``."""
    body = compile_search(q, themes=themes, timeout_ms=timeout_ms)
    for key in ("from", "aggs", "highlight"):
        body.pop(key)
    body["size"] = size
    body["_source"] = False
    body["track_total_hits"] = False
    if after is not None:
        body["search_after"] = after
    return body
