"""Every request passes here: the login guard, the CSRF check and the security headers.

One ``before_request`` guard instead of a decorator per view, so no route can forget
it: only the login page and static files are public; a user who has given a correct
password but not yet accepted the notice may reach only the notice (and logout).
One CSRF check for every state-changing method, against a token bound to the session.
One ``after_request`` sets strict headers: nothing from an ad site, no inline script.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, g, redirect, request, session, url_for

from webui.accounts import get_user

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
PENDING_ENDPOINTS = frozenset({"auth.notice", "auth.logout"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; img-src 'self' data:"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def csrf_token() -> str:
    """The session's token, created on first use; templates put it in every POST form."""
    token = session.get("_csrf")
    if not token:
        token = session["_csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get("_csrf", "")
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="The form's security token is missing or out of date. "
                               "Reload the page and try again.")


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("search.search")


def _login_guard() -> Response | None:
    from webui.app import get_accounts

    g.user = None
    if request.endpoint == "static":
        return None
    _check_csrf()
    name = session.get("user")
    if name:
        user = get_user(get_accounts(), name)
        if user is not None and not user.disabled:
            g.user = user
            return None
        session.clear()  # account disabled or deleted since login: out at once
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if session.get("pending_user"):
        if request.endpoint in PENDING_ENDPOINTS:
            return None
        return redirect(url_for("auth.notice"))
    if request.method in UNSAFE_METHODS:
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.before_request(_login_guard)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD
