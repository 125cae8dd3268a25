"""Session limits: an idle timeout and an absolute lifetime, checked on the server.

Flask's signed cookie alone would let a copied cookie live as long as its signature;
here each request compares the session's own clock (``login_at``, ``seen``) with the
settings session_minutes (idle) and session_max_hours (absolute), so a session ends
when it should even if the browser keeps the cookie.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app

LOGIN_AT = "login_at"
SEEN = "seen"


def start(session: Any) -> None:
    """Called when a session becomes signed in (notice accepted)."""
    now = int(time.time())
    session[LOGIN_AT] = now
    session[SEEN] = now


def expired(session: Any, now: float | None = None) -> str:
    """Why the signed-in session is over ('idle', 'lifetime'), or '' if it is still good.
    A session without the clock (made before this check existed) counts as over."""
    now = time.time() if now is None else now
    idle = float(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    lifetime = float(current_app.config["SESSION_MAX_HOURS"]) * 3600
    login_at, seen = session.get(LOGIN_AT), session.get(SEEN)
    if not isinstance(login_at, int | float) or not isinstance(seen, int | float):
        return "lifetime"
    if now - login_at > lifetime:
        return "lifetime"
    if now - seen > idle:
        return "idle"
    return ""


def touch(session: Any) -> None:
    """Mark activity; written at most once a minute so the cookie does not churn."""
    now = int(time.time())
    if now - int(session.get(SEEN, 0)) >= 60:
        session[SEEN] = now
