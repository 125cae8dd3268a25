"""The crawl after a killed one finishes the killed crawl's writes as it opens the store.

``IngestCore.open`` (crawler.ingest_core: the ingest worker's, or the crawl process's)
reads the source's runs; when the runs just before its own began and never ended, or an
earlier mend failed, it calls ``Store.finish_cut_writes`` (crawler.cut_writes) from the
oldest start, with the archive's captures, holding the spool's lock. Played here against
the scripted Elasticsearch server, which records what the core asked.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.cut_writes import owed_path, owed_since
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
    # the demo's simulated clock, run again on an earlier day than the killed run
    earlier = run_begun("demo-a", T0)
    assert killed_since([*killed, earlier, _ended(T0 - timedelta(days=9))], T0) == (
        T0 + timedelta(days=1))


def _runs_answer(*runs: CrawlRun) -> dict[str, Any]:
    return {"hits": {"hits": [{"_source": run_to_dict(r)} for r in runs]}}


STARTED = T0 + timedelta(days=1)
INFO = SourceInfo("demo-a", "Demo A", "trafficking", "NL", "http://demo", "pilot", "chief")


def _script_runs(server: Scripted, previous: CrawlRun) -> None:
    server.script[("POST", "/t-crawl_runs/_search")] = [
        (200, _runs_answer(run_begun("demo-a", STARTED), previous))]
    for kind in ("sources", "source_history", "versions", "ads"):
        server.script[("POST", f"/t-{kind}/_search")] = [(200, NO_HITS)]


def _open(server: Scripted, tmp_path: Path) -> None:
    core = IngestCore(f"http://127.0.0.1:{server.server_address[1]}", str(tmp_path / "archive"),
                      tmp_path / "spool.jsonl", INFO, run_started=to_iso(STARTED))
    assert core.open() == "" and not core.spooling
    core.close()


def _windows(server: Scripted) -> list[tuple[str, dict[str, str]]]:
    """(index, date range) of each search of versions or ads the core made."""
    out = []
    for _m, path, body in server.bodies:
        kind = path.split("/")[1]
        if path.endswith("/_search") and kind in ("t-versions", "t-ads"):
            query = json.loads(body)["query"]["bool"]["filter"]
            assert {"term": {"source_id": "demo-a"}} in query
            [window] = [next(iter(f["range"].values())) for f in query if "range" in f]
            out.append((kind, window))
    return out


@pytest.fixture
def es_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADTRACE_ES_PREFIX", "t")


@pytest.mark.usefixtures("es_prefix")
@pytest.mark.parametrize("before", ["killed", "ended"])
def test_the_core_finishes_the_killed_runs_writes_under_the_spool_lock(
        server: Scripted, tmp_path: Path, before: str) -> None:
    _script_runs(server, run_begun("demo-a", T0) if before == "killed" else _ended(T0))
    lock = tmp_path / ".spool.jsonl.lock"
    held = []
    answer = server.answer

    def watching(method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
        if path.startswith("/t-versions/_search"):  # a replay could not write meanwhile
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)
            finally:
                os.close(fd)
        return answer(method, path, body)

    server.answer = watching  # type: ignore[method-assign]
    _open(server, tmp_path)
    if before == "ended":
        assert _windows(server) == [] and held == []
        return
    # from the killed run's start
    assert _windows(server) == [("t-versions", {"gte": to_iso(T0)}), ("t-ads", {"gte": to_iso(T0)})]
    assert held == [True]
    assert not owed_path(tmp_path / "archive", "demo-a").exists()


@pytest.mark.usefixtures("es_prefix")
def test_a_mend_that_fails_is_owed_to_the_next_crawl(
        server: Scripted, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _script_runs(server, run_begun("demo-a", T0))
    server.script[("POST", "/t-versions/_search")] = [(400, {"error": "refused"})]
    _open(server, tmp_path)  # the crawl goes on
    assert "not mended (the next crawl tries again)" in caplog.text
    archive = tmp_path / "archive"
    assert owed_since(archive, "demo-a") == T0
    # the next crawl: the run before it (the one whose mend failed) ended
    server.bodies.clear()
    _script_runs(server, _ended(STARTED - timedelta(hours=1)))
    _open(server, tmp_path)
    assert [w for _k, w in _windows(server)] == [{"gte": to_iso(T0)}] * 2
    assert owed_since(archive, "demo-a") is None


@pytest.mark.usefixtures("es_prefix")
def test_an_owed_mend_older_than_the_killed_run_is_where_the_mend_begins(
        server: Scripted, tmp_path: Path) -> None:
    owed = owed_path(tmp_path / "archive", "demo-a")
    owed.parent.mkdir(parents=True)
    owed.write_text(to_iso(T0 - timedelta(days=2)) + "\n")
    _script_runs(server, run_begun("demo-a", T0))
    _open(server, tmp_path)
    assert {w["gte"] for _k, w in _windows(server)} == {to_iso(T0 - timedelta(days=2))}


@pytest.mark.usefixtures("es_prefix")
def test_a_replay_stopped_part_way_spools_the_writes_of_the_ads_left_in_it(
        server: Scripted, tmp_path: Path) -> None:
    """The store refuses a spooled line (here the removal's read): that line and those
    after it stay, this run's writes of the ads they hold go to the spool after them (so
    the next replay applies them in the order they were made, and says why), and the
    other ads go to the store as usual: one refused line keeps no crawl out of it."""
    from crawler.items import AdItem, RemovalItem
    from indexer.model import AdFields, Capture, ad_id_for
    from indexer.spool import Spool

    spool = Spool(tmp_path / "spool.jsonl")
    spool.add_source(INFO)
    spool.add_removal("demo-a", "held", T0, "http 404")
    _script_runs(server, _ended(T0))
    server.script[("GET", "/t-ads/_doc/")] = [(400, {"error": "refused"}),
                                             (404, {"found": False})]
    core = IngestCore(f"http://127.0.0.1:{server.server_address[1]}", str(tmp_path / "archive"),
                      tmp_path / "spool.jsonl", INFO, run_started=to_iso(STARTED))
    try:
        line = core.open()
        assert not core.spooling, line
        assert "replayed 1, 1 left" in line and "1 ad(s) of demo-a in it are spooled" in line
        held = core.removal(RemovalItem("demo-a", "held", "http://demo/ad/held", STARTED,
                                        "http 410"))
        other = core.removal(RemovalItem("demo-a", "other", "http://demo/ad/other", STARTED,
                                         "http 410"))
        capture = Capture(url="http://demo/ad/held", fetched_at=STARTED, status=200,
                          sha256="c" * 64, warc_file="warcs/x.warc.gz", warc_offset=0,
                          warc_length=1)
        seen = core.ads([AdItem("demo-a", "held", "http://demo/ad/held", capture,
                                AdFields(title="Back", text="Bel 06-12345678"))])
    finally:
        core.close()
    assert held.counts == {"spooled": 1} and other.counts == {}  # other: asked, not known
    assert seen.counts == {"spooled": 1, "ads_seen": 1}
    assert [(u, why.split(" (")[0]) for u, why in seen.errors] == [
        ("http://demo/ad/held", "spooled after its older spooled lines")]
    asked = [path for method, path, _a in server.log if method == "GET"]
    assert any(ad_id_for("demo-a", "other") in p for p in asked), asked
    kept = [json.loads(line) for line in Spool(tmp_path / "spool.jsonl").lines()]
    assert [(r["kind"], r.get("site_ad_id") or r.get("obs", {}).get("site_ad_id"))
            for r in kept] == [("removal", "held"), ("source", None), ("removal", "held"),
                               ("obs", "held")]
