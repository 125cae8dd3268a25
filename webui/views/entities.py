"""Identifier pages: every ad that ever carried a phone number, e-mail or handle, with
sites, places and dates — the history an investigator follows from one number."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from indexer.search.parse import normalize_phone
from indexer.search.query import Hit
from webui import audit
from webui.app import get_store
from webui.views.common import sources_by_id, visible_hits

bp = Blueprint("entities", __name__)

KINDS = {"email": "E-mail address", "handle": "Handle", "url": "Web address"}
E164_RE = re.compile(r"^\+[1-9]\d{5,14}$")


def summary(hits: list[Hit], site_names: dict[str, str]) -> dict[str, Any]:
    """Sites, places and the span of time over which the identifier was seen."""
    return {
        "ads": len(hits),
        "sites": sorted({site_names.get(h.source_id, h.source_id) for h in hits}),
        "places": sorted({p for h in hits for p in h.places}),
        "first_seen": min((h.first_seen for h in hits), default=None),
        "last_seen": max((h.last_seen for h in hits), default=None),
    }


def _page(kind: str, value: str, label: str) -> str:
    sources = sources_by_id()
    hits = visible_hits(get_store().ads_for_identifier(kind, value), sources)
    hits.sort(key=lambda h: h.first_seen)
    names = {sid: s.name for sid, s in sources.items()}
    audit.record("view_identifier", target=f"{kind}:{value}", details={"ads": len(hits)})
    return render_template("identifier.html", kind=kind, value=value, label=label,
                           hits=hits, summary=summary(hits, names), site_names=names)


@bp.route("/phone/<path:number>")
def phone(number: str) -> str | Response:
    if not E164_RE.match(number):
        e164 = normalize_phone(number[:40])
        if e164 is None:
            abort(404, description=f"{number[:40]!r} is not a phone number adtrace can read.")
        return redirect(url_for("entities.phone", number=e164))
    return _page("phone", number, "Phone number")


@bp.route("/id/<kind>/<path:value>")
def identifier(kind: str, value: str) -> str:
    if kind not in KINDS or len(value) > 300:
        abort(404)
    return _page(kind, value, KINDS[kind])
