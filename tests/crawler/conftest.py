"""Fixtures: a live fixture site on 127.0.0.1 and its source, plus a crawl runner."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixture_site import SOURCE_YAML, FixtureSite

from crawler.register import parse_source, source_to_dict
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


def collect(source: Source, archive_dir: Path, **job: Any) -> dict[str, Any]:
    """Crawl ``source`` in a child process; return its items and stats."""
    payload = {"source": source_to_dict(source), "archive_dir": str(archive_dir), **job}
    proc = subprocess.run([sys.executable, "-m", "tests.crawler.collect_items"],
                          input=json.dumps(payload), capture_output=True, text=True,
                          cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
