"""The main job, as a new user runs it: ``adtrace demo`` crawls the demo world into a
fresh embedded store, creates a login, serves the UI, and the printed login works."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support.server import free_port

from demosite.world import World
from indexer.store import open_store

SITES = ("velvet", "board")
ADS, DAYS, SEED = 40, 2, 3


def adtrace(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "adtrace.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw)


def truth_counts() -> tuple[int, int]:
    """Distinct ads online on any crawled day, and those gone by the last day."""
    world = World(seed=SEED, n_ads=ADS, days=DAYS)
    seen: set[tuple[str, int]] = set()
    for day in range(DAYS):
        seen |= {(site, i) for site in SITES for i in world.live_ads(site, day)}
    last = {(site, i) for site in SITES for i in world.live_ads(site, DAYS - 1)}
    return len(seen), len(seen - last)


@pytest.mark.slow
def test_demo_crawls_into_a_fresh_store_matching_the_world(tmp_path: Path):
    folder = tmp_path / "demo"
    for _ in range(2):  # a second run wipes the demo folder and starts fresh
        proc = adtrace("demo", "--dir", str(folder), "--ads", str(ADS), "--days", str(DAYS),
                       "--seed", str(SEED), "--no-serve")
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
        assert f"day {DAYS}/{DAYS}:" in out
        store = open_store(str(folder / "adtrace.sqlite3"))
        stats = store.stats()
        store.close()
        ads, removed = truth_counts()
        assert stats["ads"] == ads, out
        assert stats["removed"] == removed, out
        assert stats["versions"] >= ads


def test_demo_refuses_to_wipe_a_folder_that_is_not_a_demo(tmp_path: Path):
    (tmp_path / "evidence.warc.gz").write_bytes(b"precious")
    proc = adtrace("demo", "--dir", str(tmp_path), "--no-serve")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "is not an adtrace demo folder" in out
    assert (tmp_path / "evidence.warc.gz").read_bytes() == b"precious"


@pytest.mark.slow
def test_demo_serves_the_ui_and_the_printed_login_works(tmp_path: Path):
    port = free_port()
    proc = adtrace("demo", "--dir", str(tmp_path / "demo"), "--ads", "20", "--days", "1",
                   "--port", str(port))
    try:
        lines = []
        for line in proc.stdout:  # read until the login is printed (the real condition)
            lines.append(line)
            if "log in as:" in line:
                break
        login = re.search(r"log in as: (\S+)\s+password: (\S+)", "".join(lines))
        assert login, "".join(lines)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        page = wait_for(opener, base + "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page
        form = {"csrf_token": token.group(1), "name": login.group(1),
                "password": login.group(2), "next": "/"}
        notice = opener.open(base + "/login", urllib.parse.urlencode(form).encode()).read()
        assert b"accept" in notice.lower()
        token = re.search(r'name="csrf_token" value="([^"]+)"', notice.decode())
        opener.open(base + "/notice", urllib.parse.urlencode(
            {"csrf_token": token.group(1), "accept": "yes"}).encode()).read()
        results = opener.open(base + "/search?q=").read().decode()
        assert re.search(r"<strong>\d+</strong> ads", results), results[:2000]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for(opener, url: str, attempts: int = 100) -> str:
    """The server starts after the login is printed: retry until it answers."""
    import time

    for _ in range(attempts):
        try:
            return opener.open(url, timeout=5).read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")
