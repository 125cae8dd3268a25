"""The store benchmark runs end to end on a small store: it ingests, times every query
shape in two passes (a fresh process's first, then the timed one), searches an existing
store again, and refuses to write over a file it did not make."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ("browse, all facets", "one word", "phrase + facet", "phone", "as of, by risk")
LINE = re.compile(r"^(?P<name>.+?)\s+p50\s+(?P<p50>[\d.]+) ms\s+p95\s+(?P<p95>[\d.]+) ms\s+"
                  r"x\s*[\d.]+\s+\(first pass p50 (?P<f50>[\d.]+) p95 (?P<f95>[\d.]+) ms; "
                  r"last: (?:more than )?[\d,]+ hits\)$")


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "store_bench.py"), *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def _timed(out: str) -> dict[str, dict[str, float]]:
    found = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            found[m["name"]] = {k: float(m[k]) for k in ("p50", "p95", "f50", "f95")}
    return found


def test_bench_ingests_and_times_every_shape_then_searches_the_existing_store(tmp_path):
    path = tmp_path / "bench.sqlite3"
    made = _bench("--store", str(path), "--ads", "400", "--batch", "100", "--repeat", "4")
    assert made.returncode == 0, made.stderr
    assert re.search(r"^ingest: [\d,]+ ads/s", made.stdout, re.M), made.stdout
    timed = _timed(made.stdout)
    assert set(timed) == set(SHAPES), made.stdout
    assert all(0 < t["p50"] <= t["p95"] and 0 < t["f50"] <= t["f95"] for t in timed.values()), timed
    assert "'ads': 400" in made.stdout

    again = _bench("--store", str(path), "--ads", "400", "--existing", "--repeat", "3")
    assert again.returncode == 0, again.stderr
    assert "ingest:" not in again.stdout
    assert set(_timed(again.stdout)) == set(SHAPES), again.stdout


def test_bench_refuses_to_write_over_an_existing_file(tmp_path):
    path = tmp_path / "kept.sqlite3"
    path.write_bytes(b"not the benchmark's")
    refused = _bench("--store", str(path), "--ads", "10")
    assert refused.returncode != 0
    assert f"{path}: exists" in refused.stderr
    assert path.read_bytes() == b"not the benchmark's"
