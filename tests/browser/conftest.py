"""The real thing: ``adtrace serve`` in a subprocess over a throw-away world, and
headless Chromium (/usr/bin/chromium, installed by the test setup) driven by Playwright.

Chromium runs with no network of its own beyond loopback use (no background traffic,
no component updates, no sync); the walk-through checks that every request the page
makes goes to the adtrace server and nowhere else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "webui"))

from support.server import adtrace_serve  # noqa: E402
from webui_world import PASSWORD, build_world  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    world = build_world(tmp_path_factory.mktemp("browser"), {"walker": None})
    env = {"ADTRACE_DATA_DIR": str(world.data_dir), "ADTRACE_STORE": str(world.store_path),
           "ADTRACE_ARCHIVE_DIR": str(world.archive_dir), "ADTRACE_NOTICE": "Walk-through notice."}
    with adtrace_serve(env) as base:
        yield {"base": base, "anna": world.anna_id, "lisa": world.lisa_id, "user": "walker",
               "password": PASSWORD}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):  # the CI setup installs it: missing means a broken setup
            pytest.fail(f"{CHROMIUM} is missing on CI")
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
