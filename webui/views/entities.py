"""Identifier pages: a phone number's (or e-mail's, handle's) whole history — its ads,
activity, movement on a local map, sites, names, the numbers beside it, the network
around it — and the correction of wrong extractions, which unlinks them everywhere.

Thin views: the store summarises (indexer.store.entity_summary), webui.network and
webui.geo turn summaries into a graph and a map; nothing here builds a query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from indexer.search.parse import normalize_phone
from indexer.store.entity_summary import EntitySummary
from webui import audit, geo, network
from webui.app import get_store
from webui.security import safe_next
from webui.views.common import require_visible, sources_by_id

bp = Blueprint("entities", __name__)

KINDS = {"email": "E-mail address", "handle": "Handle", "url": "Web address"}
LABELS = {"phone": "Phone number", **KINDS}
E164_RE = re.compile(r"^\+[1-9]\d{5,14}$")
NEIGHBOURS = 12  # co-occurring identifiers whose own ads the network view draws
MAX_EXPAND = 20
DAILY_UP_TO = 62  # days of activity shown per day; longer spans per week


def bars(series: Sequence[tuple[str, int]], width: float = 640.0,
         height: float = 120.0) -> list[dict[str, Any]]:
    """Activity as SVG bar geometry (drawn in the template, so text stays escaped)."""
    if not series:
        return []
    top = max(n for _, n in series) or 1
    step = width / len(series)
    return [{"label": label, "count": n, "x": round(i * step, 1), "w": round(max(step - 1, 1), 1),
             "h": round(height * n / top, 1), "y": round(height - height * n / top, 1)}
            for i, (label, n) in enumerate(series)]


def _href(node: network.Node, here: str) -> str:
    if node.kind == "ad":
        return url_for("ads.ad", ad_id=node.key)
    if node.kind == "cluster":
        return here + ("&" if "?" in here else "?") + urlencode({"expand": node.key}) + "#network"
    return _identifier_url(node.kind, node.key)


def _identifier_url(kind: str, value: str) -> str:
    if kind == "phone":
        return url_for("entities.phone", number=value)
    return url_for("entities.identifier", kind=kind, value=value)


def _with_expand(base: str, expand: list[str]) -> str:
    return base + ("?" + urlencode([("expand", e) for e in expand]) if expand else "")


def _expand() -> list[str]:
    return [e[:400] for e in request.args.getlist("expand")[:MAX_EXPAND]]


def _graph(s: EntitySummary, expand: list[str], here: str,
           wide: bool) -> tuple[network.Graph, dict[str, str]]:
    """The ads around the identifier; ``wide``: also the ads of the identifiers beside it."""
    store, themes = get_store(), g.user.visible_themes
    near = [store.entity_summary(c.kind, c.value, themes=themes)
            for c in s.co_occurring[:NEIGHBOURS]] if wide else []
    graph = network.build((s.kind, s.value), [s, *near], expand=expand)
    return graph, {n.id: _href(n, here) for n in graph.nodes}


def _page(kind: str, value: str) -> str:
    s = get_store().entity_summary(kind, value, themes=g.user.visible_themes)
    expand = _expand()
    here = _with_expand(_identifier_url(kind, value), expand)
    graph, hrefs = _graph(s, expand, here, wide=False)
    names = {sid: src.name for sid, src in sources_by_id().items()}
    span = (s.last_seen - s.first_seen).days if s.first_seen and s.last_seen else 0
    daily = span <= DAILY_UP_TO
    stops, outside = geo.route(s.places, geo.default_projection())
    details: dict[str, Any] = {"ads": len(s.ads)}
    if expand:
        details["expand"] = expand
    audit.record("view_identifier", target=f"{kind}:{value}", details=details)
    return render_template(
        "identifier.html", kind=kind, value=value, label=LABELS[kind], s=s,
        site_names=names, place_names=sorted({p.name for p in s.places}),
        activity=bars(s.activity_day if daily else s.activity_week), daily=daily,
        map_svg=geo.movement_svg(s.places), stops=stops, outside=outside,
        graph=graph, hrefs=hrefs, nodes={n.id: n for n in graph.nodes}, wide=False,
        here=here, identifier_url=_identifier_url)


@bp.route("/network/<kind>/<path:value>")
def network_page(kind: str, value: str) -> str:
    """Two steps out: the ads of this identifier and of every identifier beside it."""
    if kind not in LABELS or len(value) > 300:
        abort(404)
    s = get_store().entity_summary(kind, value, themes=g.user.visible_themes)
    expand = _expand()
    here = _with_expand(url_for("entities.network_page", kind=kind, value=value), expand)
    graph, hrefs = _graph(s, expand, here, wide=True)
    audit.record("view_identifier", target=f"{kind}:{value}",
                 details={"view": "network", "ads": len(s.ads), "nodes": len(graph.nodes)})
    return render_template("network.html", kind=kind, value=value, label=LABELS[kind],
                           graph=graph, hrefs=hrefs, nodes={n.id: n for n in graph.nodes},
                           wide=True, identifier_url=_identifier_url)


@bp.route("/phone/<path:number>")
def phone(number: str) -> str | Response:
    if not E164_RE.match(number):
        e164 = normalize_phone(number[:40])
        if e164 is None:
            abort(404, description=f"{number[:40]!r} is not a phone number adtrace can read.")
        return redirect(url_for("entities.phone", number=e164))
    return _page("phone", number)


@bp.route("/id/<kind>/<path:value>")
def identifier(kind: str, value: str) -> str:
    if kind not in KINDS or len(value) > 300:
        abort(404)
    return _page(kind, value)


# ---------------------------------------------------------------------- corrections
def _correction_form() -> tuple[str, str, str, str]:
    form = request.form
    ad_id, kind = form.get("ad_id", "")[:64], form.get("kind", "")[:16]
    value, reason = form.get("value", "")[:300], form.get("reason", "")[:500]
    record = get_store().get_ad(ad_id) if ad_id else None
    if record is None:
        abort(404, description=f"ad {ad_id!r} is not in the archive.")
    require_visible(record.source_id, sources_by_id())
    return ad_id, kind, value, reason


def _apply(lift: bool) -> Response:
    ad_id, kind, value, reason = _correction_form()
    store = get_store()
    change = store.unsuppress if lift else store.suppress_extraction
    try:
        changed = change(ad_id, kind, value, g.user.name, reason)
    except (ValueError, KeyError) as exc:
        abort(400, description=str(exc.args[0] if exc.args else exc))
    audit.record("correction_undo" if lift else "correction", target=f"{kind}:{value}",
                 details={"ad": ad_id, "reason": reason, "changed": changed})
    return redirect(safe_next(request.form.get("next")))


@bp.post("/correction")
def correct() -> Response:
    """Mark an extraction wrong: this ad no longer links to this value anywhere."""
    return _apply(lift=False)


@bp.post("/correction/lift")
def lift() -> Response:
    """Undo a correction: the links come back from the kept enrichment."""
    return _apply(lift=True)


@bp.route("/corrections")
def corrections() -> str:
    found = get_store().suppressions(themes=g.user.visible_themes)
    audit.record("view_identifier", target="corrections", details={"corrections": len(found)})
    return render_template("corrections.html", corrections=found,
                           identifier_url=_identifier_url)
