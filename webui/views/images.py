"""Images come only from the archive, never from an ad site: loading anything from the
site in an analyst's browser would tell its operator the police are watching.

An image is behind the same theme wall as the ads that show it: a user gets it only if
an ad they may see carried it (else 404, as for an ad outside their themes). A browser
loading a found image into one of our pages (``Sec-Fetch-Dest: image``) is covered by
that page's audit row; any other request (opened on its own, by a script) is a look-up of
its own, audited as ``view_archived`` whether the photo was found or not, and a request
for a photo not found is audited whatever it says it is. The header sorts a browser's
traffic; it is no control: a client that forges it can skip the row only for a photo it
may see anyway (webui.views.common.loaded_into_page).
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from werkzeug.wrappers import Response

from indexer import archive
from webui import audit
from webui.app import get_store
from webui.views.common import loaded_into_page

bp = Blueprint("images", __name__)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Raster types only: an archived SVG could carry script.
TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
         ".gif": "image/gif", ".webp": "image/webp", ".bmp": "image/bmp"}


def find_image(archive_dir: Path, sha256: str) -> Path | None:
    """The archived file for a content hash, if it is of a type served (TYPES)."""
    path = archive.find_image(archive_dir, sha256)
    return path if path is not None and path.suffix in TYPES else None


@bp.route("/image/<sha256>")
def image(sha256: str) -> Response:
    if not SHA256_RE.match(sha256):
        abort(404)
    shown_by = get_store().ads_showing_image(sha256)  # behind the user's wall
    path = find_image(Path(current_app.config["ARCHIVE_DIR"]), sha256) if shown_by else None
    if path is None or not loaded_into_page("image"):
        audit.record("view_archived", target=sha256,
                     details={"image": True, "found": path is not None, "ads": shown_by})
    if path is None:
        abort(404)
    response = send_file(path, mimetype=TYPES[path.suffix], max_age=86400, etag=True)
    response.headers["Content-Disposition"] = "inline"
    return response
