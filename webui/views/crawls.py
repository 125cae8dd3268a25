"""The crawl status page: per source the last run (pages, new ads, new versions, removed,
errors with samples and counted by kind, duration) and the runs before it.

Login is required centrally (webui.security); sources outside the user's themes are
left out, as everywhere else. The figures come from crawler.status, the same code that
``adtrace crawl status`` prints, so terminal and page always agree: both list the
register's enabled sources never crawled too (SOURCES_DIR, the ``sources_dir`` setting).
"""

from __future__ import annotations

import os

from flask import Blueprint, current_app, render_template

from crawler.register import load_register, source_info
from crawler.status import source_status
from indexer.crawl_runs import ERROR_KINDS
from indexer.model import SourceInfo
from webui import audit
from webui.app import get_store
from webui.views.common import sources_by_id, visible_source

bp = Blueprint("crawls", __name__)


def registered(folder: str) -> dict[str, SourceInfo]:
    """The register's enabled valid sources, as ``adtrace crawl status`` lists them (none
    where the folder is not there): one never crawled is then seen, not silently left
    out. Its theme is the register's, so the user's theme wall holds for it too."""
    if not os.path.isdir(folder):
        return {}
    sources, _invalid = load_register(folder)  # invalid files: `adtrace sources check`
    return {s.id: source_info(s) for s in sources if s.enabled}


@bp.route("/crawls")
def crawls() -> str:
    in_register = registered(current_app.config["SOURCES_DIR"])
    sources = {**in_register, **sources_by_id()}  # a crawled source: as the store has it
    # the archive the crawls write to (the one images are served from) holds their locks:
    # an unfinished run is then told as running now or killed
    archive = current_app.config.get("ARCHIVE_DIR")
    rows = [r for r in source_status(get_store(), in_register, archive_dir=archive)
            if visible_source(r.source_id, sources)]
    names = {sid: s.name for sid, s in sources.items()}
    # the error samples name ad URLs and what the sites answered
    audit.record("view_sources", target="crawls", details={"sources": len(rows)})
    return render_template("crawls.html", rows=rows, names=names, error_kinds=ERROR_KINDS)
