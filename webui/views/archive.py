"""The archived copy of an ad page, shown as evidence and never fetched from the site.

``/ad/<id>/capture/<capture>`` is a normal adtrace page with the capture's metadata and
an ``<iframe sandbox>`` (no allow-scripts, no allow-same-origin); the frame loads
``…/page``, the inert rewrite (webui.archived_page) served under its own strict CSP
(webui.security.SANDBOXED_ENDPOINTS). Images are inlined from the archive as data:
URIs, so the frame needs no request at all beyond its own document. The framed copy
has no audit row of its own only when the capture page, audited itself, framed it for
this same session within webui.shown_images.WINDOW_SECONDS; opened on its own, or with
a forged ``Sec-Fetch-Dest: iframe``, it is audited as ``view_archived``.
"""

from __future__ import annotations

import base64
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template

from indexer.archive import ArchiveError, read_capture
from indexer.model import AdRecord
from webui import audit, shown_images
from webui.archived_page import image_resolver, make_inert
from webui.views.ads import find_capture, load_ad
from webui.views.common import loaded_into_page
from webui.views.images import TYPES, find_image, read_image

bp = Blueprint("archive", __name__)

MAX_INLINE_IMAGE = 8 * 1024 * 1024


def archived_images(record: AdRecord, archive_dir: Path) -> dict[str, str]:
    """Original image URL → sha256, for every image of the ad with an archived copy."""
    out: dict[str, str] = {}
    for v in record.versions:
        for img in v.fields.images:
            if img.source_url and find_image(archive_dir, img.sha256) is not None:
                out[img.source_url] = img.sha256
    return out


def inline_image(archive_dir: Path, sha256: str) -> str:
    """A raster image from the archive as a data: URI ('' if missing, too big or not raster)."""
    found = find_image(archive_dir, sha256)
    if found is None or found.size > MAX_INLINE_IMAGE:
        return ""
    body = read_image(found)
    if body is None:
        return ""
    return f"data:{TYPES['.' + found.ext]};base64," + base64.b64encode(body).decode()


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip().strip('"')
    return ""


@bp.route("/ad/<ad_id>/capture/<capture_id>")
def capture(ad_id: str, capture_id: str) -> str:
    record, source = load_ad(ad_id)
    version, cap = find_capture(record, capture_id)
    audit.record("view_ad", target=record.id, details={"capture": cap.id})
    shown_images.register((framed_key(cap.id),))  # its frame is covered by this row
    return render_template("capture.html", ad=record, source=source, v=version, c=cap)


def framed_key(capture_id: str) -> str:
    """What the capture page registers as shown (webui.shown_images): its framed copy."""
    return f"capture:{capture_id}"


@bp.route("/ad/<ad_id>/capture/<capture_id>/page")
def archived_page(ad_id: str, capture_id: str) -> Response:
    record, _source = load_ad(ad_id)
    _version, cap = find_capture(record, capture_id)
    archive_dir = Path(current_app.config["ARCHIVE_DIR"])
    try:
        rec = read_capture(archive_dir, cap)
    except ArchiveError as exc:
        abort(404, description=f"The archived copy cannot be read: {exc}")
    resolve = image_resolver(cap.url, archived_images(record, archive_dir),
                             lambda sha: inline_image(archive_dir, sha) or "")
    html = make_inert(rec.decoded(), lambda ref: resolve(ref) or None,
                      charset=_charset(rec.content_type))
    # in the frame of a capture page this session was shown, that page's row covers it;
    # the header alone (any client can send it) never does
    if not (loaded_into_page("iframe") and shown_images.was_shown(framed_key(cap.id))):
        audit.record("view_archived", target=record.id, details={"capture": cap.id})
    return Response(html, mimetype="text/html")
