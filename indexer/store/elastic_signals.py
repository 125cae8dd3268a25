"""Elasticsearch: cross-ad signals and replacing a version's enrichment (reindex).

Signals are kept on every version document of a flagged ad (``signals`` keyword field,
``signal_reasons`` stored but not indexed), so ``signal:`` search and the ``signal``
facet use the same term filters and aggregations as every other keyword facet, current
or "as of" a day. The first part of this module is pure (bodies and readers, tested
without a server); the second moves them through an ElasticStore.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from indexer.model import Enrichment, from_iso, to_dict
from indexer.signals import AdFacts, Sighting, compute_signals
from indexer.store.elastic_bodies import _searchable, load_mapping

if TYPE_CHECKING:
    from indexer.store.elastic import ElasticStore

SIGNAL_FIELDS: tuple[str, ...] = ("signals", "signal_reasons")
FACT_SOURCE: tuple[str, ...] = ("version_id", "ad_id", "source_id", "valid_from", "phones",
                                "places", "image_hashes", "text", "enrichment.attributes")
PAGE = 1000
BULK = 500


# ----------------------------------------------------------------------------- pure
def signal_mapping_update() -> dict[str, Any]:
    """put_mapping body adding the signal fields to an index made before they existed
    (additive, so it is allowed on a live index; the shipped mapping is the source)."""
    props = load_mapping("versions")["mappings"]["properties"]
    return {"properties": {f: props[f] for f in SIGNAL_FIELDS}}


def facts_scan_body(size: int, after: list[Any] | None) -> dict[str, Any]:
    """One page of every version document, only the fields signals are computed from."""
    body: dict[str, Any] = {"query": {"match_all": {}}, "size": size,
                            "sort": [{"version_id": "asc"}], "_source": list(FACT_SOURCE)}
    if after is not None:
        body["search_after"] = after
    return body


def sighting_from(src: dict[str, Any]) -> Sighting:
    """A version document → a Sighting. Phones and places come from the searchable
    fields (what links ads), names from the stored enrichment's attributes."""
    attrs = (src.get("enrichment") or {}).get("attributes") or []
    return Sighting(
        at=from_iso(src["valid_from"]),
        phones=tuple(src.get("phones") or ()),
        places=tuple(src.get("places") or ()),
        names=tuple(dict.fromkeys(a["value"] for a in attrs if a.get("kind") == "name")),
        images=tuple(src.get("image_hashes") or ()),
        text=src.get("text") or "",
    )


def facts_from(docs: Iterable[dict[str, Any]]) -> tuple[list[AdFacts], dict[str, list[str]]]:
    """Version documents (any order) → facts per ad, and each ad's version ids."""
    sightings: dict[str, list[Sighting]] = {}
    sources: dict[str, str] = {}
    versions: dict[str, list[str]] = {}
    for src in docs:
        ad_id = src["ad_id"]
        sightings.setdefault(ad_id, []).append(sighting_from(src))
        sources[ad_id] = src["source_id"]
        versions.setdefault(ad_id, []).append(src["version_id"])
    facts = [AdFacts(a, sources[a], tuple(sorted(s, key=lambda x: x.at))) for a, s in sightings.items()]
    return facts, versions


def signal_update(signals: dict[str, list[str]]) -> dict[str, Any]:
    """Partial update of one version document: its ad's signals (empty clears them)."""
    return {"doc": {"signals": sorted(signals),
                    "signal_reasons": {s: list(r) for s, r in sorted(signals.items())}}}


def enrichment_update(enrichment: Enrichment) -> dict[str, Any]:
    """Partial update replacing a version's enrichment and every field derived from it."""
    return {"doc": {"enrichment": to_dict(enrichment), **_searchable(enrichment)}}


def reasons_body(ad_id: str) -> dict[str, Any]:
    """The ad's current version: its signal reasons (every version carries the same)."""
    return {"query": {"bool": {"filter": [{"term": {"ad_id": ad_id}}]}}, "size": 1,
            "sort": [{"seq": "desc"}], "_source": ["signal_reasons"]}


# ----------------------------------------------------------------------------- I/O
def _version_docs(store: ElasticStore) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        hits = store._search("versions", facts_scan_body(PAGE, after))["hits"]["hits"]
        yield from (h["_source"] for h in hits)
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def refresh(store: ElasticStore) -> dict[str, int]:
    """Recompute every signal and write it to every version document (flagged or not,
    so signals that no longer hold are cleared)."""
    store._call(lambda: store.es.indices.put_mapping(index=store._idx("versions", True),
                                                     **signal_mapping_update()),
                "adding the signal fields to the versions mapping")
    facts, versions = facts_from(_version_docs(store))
    result = compute_signals(facts)
    ops = [store._op("update", "versions", vid, signal_update(result.ads.get(ad_id, {})))
           for ad_id, vids in versions.items() for vid in vids]
    for i in range(0, len(ops), BULK):
        store._bulk(ops[i:i + BULK])
    return result.counts()


def update_enrichment(store: ElasticStore, version_id: str, enrichment: Enrichment) -> bool:
    """Replace the enrichment; an analyst's corrections of the ad stay in force."""
    got = store._get("versions", version_id)
    if got is None:
        return False
    body = enrichment_update(enrichment)
    body["doc"] = store._corrected(got["_source"]["ad_id"], body["doc"])
    statuses = store._bulk([store._op("update", "versions", version_id, body)])
    return statuses[0] < 300


def reasons(store: ElasticStore, ad_id: str) -> dict[str, list[str]]:
    hits = store._search("versions", reasons_body(ad_id))["hits"]["hits"]
    if not hits:
        return {}
    return {k: list(v) for k, v in (hits[0]["_source"].get("signal_reasons") or {}).items()}

