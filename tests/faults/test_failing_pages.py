"""Faults in the web UI: a store that is down or corrupt gives a clear page (503) and a
log line naming the cause; a query that cannot run says why (400), and is logged too."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest

from webui import db
from webui.accounts import add_user
from webui.app import create_app

PASSWORD = "correct horse battery staple 42"


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def _client(tmp_path: Path, store_url: str):  # noqa: ANN202 - a signed-in Flask client
    data = tmp_path / "data"
    conn = db.connect(data)
    add_user(conn, "ada", PASSWORD, role="admin")
    conn.close()
    app = create_app({"STORE_URL": store_url, "DATA_DIR": str(data),
                      "ARCHIVE_DIR": str(tmp_path / "archive"), "SECRET_KEY": "faults",
                      "TESTING": True})
    c = app.test_client()
    c.post("/login", data={"name": "ada", "password": PASSWORD,
                           "csrf_token": _token(c.get("/login").get_data(as_text=True))})
    c.post("/notice", data={"accept": "yes",
                            "csrf_token": _token(c.get("/notice").get_data(as_text=True))})
    return c


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("kind", ["corrupt-sqlite", "closed-elasticsearch"])
def test_store_down_gives_clear_page_and_logged_cause(tmp_path: Path, kind: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    if kind == "corrupt-sqlite":
        bad = tmp_path / "store.sqlite3"
        bad.write_bytes(b"not a database at all " * 200)
        url, cause = str(bad), str(bad)
    else:
        url = _closed_url()
        cause = url.removeprefix("http://")
    client = _client(tmp_path, url)
    caplog.set_level(logging.ERROR)
    resp = client.get("/search?q=lisa")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert "Backend unavailable" in page and "Traceback" not in page
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(cause in m for m in logged), logged


def test_query_error_says_why(tmp_path: Path) -> None:
    from indexer.store.sqlite import SqliteStore

    SqliteStore(tmp_path / "ok.sqlite3").close()
    client = _client(tmp_path, str(tmp_path / "ok.sqlite3"))
    resp = client.get("/search?q=nosuchfield:x")
    assert resp.status_code == 400
    assert "unknown field" in resp.get_data(as_text=True)
