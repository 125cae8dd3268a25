"""The labelled evaluation set keeps the quality targets of issue 4 (a regression guard)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("enrich_quality", ROOT / "benchmarks" / "enrich_quality.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_evaluation_set_is_large_and_varied():
    ads = [json.loads(line) for line in (ROOT / "evaluation" / "evalset.jsonl").read_text("utf-8").splitlines()]
    assert len(ads) >= 300
    assert {a["lang"] for a in ads} >= {"nl", "en", "de", "ro", "es"}
    assert len({a["country"] for a in ads}) >= 3


def test_quality_targets_are_met(capsys):
    results = _load_benchmark().evaluate()
    assert results["phones"][2] >= 0.97
    assert results["places"][2] >= 0.90
    assert results["indicators"][0] >= 0.90
    assert "precision" in capsys.readouterr().out
