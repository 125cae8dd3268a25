"""ElasticStore: the Store contract on Elasticsearch (elasticsearch-py).

Request bodies come from pure modules (elastic_bodies, elastic_query, elastic_results);
this module moves them and makes the decisions that need a read:
- a new version is claimed by a conditional write of the ad document
  (``if_seq_no``/``if_primary_term``); the loser of a race re-reads and decides again,
  and version ids are deterministic, so concurrent crawlers never duplicate a version;
- there are no transactions: a write claims first and closes the version before after,
  a removal tells the versions first and claims after, so one cut short in between (a
  kill, the server gone) can leave a version open beside the current one, or versions
  saying "removed" of a live ad; each write and removal reads the state of the ad's
  versions and mends that (elastic_bodies.unclosed_versions, told_live), so the ad's
  next write or removal sets it right (a write racing a removal of the same ad can still
  leave its versions saying "live" of the removed ad; one process crawls a source at a
  time, crawler.source_lock); what a kill leaves that no later write of the ad would
  find (a version never claimed, a claimed write's capture record) is mended by the
  next crawl of the source (finish_cut_writes, elastic_mend);
- last_seen only grows (a painless script), so observations commute;
- transient failures (connection, 429, 5xx) are retried with backoff, 4xx never;
- reads refresh first if this store wrote since the last read.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, Transport
from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from indexer.assessment import Assessment
from indexer.crawl_runs import CrawlRun
from indexer.model import (
    AdRecord,
    Enrichment,
    LiveAd,
    Observation,
    SourceInfo,
    VersionRecord,
    WriteResult,
    ad_id_for,
    capture_from_dict,
    enrichment_from_dict,
    fields_from_dict,
    from_iso,
)
from indexer.search.parse import normal_identifier
from indexer.search.query import Hit, Query, SearchResult
from indexer.store import (
    elastic_assessments,
    elastic_corrections,
    elastic_crawl_runs,
    elastic_indices,
    elastic_mend,
    elastic_purge,
    theme_walls,
)
from indexer.store.aggregates import Aggregates, compute
from indexer.store.base import CaptureLookup, Mended, StoreError
from indexer.store.elastic_bodies import (
    KINDS,
    absence,
    ad_doc,
    ad_state_update,
    all_ads_body,
    bulk_lines,
    by_ad_body,
    capture_doc,
    close_version_update,
    identifier_body,
    image_ads_body,
    kept_over_write,
    last_seen_update,
    listed_in_update,
    live_ad_from,
    live_ads_body,
    mapping_version,
    read_alias,
    removed_doc,
    removed_kept,
    returns,
    source_doc,
    told_live,
    unclosed_versions,
    unfinished_write,
    version_doc,
    version_states_docs,
    write_alias,
)
from indexer.store.elastic_entities import corrected
from indexer.store.elastic_query import compile_search, needs_search_after, scan_body
from indexer.store.elastic_results import facets_from, hit_from, total_from
from indexer.store.elastic_sources import (
    history_body,
    history_doc,
    latest_by_source,
    revisions_from,
)
from indexer.store.entity_summary import EntitySummary, Suppression
from indexer.store.purge_types import Hold, PurgeResult
from indexer.store.source_history import SourceRevision, changed

T = TypeVar("T")
RETRIES = 4
WRITE_ATTEMPTS = 8
NOTE_BULK = 1000  # listed_in updates per bulk request
CONFLICT_RETRIES = 5
LISTED_IN_SINCE = 2  # the ads mapping version that has listed_in


class _CompatTransport(Transport):
    """Ask for REST compatibility with 8.x: accepted by 8.x and 9.x servers alike.

    elasticsearch-py 9 sends ``compatible-with=9``, which an 8.x server refuses.
    """

    def perform_request(self, method: str, target: str, *args: Any, **kwargs: Any) -> Any:
        headers = kwargs.get("headers")
        if headers:
            fixed = {k: v.replace("compatible-with=9", "compatible-with=8")
                     for k, v in dict(headers).items()}
            kwargs["headers"] = type(headers)(fixed) if not isinstance(headers, dict) else fixed
        return super().perform_request(method, target, *args, **kwargs)


def safe_url(url: str) -> str:
    """The URL without a password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def _transient(exc: Exception) -> bool:
    if isinstance(exc, (TransportConnectionError, ConnectionTimeout)):
        return True
    return isinstance(exc, ApiError) and (exc.meta.status == 429 or exc.meta.status >= 500)


class ElasticStore:
    def __init__(self, url: str, prefix: str = "adtrace", *, timeout_s: float = 10.0,
                 facet_timeout_ms: int = 1000, backoff_s: float = 0.2) -> None:
        self.url = url
        self.prefix = prefix
        self.facet_timeout_ms = facet_timeout_ms
        self._backoff = backoff_s
        self._dirty = False
        self._sources: dict[str, SourceInfo] | None = None
        self._versions: dict[str, int] = {}  # see _index_version
        self._all_aliases = ",".join(read_alias(prefix, k) for k in KINDS)
        self.es = Elasticsearch(url, request_timeout=timeout_s, max_retries=0,
                                transport_class=_CompatTransport)
        self._call(lambda: elastic_indices.init(self.es, prefix), "opening indices")

    # ------------------------------------------------------------------ plumbing
    def _call(self, fn: Callable[[], T], what: str) -> T:
        """Run one request; retry transient failures with backoff, never a 4xx."""
        delay = self._backoff
        for attempt in range(RETRIES + 1):
            try:
                return fn()
            except (ConflictError, NotFoundError):
                raise
            except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
                if not _transient(exc) or attempt == RETRIES:
                    raise StoreError(f"Elasticsearch at {safe_url(self.url)}: {what} failed: "
                                     f"{exc}") from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _idx(self, kind: str, write: bool = False) -> str:
        return write_alias(self.prefix, kind) if write else read_alias(self.prefix, kind)

    def _get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return self._call(lambda: self.es.get(index=self._idx(kind), id=doc_id).body,
                              f"get {kind}/{doc_id}")
        except NotFoundError:
            return None

    def _search(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._dirty:
            self._call(lambda: self.es.indices.refresh(index=self._all_aliases), "refresh")
            self._dirty = False
        return self._call(lambda: self.es.search(index=self._idx(kind), **body).body,
                          f"search {kind}")

    def _create(self, kind: str, doc_id: str, doc: dict[str, Any]) -> bool:
        """Create once; False if a document with this id already exists."""
        self._dirty = True
        try:
            self._call(lambda: self.es.create(index=self._idx(kind, True), id=doc_id,
                                              document=doc), f"create {kind}/{doc_id}")
            return True
        except ConflictError:
            return False

    def _bulk(self, ops: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[int]:
        """Send (action, body) pairs; retry items that failed transiently. Item statuses."""
        return [item["status"] for item in self._bulk_items(ops)]

    def _bulk_items(self, ops: list[tuple[dict[str, Any], dict[str, Any]]]
                    ) -> list[dict[str, Any]]:
        """``_bulk``, answering each item's result (status, and ``result``: created,
        updated, noop …)."""
        items: list[dict[str, Any]] = [{}] * len(ops)
        pending = list(range(len(ops)))
        delay = self._backoff
        for attempt in range(RETRIES + 1):
            lines = bulk_lines([ops[i] for i in pending])
            resp = self._call(lambda lines=lines: self.es.bulk(operations=lines).body, "bulk")
            retry = []
            for i, item in zip(pending, resp["items"], strict=True):
                items[i] = next(iter(item.values()))
                status = items[i]["status"]
                if status == 429 or status >= 500:
                    retry.append(i)
            self._dirty = True
            if not retry:
                break
            if attempt == RETRIES:
                raise StoreError(f"Elasticsearch at {safe_url(self.url)}: bulk items kept "
                                 f"failing: {[items[i]['status'] for i in retry]}")
            pending = retry
            time.sleep(delay)
            delay *= 2
        bad = [s for s in (item["status"] for item in items) if s >= 400 and s not in (404, 409)]
        if bad:
            raise StoreError(f"Elasticsearch at {safe_url(self.url)}: bulk refused: {bad}")
        return items

    def _op(self, verb: str, kind: str, doc_id: str, body: dict[str, Any]
            ) -> tuple[dict[str, Any], dict[str, Any]]:
        return {verb: {"_index": self._idx(kind, True), "_id": doc_id}}, body

    # ------------------------------------------------------------------ sources
    def upsert_source(self, source: SourceInfo) -> None:
        self._call(lambda: self.es.index(index=self._idx("sources", True), id=source.id,
                                         document=source_doc(source)), f"source {source.id}")
        self._dirty = True
        known = {s.id: s for s in self.sources()}.get(source.id)
        self._sources = None
        if known is None or changed(known, source) or not self.source_history(source.id):
            doc_id, doc = history_doc(source, datetime.now(UTC))
            self._call(lambda: self.es.index(index=self._idx("source_history", True), id=doc_id,
                                             document=doc), f"history of source {source.id}")
            self._dirty = True

    def source_history(self, source_id: str) -> list[SourceRevision]:
        hits = self._search("source_history", history_body(source_id))["hits"]["hits"]
        return revisions_from(hits)

    def _walled(self, themes: tuple[str, ...] | None) -> frozenset[str] | None:
        return theme_walls.allowed_sources(self.sources, themes)

    def sources(self) -> list[SourceInfo]:
        if self._sources is None:
            resp = self._search("sources", {"query": {"match_all": {}}, "size": 10_000,
                                            "sort": [{"id": "asc"}]})
            full = latest_by_source(self._search("source_history", history_body(None))
                                    ["hits"]["hits"])
            self._sources = {h["_source"]["id"]: full.get(h["_source"]["id"])
                             or SourceInfo(**h["_source"]) for h in resp["hits"]["hits"]}
        return list(self._sources.values())

    def _theme(self, source_id: str) -> str:
        return self._themes().get(source_id, "")

    def _themes(self) -> dict[str, str]:
        return {s.id: s.theme for s in self.sources()}

    # ------------------------------------------------------------------ writes
    def write(self, obs: Observation, enrichment: Enrichment) -> WriteResult:
        cap = self._get("captures", obs.capture.id)
        if cap is not None:
            return WriteResult(obs.ad_id, cap["_source"]["version_id"], False, False, True)
        for _ in range(WRITE_ATTEMPTS):
            result = self._try_write(obs, enrichment)
            if result is not None:
                return result
        raise StoreError(f"Elasticsearch at {safe_url(self.url)}: ad {obs.ad_id} "
                         f"({obs.url}) kept changing under concurrent writers")

    def _try_write(self, obs: Observation, enr: Enrichment) -> WriteResult | None:
        """One optimistic attempt; None if another writer changed the ad meanwhile."""
        at = obs.capture.fetched_at
        fp = obs.fields.fingerprint()
        got = self._get("ads", obs.ad_id)
        ad: dict[str, Any] = got["_source"] if got else {}
        version_ids = list(ad.get("version_ids", []))
        new_version = not got or ad["current_fingerprint"] != fp
        first_seen = min(from_iso(ad["first_seen"]), at) if got else at
        last_seen = max(from_iso(ad["last_seen"]), at) if got else at
        theme = ad.get("theme") or self._theme(obs.source_id)
        reappeared = returns(ad, at)
        absences = [dict(a) for a in ad.get("absences", [])]
        if reappeared and absences and "lte" not in absences[-1]:
            absences[-1] = absence(from_iso(ad["removed_at"]), at)
        states = self._version_states(obs.ad_id, version_ids)
        made_here, back_here = (unfinished_write(ad, states[-1], at)
                                if got and not new_version and not reappeared else (False, False))
        repairs = unclosed_versions(version_ids, states)
        if not reappeared:  # one that brings the ad back tells its versions itself
            repairs += told_live(ad, states)  # nothing for an ad that stays removed
        created, began = False, at  # began: where the new version begins
        if new_version:
            vdoc = version_doc(obs, enr, seq=len(version_ids) + 1, theme=theme,
                               ad_first_seen=first_seen, absences=absences,
                               removed_at=removed_kept(ad, at))
            if ad.get("assessment"):  # the ad's current label carries over to new versions
                vdoc["assessment"] = ad["assessment"]
            vdoc = self._corrected(obs.ad_id, vdoc)
            vid = vdoc["version_id"]
            created = self._create("versions", vid, vdoc)
            if not created:  # made by a write of this text cut short before its claim
                began = self._valid_from(vid) or at
                first_seen = min(first_seen, began)
            version_ids.append(vid)
        else:
            vid = ad["current_version_id"]
        doc = ad_doc(obs, theme=theme, first_seen=first_seen, last_seen=last_seen,
                     version_ids=version_ids, fingerprint=fp, absences=absences)
        doc.update(kept_over_write(ad, at))  # its removal and url, if the capture is older
        for kept in ("assessment", "listed_in"):  # not the write's to change
            if ad.get(kept):
                doc[kept] = ad[kept]
        if not self._claim(obs.ad_id, doc, got):
            if created:
                self._drop_orphan(obs.ad_id, vid)
            return None
        self._after_claim(obs, vid, version_ids, new_version, absences if reappeared else None,
                          repairs, began)
        # a write of this capture cut short after its claim did what it reports, not this one
        return WriteResult(obs.ad_id, vid, new_ad=not got or (made_here and len(version_ids) == 1),
                           new_version=new_version or made_here, duplicate_capture=False,
                           reappeared=reappeared or back_here)

    def _version_states(self, ad_id: str, version_ids: list[str]
                        ) -> list[dict[str, Any] | None]:
        """Each version's STATE_FIELDS (None for one not found), to mend what a write cut
        short left: one small request per write or removal of a known ad, the price of
        having no transactions."""
        if not version_ids:
            return []
        docs = version_states_docs(self._idx("versions"), version_ids)
        resp = self._call(lambda: self.es.mget(docs=docs).body,
                          f"get the versions of ad {ad_id}")
        return [d.get("_source") if d.get("found") else None for d in resp["docs"]]

    def _valid_from(self, vid: str) -> datetime | None:
        """When a version stored earlier begins (None if it is not there)."""
        got = self._get("versions", vid)
        return from_iso(got["_source"]["valid_from"]) if got else None

    def _claim(self, ad_id: str, doc: dict[str, Any], got: dict[str, Any] | None) -> bool:
        """Write the ad document only if nobody else did since we read it."""
        if got is None:
            return self._create("ads", ad_id, doc)
        self._dirty = True
        try:
            self._call(lambda: self.es.index(
                index=self._idx("ads", True), id=ad_id, document=doc,
                if_seq_no=got["_seq_no"], if_primary_term=got["_primary_term"]), f"ad {ad_id}")
            return True
        except ConflictError:
            return False

    def _drop_orphan(self, ad_id: str, vid: str) -> None:
        """We created a version the ad never claimed (we lost a race): remove it."""
        now = self._get("ads", ad_id)
        if now is None or vid not in now["_source"].get("version_ids", []):
            with contextlib.suppress(NotFoundError):
                self._call(lambda: self.es.delete(index=self._idx("versions", True), id=vid),
                           f"delete orphan version {vid}")

    def _after_claim(self, obs: Observation, vid: str, version_ids: list[str],
                     new_version: bool, absences: list[dict[str, str]] | None,
                     repairs: list[tuple[str, dict[str, Any]]], began: datetime) -> None:
        """Follow-up writes, all idempotent: mend what a write cut short left (repairs),
        close the old version where the new one ``began``, extend, tell, record."""
        at = obs.capture.fetched_at
        ops = [self._op("update", "versions", v, body) for v, body in repairs]
        if new_version and len(version_ids) > 1:
            ops.append(self._op("update", "versions", version_ids[-2],
                                close_version_update(began)))
        if not new_version or began != at:
            ops.append(self._op("update", "versions", vid, last_seen_update(at)))
        if absences is not None:  # reappeared: a new version is born live; older ones are told
            older = version_ids[:-1] if new_version else version_ids
            ops += [self._op("update", "versions", v, ad_state_update("live", None, absences))
                    for v in older]
        ops.append(self._op("create", "captures", obs.capture.id,
                            capture_doc(obs.capture, obs.ad_id, vid, obs.source_id)))
        self._bulk(ops)

    def mark_removed(self, source_id: str, site_ad_id: str, at: datetime, reason: str) -> bool:
        ad_id = ad_id_for(source_id, site_ad_id)
        for _ in range(WRITE_ATTEMPTS):
            got = self._get("ads", ad_id)
            doc = removed_doc(got["_source"], at, reason) if got else None
            if got is None or doc is None:  # unknown, removed already, or seen since
                return False
            # the versions are told first: a removal cut short between the two leaves a
            # live ad whose versions say removed, which its next write or removal mends
            # (told_live); the other order left a removed ad with live versions, which
            # nothing ever writes again. A version a cut write left open is closed here.
            ids = doc["version_ids"]
            update = ad_state_update("removed", at, doc["absences"])
            repairs = unclosed_versions(ids, self._version_states(ad_id, ids))
            self._bulk([self._op("update", "versions", v, body)
                        for v, body in [*repairs, *((v, update) for v in ids)]])
            if self._claim(ad_id, doc, got):
                return True
        raise StoreError(f"Elasticsearch at {safe_url(self.url)}: ad {ad_id} kept changing")

    def finish_cut_writes(self, source_id: str, since: datetime,
                          archive: CaptureLookup) -> Mended:
        return elastic_mend.finish(self, source_id, since, archive)

    # ------------------------------------------------------------------ crawl runs
    def record_crawl_run(self, run: CrawlRun) -> None:
        doc = elastic_crawl_runs.run_doc(run, self._index_version(elastic_crawl_runs.KIND))
        self._call(lambda: self.es.index(index=self._idx(elastic_crawl_runs.KIND, True),
                                         id=run.id, document=doc),
                   f"crawl run {run.source_id} {run.id}")
        self._dirty = True

    def _index_version(self, kind: str) -> int:
        """The mapping version of the index ``kind`` is written to, read once per store (a
        crawl records its run twice): one not yet migrated (``adtrace index migrate``)
        takes no newer field. None found (the alias names no index as its write index):
        the shipped version, which ``init`` made the index from."""
        if kind not in self._versions:
            alias = self._idx(kind, True)
            found = self._call(lambda: elastic_indices.write_index_version(self.es, alias),
                               f"the index behind {alias}")
            self._versions[kind] = found or mapping_version(kind)
        return self._versions[kind]

    def crawl_runs(self, source_id: str | None = None, limit: int = 50) -> list[CrawlRun]:
        body = elastic_crawl_runs.runs_body(source_id, limit)
        return elastic_crawl_runs.runs_from(self._search(elastic_crawl_runs.KIND, body))

    # ------------------------------------------------------------------ reads
    def live_ads(self, source_id: str) -> list[LiveAd]:
        out: list[LiveAd] = []
        after = None
        while True:
            resp = self._search("ads", live_ads_body(source_id, 1000, after))
            hits = resp["hits"]["hits"]
            out += [live_ad_from(h["_source"]) for h in hits]
            if len(hits) < 1000:
                return out
            after = hits[-1]["sort"]

    def note_listed(self, source_id: str, listed: Mapping[str, Iterable[str]]) -> int:
        """Scripted updates in bulks (a noop for an ad that gains nothing; a 404 for one
        not stored). An ads index not yet migrated to a mapping with ``listed_in``
        (``adtrace index migrate``) would refuse the field: nothing is written there, and
        removals by absence go by the listings alone, as before."""
        if self._index_version("ads") < LISTED_IN_SINCE:
            return 0
        ops = [self._op("update", "ads", ad_id_for(source_id, site_ad_id),
                        listed_in_update(sections))
               for site_ad_id, sections in sorted(listed.items())]
        for action, _ in ops:  # a write or an assessment meanwhile: read the ad again
            action["update"]["retry_on_conflict"] = CONFLICT_RETRIES
        gained = 0
        for i in range(0, len(ops), NOTE_BULK):
            gained += sum(item.get("result") == "updated"
                          for item in self._bulk_items(ops[i:i + NOTE_BULK]))
        return gained

    def get_ad(self, ad_id: str, themes: tuple[str, ...] | None = None) -> AdRecord | None:
        got = self._get("ads", ad_id)
        if got is None:
            return None
        ad = got["_source"]
        if not theme_walls.visible(ad["source_id"], self._walled(themes)):
            return None  # behind the theme wall: the same answer as an unknown ad
        vers = self._search("versions", by_ad_body(ad_id, "seq"))["hits"]["hits"]
        caps = self._search("captures", by_ad_body(ad_id, "fetched_at"))["hits"]["hits"]
        by_version: dict[str, list[Any]] = {}
        for h in caps:
            src = h["_source"]
            fields = {k: v for k, v in src.items()
                      if k not in ("capture_id", "ad_id", "version_id", "source_id")}
            by_version.setdefault(src["version_id"], []).append(capture_from_dict(fields))
        versions = tuple(
            VersionRecord(
                id=v["version_id"], ad_id=ad_id, seq=v["seq"], fingerprint=v["fingerprint"],
                fields=fields_from_dict(v), enrichment=enrichment_from_dict(v["enrichment"]),
                first_seen=from_iso(v["valid_from"]), last_seen=from_iso(v["last_seen"]),
                captures=tuple(by_version.get(v["version_id"], ())))
            for v in (h["_source"] for h in vers) if v["version_id"] in ad["version_ids"])
        return AdRecord(
            id=ad_id, source_id=ad["source_id"], site_ad_id=ad["site_ad_id"], url=ad["url"],
            first_seen=from_iso(ad["first_seen"]), last_seen=from_iso(ad["last_seen"]),
            removed_at=from_iso(ad["removed_at"]) if ad.get("removed_at") else None,
            removed_reason=ad.get("removed_reason", ""), versions=versions)

    def _ads_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        resp = self._call(lambda: self.es.mget(index=self._idx("ads"), ids=ids).body, "mget ads")
        return {d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")}

    def _hits(self, raw: list[dict[str, Any]], as_of: bool = False) -> tuple[Hit, ...]:
        ads = self._ads_by_id(list(dict.fromkeys(h["_source"]["ad_id"] for h in raw)))
        return tuple(hit_from(h, ads.get(h["_source"]["ad_id"]), as_of=as_of) for h in raw)

    def search(self, query: Query) -> SearchResult:
        themes = self._themes()
        body = compile_search(query, themes=themes, timeout_ms=self.facet_timeout_ms)
        if needs_search_after(query):
            body.pop("from")
            after = self._skip(query, themes)
            if after is None:
                body["size"] = 0
            else:
                body["search_after"] = after
        resp = self._search("versions", body)
        labels = {s.id: s.name for s in self.sources()}
        return SearchResult(query=query, total=total_from(resp),
                            hits=self._hits(resp["hits"]["hits"], as_of=query.as_of is not None),
                            facets=facets_from(query, resp, labels, themes),
                            took_ms=float(resp.get("took", 0)))

    def _skip(self, query: Query, themes: dict[str, str]) -> list[Any] | None:
        """Walk past ``offset`` hits with search_after; the sort values of the last one."""
        left, after = query.offset, None
        while left > 0:
            step = min(left, 1000)
            body = scan_body(query, step, after, themes=themes,
                             timeout_ms=self.facet_timeout_ms)
            hits = self._search("versions", body)["hits"]["hits"]
            if len(hits) < step:
                return None
            after, left = hits[-1]["sort"], left - step
        return after

    def ads_for_identifier(self, kind: str, value: str,
                           themes: tuple[str, ...] | None = None) -> list[Hit]:
        hits = self._ads_for_identifier(kind, value)
        return list(theme_walls.keep(hits, self._walled(themes)))

    def _ads_for_identifier(self, kind: str, value: str) -> list[Hit]:
        value = normal_identifier(kind, value)  # as SqliteStore: a phone typed any way
        kind = "place" if kind == "city" else kind
        try:
            body = identifier_body(kind, value)
        except ValueError as exc:
            raise StoreError(str(exc)) from exc
        return list(self._hits(self._search("versions", body)["hits"]["hits"]))

    def ads_showing_image(self, sha256: str, themes: tuple[str, ...] | None = None,
                          limit: int = 20) -> list[str]:
        allowed = self._walled(themes)
        if allowed is not None and not allowed:
            return []
        found = self._search("versions", image_ads_body(sha256, allowed, limit))["hits"]["hits"]
        return [h["_source"]["ad_id"] for h in found]

    def iter_ads(self, themes: tuple[str, ...] | None = None) -> Iterator[AdRecord]:
        allowed = self._walled(themes)
        after = None
        while True:
            hits = self._search("ads", all_ads_body(500, after))["hits"]["hits"]
            for h in hits:
                if not theme_walls.visible(h["_source"].get("source_id", ""), allowed):
                    continue
                record = self.get_ad(h["_id"])
                if record is not None:
                    yield record
            if len(hits) < 500:
                return
            after = hits[-1]["sort"]

    def aggregates(self, themes: tuple[str, ...] | None = None, since: date | None = None,
                   until: date | None = None) -> Aggregates:
        from indexer.store.elastic_aggregates import PAGE, span_from, spans_body

        if themes is not None and not themes:
            return compute([], since, until)
        rows, after = [], None
        while True:
            hits = self._search("versions", spans_body(themes, since, until, after))["hits"]["hits"]
            rows += [span_from(h["_source"]) for h in hits]
            if len(hits) < PAGE:
                break
            after = hits[-1]["sort"]
        return compute(rows, since, until)

    # ------------------------------------------------------------------ assessments
    def set_assessment(self, ad_id: str, user: str, label: str, note: str,
                       at: datetime | None = None) -> Assessment:
        return elastic_assessments.set_assessment(self, ad_id, user, label, note,
                                                  at or datetime.now(UTC))

    def assessments(self, ad_id: str) -> list[Assessment]:
        return elastic_assessments.assessments(self, ad_id)

    def iter_assessments(self) -> Iterator[Assessment]:
        return elastic_assessments.iter_assessments(self)

    # ------------------------------------------------------------------ reindex, signals
    def update_enrichment(self, version_id: str, enrichment: Enrichment) -> bool:
        from indexer.store import elastic_signals

        return elastic_signals.update_enrichment(self, version_id, enrichment)

    def refresh_signals(self) -> dict[str, int]:
        from indexer.store import elastic_signals

        return elastic_signals.refresh(self)

    def signal_reasons(self, ad_id: str) -> dict[str, list[str]]:
        from indexer.store import elastic_signals

        return elastic_signals.reasons(self, ad_id)

    # ------------------------------------------------------------------ identifiers
    def _corrected(self, ad_id: str, vdoc: dict[str, Any]) -> dict[str, Any]:
        """A new version of a corrected ad stays corrected (elastic_corrections)."""
        active = elastic_corrections.active_for(self, ad_id)
        return corrected(vdoc, active) if active else vdoc

    def entity_summary(self, kind: str, value: str,
                       themes: tuple[str, ...] | None = None) -> EntitySummary:
        return elastic_corrections.entity_summary(self, kind, value, themes)

    def suppress_extraction(self, target_id: str, kind: str, value: str, user: str,
                            reason: str, at: datetime | None = None) -> bool:
        return elastic_corrections.suppress(self, target_id, kind, value, user, reason, at)

    def unsuppress(self, target_id: str, kind: str, value: str, user: str, reason: str,
                   at: datetime | None = None) -> bool:
        return elastic_corrections.unsuppress(self, target_id, kind, value, user, reason, at)

    def suppressions(self, ad_id: str | None = None,
                     themes: tuple[str, ...] | None = None) -> list[Suppression]:
        return elastic_corrections.suppressions(self, ad_id, themes)

    # ------------------------------------------------------------------ retention
    def purge(self, source_id: str, before: datetime | None,
              dry_run: bool = False) -> PurgeResult:
        return elastic_purge.purge(self, source_id, before, dry_run)

    def relocate_captures(self, moves: Mapping[str, tuple[str, int, int]]) -> int:
        return elastic_purge.relocate(self, moves)

    def set_hold(self, ad_id: str, reason: str, by: str, at: datetime) -> bool:
        return elastic_purge.set_hold(self, ad_id, reason, by, at)

    def release_hold(self, ad_id: str) -> bool:
        return elastic_purge.release_hold(self, ad_id)

    def holds(self) -> list[Hold]:
        return elastic_purge.holds(self)

    def stats(self) -> dict[str, int]:
        def count(kind: str, query: dict[str, Any] | None = None) -> int:
            if self._dirty:
                self._search(kind, {"size": 0})
            body = {"query": query} if query else {}
            return int(self._call(lambda: self.es.count(index=self._idx(kind), **body)["count"],
                                  f"count {kind}"))
        return {"ads": count("ads"), "versions": count("versions"),
                "captures": count("captures"),
                "removed": count("ads", {"term": {"status": "removed"}}),
                "sources": count("sources")}

    def drop(self) -> None:
        """Delete this prefix's indices and templates (test teardown, pilot wipe)."""
        self._call(lambda: elastic_indices.drop(self.es, self.prefix), "drop indices")

    def close(self) -> None:
        self.es.close()
