"""`adtrace enrich` as a person runs it: real process, real files, real pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    code = "import sys; from adtrace.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "enrich", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def stdin_run() -> subprocess.CompletedProcess[str]:
    lines = [
        "Nieuw in Den Haag, bel 06 twaalf 34 56 78",
        "",
        json.dumps({"id": "b1", "text": "Nu in Gent, 0470 12 34 56", "country": "BE"}),
        "{not json",
        json.dumps({"title": "Lisa", "text": "Ich bin 19 Jahre", "attributes": {"city": "Köln"},
                    "country": "DE"}),
    ]
    return _run([], "\n".join(lines) + "\n")


def test_each_ad_is_printed_as_one_json_line_in_order(stdin_run):
    out = [json.loads(line) for line in stdin_run.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 3, 5]
    assert out[0]["phones"][0]["e164"] == "+31612345678"
    assert out[0]["phones"][0]["methods"] == ["words"]
    assert out[0]["places"][0]["name"] == "Den Haag"
    assert out[0]["risk_score"] == 2.0
    assert out[1]["id"] == "b1" and out[1]["phones"][0]["e164"] == "+32470123456"
    assert out[2]["places"][0]["name"] == "Keulen"


def test_a_bad_line_is_named_and_skipped_and_nothing_else_is_lost(stdin_run):
    assert stdin_run.returncode == 2
    assert "line 4" in stdin_run.stderr
    assert len(stdin_run.stdout.splitlines()) == 3


def test_a_file_read_whole_is_one_ad(tmp_path):
    path = tmp_path / "ad.txt"
    path.write_text("Lisa\nBel: 06-12345678\nA'dam\n", encoding="utf-8")
    done = _run([str(path), "--whole"])
    assert done.returncode == 0, done.stderr
    (only,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert only["places"][0]["name"] == "Amsterdam"


def test_a_missing_file_is_a_clear_error():
    done = _run(["/nonexistent/ads.txt"])
    assert done.returncode == 2
    assert "/nonexistent/ads.txt" in done.stderr and "Traceback" not in done.stderr
