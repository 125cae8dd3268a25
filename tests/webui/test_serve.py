"""The real server: ``adtrace serve`` in a subprocess, signed in to and searched over HTTP."""

from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from webui_world import PASSWORD, token_from

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll the real condition (the server answers) while the process is alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"adtrace serve exited with {proc.returncode}: {out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.fixture()
def server(world):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "ADTRACE_DATA_DIR": str(world.data_dir),
           "ADTRACE_STORE": str(world.store_path), "ADTRACE_ARCHIVE_DIR": str(world.archive_dir),
           "ADTRACE_NOTICE": "Served notice."}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adtrace.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/login", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


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
