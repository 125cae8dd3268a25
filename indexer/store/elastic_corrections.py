"""ElasticStore's identifier summaries and corrected extractions (bodies: elastic_entities).

Kept beside elastic.py so the store class only delegates. Each correction is claimed by
a conditional write of the ad's suppressions document (``if_seq_no``), then the link
field of each version that carried the value is rebuilt from its kept enrichment less
the ad's corrections in force (idempotent: a retry finishes the job, never doubles it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from elasticsearch import ConflictError, NotFoundError

from indexer.model import enrichment_from_dict, from_iso
from indexer.search.parse import normal_identifier
from indexer.store import elastic_entities as ee
from indexer.store.base import StoreError
from indexer.store.elastic_bodies import by_ad_body
from indexer.store.entity_summary import (
    EntitySummary,
    Suppression,
    carried,
    check_correction,
    summarise,
)

if TYPE_CHECKING:
    from indexer.store.elastic import ElasticStore

ATTEMPTS = 8


def _resolve(store: ElasticStore, target: str) -> tuple[str, str]:
    """(ad id, version id or '') for an ad id or a version id."""
    if store._get("ads", target) is not None:
        return target, ""
    hits = store._search("versions", ee.version_by_id_body(target))["hits"]["hits"]
    if not hits:
        raise KeyError(f"no ad or version {target!r} in this store")
    return hits[0]["_source"]["ad_id"], target


def _versions(store: ElasticStore, ad_id: str) -> list[dict[str, Any]]:
    return [h["_source"] for h in store._search("versions", by_ad_body(ad_id, "seq"))["hits"]["hits"]]


def active_for(store: ElasticStore, ad_id: str) -> list[Suppression]:
    """An ad's corrections in force, read in real time (no refresh): the write path uses it."""
    got = store._get(ee.KIND, ad_id)
    return ee.suppressions_from(got["_source"] if got else None)


def _claim(store: ElasticStore, ad_id: str, doc: dict[str, Any], got: dict[str, Any] | None) -> bool:
    store._dirty = True
    idx = store._idx(ee.KIND, True)
    try:
        if got is None:
            store._call(lambda: store.es.create(index=idx, id=ad_id, document=doc),
                        f"correction of {ad_id}")
        else:
            store._call(lambda: store.es.index(index=idx, id=ad_id, document=doc,
                                               if_seq_no=got["_seq_no"],
                                               if_primary_term=got["_primary_term"]),
                        f"correction of {ad_id}")
        return True
    except ConflictError:
        return False


def _change(store: ElasticStore, target: str, kind: str, value: str, user: str, reason: str,
            at: datetime | None, lift: bool) -> bool:
    check_correction(kind, value, reason)
    value = normal_identifier(kind, value)
    ad_id, version_id = _resolve(store, target)
    versions = _versions(store, ad_id)
    enrichments = {v["version_id"]: enrichment_from_dict(v.get("enrichment") or {})
                   for v in versions}
    carrying = [vid for vid, enr in enrichments.items() if carried(enr, kind, value)]
    if not lift and not carrying:
        raise ValueError(f"ad {ad_id} never carried {kind} {value!r}: nothing to correct")
    when = at or datetime.now(UTC)
    theme = versions[0].get("theme", "") if versions else ""
    for _ in range(ATTEMPTS):
        got = store._get(ee.KIND, ad_id)
        src = got["_source"] if got else {}
        active = ee.suppressions_from(src or None)
        history = list(src.get("history", []))
        same = [s for s in active if s.kind == kind and s.value.casefold() == value.casefold()]
        if lift != bool(same):
            return False
        if lift:
            history += [ee.lifted(s, user, reason, when) for s in same]
            active = [s for s in active if s not in same]
        else:
            active.append(Suppression(ad_id, kind, value, user, reason, when, version_id))
        if _claim(store, ad_id, ee.suppression_doc(ad_id, theme, active, history, when), got):
            store._bulk([store._op("update", "versions", vid,
                                   ee.links_update(kind, enrichments[vid], active))
                         for vid in carrying])
            return True
    raise StoreError(f"corrections of ad {ad_id} kept changing under concurrent writers")


def suppress(store: ElasticStore, target: str, kind: str, value: str, user: str, reason: str,
             at: datetime | None) -> bool:
    return _change(store, target, kind, value, user, reason, at, lift=False)


def unsuppress(store: ElasticStore, target: str, kind: str, value: str, user: str, reason: str,
               at: datetime | None) -> bool:
    return _change(store, target, kind, value, user, reason, at, lift=True)


def suppressions(store: ElasticStore, ad_id: str | None,
                 themes: tuple[str, ...] | None) -> list[Suppression]:
    if ad_id:
        got = store._get(ee.KIND, ad_id)
        if got is None or (themes is not None and got["_source"].get("theme") not in themes):
            return []
        found = ee.suppressions_from(got["_source"])
    else:
        hits = store._search(ee.KIND, ee.suppressions_body(themes))["hits"]["hits"]
        found = [s for h in hits for s in ee.suppressions_from(h["_source"])]
    return sorted(found, key=lambda s: s.at, reverse=True)


def entity_summary(store: ElasticStore, kind: str, value: str,
                   themes: tuple[str, ...] | None) -> EntitySummary:
    value = normal_identifier(kind, value)
    try:
        body = ee.versions_body(kind, value, themes)
    except ValueError as exc:
        raise StoreError(str(exc)) from exc
    if themes is not None and not themes:
        return summarise(kind, value, [], [])
    rows = [ee.row_from(h["_source"]) for h in store._search("versions", body)["hits"]["hits"]]
    captures = []
    if rows:
        hits = store._search("captures", ee.captures_body([r.version_id for r in rows]))
        captures = [(h["_source"]["ad_id"], from_iso(h["_source"]["fetched_at"]))
                    for h in hits["hits"]["hits"]]
    ad_ids = list(dict.fromkeys(r.ad_id for r in rows))
    sup: list[Suppression] = []
    if ad_ids:
        try:
            docs = store._call(lambda: store.es.mget(index=store._idx(ee.KIND), ids=ad_ids).body,
                               "mget corrections")["docs"]
        except NotFoundError:
            docs = []
        sup += [s for d in docs if d.get("found") for s in ee.suppressions_from(d["_source"])]
    hits = store._search(ee.KIND, ee.suppressions_body(themes, kind, value))["hits"]["hits"]
    sup += [s for h in hits for s in ee.suppressions_from(h["_source"]) if s.ad_id not in ad_ids]
    return summarise(kind, value, rows, captures, sup)
