"""The dashboard: ads online per day or week by site, place and indicator; new and
removed ads; the most active numbers. Charts are drawn by the vendored Chart.js from a
static script (the CSP forbids inline script); the figures travel in a JSON data block
and are also shown as plain tables (screen readers, printing, no-JavaScript browsers).
The view only parses the window and shapes the store's ``aggregates`` for templates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, render_template, request

from indexer.store.aggregates import Aggregates, Series
from webui import audit
from webui.app import get_store
from webui.views.common import sources_by_id

bp = Blueprint("dashboard", __name__)

TOP_SERIES = 8  # lines per chart; the rest are summed as "other"
BY_LABELS = {"site": "Site", "place": "Place", "indicator": "Indicator"}


class WindowError(ValueError):
    pass


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise WindowError(f"{name}={raw[:20]!r}: give a date as YYYY-MM-DD") from exc


def _top(series: tuple[Series, ...], width: int) -> list[Series]:
    """The busiest series, and one "other" series summing the rest (kept honest: the
    column totals stay the totals)."""
    top = list(series[:TOP_SERIES])
    rest = series[TOP_SERIES:]
    if rest:
        top.append(Series("other", tuple(sum(s.counts[i] for s in rest) for i in range(width))))
    return top


def chart_data(agg: Aggregates, period: str, labels: dict[str, str]) -> dict[str, Any]:
    """Plain data for charts and tables: {chart id: {labels, series: [{key, label, data}]}}."""
    periods = agg.days if period == "day" else agg.weeks
    by_period = agg.per_day if period == "day" else agg.per_week
    out: dict[str, Any] = {}
    for by in BY_LABELS:
        rows = _top(by_period.get(by, ()), len(periods))
        out[by] = {"labels": [p.isoformat() for p in periods], "kind": "line",
                   "series": [{"key": s.key, "label": labels.get(s.key, s.key) if by == "site"
                               else s.key, "data": list(s.counts)} for s in rows]}
    out["churn"] = {"labels": [d.isoformat() for d in agg.days], "kind": "bar",
                    "series": [{"key": "new", "label": "New ads", "data": list(agg.new_per_day)},
                               {"key": "removed", "label": "Removed ads",
                                "data": list(agg.removed_per_day)}]}
    return out


@bp.route("/dashboard")
def dashboard() -> tuple[str, int] | str:
    period = request.args.get("period", "day")
    period = period if period in ("day", "week") else "day"
    try:
        since, until = _day("from"), _day("to")
        agg = get_store().aggregates(themes=g.user.visible_themes, since=since, until=until)
    except (WindowError, ValueError) as exc:
        return render_template("dashboard.html", error=str(exc), agg=None, charts={},
                               period=period, by_labels=BY_LABELS, since=None, until=None), 400
    labels = {k: v.name for k, v in sources_by_id().items()}
    charts = chart_data(agg, period, labels)
    audit.record("view_dashboard", target=f"{agg.since}..{agg.until}",
                 details={"period": period, "ads": agg.ads})
    # numbers identify people: users who see aggregates only (trends role) do not get them
    return render_template("dashboard.html", agg=agg, charts=charts, period=period,
                           by_labels=BY_LABELS, error="", since=agg.since, until=agg.until,
                           show_numbers=g.user.sees_ads)
