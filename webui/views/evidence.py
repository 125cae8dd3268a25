"""The evidence report of one ad version: a printable page and the same as a PDF.
Both are exports: each is written to the audit log with the version it shows."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template

from webui import audit
from webui.report import MAX_IMAGE_BYTES, evidence, pdf_bytes
from webui.views.ads import load_ad, version_by_seq
from webui.views.images import find_image, read_image

bp = Blueprint("evidence", __name__)


def _evidence(ad_id: str, seq: int) -> dict:
    record, source = load_ad(ad_id)
    return evidence(record, version_by_seq(record, seq), source, g.user.name)


@bp.route("/ad/<ad_id>/v/<int:seq>/report")
def report(ad_id: str, seq: int) -> str:
    ev = _evidence(ad_id, seq)
    audit.record("export", target=ad_id, details={"format": "report", "version": seq})
    return render_template("report.html", ev=ev)


def _image_bytes(archive: Path, sha256: str) -> bytes | None:
    found = find_image(archive, sha256)
    return read_image(found) if found is not None and found.size <= MAX_IMAGE_BYTES else None


@bp.route("/ad/<ad_id>/v/<int:seq>/report.pdf")
def report_pdf(ad_id: str, seq: int) -> Response:
    ev = _evidence(ad_id, seq)
    archive = Path(current_app.config["ARCHIVE_DIR"])
    body = pdf_bytes(ev, lambda sha: _image_bytes(archive, sha))
    audit.record("export", target=ad_id, details={"format": "pdf", "version": seq,
                                                   "bytes": len(body)})
    name = f"adtrace-{ad_id}-v{seq}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
