"""The audit trail for admins: who searched, viewed and exported what, and when."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from webui import audit
from webui.app import get_accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/audit")
def audit_log() -> str:
    if not g.user.is_admin:
        abort(404)
    user = request.args.get("user", "")[:64] or None
    action = request.args.get("action", "")
    action = action if action in audit.ACTIONS else None
    events = audit.events(get_accounts(), user=user, action=action, limit=500)
    return render_template("audit.html", events=events, actions=audit.ACTIONS,
                           user=user or "", action=action or "")
