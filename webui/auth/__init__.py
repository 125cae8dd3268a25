"""Sign in, accept the notice, sign out.

Signing in takes two steps: a correct password makes the session *pending*; only
accepting the notice (shown at every login, as the rules require) makes it a signed-in
session. Both steps and every failure are audited.

Failed passwords for an existing account count towards a lock-out (settings
lockout_failures / lockout_minutes); a locked account is refused even with the right
password until the lock runs out or an admin lifts it (``adtrace users unlock``).
Names with no account are throttled by the audit log instead (there is nothing to lock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from webui import audit
from webui import session_limits as limits
from webui.accounts import authenticate, get_user, register_failure
from webui.i18n import gettext as _
from webui.security import safe_next

bp = Blueprint("auth", __name__)

MAX_FAILURES = 10  # per account name ...
FAILURE_WINDOW = timedelta(minutes=15)  # ... within this window, then sign-in waits


def _throttled(name: str) -> bool:
    """Too many recent failures for this name: slow down password guessing."""
    from webui.app import get_accounts

    since = datetime.now(UTC) - FAILURE_WINDOW
    return audit.count_since(get_accounts(), "login_failed", name, since) >= MAX_FAILURES


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if g.user is not None:
        return redirect(url_for("search.search"))
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error="")
    from webui.app import get_accounts

    name = request.form.get("name", "").strip()[:64]
    conn = get_accounts()
    known = get_user(conn, name)
    remote = {"remote_addr": request.remote_addr}
    if known is not None and known.locked():
        audit.record("login_failed", target=name, user=name,
                     details={**remote, "reason": "locked"})
        return render_template("login.html", next_url=next_url,
                               error=_("This account is locked after repeated failed "
                                       "sign-ins. Wait, or ask an administrator.")), 429
    if known is None and _throttled(name):
        return render_template("login.html", next_url=next_url,
                               error=_("Too many failed sign-ins for this name. "
                                       "Wait 15 minutes and try again.")), 429
    user = authenticate(conn, name, request.form.get("password", ""))
    if user is None:
        audit.record("login_failed", target=name, user=name or "-", details=remote)
        cfg = current_app.config
        if known is not None and register_failure(conn, name, int(cfg["LOCKOUT_FAILURES"]),
                                                  int(cfg["LOCKOUT_MINUTES"])):
            audit.record("account_locked", target=name, user=name,
                         details={**remote, "minutes": int(cfg["LOCKOUT_MINUTES"])})
        return render_template("login.html", next_url=next_url,
                               error=_("Unknown name or wrong password.")), 401
    session.clear()  # a fresh session at login: no fixation of an earlier one
    session["pending_user"] = user.name
    session["next"] = next_url
    audit.record("login", target=user.name, user=user.name, details=remote)
    return redirect(url_for("auth.notice"))


@bp.route("/notice", methods=["GET", "POST"])
def notice() -> str | Response:
    name = session.get("pending_user") or (g.user.name if g.user else "")
    notice_text = current_app.config["NOTICE"]
    if request.method == "GET" or g.user is not None:
        return render_template("notice.html", notice=notice_text, name=name)
    if request.form.get("accept") != "yes":
        return render_template("notice.html", notice=notice_text, name=name,
                               error=_("You must accept the notice to continue."))
    next_url = session.get("next") or ""
    session.pop("pending_user", None)
    session.pop("next", None)
    session["user"] = name
    session.permanent = True  # idle timeout: PERMANENT_SESSION_LIFETIME, renewed per request
    limits.start(session)  # and checked on the server: idle and absolute (session_limits)
    audit.record("notice_accepted", target=name, user=name, details={"notice": notice_text})
    return redirect(safe_next(next_url))  # trends users are sent on by the role gate


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    name = g.user.name if g.user else session.get("pending_user", "")
    if name:
        audit.record("logout", target=name, user=name)
    session.clear()
    return redirect(url_for("auth.login"))
