"""Images come only from the archive, never from an ad site: loading anything from the
site in an analyst's browser would tell its operator the police are watching.

An image is behind the same theme wall as the ads that show it: a user gets it only if
an ad they may see carried it (else 404, as for an ad outside their themes).

Every fetch is audited as ``view_archived`` (image, found, ads) unless one that a page
already covers: the browser loading (``Sec-Fetch-Dest: image``) a found image that an
audited page showed to this same signed-in session within the last
webui.shown_images.WINDOW_SECONDS. Pages register what they show as they render, in the
request that wrote their own row (``image_url`` in templates, webui.shown_images). The
header alone decides nothing, as any client can send it: an image not shown to this
session, shown too long ago, opened on its own (a tab, a script) or not found gets a row.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from werkzeug.wrappers import Response

from indexer import archive
from webui import audit, shown_images
from webui.app import get_store
from webui.views.common import loaded_into_page

bp = Blueprint("images", __name__)
# the one way templates give an image's address: it registers the image as shown
bp.add_app_template_global(shown_images.image_url, "image_url")

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Raster types only: an archived SVG could carry script.
TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
         ".gif": "image/gif", ".webp": "image/webp", ".bmp": "image/bmp"}


def find_image(archive_dir: Path, sha256: str) -> archive.StoredImage | None:
    """The archived image of a content hash, if it is of a type served (TYPES)."""
    found = archive.find_image(archive_dir, sha256)
    return found if found is not None and f".{found.ext}" in TYPES else None


def read_image(found: archive.StoredImage) -> bytes | None:
    """The archived image's bytes; None (logged) when its pack or file cannot give them
    whole: the archive is damaged there, which ``adtrace archive verify`` reports."""
    try:
        return found.read()
    except OSError:
        current_app.logger.exception("archived image %s could not be read", found.sha256)
        return None


def covered_by_page(sha256: str) -> bool:
    """Whether this fetch is the browser loading an image into a page that showed it to
    this session and was audited itself (both conditions: the header is the client's)."""
    return loaded_into_page("image") and shown_images.was_shown(sha256)


@bp.route("/image/<sha256>")
def image(sha256: str) -> Response:
    if not SHA256_RE.match(sha256):
        abort(404)
    shown_by = get_store().ads_showing_image(sha256)  # behind the user's wall
    found = find_image(Path(current_app.config["ARCHIVE_DIR"]), sha256) if shown_by else None
    body = read_image(found) if found is not None else None
    if body is None or not covered_by_page(sha256):
        audit.record("view_archived", target=sha256,
                     details={"image": True, "found": body is not None, "ads": shown_by})
    if body is None or found is None:
        abort(404)
    # content-addressed: the hash is the ETag, and the bytes never change under it
    response = send_file(io.BytesIO(body), mimetype=TYPES[f".{found.ext}"], max_age=86400,
                         etag=sha256)
    response.headers["Content-Disposition"] = "inline"
    return response
