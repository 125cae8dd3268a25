"""The crawl after a killed one finishes the killed crawl's writes as it opens the store.

``IngestCore.open`` (crawler.ingest_core: the ingest worker's, or the crawl process's)
reads the source's runs; when the runs just before its own began and never ended, it
calls ``Store.finish_cut_writes`` from the oldest one's start, with the archive's
captures. Played here against the scripted Elasticsearch server, which records what the
core asked.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.ingest_core import IngestCore
from indexer.crawl_runs import CrawlRun, killed_since, run_begun, run_to_dict
from indexer.model import SourceInfo, to_iso
from tests.elastic.conftest import T0
from tests.elastic.scripted_server import Scripted

NO_HITS: dict[str, Any] = {"hits": {"hits": []}}


def _ended(started) -> CrawlRun:  # noqa: ANN001
    return CrawlRun("demo-a", started, started + timedelta(minutes=5), finish_reason="finished")


def test_killed_since_is_the_oldest_of_the_unfinished_runs_just_before() -> None:
    now = T0 + timedelta(days=3)
    killed = [run_begun("demo-a", T0 + timedelta(days=d)) for d in (2, 1)]
    ours = run_begun("demo-a", now)
    assert killed_since([ours, *killed, _ended(T0)], now) == T0 + timedelta(days=1)
    assert killed_since([ours, _ended(T0 + timedelta(days=2)), *killed[1:]], now) is None
    assert killed_since([ours], now) is None
    assert killed_since([ours, *killed], now) == T0 + timedelta(days=1)  # no run ended yet


def _runs_answer(*runs: CrawlRun) -> dict[str, Any]:
    return {"hits": {"hits": [{"_source": run_to_dict(r)} for r in runs]}}


@pytest.mark.parametrize("before", ["killed", "ended"])
def test_the_core_finishes_the_killed_runs_writes_before_its_own(
        server: Scripted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: str) -> None:
    monkeypatch.setenv("ADTRACE_ES_PREFIX", "t")
    started = T0 + timedelta(days=1)
    previous = run_begun("demo-a", T0) if before == "killed" else _ended(T0)
    server.script[("POST", "/t-crawl_runs/_search")] = [
        (200, _runs_answer(run_begun("demo-a", started), previous))]
    for kind in ("sources", "source_history", "versions", "ads"):
        server.script[("POST", f"/t-{kind}/_search")] = [(200, NO_HITS)]
    info = SourceInfo("demo-a", "Demo A", "trafficking", "NL", "http://demo", "pilot", "chief")
    core = IngestCore(f"http://127.0.0.1:{server.server_address[1]}", str(tmp_path / "archive"),
                      tmp_path / "spool.jsonl", info, run_started=to_iso(started))
    assert core.open() == "" and not core.spooling
    core.close()
    asked = [(path.split("/")[1], json.loads(body)) for _m, path, body in server.bodies
             if path.endswith("/_search") and path.split("/")[1] in ("t-versions", "t-ads")]
    if before == "ended":
        assert asked == []
        return
    assert [kind for kind, _ in asked] == ["t-versions", "t-ads"]
    for _kind, body in asked:
        assert {"term": {"source_id": "demo-a"}} in body["query"]["bool"]["filter"]
        [window] = [f["range"] for f in body["query"]["bool"]["filter"] if "range" in f]
        assert next(iter(window.values())) == {"gte": to_iso(T0)}  # from the killed run's start
