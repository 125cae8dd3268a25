"""The source register (/sources): what is crawled, why, who approved it, since when,
and every change to it — the public, justified list the rules ask for.

Users behind a theme wall see the sources of their themes only; admins see all.
Base URLs are shown as text, never as links: a click would tell the site who looks.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from indexer.store.source_history import SourceRevision
from webui import audit
from webui.app import get_store

bp = Blueprint("sources", __name__)


def register_rows(store: Any, themes: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """One row per visible source: its entry now, since when it is registered, its history
    newest first."""
    rows = []
    for info in sorted(store.sources(), key=lambda s: (s.theme, s.name.lower(), s.id)):
        if themes is not None and info.theme not in themes:
            continue
        history: list[SourceRevision] = store.source_history(info.id)
        rows.append({"info": info, "since": history[0].recorded_at if history else None,
                     "history": list(reversed(history))})
    return rows


@bp.route("/sources")
def sources() -> str:
    rows = register_rows(get_store(), g.user.visible_themes)
    audit.record("view_sources", details={"sources": len(rows)})
    return render_template("sources.html", rows=rows)
