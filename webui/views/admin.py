"""The audit trail for admins: who searched, viewed and exported what, and when —
searchable by user, action and date range, exportable as CSV or JSON lines, with the
state of the hash chain shown on top. Non-admins get 404: the page does not exist for them.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request

from webui import audit, audit_export
from webui.app import get_accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_LIMIT = 500


def _require_admin() -> None:
    if not g.user.is_admin:
        abort(404)


def _filters() -> dict[str, Any]:
    action = request.args.get("action", "").strip()[:40]
    return {"user": request.args.get("user", "").strip()[:64] or None,
            "action": action or None,
            "since": request.args.get("since", "").strip()[:32] or None,
            "until": request.args.get("until", "").strip()[:32] or None}


@bp.route("/audit")
def audit_log() -> str | tuple[str, int]:
    _require_admin()
    filters, error, events = _filters(), "", []
    conn = get_accounts()
    try:
        events = audit.events(conn, limit=PAGE_LIMIT, **filters)
    except ValueError as exc:
        error = str(exc)
    chain = audit.verify(conn)
    audit.record("audit_search", details={**filters, "total": len(events)})
    page = render_template("audit.html", events=events, actions=audit.ACTIONS, error=error,
                           chain=chain, limit=PAGE_LIMIT, formats=audit_export.FORMATS,
                           **{k: v or "" for k, v in filters.items()})
    return (page, 400) if error else page


@bp.route("/audit/export.<fmt>")
def audit_export_file(fmt: str) -> Response:
    _require_admin()
    if fmt not in audit_export.FORMATS:
        abort(404)
    filters = _filters()
    try:
        events = audit.events(get_accounts(), limit=None, newest_first=False, **filters)
    except ValueError as exc:
        abort(400, description=str(exc))
    buf = io.StringIO()
    n = audit_export.write(events, fmt, buf)
    audit.record("audit_export", target=fmt, details={**filters, "rows": n})
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(buf.getvalue(), mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=adtrace-audit.{fmt}"})
