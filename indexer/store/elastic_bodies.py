"""Pure Elasticsearch request bodies: index names, templates, documents, scripts.

Nothing here talks to a server, so every body the ElasticStore sends is checked by
tests without one (tests/elastic). The store (``elastic.py``) only moves these dicts.

Index layout, per prefix (``adtrace`` by default, one per test run in tests):
- ``{prefix}-{kind}-v{N}`` concrete, versioned indices, N from the mapping's _meta.version;
- ``{prefix}-{kind}`` the read alias, ``{prefix}-{kind}-write`` the write alias.
A new mapping version is a new index filled by a reindex, then both aliases swap in
one atomic ``_aliases`` call: readers never see a missing or half-filled index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from indexer.model import (
    Capture,
    Enrichment,
    LiveAd,
    Observation,
    SourceInfo,
    from_iso,
    short_hash,
    to_dict,
    to_iso,
)

KINDS: tuple[str, ...] = ("ads", "versions", "captures", "sources", "audit", "crawl_runs",
                          "assessments", "suppressions", "source_history", "holds")

# Painless: extend last_seen only forwards. ISO strings from to_iso sort as time.
LAST_SEEN_SCRIPT = (
    "if (ctx._source.last_seen == null || ctx._source.last_seen.compareTo(params.t) < 0)"
    " { ctx._source.last_seen = params.t } else { ctx.op = 'noop' }"
)
# Painless: close a version once (a later writer never moves valid_to).
CLOSE_VERSION_SCRIPT = (
    "if (ctx._source.valid_to == null) { ctx._source.valid_to = params.t;"
    " ctx._source.is_current = false } else { ctx.op = 'noop' }"
)
# Painless: add the sections not yet in the ad's listed_in (a noop when none is new).
LISTED_IN_SCRIPT = (
    "if (ctx._source.listed_in == null) { ctx._source.listed_in = new ArrayList() }"
    " boolean added = false;"
    " for (s in params.sections) { if (!ctx._source.listed_in.contains(s))"
    " { ctx._source.listed_in.add(s); added = true } }"
    " if (!added) { ctx.op = 'noop' }"
)
# Painless: copy the ad's removal state to a version document.
AD_STATE_SCRIPT = ("ctx._source.status = params.status; ctx._source.removed_at = params.removed_at;"
                   " ctx._source.absences = params.absences")


# --------------------------------------------------------------------------- mappings
def mappings_dir() -> Path:
    """Where mappings/*.json live: beside the source tree, or ./mappings (Docker WORKDIR).

    The ``es_mappings`` setting (``ADTRACE_ES_MAPPINGS``) overrides both, for installs
    that keep them elsewhere.
    """
    from adtrace import settings

    candidates = [
        str(settings.get("es_mappings")),
        str(Path(__file__).resolve().parents[2] / "mappings"),
        str(Path.cwd() / "mappings"),
    ]
    for cand in candidates:
        if cand and (Path(cand) / "versions.json").is_file():
            return Path(cand)
    raise FileNotFoundError(f"no Elasticsearch mappings found in any of {candidates[1:]}")


@cache
def load_mapping(kind: str) -> dict[str, Any]:
    """One index definition (settings + mappings) as shipped in mappings/<kind>.json."""
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; known: {', '.join(KINDS)}")
    path = mappings_dir() / f"{kind}.json"
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def mapping_version(kind: str) -> int:
    return int(load_mapping(kind)["mappings"]["_meta"]["version"])


def read_alias(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def write_alias(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}-write"


def index_name(prefix: str, kind: str, version: int) -> str:
    return f"{prefix}-{kind}-v{version}"


def template_name(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def template_body(prefix: str, kind: str) -> dict[str, Any]:
    """A composable index template: any ``{prefix}-{kind}-v*`` index gets the mapping."""
    spec = load_mapping(kind)
    return {
        "index_patterns": [f"{prefix}-{kind}-v*"],
        "priority": 200,
        "template": {"settings": spec["settings"], "mappings": spec["mappings"]},
        "_meta": {"managed_by": "adtrace", "version": mapping_version(kind)},
    }


def create_index_body(prefix: str, kind: str, *, with_aliases: bool) -> dict[str, Any]:
    """Body for creating the concrete index; aliases only for the very first version."""
    spec = load_mapping(kind)
    body: dict[str, Any] = {"settings": spec["settings"], "mappings": spec["mappings"]}
    if with_aliases:
        body["aliases"] = {
            read_alias(prefix, kind): {},
            write_alias(prefix, kind): {"is_write_index": True},
        }
    return body


def reindex_body(source_index: str, dest_index: str) -> dict[str, Any]:
    """Copy every document; ``op_type: create`` so a rerun after a failure never overwrites."""
    return {
        "source": {"index": source_index, "size": 1000},
        "dest": {"index": dest_index, "op_type": "create"},
        "conflicts": "proceed",
    }


def swap_alias_actions(prefix: str, kind: str, old: str, new: str) -> dict[str, Any]:
    """One atomic ``_aliases`` request moving both aliases from old to new."""
    return {
        "actions": [
            {"remove": {"index": old, "alias": read_alias(prefix, kind)}},
            {"remove": {"index": old, "alias": write_alias(prefix, kind)}},
            {"add": {"index": new, "alias": read_alias(prefix, kind)}},
            {"add": {"index": new, "alias": write_alias(prefix, kind), "is_write_index": True}},
        ]
    }


# --------------------------------------------------------------------------- documents
def version_id_for(ad_id: str, seq: int, fingerprint: str) -> str:
    """Deterministic: two crawlers deciding the same version create the same document."""
    return short_hash(ad_id, str(seq), fingerprint, length=24)


SOURCE_DOC_FIELDS = ("id", "name", "theme", "country", "base_url", "reason", "approved_by")


def source_doc(source: SourceInfo) -> dict[str, Any]:
    """The fields the sources index maps; the full register entry (approval date,
    sections, enabled) lives in the source_history index (elastic_sources)."""
    return {k: v for k, v in to_dict(source).items() if k in SOURCE_DOC_FIELDS}


def capture_doc(cap: Capture, ad_id: str, version_id: str, source_id: str) -> dict[str, Any]:
    doc = to_dict(cap)
    doc.update(capture_id=cap.id, ad_id=ad_id, version_id=version_id, source_id=source_id)
    return doc


def _searchable(enr: Enrichment) -> dict[str, Any]:
    """The enrichment flattened into keyword fields for filters, facets and entity links."""
    return {
        "phones": enr.values("phone"),
        "emails": enr.values("email"),
        "handles": enr.values("handle"),
        "urls": enr.values("url"),
        "places": enr.values("place"),
        "provinces": list(dict.fromkeys(p.province for p in enr.places if p.province)),
        "locations": [{"lat": p.lat, "lon": p.lon} for p in enr.places],
        "indicators": enr.values("indicator"),
        "indicator_categories": list(dict.fromkeys(i.category for i in enr.indicators)),
        "language": enr.language,
        "risk_score": enr.risk_score,
        "catalogue_version": enr.catalogue_version,
        "pipeline_version": enr.pipeline_version,
    }


def version_doc(
    obs: Observation, enr: Enrichment, *, seq: int, theme: str, ad_first_seen: datetime,
    absences: list[dict[str, str]] | None = None, removed_at: datetime | None = None,
) -> dict[str, Any]:
    """A new version as first seen by this observation; valid until a later version.
    ``removed_at``: the ad is removed, and this capture, older than the removal, does not
    bring it back (removed_kept), so the version says so as the ad's others do."""
    fields = obs.fields
    fp = fields.fingerprint()
    seen = to_iso(obs.capture.fetched_at)
    doc: dict[str, Any] = {
        "version_id": version_id_for(obs.ad_id, seq, fp),
        "ad_id": obs.ad_id,
        "seq": seq,
        "fingerprint": fp,
        "source_id": obs.source_id,
        "site_ad_id": obs.site_ad_id,
        "url": obs.url,
        "theme": theme,
        "title": fields.title,
        "text": fields.text,
        "attributes": dict(fields.attributes),
        "images": [to_dict(i) for i in fields.images],
        "image_hashes": list(dict.fromkeys(i.sha256 for i in fields.images)),
        "image_phashes": list(dict.fromkeys(i.phash for i in fields.images if i.phash)),
        "enrichment": to_dict(enr),
        "valid_from": seen,
        "valid_to": None,
        "last_seen": seen,
        "is_current": True,
        "ad_first_seen": to_iso(ad_first_seen),
        "removed_at": to_iso(removed_at) if removed_at else None,
        "status": "removed" if removed_at else "live",
        "absences": list(absences or []),
    }
    doc.update(_searchable(enr))
    return doc


def ad_doc(
    obs: Observation,
    *,
    theme: str,
    first_seen: datetime,
    last_seen: datetime,
    version_ids: list[str],
    fingerprint: str,
    absences: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The ad's state after a write: live again, pointing at its current version."""
    return {
        "ad_id": obs.ad_id,
        "source_id": obs.source_id,
        "site_ad_id": obs.site_ad_id,
        "url": obs.url,
        "theme": theme,
        "first_seen": to_iso(first_seen),
        "last_seen": to_iso(last_seen),
        "removed_at": None,
        "removed_reason": "",
        "status": "live",
        "current_version_id": version_ids[-1],
        "current_fingerprint": fingerprint,
        "current_seq": len(version_ids),
        "version_ids": version_ids,
        "absences": list(absences or []),
    }


def audit_doc(
    at: datetime, user: str, action: str, *, theme: str = "", target: str = "",
    params: dict[str, str] | None = None, result_size: int = 0, remote_addr: str = "",
) -> dict[str, Any]:
    """One audit event; its id hashes all of it so a retried append is not doubled."""
    doc: dict[str, Any] = {
        "at": to_iso(at), "user": user, "action": action, "theme": theme, "target": target,
        "params": {k: str(v) for k, v in (params or {}).items()},
        "result_size": result_size, "remote_addr": remote_addr,
    }
    doc["event_id"] = short_hash(json.dumps(doc, sort_keys=True), length=32)
    return doc


def bulk_lines(ops: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """The lines of a bulk request for (action, document) pairs: a delete's document is
    left out (the bulk API wants no line after a delete action)."""
    lines: list[dict[str, Any]] = []
    for action, body in ops:
        lines += [action] if "delete" in action else [action, body]
    return lines


# --------------------------------------------------------------------------- scripts
def last_seen_update(at: datetime) -> dict[str, Any]:
    return {"script": {"source": LAST_SEEN_SCRIPT, "lang": "painless", "params": {"t": to_iso(at)}}}


def close_version_update(at: datetime) -> dict[str, Any]:
    return {"script": {"source": CLOSE_VERSION_SCRIPT, "lang": "painless",
                       "params": {"t": to_iso(at)}}}


STATE_FIELDS = ("valid_from", "valid_to", "status")  # what the repairs read of each version


def version_states_docs(index: str, version_ids: list[str]) -> list[dict[str, Any]]:
    """The ``docs`` of a multi-get of an ad's versions: STATE_FIELDS of each, in order."""
    return [{"_index": index, "_id": v, "_source": list(STATE_FIELDS)} for v in version_ids]


# Elasticsearch has no transactions. A write claims its version on the ad document first,
# then closes the version before (and tells older versions the ad is back) in one bulk; a
# removal tells the versions first and claims after. Cut short in between (a kill, a lost
# server), a version stays open beside the next one, or versions say "removed" of a live
# ad. The ad's next write or removal reads every version's STATE_FIELDS and mends that with
# the idempotent updates below.
def unclosed_versions(version_ids: list[str], states: list[Mapping[str, Any] | None]
                      ) -> list[tuple[str, dict[str, Any]]]:
    """(version id, update) closing each version but the last that is still open, where
    the version after it begins (versions not found are left alone)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for vid, state, after in zip(version_ids, states, states[1:], strict=False):
        if state is not None and after is not None and state.get("valid_to") is None:
            out.append((vid, close_version_update(from_iso(after["valid_from"]))))
    return out


def told_live(ad: Mapping[str, Any], states: list[Mapping[str, Any] | None]
              ) -> list[tuple[str, dict[str, Any]]]:
    """(version id, update) telling every version that the ad is live, when it is and any
    of them says "removed"; nothing otherwise (a removed ad written by a capture older
    than its removal stays removed: its versions are right to say so)."""
    if ad.get("removed_at") or not any(s is not None and s.get("status") == "removed"
                                       for s in states):
        return []
    update = ad_state_update("live", None, [dict(a) for a in ad.get("absences", [])])
    return [(vid, update) for vid in ad.get("version_ids", [])]


def unfinished_write(ad: Mapping[str, Any], current: Mapping[str, Any] | None,
                     at: datetime) -> tuple[bool, bool]:
    """For a capture taken ``at`` that is not new to the ad document (an unchanged text, an
    ad not removed): whether its own earlier write, cut short after its claim, had (made
    the current version, brought the removed ad back). Then this write reports what that
    one did; unclosed_versions and told_live finish it."""
    made = current is not None and from_iso(current["valid_from"]) == at
    absences = ad.get("absences") or []
    back = (not ad.get("removed_at") and bool(absences) and "lte" in absences[-1]
            and from_iso(absences[-1]["lte"]) == at)
    return made, back


def absence(removed_at: datetime, returned_at: datetime | None = None) -> dict[str, str]:
    """One period an ad was gone, as a date_range: 'as of' excludes days inside it."""
    rng = {"gt": to_iso(removed_at)}
    if returned_at is not None:
        rng["lte"] = to_iso(returned_at)
    return rng


def returns(ad: Mapping[str, Any], at: datetime) -> bool:
    """Whether a capture taken ``at`` brings the removed ``ad`` back: only one taken after
    the removal does. An older one (written to the spool before the removal, replayed
    after it) adds to the history of the time before, and the ad stays removed."""
    removed = ad.get("removed_at")
    return bool(removed) and at > from_iso(removed)


def removed_kept(ad: Mapping[str, Any], at: datetime) -> datetime | None:
    """When the stored ``ad`` was removed, if a capture taken ``at`` leaves it removed
    (None: the ad is live, or the capture brings it back)."""
    removed = ad.get("removed_at")
    return from_iso(removed) if removed and not returns(ad, at) else None


def kept_over_write(ad: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """What of the stored ``ad`` a write of a capture taken ``at`` keeps over ad_doc's
    live state at the capture's url: the removal, unless the capture brings the ad back
    (returns); the url, if the ad was seen after the capture (it is the last sighting's)."""
    kept: dict[str, Any] = {}
    if removed_kept(ad, at) is not None:
        kept.update(removed_at=ad["removed_at"], removed_reason=ad.get("removed_reason", ""),
                    status="removed")
    if ad.get("last_seen") and from_iso(ad["last_seen"]) > at:
        kept["url"] = ad["url"]
    return kept


def removed_doc(ad: Mapping[str, Any], at: datetime, reason: str) -> dict[str, Any] | None:
    """The ad document ``ad`` once removed at ``at`` for ``reason``, its absence opened;
    None when the removal changes nothing: the ad is removed already, or was seen after
    ``at`` (a stale removal: a spool replayed again after the ad came back replays its
    removal too, which must not end the return)."""
    if ad.get("removed_at") or from_iso(ad["last_seen"]) > at:
        return None
    return dict(ad, removed_at=to_iso(at), removed_reason=reason, status="removed",
                absences=[*ad.get("absences", []), absence(at)])


def ad_state_update(status: str, removed_at: datetime | None,
                    absences: list[dict[str, str]]) -> dict[str, Any]:
    params = {"status": status, "removed_at": to_iso(removed_at) if removed_at else None,
              "absences": absences}
    return {"script": {"source": AD_STATE_SCRIPT, "lang": "painless", "params": params}}


# --------------------------------------------------------------------------- reads
def by_ad_body(ad_id: str, sort_field: str, size: int = 10_000) -> dict[str, Any]:
    """All versions or captures of one ad, in order."""
    return {"query": {"term": {"ad_id": ad_id}}, "sort": [{sort_field: "asc"}], "size": size}


def live_ads_body(source_id: str, size: int, after: list[Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {"bool": {"filter": [{"term": {"source_id": source_id}}],
                           "must_not": [{"exists": {"field": "removed_at"}}]}},
        "sort": [{"ad_id": "asc"}],
        "size": size,
        "_source": ["site_ad_id", "url", "last_seen", "listed_in"],
    }
    if after:
        body["search_after"] = after
    return body


def listed_in_update(sections: Iterable[str]) -> dict[str, Any]:
    """Update body adding ``sections`` to an ad's listed_in (indexer.store.base.note_listed)."""
    return {"script": {"source": LISTED_IN_SCRIPT, "lang": "painless",
                       "params": {"sections": sorted(set(sections))}}}


def live_ad_from(src: dict[str, Any]) -> LiveAd:
    """A live_ads_body hit's _source → LiveAd (an ad of a v1 index has no listed_in)."""
    return LiveAd(src["site_ad_id"], src["url"], from_iso(src["last_seen"]),
                  tuple(sorted(src.get("listed_in") or ())))


def all_ads_body(size: int, after: list[Any] | None) -> dict[str, Any]:
    """Deep paging over every ad with search_after (never from/size past 10,000)."""
    body: dict[str, Any] = {"query": {"match_all": {}}, "sort": [{"ad_id": "asc"}], "size": size}
    if after:
        body["search_after"] = after
    return body


IDENTIFIER_FIELDS: dict[str, str] = {
    "phone": "phones",
    "email": "emails",
    "handle": "handles",
    "url": "urls",
    "place": "places",
    "image": "image_hashes",
    "phash": "image_phashes",
}


def image_ads_body(sha256: str, sources: frozenset[str] | None, limit: int) -> dict[str, Any]:
    """Up to ``limit`` ads (one hit each, their ids only) whose versions showed the image,
    of ``sources`` only (None: any)."""
    wanted: list[dict[str, Any]] = [{"term": {"image_hashes": sha256.lower()}}]
    if sources is not None:
        wanted.append({"terms": {"source_id": sorted(sources)}})
    return {"query": {"bool": {"filter": wanted}}, "collapse": {"field": "ad_id"},
            "_source": ["ad_id"], "size": limit, "track_total_hits": False}


def identifier_body(kind: str, value: str, size: int = 10_000) -> dict[str, Any]:
    """Every ad that ever carried this identifier: one hit per ad (collapse), newest first."""
    if kind not in IDENTIFIER_FIELDS:
        raise ValueError(f"unknown identifier kind {kind!r}; known: {', '.join(IDENTIFIER_FIELDS)}")
    return {
        "query": {"bool": {"filter": [{"term": {IDENTIFIER_FIELDS[kind]: value}}]}},
        "collapse": {"field": "ad_id"},
        "sort": [{"valid_from": "desc"}, {"version_id": "asc"}],
        "size": size,
        "track_total_hits": True,
    }
