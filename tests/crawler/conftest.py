"""Fixtures: a live fixture site on 127.0.0.1 and its source (crawl runner: crawl_helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fixture_site import SOURCE_YAML, FixtureSite

from crawler.register import parse_source
from crawler.source import Source

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    s = FixtureSite().start()
    s.load_day_one()
    yield s
    s.stop()


@pytest.fixture
def source(site: FixtureSite) -> Source:
    return parse_source(yaml.safe_load(SOURCE_YAML.format(base=site.url)), "fixture.yaml")
