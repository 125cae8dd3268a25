"""The crawler tests' fixture site, for crawls against a failing store; the store
contract's hand-made observations (tests/contract/contract_data.py), for replays."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crawler"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))

from fixture_site import site as site  # noqa: E402, F401 - the shared fixture
