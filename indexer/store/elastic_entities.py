"""Pure Elasticsearch bodies for identifier summaries and corrected extractions.

Corrections live in the ``suppressions`` index, one document per ad (id = ad id), so
the write path can read an ad's corrections with one real-time GET (no refresh) when it
indexes a new version. ``keys`` ("phone:+316…") is the only searched field; the items
and their history are kept as written (``enabled: false``).

A correction rebuilds the version documents' keyword field of that kind (phones,
emails, handles, urls — what every filter, facet and identifier link reads) from the
``enrichment`` object less the corrected values; the enrichment — the evidence — is
never changed, so lifting a correction rebuilds the links from it in their first order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from indexer.model import Enrichment, enrichment_from_dict, from_iso, to_iso
from indexer.store.elastic_bodies import IDENTIFIER_FIELDS
from indexer.store.entity_summary import LINK_KINDS, Suppression, VersionRow

KIND = "suppressions"
MAX_DOCS = 10_000

def field_for(kind: str) -> str:
    if kind not in LINK_KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}; known: {', '.join(LINK_KINDS)}")
    return IDENTIFIER_FIELDS[kind]


def key(kind: str, value: str) -> str:
    return f"{kind}:{value.casefold()}"


def _themes_filter(themes: tuple[str, ...] | None) -> list[dict[str, Any]]:
    return [] if themes is None else [{"terms": {"theme": list(themes)}}]


def versions_body(kind: str, value: str, themes: tuple[str, ...] | None) -> dict[str, Any]:
    """Every version document that links the identifier (corrected ones no longer do)."""
    return {
        "query": {"bool": {"filter": [{"term": {field_for(kind): value}},
                                      *_themes_filter(themes)]}},
        "sort": [{"valid_from": "asc"}, {"version_id": "asc"}],
        "size": MAX_DOCS,
        "_source": ["ad_id", "version_id", "source_id", "title", "valid_from", "last_seen",
                    "removed_at", "enrichment"],
    }


def captures_body(version_ids: list[str]) -> dict[str, Any]:
    """When each of those versions was fetched: the identifier's activity."""
    return {"query": {"bool": {"filter": [{"terms": {"version_id": version_ids}}]}},
            "sort": [{"fetched_at": "asc"}], "size": MAX_DOCS,
            "_source": ["ad_id", "fetched_at"]}


def suppressions_body(themes: tuple[str, ...] | None, kind: str = "",
                      value: str = "") -> dict[str, Any]:
    """Ads with corrections in force (of one value, if given), within the themes."""
    filters = [*_themes_filter(themes)]
    if kind:
        filters.append({"term": {"keys": key(kind, value)}})
    filters.append({"exists": {"field": "keys"}})
    return {"query": {"bool": {"filter": filters}}, "sort": [{"ad_id": "asc"}],
            "size": MAX_DOCS}


def version_by_id_body(version_id: str) -> dict[str, Any]:
    return {"query": {"term": {"version_id": version_id}}, "size": 1, "_source": ["ad_id"]}


def item(s: Suppression) -> dict[str, str]:
    return {"kind": s.kind, "value": s.value, "version_id": s.version_id, "user": s.user,
            "reason": s.reason, "at": to_iso(s.at)}


def suppressions_from(doc: Mapping[str, Any] | None) -> list[Suppression]:
    """The corrections in force in one suppressions document (None: the ad has none)."""
    if not doc:
        return []
    return [Suppression(ad_id=doc["ad_id"], kind=i["kind"], value=i["value"], user=i["user"],
                        reason=i["reason"], at=from_iso(i["at"]), version_id=i.get("version_id", ""))
            for i in doc.get("items", [])]


def suppression_doc(ad_id: str, theme: str, active: Iterable[Suppression],
                    history: list[dict[str, str]], at: datetime) -> dict[str, Any]:
    """The ad's corrections after a change; lifted ones move to the history, never vanish."""
    items = [item(s) for s in active]
    return {"ad_id": ad_id, "theme": theme, "keys": [key(i["kind"], i["value"]) for i in items],
            "items": items, "history": history, "updated_at": to_iso(at)}


def lifted(s: Suppression, user: str, reason: str, at: datetime) -> dict[str, str]:
    return {**item(s), "lifted_by": user, "lift_reason": reason, "lifted_at": to_iso(at)}


def links_update(kind: str, enr: Enrichment, active: Iterable[Suppression]) -> dict[str, Any]:
    """Partial update of one version: its ``kind`` links rebuilt from the kept enrichment,
    in the enrichment's order, less the values corrected for this ad. Idempotent."""
    gone = {s.value.casefold() for s in active if s.kind == kind}
    return {"doc": {field_for(kind): [v for v in enr.values(kind) if v.casefold() not in gone]}}


def corrected(vdoc: dict[str, Any], active: Iterable[Suppression]) -> dict[str, Any]:
    """A new version document with the ad's corrected values left out of its links."""
    out = dict(vdoc)
    for s in active:
        fld = IDENTIFIER_FIELDS[s.kind]
        out[fld] = [v for v in out.get(fld) or [] if v.casefold() != s.value.casefold()]
    return out


def row_from(src: Mapping[str, Any]) -> VersionRow:
    return VersionRow(
        ad_id=src["ad_id"], version_id=src["version_id"], source_id=src["source_id"],
        title=src.get("title", ""), first_seen=from_iso(src["valid_from"]),
        last_seen=from_iso(src["last_seen"]),
        removed_at=from_iso(src["removed_at"]) if src.get("removed_at") else None,
        enrichment=enrichment_from_dict(src.get("enrichment") or {}))
