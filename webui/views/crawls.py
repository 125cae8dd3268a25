"""The crawl status page: per source the last run (pages, new ads, new versions, removed,
errors with samples and counted by kind, duration) and the runs before it.

Login is required centrally (webui.security); sources outside the user's themes are
left out, as everywhere else. The figures come from crawler.status, the same code that
``adtrace crawl status`` prints, so terminal and page always agree.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from crawler.status import source_status
from indexer.crawl_runs import ERROR_KINDS
from webui import audit
from webui.app import get_store
from webui.views.common import sources_by_id, visible_source

bp = Blueprint("crawls", __name__)


@bp.route("/crawls")
def crawls() -> str:
    sources = sources_by_id()
    # the archive the crawls write to (the one images are served from) holds their locks:
    # an unfinished run is then told as running now or killed
    rows = [r for r in source_status(get_store(), archive_dir=current_app.config.get(
        "ARCHIVE_DIR")) if visible_source(r.source_id, sources)]
    names = {sid: s.name for sid, s in sources.items()}
    # the error samples name ad URLs and what the sites answered
    audit.record("view_sources", target="crawls", details={"sources": len(rows)})
    return render_template("crawls.html", rows=rows, names=names, error_kinds=ERROR_KINDS)
