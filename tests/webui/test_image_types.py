"""The UI serves archived raster images only: an SVG can carry script."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from indexer.archive import find_image as archived
from indexer.archive import store_image
from webui.views.images import find_image

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def test_an_archived_svg_is_found_by_the_archive_but_not_served(tmp_path: Path) -> None:
    svg = store_image(tmp_path, SVG, "http://ad.test/x.svg", "image/svg+xml")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    png = store_image(tmp_path, buf.getvalue(), "http://ad.test/x.png", "image/png")
    stored = archived(tmp_path, svg.sha256)
    assert stored is not None and stored.ext == "svg"
    assert find_image(tmp_path, svg.sha256) is None
    assert find_image(tmp_path, png.sha256) == archived(tmp_path, png.sha256)
