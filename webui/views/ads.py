"""The ad page: the current version with its evidence highlighted, every version in a
timeline, a side-by-side comparison of any two versions, the captures behind each
(time, SHA-256, WARC file and offset) with the archived page shown inert, every ad
linked by phone, e-mail, handle or photo, and the analysts' assessments.

Views are thin: the diff, the inert archived page and the linking are computed in
webui.diff, webui.archived_page and webui.ad_links; every view and assessment is audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from indexer.assessment import LABELS
from indexer.model import AdRecord, Capture, VersionRecord
from indexer.search.query import Highlighted
from webui import audit
from webui.ad_links import linked_ads
from webui.app import get_store
from webui.diff import diff_versions
from webui.views.common import require_visible, sources_by_id

bp = Blueprint("ads", __name__)

LINKED_KINDS = ("email", "handle")  # identifier kinds with their own page


def evidence_text(version: VersionRecord) -> Highlighted:
    """The text enrichment read, with every indicator's evidence spans marked."""
    doc = version.fields.document()
    ranges = tuple((s.start, s.end) for i in version.enrichment.indicators for s in i.spans)
    return Highlighted(doc, ranges)


def version_view(version: VersionRecord, previous: VersionRecord | None) -> dict[str, Any]:
    enr = version.enrichment
    return {
        "v": version,
        "changes": diff_versions(previous.fields, version.fields).changed if previous else [],
        "identifiers": [i for i in enr.identifiers if i.kind != "url"],
        "urls": [i for i in enr.identifiers if i.kind == "url"],
        "linked_kinds": LINKED_KINDS,
        "evidence": evidence_text(version),
    }


def load_ad(ad_id: str) -> tuple[AdRecord, Any]:
    """The ad and its source, or 404 (also outside the user's themes)."""
    if len(ad_id) > 64:
        abort(404)
    record = get_store().get_ad(ad_id)
    if record is None:
        abort(404)
    sources = sources_by_id()
    require_visible(record.source_id, sources)
    return record, sources.get(record.source_id)


def version_by_seq(record: AdRecord, seq: int) -> VersionRecord:
    found = next((v for v in record.versions if v.seq == seq), None)
    if found is None:
        abort(404, description=f"Ad {record.id} has no version {seq}.")
    return found


def find_capture(record: AdRecord, capture_id: str) -> tuple[VersionRecord, Capture]:
    for v in record.versions:
        for c in v.captures:
            if c.id == capture_id:
                return v, c
    abort(404, description=f"Ad {record.id} has no capture {capture_id[:40]!r}.")


@bp.route("/ad/<ad_id>")
def ad(ad_id: str) -> str:
    record, source = load_ad(ad_id)
    views = [version_view(v, record.versions[i - 1] if i else None)
             for i, v in enumerate(record.versions)]
    current = views[-1] if views else None
    store = get_store()
    audit.record("view_ad", target=record.id,
                 details={"source": record.source_id, "versions": len(record.versions)})
    return render_template(
        "ad.html", ad=record, source=source, current=current, timeline=list(reversed(views)),
        links=linked_ads(store, record, sources_by_id()), assessments=store.assessments(record.id),
        labels=LABELS)


@bp.route("/ad/<ad_id>/compare")
def compare(ad_id: str) -> str:
    """Two versions side by side: ``a`` (older) and ``b`` (newer) are version numbers."""
    record, source = load_ad(ad_id)
    if not record.versions:
        abort(404)
    last = record.versions[-1].seq
    try:
        a = int(request.args.get("a", max(1, last - 1)))
        b = int(request.args.get("b", last))
    except ValueError:
        abort(400, description="Versions to compare are numbers: ?a=1&b=2")
    old, new = version_by_seq(record, a), version_by_seq(record, b)
    audit.record("view_ad", target=record.id, details={"compare": [a, b]})
    return render_template("diff.html", ad=record, source=source, old=old, new=new,
                           diff=diff_versions(old.fields, new.fields),
                           seqs=[v.seq for v in record.versions])


@bp.route("/ad/<ad_id>/assess", methods=["POST"])
def assess(ad_id: str) -> Response:
    record, _source = load_ad(ad_id)
    label = request.form.get("label", "")
    note = request.form.get("note", "")
    try:
        saved = get_store().set_assessment(record.id, g.user.name, label, note)
    except ValueError as exc:
        abort(400, description=str(exc))
    audit.record("assessment", target=record.id,
                 details={"label": saved.label, "note_chars": len(saved.note)})
    return redirect(url_for("ads.ad", ad_id=record.id) + "#assessment")
