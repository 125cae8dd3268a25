"""The ad page: the current version, every version in a timeline, the captures behind
each (evidence: time, URL as text, SHA-256, WARC file and offset), identifiers, places,
and each indicator with its evidence and explanation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from indexer.model import AdFields, VersionRecord
from webui import audit
from webui.app import get_store
from webui.views.common import require_visible, sources_by_id

bp = Blueprint("ads", __name__)

LINKED_KINDS = ("email", "handle")  # identifier kinds with their own page


def changed_fields(old: AdFields | None, new: AdFields) -> list[str]:
    """What changed from one version to the next, so an analyst can step through them."""
    if old is None:
        return []
    changes = [name for name in ("title", "text") if getattr(old, name) != getattr(new, name)]
    keys = sorted(set(old.attributes) | set(new.attributes))
    changes += [k for k in keys if old.attributes.get(k) != new.attributes.get(k)]
    if sorted(i.sha256 for i in old.images) != sorted(i.sha256 for i in new.images):
        changes.append("images")
    return changes


def version_view(version: VersionRecord, previous: VersionRecord | None) -> dict[str, Any]:
    enr = version.enrichment
    return {
        "v": version,
        "changes": changed_fields(previous.fields if previous else None, version.fields),
        "identifiers": [i for i in enr.identifiers if i.kind != "url"],
        "urls": [i for i in enr.identifiers if i.kind == "url"],
        "linked_kinds": LINKED_KINDS,
    }


@bp.route("/ad/<ad_id>")
def ad(ad_id: str) -> str:
    if len(ad_id) > 64:
        abort(404)
    record = get_store().get_ad(ad_id)
    if record is None:
        abort(404)
    sources = sources_by_id()
    require_visible(record.source_id, sources)
    views = [version_view(v, record.versions[i - 1] if i else None)
             for i, v in enumerate(record.versions)]
    current = views[-1] if views else None
    audit.record("view_ad", target=record.id,
                 details={"source": record.source_id, "versions": len(record.versions)})
    return render_template("ad.html", ad=record, source=sources.get(record.source_id),
                           current=current, timeline=list(reversed(views)))
