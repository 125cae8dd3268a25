"""After a killed crawl on Elasticsearch: the writes the kill cut short, undone or finished.

Elasticsearch has no transactions. A write creates its new version, claims it on the ad
document, then sends its follow-ups (the version before closed, the capture recorded) in
one bulk. The ad's next write or removal mends most of what a cut leaves (indexer.store.
elastic), but not two things, which this module does at the start of the crawl after the
killed one (``ElasticStore.finish_cut_writes``), before that crawl writes anything:

- a version created and never claimed (cut before the claim) is deleted. No ad lists it,
  yet searches of current ads would show it. Its page is in the WARC, and the ad, whose
  last seen did not move, is fetched and written again: what SQLite, whose cut write
  rolled back, does too;
- a write cut after its claim has its follow-ups sent, and its capture record written:
  the ad's last seen is that capture's time, so the capture is looked up in the archive
  by (URL, time): its id first (the store is asked which ones it lacks), then, for those
  only, the whole capture from its index line and WARC record (indexer.archive.lookup).

In the store, only versions and ads of the source that began or were seen since the
killed run began are read, so that cost follows the size of the runs since. The caller
(crawler.cut_writes) keeps replays of the spool out meanwhile. Request bodies are pure
functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from indexer.model import Capture, from_iso, to_iso
from indexer.store.base import CaptureLookup, Mended
from indexer.store.elastic_bodies import (
    capture_doc,
    last_seen_update,
    told_live,
    unclosed_versions,
)

PAGE = 1000


def unclaimed_candidates_body(source_id: str, since: datetime, after: list[Any] | None = None,
                              size: int = PAGE) -> dict[str, Any]:
    """One page of the source's current versions begun since ``since``, in version id
    order: among them any a cut write created and no ad claimed (nothing closes those)."""
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [{"term": {"source_id": source_id}},
                                      {"term": {"is_current": True}},
                                      {"range": {"valid_from": {"gte": to_iso(since)}}}]}},
        "size": size, "sort": [{"version_id": "asc"}], "_source": ["version_id", "ad_id"]}
    if after:
        body["search_after"] = after
    return body


def seen_since_body(source_id: str, since: datetime, after: list[Any] | None = None,
                    size: int = PAGE) -> dict[str, Any]:
    """One page of the source's ads seen since ``since``, in ad id order, with what
    finishing a write cut after its claim needs."""
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [{"term": {"source_id": source_id}},
                                      {"range": {"last_seen": {"gte": to_iso(since)}}}]}},
        "size": size, "sort": [{"ad_id": "asc"}],
        "_source": ["ad_id", "url", "last_seen", "current_version_id", "version_ids",
                    "absences", "removed_at"]}
    if after:
        body["search_after"] = after
    return body


def probe_docs(index: str, ids: list[str], fields: list[str] | None = None
               ) -> list[dict[str, Any]]:
    """The ``docs`` of a multi-get of ``ids``: only ``fields`` of each (None: none)."""
    return [{"_index": index, "_id": i, "_source": fields or False} for i in ids]


def unclaimed(versions: list[Mapping[str, Any]], ads: Mapping[str, Mapping[str, Any] | None]
              ) -> list[str]:
    """Ids of the versions (``version_id``, ``ad_id``) that their ad does not list, or
    whose ad is not there (``ads``: ad id -> its document, None if not found)."""
    out = []
    for v in versions:
        ad = ads.get(v["ad_id"])
        if ad is None or v["version_id"] not in ad.get("version_ids", []):
            out.append(v["version_id"])
    return out


Op = tuple[str, str, str, dict[str, Any]]  # (verb, kind, document id, body)


def finishing_ops(ad: Mapping[str, Any], states: list[Mapping[str, Any] | None],
                  capture: Capture) -> tuple[list[Op], Op]:
    """What a write cut after its claim did not send: the follow-ups (the repairs of the
    ad's versions, the current version's last seen), and its capture record."""
    repairs = unclosed_versions(ad["version_ids"], states)
    if not ad.get("removed_at"):
        repairs += told_live(ad, states)
    current = ad["current_version_id"]
    follow_ups: list[Op] = [("update", "versions", vid, body) for vid, body in repairs]
    follow_ups.append(("update", "versions", current, last_seen_update(capture.fetched_at)))
    record: Op = ("create", "captures", capture.id,
                  capture_doc(capture, ad["ad_id"], current, ad["source_id"]))
    return follow_ups, record


# --------------------------------------------------------------------------- driving
def finish(store: Any, source_id: str, since: datetime, archive: CaptureLookup) -> Mended:
    """Delete the unclaimed versions, then finish the writes cut after their claim."""
    store._dirty = True  # the searches below see every write of the killed crawl
    dropped = 0
    for page in _pages(store, "versions",
                       lambda after: unclaimed_candidates_body(source_id, since, after)):
        ads = _docs(store, "ads", sorted({v["ad_id"] for v in page}), ["version_ids"])
        doomed = unclaimed(page, ads)
        if doomed:
            store._bulk([store._op("delete", "versions", vid, {}) for vid in doomed])
            dropped += len(doomed)
    finished = unfound = 0
    for page in _pages(store, "ads", lambda after: seen_since_body(source_id, since, after)):
        wanted: dict[str, dict[str, Any]] = {}  # capture id -> its ad
        for ad in page:
            cid = archive.capture_id(ad["url"], from_iso(ad["last_seen"]))
            if cid is None:
                unfound += 1
            else:
                wanted[cid] = {**ad, "source_id": source_id}
        recorded = _docs(store, "captures", list(wanted), None)
        for cid, ad in wanted.items():
            if recorded.get(cid) is not None:
                continue
            capture = archive.capture(ad["url"], from_iso(ad["last_seen"]))
            if capture is None:  # its record cannot be read: nothing to rebuild it from
                unfound += 1
                continue
            _finish_one(store, ad, capture)
            finished += 1
    return Mended(dropped, finished, unfound)


def _finish_one(store: Any, ad: dict[str, Any], capture: Capture) -> None:
    """The follow-ups first, the capture record after them: the record is what tells a
    mend (this one again, after a failure) that the write is whole."""
    states = store._version_states(ad["ad_id"], list(ad["version_ids"]))
    follow_ups, record = finishing_ops(ad, states, capture)
    store._bulk([store._op(*op) for op in follow_ups])
    store._bulk([store._op(*record)])


def _pages(store: Any, kind: str, body_for: Any) -> Iterator[list[dict[str, Any]]]:
    """The ``_source`` of every hit, a page at a time (search_after on the sort)."""
    after: list[Any] | None = None
    while True:
        hits = store._search(kind, body_for(after))["hits"]["hits"]
        if not hits:
            return
        yield [h["_source"] for h in hits]
        after = hits[-1]["sort"]


def _docs(store: Any, kind: str, ids: list[str], fields: list[str] | None
          ) -> dict[str, dict[str, Any] | None]:
    """Document id -> its ``fields`` (an empty dict for none), None if not found."""
    out: dict[str, dict[str, Any] | None] = {}
    for start in range(0, len(ids), PAGE):
        docs = probe_docs(store._idx(kind), ids[start:start + PAGE], fields)
        resp = store._call(lambda docs=docs: store.es.mget(docs=docs).body, f"get {kind}")
        for d in resp["docs"]:
            out[d["_id"]] = d.get("_source", {}) if d.get("found") else None
    return out
