"""Fixtures: a small world and a real demo server on 127.0.0.1, port 0."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from demosite.server import DemoServer
from demosite.world import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7, n_ads=240, days=6, hostile_share=0.05)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[DemoServer]:
    """A live server with short pages, so pagination is exercised."""
    srv = DemoServer(world, per_page=6).start()
    yield srv
    srv.stop()


def fetch(url: str, data: bytes | None = None) -> tuple[int, str, bytes]:
    """GET (or POST with ``data``): status, content type, body; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def load_source(name: str) -> dict:
    with open(ROOT / "sources" / f"{name}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)
