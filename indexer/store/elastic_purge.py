"""Retention on Elasticsearch: purge, legal holds and capture relocation.

Request bodies are pure functions (tests check them without a server); ``purge`` and
friends drive an ElasticStore through its plumbing (``_search``, ``_bulk``, ``_op``).
The order is the contract's: captures in range go, then versions with no capture left,
then ads with no version left; surviving versions and ads get their first seen moved to
what remains. Ads under legal hold (``{prefix}-holds``) are excluded by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from indexer.model import from_iso, to_iso
from indexer.store.elastic_bodies import bulk_lines
from indexer.store.purge_types import Hold, PurgedCapture, PurgeResult

KIND = "holds"
PAGE = 1000
MAX_TERMS = 10_000


def hold_doc(ad_id: str, reason: str, by: str, at: datetime) -> dict[str, Any]:
    return {"ad_id": ad_id, "reason": reason, "held_by": by, "held_at": to_iso(at)}


def holds_body() -> dict[str, Any]:
    return {"query": {"match_all": {}}, "size": MAX_TERMS, "sort": [{"ad_id": "asc"}]}


def holds_from(resp: dict[str, Any]) -> list[Hold]:
    return [Hold(s["ad_id"], s["reason"], s["held_by"], from_iso(s["held_at"]))
            for s in (h["_source"] for h in resp["hits"]["hits"])]


def purge_captures_body(source_id: str, before: datetime | None, held: list[str],
                        after: list[Any] | None = None, size: int = PAGE) -> dict[str, Any]:
    """One page of the source's captures fetched before ``before`` (all if None),
    not of held ads, in capture id order."""
    filters: list[dict[str, Any]] = [{"term": {"source_id": source_id}}]
    if before is not None:
        filters.append({"range": {"fetched_at": {"lt": to_iso(before)}}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if held:
        query["bool"]["must_not"] = [{"terms": {"ad_id": held}}]
    body: dict[str, Any] = {"query": query, "size": size, "sort": [{"capture_id": "asc"}],
                            "_source": ["capture_id", "ad_id", "version_id", "warc_file",
                                        "warc_offset", "fetched_at"]}
    if after:
        body["search_after"] = after
    return body


def held_in_range_body(source_id: str, before: datetime | None, held: list[str]
                       ) -> dict[str, Any]:
    """How many held ads have captures in range (reported, not purged)."""
    filters: list[dict[str, Any]] = [{"term": {"source_id": source_id}},
                                     {"terms": {"ad_id": held}}]
    if before is not None:
        filters.append({"range": {"fetched_at": {"lt": to_iso(before)}}})
    return {"query": {"bool": {"filter": filters}}, "size": 0,
            "aggs": {"ads": {"cardinality": {"field": "ad_id"}}}}


def remaining_captures_body(version_ids: list[str], purged: list[str]) -> dict[str, Any]:
    """Per version: captures that stay, and the earliest of them."""
    return {"query": {"bool": {"filter": [{"terms": {"version_id": version_ids}}],
                               "must_not": [{"ids": {"values": purged}}]}},
            "size": 0, "aggs": {"v": {"terms": {"field": "version_id", "size": len(version_ids)},
                                      "aggs": {"first": {"min": {"field": "fetched_at"}}}}}}


def remaining_versions_body(ad_ids: list[str], dead: list[str]) -> dict[str, Any]:
    """Per ad: versions that stay, and the earliest first seen among them."""
    query: dict[str, Any] = {"bool": {"filter": [{"terms": {"ad_id": ad_ids}}]}}
    if dead:
        query["bool"]["must_not"] = [{"ids": {"values": dead}}]
    return {"query": query, "size": 0,
            "aggs": {"a": {"terms": {"field": "ad_id", "size": len(ad_ids)},
                           "aggs": {"first": {"min": {"field": "valid_from"}}}}}}


def image_hashes_body(version_ids: list[str]) -> dict[str, Any]:
    return {"query": {"ids": {"values": version_ids}}, "size": len(version_ids),
            "_source": ["image_hashes"]}


def images_still_shown_body(hashes: list[str], dead: list[str]) -> dict[str, Any]:
    return {"query": {"bool": {"filter": [{"terms": {"image_hashes": hashes}}],
                               "must_not": [{"ids": {"values": dead}}]}},
            "size": 0, "aggs": {"h": {"terms": {"field": "image_hashes", "size": len(hashes)}}}}


def relocate_ops(moves: Mapping[str, tuple[str, int, int]]) -> list[tuple[str, dict[str, Any]]]:
    """(capture id, partial update) per moved capture."""
    return [(cid, {"doc": {"warc_file": f, "warc_offset": off, "warc_length": length}})
            for cid, (f, off, length) in sorted(moves.items())]


def ad_update(dead_versions: list[str], first_seen: str) -> dict[str, Any]:
    return {"script": {"lang": "painless", "params": {"dead": dead_versions, "first": first_seen},
                       "source": "ctx._source.version_ids.removeIf(v -> params.dead.contains(v));"
                                 " ctx._source.first_seen = params.first;"}}


def _buckets(resp: dict[str, Any], name: str) -> dict[str, Any]:
    return {b["key"]: b for b in resp.get("aggregations", {}).get(name, {}).get("buckets", [])}


# --------------------------------------------------------------------------- driving a store
def purge(store: Any, source_id: str, before: datetime | None, dry_run: bool) -> PurgeResult:
    held = [h.ad_id for h in holds(store)]
    caps = _captures_in_range(store, source_id, before, held)
    held_n = 0
    if held:
        resp = store._search("captures", held_in_range_body(source_id, before, held))
        held_n = int(resp["aggregations"]["ads"]["value"])
    purged_ids = [c["capture_id"] for c in caps]
    versions = sorted({c["version_id"] for c in caps})
    ads = sorted({c["ad_id"] for c in caps})
    left = _buckets(store._search("captures", remaining_captures_body(versions, purged_ids)),
                    "v") if versions else {}
    dead = [v for v in versions if v not in left]
    alive_ads = _buckets(store._search("versions", remaining_versions_body(ads, dead)),
                         "a") if ads else {}
    dead_ads = [a for a in ads if a not in alive_ads]
    images = _orphaned_images(store, dead)
    result = PurgeResult(
        source_id, before,
        tuple(PurgedCapture(c["capture_id"], c["warc_file"], int(c["warc_offset"]),
                            from_iso(c["fetched_at"])) for c in caps),
        len(dead), len(dead_ads), tuple(dead_ads), images, held_n, dry_run)
    if dry_run or not caps:
        return result
    ops = [store._op("delete", "captures", cid, {}) for cid in purged_ids]
    ops += [store._op("update", "versions", v, {"doc": {"valid_from": b["first"]["value_as_string"]}})
            for v, b in left.items()]
    ops += [store._op("delete", "versions", v, {}) for v in dead]
    ops += [store._op("delete", "ads", a, {}) for a in dead_ads]
    _bulk(store, ops)
    _delete_dependents(store, dead_ads)
    alive = _buckets(store._search("versions", remaining_versions_body(
        [a for a in ads if a not in dead_ads], dead)), "a") if len(dead_ads) < len(ads) else {}
    _bulk(store, [store._op("update", "ads", a, ad_update(dead, b["first"]["value_as_string"]))
                  for a, b in alive.items()])
    return result


# Indices that keep analysts' judgements and corrections per ad: purged with the ad.
DEPENDENT_KINDS = ("assessments", "suppressions")


def dependents_query(dead_ads: list[str]) -> dict[str, Any]:
    """Everything kept about the purged ads in the dependent indices."""
    return {"terms": {"ad_id": sorted(dead_ads)}}


def _delete_dependents(store: Any, dead_ads: list[str]) -> None:
    if not dead_ads:
        return
    for kind in DEPENDENT_KINDS:
        store._call(lambda kind=kind: store.es.options(ignore_status=404).delete_by_query(
            index=store._idx(kind), query=dependents_query(dead_ads), refresh=True,
            conflicts="proceed"), f"purge {kind} of {len(dead_ads)} ads")


def _bulk(store: Any, ops: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Bulk in pages, refreshed (what a purge removed is gone from the next search)."""
    if not ops:
        return
    for i in range(0, len(ops), PAGE):
        chunk = ops[i:i + PAGE]
        lines = bulk_lines(chunk)
        store._call(lambda lines=lines: store.es.bulk(operations=lines, refresh=True).body,
                    f"purge bulk of {len(chunk)}")
    store._dirty = True


def _captures_in_range(store: Any, source_id: str, before: datetime | None,
                       held: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    while True:
        hits = store._search("captures", purge_captures_body(source_id, before, held, after)
                             )["hits"]["hits"]
        out += [h["_source"] for h in hits]
        if len(hits) < PAGE:
            return out
        after = hits[-1]["sort"]


def _orphaned_images(store: Any, dead: list[str]) -> tuple[str, ...]:
    if not dead:
        return ()
    hashes = sorted({h for hit in store._search("versions", image_hashes_body(dead))["hits"]["hits"]
                     for h in hit["_source"].get("image_hashes", [])})
    if not hashes:
        return ()
    shown = _buckets(store._search("versions", images_still_shown_body(hashes, dead)), "h")
    return tuple(h for h in hashes if h not in shown)


def holds(store: Any) -> list[Hold]:
    return holds_from(store._search(KIND, holds_body()))


def set_hold(store: Any, ad_id: str, reason: str, by: str, at: datetime) -> bool:
    return bool(store._create(KIND, ad_id, hold_doc(ad_id, reason, by, at)))


def release_hold(store: Any, ad_id: str) -> bool:
    resp = store._call(lambda: store.es.options(ignore_status=404).delete(
        index=store._idx(KIND, True), id=ad_id, refresh=True), f"release hold {ad_id}")
    store._dirty = True
    return resp.meta.status == 200


def relocate(store: Any, moves: Mapping[str, tuple[str, int, int]]) -> int:
    ops = [store._op("update", "captures", cid, body) for cid, body in relocate_ops(moves)]
    if not ops:
        return 0
    statuses = store._bulk(ops)
    return sum(1 for s in statuses if s < 300)
