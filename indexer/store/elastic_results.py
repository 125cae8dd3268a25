"""Elasticsearch responses → the shared result model (Hit, Highlighted, FacetResult).

Pure functions: a response is plain JSON, so tests feed recorded shapes without a server.
Highlights come back with private marker characters; they are turned into ranges over
the ad text and checked against the stored text, so hostile ad text that contains the
markers itself gets no highlight rather than a forged one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indexer.model import from_iso
from indexer.search.query import FACETS, FacetResult, FacetValue, Highlighted, Hit, Query
from indexer.store.elastic_query import HIGHLIGHT_FIELDS, HL_POST, HL_PRE

SNIPPET_CHARS = 200


def parse_marked(marked: str) -> Highlighted:
    """Text with HL_PRE/HL_POST markers → plain text and [start, end) ranges."""
    out: list[str] = []
    ranges: list[tuple[int, int]] = []
    pos = 0
    start: int | None = None
    for ch in marked:
        if ch == HL_PRE:
            start = pos
        elif ch == HL_POST:
            if start is not None and pos > start:
                ranges.append((start, pos))
            start = None
        else:
            out.append(ch)
            pos += 1
    return Highlighted("".join(out), tuple(ranges))


def snippet_for(highlight: Mapping[str, list[str]] | None, text: str) -> Highlighted:
    """The best highlighted fragment (most ranges) that is really a piece of ``text``."""
    best: Highlighted | None = None
    for field in HIGHLIGHT_FIELDS:
        for frag in (highlight or {}).get(field, []):
            h = parse_marked(frag)
            if (HL_PRE in text or HL_POST in text) or h.text not in text:
                continue
            if best is None or len(h.ranges) > len(best.ranges):
                best = h
    if best is not None:
        return best
    return Highlighted(text[:SNIPPET_CHARS])


def hit_from(es_hit: Mapping[str, Any], ad: Mapping[str, Any] | None, *,
             as_of: bool = False) -> Hit:
    """One version hit plus its ad document (life cycle, version count) → Hit.

    As of a day the ad is shown as it stood then: present (not removed), with the
    versions it had up to that day.
    """
    src = es_hit["_source"]
    ad = ad or {}
    removed = None if as_of else ad.get("removed_at", src.get("removed_at"))
    versions = int(src.get("seq", 1)) if as_of else len(ad.get("version_ids") or ()) or 1
    images = src.get("images") or []
    score = es_hit.get("_score")
    return Hit(
        ad_id=src["ad_id"],
        version_id=src["version_id"],
        source_id=src["source_id"],
        url=src.get("url", ""),
        title=src.get("title", ""),
        snippet=snippet_for(es_hit.get("highlight"), src.get("text", "")),
        places=tuple(src.get("places") or ()),
        phones=tuple(src.get("phones") or ()),
        indicators=tuple(src.get("indicators") or ()),
        risk_score=float(src.get("risk_score") or 0.0),
        language=src.get("language") or "",
        first_seen=from_iso(ad.get("first_seen") or src["ad_first_seen"]),
        last_seen=from_iso(ad.get("last_seen") or src["last_seen"]),
        version_first_seen=from_iso(src["valid_from"]),
        removed_at=from_iso(removed) if removed else None,
        versions=versions,
        score=float(score) if score is not None else 0.0,
        thumbnail=images[0]["sha256"] if images else "",
    )


def _label(facet: str, value: str, labels: Mapping[str, str]) -> str:
    if facet == "site":
        return labels.get(value, value)
    if facet in ("risk", "status", "assessment"):
        return value.replace("_", " ").capitalize()
    if facet == "first_seen":
        return f"week of {value}"
    return value


def _buckets(facet: str, agg: Mapping[str, Any], themes: Mapping[str, str]
             ) -> list[tuple[str, int]]:
    raw = agg["values"]["buckets"]
    if facet == "theme":  # counted per source, folded into the sources' themes
        folded: dict[str, int] = {}
        for b in raw:
            theme = themes.get(str(b["key"]), "")
            if theme:
                folded[theme] = folded.get(theme, 0) + int(b["doc_count"])
        return sorted(folded.items(), key=lambda kv: (-kv[1], kv[0]))
    if isinstance(raw, dict):  # keyed buckets
        raw = [dict(b, key=k) for k, b in raw.items()]
    out = []
    for b in raw:
        key = b.get("key_as_string") if facet == "first_seen" else b["key"]
        if facet in ("risk", "status") and b["doc_count"] == 0:
            continue
        out.append((str(key), int(b["doc_count"])))
    return out


def facet_from(
    q: Query, facet: str, agg: Mapping[str, Any], labels: Mapping[str, str], timed_out: bool,
    themes: Mapping[str, str] | None = None,
) -> FacetResult:
    """One facet: top values (size+1 asked, size shown), selected values always present."""
    chosen = q.filters.get(facet, ())
    buckets = _buckets(facet, agg, themes or {})
    truncated = len(buckets) > q.facet_size
    buckets = buckets[: q.facet_size]
    shown = {v for v, _ in buckets}
    extra = agg.get("selected", {}).get("buckets", {})
    for value in chosen:
        if value not in shown:
            buckets.append((value, int(extra.get(value, {}).get("doc_count", 0))))
    values = tuple(
        FacetValue(value=v, label=_label(facet, v, labels), count=c, selected=v in chosen)
        for v, c in buckets
    )
    return FacetResult(facet, FACETS.get(facet, facet), values, truncated=truncated,
                       timed_out=timed_out)


def facets_from(
    q: Query, response: Mapping[str, Any], labels: Mapping[str, str],
    themes: Mapping[str, str] | None = None,
) -> tuple[FacetResult, ...]:
    aggs = response.get("aggregations") or {}
    timed_out = bool(response.get("timed_out"))
    out = []
    for facet in q.facets:
        agg = aggs.get(f"facet_{facet}")
        if agg is None:
            out.append(FacetResult(facet, FACETS.get(facet, facet), (), timed_out=True))
        else:
            out.append(facet_from(q, facet, agg, labels, timed_out, themes))
    return tuple(out)


def total_from(response: Mapping[str, Any]) -> int:
    total = response["hits"].get("total") or {}
    return int(total["value"]) if isinstance(total, dict) else int(total)
