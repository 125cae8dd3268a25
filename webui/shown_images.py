"""Which archived images an audited page showed to which signed-in session, recently
(and which archived pages a capture page framed: ``capture:<id>``, webui.views.archive).

The law asks for an audit row for every view. A page that shows photos (search results,
an ad, a comparison, an evidence report) writes its own row; the browser then fetches
each photo from /image/<sha256>. Those fetches need no row of their own only if that
page really showed that photo to that session: the ``Sec-Fetch-Dest`` header cannot
tell, since any client can send it. So a page registers, while it renders and in the
same request that wrote its audit row, the hashes it shows (``image_url``, the one
helper templates call for an image's address); webui.views.images skips the row only
for a hash this session was shown within ``WINDOW_SECONDS``.

Kept in this process's memory, bounded: at most ``MAX_PER_SESSION`` hashes per session
and ``MAX_SESSIONS`` sessions, oldest dropped first, expired entries dropped as they are
met. Nothing goes into the cookie (a search page shows up to 200 thumbnails). Every loss
only ever adds rows, never removes one: a restart, an evicted entry, or a request served
by another server process (each gunicorn worker has its own memory) finds nothing and
audits the fetch.

The key is the signed-in user's name and the session's CSRF token: a random secret made
for each session after sign-in clears it (webui.security.csrf_token), held in the signed
cookie, so a client cannot present another user's or another session's key. (A script
given this very session's cookie is that session: it may fetch unaudited what the
session was shown, for the window.)
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from flask import Flask, current_app, g, session, url_for

from webui.security import CSRF_KEY, csrf_token

# Long enough for what a page loads after it is rendered: lazy images load as the
# analyst scrolls a long ad page or a page of results, minutes later; short enough that
# a photo fetched long after the page that showed it is audited as a look-up of its own.
WINDOW_SECONDS = 30 * 60
MAX_PER_SESSION = 1000  # a search page shows up to 200 thumbnails, an ad page its versions'
MAX_SESSIONS = 256  # signed-in sessions remembered per process (analysts, not the public)
EXTENSION = "adtrace_shown_images"

SessionKey = tuple[str, str]


class ShownImages:
    """Session → {sha256: when shown}, bounded and expiring; safe to share between the
    threads of one process. ``clock`` is injectable so tests need not sleep."""

    def __init__(self, window: float = WINDOW_SECONDS, max_sessions: int = MAX_SESSIONS,
                 max_per_session: int = MAX_PER_SESSION,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.max_sessions = max_sessions
        self.max_per_session = max_per_session
        self.clock = clock
        self.pid = os.getpid()
        self._lock = threading.Lock()
        # both oldest first: sessions by last registration, hashes by when shown
        self._sessions: OrderedDict[SessionKey, OrderedDict[str, float]] = OrderedDict()

    def add(self, key: SessionKey, hashes: Iterable[str]) -> None:
        """Record that a page showed these images to this session now."""
        now = self.clock()
        with self._lock:
            shown = self._sessions.pop(key, None) or OrderedDict()
            for sha in hashes:
                shown.pop(sha, None)  # re-shown: moves to the newest end
                shown[sha] = now
            self._prune(shown, now)
            while len(shown) > self.max_per_session:
                shown.popitem(last=False)
            self._sessions[key] = shown
            self._drop_expired(now)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)

    def was_shown(self, key: SessionKey, sha256: str) -> bool:
        """Whether a page showed this image to this session within the window."""
        now = self.clock()
        with self._lock:
            shown = self._sessions.get(key)
            when = shown.get(sha256) if shown is not None else None
            return when is not None and now - when <= self.window

    def sessions(self) -> int:
        """How many sessions are remembered (tests check the bound)."""
        with self._lock:
            return len(self._sessions)

    def _prune(self, shown: OrderedDict[str, float], now: float) -> None:
        """Drop a session's expired hashes: kept oldest first, it stops at the first good."""
        while shown and now - next(iter(shown.values())) > self.window:
            shown.popitem(last=False)

    def _drop_expired(self, now: float) -> None:
        """Drop sessions whose every hash has expired. Kept by last registration, oldest
        first: the first session with a hash still good ends the walk."""
        while self._sessions:
            key, shown = next(iter(self._sessions.items()))
            self._prune(shown, now)
            if shown:
                return
            del self._sessions[key]


def for_app(app: Flask) -> ShownImages:
    """This process's record for the app, made on first use. A copy inherited over a
    fork (the server forks its workers) is replaced: it is the parent's, lock included."""
    found = app.extensions.get(EXTENSION)
    if not isinstance(found, ShownImages) or found.pid != os.getpid():
        found = app.extensions[EXTENSION] = ShownImages()
    return found


def install(app: Flask, shown: ShownImages) -> None:
    """Use this record (tests give one with their own clock or bounds)."""
    app.extensions[EXTENSION] = shown


def _session_key(create: bool) -> SessionKey | None:
    """The signed-in session's key, or None (not signed in, or no token yet and
    ``create`` false: then nothing can have been registered for it)."""
    user = g.get("user")
    if user is None:
        return None
    token = csrf_token() if create else session.get(CSRF_KEY)
    return (user.name, str(token)) if token else None


def page_audited() -> bool:
    """Whether this request wrote an audit row for its signed-in user (webui.audit.record
    marks it): only such a page may register what it shows."""
    user = g.get("user")
    return user is not None and g.get("audited_user") == user.name


def register(hashes: Iterable[str]) -> None:
    """Record that this audited page shows these images to this session; on a page that
    wrote no audit row, nothing (its images will be audited one by one when fetched)."""
    if not page_audited():
        return
    key = _session_key(create=True)
    if key is not None:
        for_app(current_app).add(key, hashes)


def was_shown(sha256: str) -> bool:
    """Whether an audited page showed this image to the requesting session recently."""
    key = _session_key(create=False)
    return key is not None and for_app(current_app).was_shown(key, sha256)


def image_url(sha256: str) -> str:
    """The address of an archived image, for templates: registers it as shown by this
    page (if audited), so the browser's fetch of it is covered by the page's row."""
    register((sha256,))
    return url_for("images.image", sha256=sha256)
