"""The crawler tests' fixture site, for crawls against a failing store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crawler"))

from fixture_site import FixtureSite  # noqa: E402


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    s = FixtureSite().start()
    s.load_day_one()
    yield s
    s.stop()
