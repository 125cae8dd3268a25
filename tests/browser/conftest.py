"""The real thing: ``adtrace serve`` in a subprocess over a throw-away world, and
headless Chromium (/usr/bin/chromium, installed by the test setup) driven by Playwright.

Chromium runs with no network of its own beyond loopback use (no background traffic,
no component updates, no sync); the walk-through checks that every request the page
makes goes to the adtrace server and nowhere else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "webui"))

from webui_world import png_bytes, write_world  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll the real condition (the login page answers) while the process lives."""
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


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    import hashlib

    from webui import db
    from webui.accounts import add_user

    root = tmp_path_factory.mktemp("browser")
    archive, data = root / "archive", root / "data"
    body = png_bytes()
    sha = hashlib.sha256(body).hexdigest()
    (archive / "images" / sha[:2]).mkdir(parents=True)
    (archive / "images" / sha[:2] / f"{sha}.png").write_bytes(body)
    anna, lisa, _trend = write_world(root / "store.sqlite3", sha)
    conn = db.connect(data)
    add_user(conn, "walker", "correct horse battery", role="admin")
    conn.close()
    port = _free_port()
    env = {**os.environ, "ADTRACE_DATA_DIR": str(data), "ADTRACE_STORE": str(root / "store.sqlite3"),
           "ADTRACE_ARCHIVE_DIR": str(archive), "ADTRACE_NOTICE": "Walk-through notice."}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adtrace.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/login", proc)
        yield {"base": base, "anna": anna, "lisa": lisa, "user": "walker",
               "password": "correct horse battery"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: the test setup installs Chromium for the walk-through")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
