"""Every request passes here: the login guard, the CSRF check and the security headers.

One ``before_request`` guard instead of a decorator per view, so no route can forget
it: only the login page and static files are public; a user who has given a correct
password but not yet accepted the notice may reach only the notice (and logout).
One CSRF check for every state-changing method, against a token bound to the session.
One ``after_request`` sets strict headers: nothing from an ad site, no inline script.
The same guard ends sessions that are idle or too old (webui.auth.limits), accepts a
trusted proxy's single sign-on header (webui.auth.sso, off by default), and keeps the
``trends`` role to aggregate pages: outside them, a trends user finds nothing (404).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for

from adtrace import settings
from webui import audit, sso
from webui import session_limits as limits
from webui.accounts import User, get_user

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
PENDING_ENDPOINTS = frozenset({"auth.notice", "auth.logout"})
# What a trends-only user may open: aggregates, help, the source register, sign-in pages.
# Anything else (ads, identifiers, search, exports, admin) is refused by default, so a
# page added later is closed to them until it is listed here.
TRENDS_BLUEPRINTS = frozenset({"auth", "dashboard", "help", "sources", "prefs"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_NEXT = 2048  # characters of a page to return to after sign-in
CSRF_FIELD = "csrf_token"
# The session's token: random, made anew after sign-in clears the session, so it also
# names the session for webui.shown_images.
CSRF_KEY = "_csrf"

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; img-src 'self' data:; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # no DNS look-ups for names in a page (an ad site's name would reach its DNS server)
    "X-DNS-Prefetch-Control": "off",
    # nothing in the UI uses these; an archived page must not either (attribution
    # reporting would make the browser report to an ad site's registrar)
    "Permissions-Policy": ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                           "browsing-topics=(), attribution-reporting=()"),
}
HSTS = "max-age=31536000"  # sent when the UI is reached over HTTPS only (ADTRACE_HTTPS)


def csrf_token() -> str:
    """The session's token, created on first use; templates put it in every POST form."""
    token = session.get(CSRF_KEY)
    if not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get(CSRF_KEY, "")
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="The form's security token is missing or out of date. "
                               "Reload the page and try again.")


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after login. A path with a
    control character is refused too: browsers (and urlsplit) drop tabs and newlines, so
    "/<tab>/evil.example" would arrive as "//evil.example"; and so is one longer than
    MAX_NEXT, which kept in the session would make its cookie too big to be sent back."""
    if (target and len(target) <= MAX_NEXT and target.startswith("/")
            and not target.startswith("//") and "\\" not in target and target.isprintable()):
        return target
    return url_for("search.search")


def _landing() -> str:
    """Where a user starts: search, or for trends users the dashboard (else the register)."""
    if g.user is not None and not g.user.sees_ads:
        for endpoint in ("dashboard.dashboard", "sources.sources"):
            if endpoint in current_app.view_functions:
                return url_for(endpoint)
    return url_for("search.search")


def _role_gate(user: User) -> Response | None:
    if user.sees_ads or request.endpoint is None:
        return None
    if request.blueprint in TRENDS_BLUEPRINTS:
        return None
    if request.endpoint == "search.search" and request.method == "GET" and not request.args:
        return redirect(_landing())
    abort(404)


def _trusted_header_login() -> Response | None:
    """A name vouched for by a trusted proxy starts a (pending) session for that user."""
    from webui.app import get_accounts

    name = sso.asserted_name(current_app.config, request.remote_addr, request.headers)
    if not name or name in (session.get("user"), session.get("pending_user")):
        return None
    conn = get_accounts()
    user = get_user(conn, name)
    details = {"method": "trusted_header", "remote_addr": request.remote_addr}
    session.clear()
    if user is None or user.disabled or user.locked():
        audit.append(conn, name, "login_failed", name, details)
        abort(403, description="The sign-on name given by the proxy has no active account.")
    session["pending_user"] = name
    session["next"] = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else ""
    audit.append(conn, name, "login", name, details)
    return None


def _signed_in() -> User | None:
    """The session's user, or None (and the session ended) if gone, disabled or expired."""
    from webui.app import get_accounts

    name = session.get("user")
    if not name:
        return None
    user = get_user(get_accounts(), name)
    if user is None or user.disabled:
        session.clear()  # account disabled or deleted since login: out at once
        return None
    why = limits.expired(session)
    if why:
        audit.append(get_accounts(), name, "session_expired", name, {"reason": why})
        session.clear()
        return None
    limits.touch(session)
    return user


def _login_guard() -> Response | None:
    g.user = None
    if request.endpoint == "static":
        return None
    _check_csrf()
    _trusted_header_login()
    user = _signed_in()
    if user is not None:
        g.user = user
        return _role_gate(user)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if session.get("pending_user"):
        if request.endpoint in PENDING_ENDPOINTS:
            return None
        return redirect(url_for("auth.notice"))
    if request.method in UNSAFE_METHODS:
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# The archived copy of an ad page (webui.views.archive): shown only inside adtrace's own
# sandboxed frame, with nothing allowed but inline styles and inlined images.
SANDBOXED_ENDPOINTS = frozenset({"archive.archived_page"})
ARCHIVE_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
               "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox")


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.endpoint in SANDBOXED_ENDPOINTS:
        response.headers["Content-Security-Policy"] = ARCHIVE_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def _config_defaults(app: Flask) -> None:
    """Account and session settings, overridable in the app config (tests do)."""
    app.config.setdefault("SESSION_IDLE_MINUTES", int(settings.get("session_minutes")))
    app.config.setdefault("SESSION_MAX_HOURS", float(settings.get("session_max_hours")))
    app.config.setdefault("LOCKOUT_FAILURES", int(settings.get("lockout_failures")))
    app.config.setdefault("LOCKOUT_MINUTES", int(settings.get("lockout_minutes")))
    app.config.setdefault("TRUSTED_HEADER", str(settings.get("trusted_header")))
    proxies = app.config.get("TRUSTED_PROXIES", settings.get("trusted_proxies"))
    app.config["TRUSTED_PROXIES"] = sso.parse_proxies(proxies)


def init_app(app: Flask) -> None:
    _config_defaults(app)
    app.jinja_env.globals["landing_url"] = _landing
    app.before_request(_login_guard)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["CSRF_FIELD"] = CSRF_FIELD
