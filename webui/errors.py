"""The one place where failures become pages.

A query the analyst typed that cannot run goes back to the search page with the reason
(400); a store that is down gives a plain "backend unavailable" page (503), never a
traceback; every other HTTP error gets the same small page.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from indexer.search.query import QueryError
from indexer.store.base import StoreError
from webui.i18n import gettext as _

log = logging.getLogger(__name__)


def _query_error(exc: QueryError) -> tuple[str, int]:
    from webui.views.search import render_query_error

    return render_query_error(str(exc)), 400


def _store_error(exc: StoreError) -> tuple[str, int]:
    log.error("store unavailable: %s", exc)
    return render_template("error.html", code=503, title=_("Backend unavailable"),
                           message=_("The search backend does not answer. Try again in a "
                                     "moment; if it persists, tell the administrator."),
                           detail=str(exc)), 503


def _http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    titles = {404: "Not found", 401: "Sign in required", 400: "Bad request"}
    # Werkzeug's stock names and descriptions have catalogue entries; a description a
    # view wrote itself (often with data in it) is shown as written when it has none.
    return render_template("error.html", code=code, title=_(titles.get(code, exc.name)),
                           message=_(exc.description) if exc.description else "",
                           detail=""), code


def init_app(app: Flask) -> None:
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(StoreError, _store_error)
    app.register_error_handler(HTTPException, _http_error)
