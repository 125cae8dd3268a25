"""Fixtures: a live fixture site on 127.0.0.1 and its source (crawl runner: crawl_helpers)."""

from __future__ import annotations

import pytest
import yaml
from fixture_site import SOURCE_YAML, FixtureSite
from fixture_site import site as site  # noqa: F401 - the shared fixture

from crawler.register import parse_source
from crawler.source import Source


@pytest.fixture
def source(site: FixtureSite) -> Source:
    return parse_source(yaml.safe_load(SOURCE_YAML.format(base=site.url)), "fixture.yaml")
