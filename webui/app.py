"""The Flask application factory and the per-request resources (store, accounts file).

Shaped like the Flask tutorial: ``create_app(config)`` builds an app around the given
store URL and data folder, so tests build one around a throw-away SQLite store.
The web UI knows the store only through the Store contract and ``open_store``.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g

from adtrace import settings
from webui import db, resources


def _secret_key(data_dir: Path) -> str:
    """The configured key, or one generated on first start and kept (0600) in data_dir,
    so sessions survive a restart without anyone having to invent a key."""
    configured = settings.get("secret_key")
    if configured:
        return str(configured)
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


def _defaults(config: dict[str, Any]) -> dict[str, Any]:
    data_dir = Path(config.get("DATA_DIR") or settings.data_dir())
    out: dict[str, Any] = {
        "DATA_DIR": str(data_dir),
        "STORE_URL": config.get("STORE_URL") or settings.store_url(),
        "ARCHIVE_DIR": str(config.get("ARCHIVE_DIR") or settings.archive_dir()),
        # the source register: the Crawls page lists its sources never crawled too
        "SOURCES_DIR": str(config.get("SOURCES_DIR") or settings.sources_dir()),
        "NOTICE": config.get("NOTICE") or settings.get("notice"),
        "TESTING": bool(config.get("TESTING", False)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # behind a TLS proxy: the session cookie is never sent in clear, and HSTS is sent
        "SESSION_COOKIE_SECURE": bool(settings.get("https")),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(settings.get("session_minutes"))),
        "MAX_CONTENT_LENGTH": 64 * 1024,
    }
    out.update(config)
    if not out.get("SECRET_KEY"):
        out["SECRET_KEY"] = _secret_key(data_dir)
    return out


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(_defaults(dict(config or {})))
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    db.connect(app.config["DATA_DIR"]).close()  # create the schema before the first request

    from webui import errors, filters, i18n, security
    from webui.auth import bp as auth_bp
    from webui.views import admin, ads, entities, images, search

    security.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    i18n.init_app(app)
    for bp in (auth_bp, search.bp, ads.bp, entities.bp, images.bp, admin.bp):
        app.register_blueprint(bp)
    from webui.views import dashboard, saved  # dashboard, saved searches, inbox, batch

    app.register_blueprint(dashboard.bp)
    app.register_blueprint(saved.bp)
    from webui.views import archive, evidence, preferences
    from webui.views import help as help_view
    for bp in (archive.bp, evidence.bp, help_view.bp, preferences.bp):
        app.register_blueprint(bp)
    from webui.views import crawls as crawls_view
    app.register_blueprint(crawls_view.bp)
    from webui.views import sources as sources_view  # the source register and its history

    app.register_blueprint(sources_view.bp)
    app.teardown_appcontext(_close_resources)
    return app


def get_store() -> Any:
    """The store for this request: the worker's shared SQLite store, or an Elasticsearch
    store opened on first use and closed with the request."""
    if "store" not in g:
        url = current_app.config["STORE_URL"]
        if resources.shared_store_url(url):  # the worker's long-lived SQLite store
            g.store = _resources().store()
        else:
            from indexer.store import open_store

            g.store = open_store(url)
            g.own_store = True  # closed at the end of the request
    user = g.get("user")
    wall = getattr(user, "visible_themes", None)
    people = getattr(user, "sees_ads", True)
    if wall is None and people:
        return g.store
    # The user's theme wall on every read; one wrapper per request (and per wall, as
    # g.user may be set during it), so what it learns about an ad's visibility is kept.
    walled = g.get("walled_store")
    if walled is None or (walled.themes, walled.people) != (wall, people):
        from webui.walled_store import WalledStore

        walled = g.walled_store = WalledStore(g.store, wall, people=people)
    return walled


def get_accounts() -> sqlite3.Connection:
    if "accounts" not in g:
        # This thread's connection, kept between requests (webui.resources).
        g.accounts = _resources().accounts()
    return g.accounts


def _resources() -> resources.Resources:
    cfg = current_app.config
    return resources.for_app(current_app.extensions, cfg["STORE_URL"], cfg["DATA_DIR"])


def _close_resources(_exc: BaseException | None) -> None:
    store = g.pop("store", None)
    if store is not None and g.pop("own_store", False):
        store.close()
    if g.pop("accounts", None) is not None:
        _resources().end_request()
