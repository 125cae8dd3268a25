"""The real server: ``adtrace serve`` in a subprocess, signed in to and searched over HTTP."""

from __future__ import annotations

import http.cookiejar
import urllib.parse
import urllib.request

import pytest
from support.server import adtrace_serve
from webui_world import PASSWORD, token_from


@pytest.fixture()
def server(world):  # type: ignore[no-untyped-def]
    with adtrace_serve({"ADTRACE_DATA_DIR": str(world.data_dir),
                        "ADTRACE_STORE": str(world.store_path),
                        "ADTRACE_ARCHIVE_DIR": str(world.archive_dir),
                        "ADTRACE_NOTICE": "Served notice."}) as base:
        yield base


def test_serve_login_and_search_over_http(server: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path: str) -> tuple[str, str]:
        with opener.open(server + path, timeout=10) as resp:
            return resp.geturl(), resp.read().decode()

    def post(path: str, data: dict[str, str]) -> tuple[str, str]:
        body = urllib.parse.urlencode(data).encode()
        with opener.open(server + path, data=body, timeout=10) as resp:
            return resp.geturl(), resp.read().decode()

    url, html = get("/search?q=anna")
    assert "/login" in url  # redirected: not signed in
    url, html = post("/login", {"name": "ada", "password": PASSWORD, "csrf_token": token_from(html),
                                "next": "/search?q=anna"})
    assert url.endswith("/notice") and "Served notice." in html
    url, html = post("/notice", {"accept": "yes", "csrf_token": token_from(html)})
    assert url.endswith("/search?q=anna")
    assert "<mark>Anna</mark>" in html and "Velvet Nights" in html
    with opener.open(server + "/static/style.css", timeout=10) as resp:
        assert resp.headers["X-Frame-Options"] == "DENY"
