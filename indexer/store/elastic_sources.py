"""Elasticsearch request bodies for the source register's history (pure; tested without
a server). One ``source_history`` document per change of a source's register entry;
its id is deterministic (source, time, content) so a retried request never doubles it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from indexer.model import SourceInfo, from_iso, to_iso
from indexer.store.source_history import SourceRevision, info_from_dict, info_to_dict, revisions

MAX_REVISIONS = 10_000


def history_doc(source: SourceInfo, at: datetime) -> tuple[str, dict[str, Any]]:
    """(document id, document) of one revision."""
    info = info_to_dict(source)
    digest = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:16]
    stamp = to_iso(at)
    return f"{source.id}|{stamp}|{digest}", {"source_id": source.id, "recorded_at": stamp,
                                              "info": info}


def history_body(source_id: str | None) -> dict[str, Any]:
    """Revisions of one source (or all), oldest first."""
    query = {"term": {"source_id": source_id}} if source_id else {"match_all": {}}
    return {"query": query, "size": MAX_REVISIONS, "sort": [{"recorded_at": "asc"}]}


def revisions_from(hits: list[dict[str, Any]]) -> list[SourceRevision]:
    return revisions([(from_iso(h["_source"]["recorded_at"]), info_from_dict(h["_source"]["info"]))
                      for h in hits])


def latest_by_source(hits: list[dict[str, Any]]) -> dict[str, SourceInfo]:
    """The newest register entry of each source among history hits (oldest first)."""
    out: dict[str, SourceInfo] = {}
    for h in hits:
        out[h["_source"]["source_id"]] = info_from_dict(h["_source"]["info"])
    return out
