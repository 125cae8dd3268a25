"""Assessments on Elasticsearch: pure request bodies, and the few calls that move them.

Every judgement is one document in the ``assessments`` index (history, never changed);
the newest label is copied onto the ad document and onto each of the ad's version
documents (field ``assessment``), which is what the search facet and filter read.
Document ids are deterministic (ad, user, time), so a retried write never duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from indexer.assessment import Assessment, check
from indexer.model import from_iso, short_hash, to_iso

# Painless: set the ad's current label on a document.
LABEL_SCRIPT = "ctx._source.assessment = params.label"


def assessment_id(ad_id: str, user: str, at: datetime) -> str:
    return short_hash(ad_id, user, to_iso(at), length=32)


def assessment_doc(a: Assessment) -> dict[str, Any]:
    """The stored document; ``seq`` (microseconds since the epoch) orders equal times."""
    return {"ad_id": a.ad_id, "user": a.user, "label": a.label, "note": a.note,
            "at": to_iso(a.at), "seq": int(a.at.timestamp() * 1_000_000)}


def from_doc(src: dict[str, Any]) -> Assessment:
    return Assessment(src["ad_id"], src["user"], src["label"], src.get("note", ""),
                      from_iso(src["at"]))


def history_body(ad_id: str, size: int = 1000) -> dict[str, Any]:
    """One ad's judgements, newest first."""
    return {"query": {"term": {"ad_id": ad_id}}, "size": size,
            "sort": [{"seq": "desc"}, {"user": "asc"}]}


def all_body(size: int, after: list[Any] | None = None) -> dict[str, Any]:
    """Every judgement, oldest first, paged with search_after (the labelled-data export)."""
    body: dict[str, Any] = {"query": {"match_all": {}}, "size": size,
                            "sort": [{"seq": "asc"}, {"ad_id": "asc"}, {"user": "asc"}]}
    if after is not None:
        body["search_after"] = after
    return body


def label_update(label: str) -> dict[str, Any]:
    """Partial update of the ad document: its current label."""
    return {"doc": {"assessment": label}}


def versions_label_body(ad_id: str, label: str) -> dict[str, Any]:
    """update_by_query body: every version of the ad carries the current label."""
    return {"query": {"term": {"ad_id": ad_id}},
            "script": {"source": LABEL_SCRIPT, "lang": "painless", "params": {"label": label}}}


def make(ad_id: str, user: str, label: str, note: str, at: datetime) -> Assessment:
    """A checked Assessment with the time at the precision the store keeps."""
    return Assessment(ad_id, user, label, check(ad_id, user, label, note), from_iso(to_iso(at)))


# ----------------------------------------------------------------------- calls (ElasticStore)
def set_assessment(store: Any, ad_id: str, user: str, label: str, note: str,
                   at: datetime) -> Assessment:
    """Append the judgement, then copy the label to the ad and its versions."""
    a = make(ad_id, user, label, note, at)
    if store._get("ads", ad_id) is None:
        raise KeyError(f"no ad {ad_id!r} to assess")
    store._create("assessments", assessment_id(ad_id, user, a.at), assessment_doc(a))
    current = assessments(store, ad_id)[0].label  # the newest, which may not be ours
    store._call(lambda: store.es.update(index=store._idx("ads", True), id=ad_id,
                                        retry_on_conflict=5, **label_update(current)),
                f"label ad {ad_id}")
    store._call(lambda: store.es.update_by_query(
        index=store._idx("versions", True), conflicts="proceed", refresh=True,
        **versions_label_body(ad_id, current)), f"label versions of {ad_id}")
    store._dirty = True
    return a


def assessments(store: Any, ad_id: str) -> list[Assessment]:
    hits = store._search("assessments", history_body(ad_id))["hits"]["hits"]
    return [from_doc(h["_source"]) for h in hits]


def iter_assessments(store: Any, size: int = 500) -> Iterator[Assessment]:
    after = None
    while True:
        hits = store._search("assessments", all_body(size, after))["hits"]["hits"]
        yield from (from_doc(h["_source"]) for h in hits)
        if len(hits) < size:
            return
        after = hits[-1]["sort"]
