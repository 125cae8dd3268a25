"""Images come only from the archive, never from an ad site: loading anything from the
site in an analyst's browser would tell its operator the police are watching."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from werkzeug.wrappers import Response

bp = Blueprint("images", __name__)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Raster types only: an archived SVG could carry script.
TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
         ".gif": "image/gif", ".webp": "image/webp", ".bmp": "image/bmp"}


def find_image(archive_dir: Path, sha256: str) -> Path | None:
    """The archived file for a content hash: ARCHIVE_DIR/images/<ab>/<sha256>.<ext>."""
    folder = archive_dir / "images" / sha256[:2]
    for suffix in TYPES:
        path = folder / f"{sha256}{suffix}"
        if path.is_file():
            return path
    return None


@bp.route("/image/<sha256>")
def image(sha256: str) -> Response:
    if not SHA256_RE.match(sha256):
        abort(404)
    path = find_image(Path(current_app.config["ARCHIVE_DIR"]), sha256)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=TYPES[path.suffix], max_age=86400, etag=True)
    response.headers["Content-Disposition"] = "inline"
    return response
