"""``adtrace schedule``: due sources are crawled; --once exits; SIGTERM stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main
from crawler.register import parse_source
from crawler.schedule import Scheduler, due_in, interval_hours, last_started
from crawler.source import Source
from indexer.crawl_runs import CrawlRun
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_due_in_follows_the_interval() -> None:
    import yaml

    source = parse_source(yaml.safe_load(SOURCE_YAML.format(base="http://x/")), "f.yaml")
    assert interval_hours(source) == 24
    assert due_in(source, None, T) == timedelta(0)
    assert due_in(source, T - timedelta(hours=25), T) < timedelta(0)
    assert due_in(source, T - timedelta(hours=1), T) == timedelta(hours=23)
    # a daily source runs at the same time each day: no drift of the revisit grace
    assert due_in(source, T, T) == timedelta(hours=24)


def test_the_loop_outlives_a_store_that_cannot_be_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store cannot be read (a server down for a while, a damaged file): said, waited
    out, tried again; the loop stops when asked, not when the store fails."""
    import threading

    import yaml

    from crawler.schedule import Scheduler

    source = parse_source(yaml.safe_load(SOURCE_YAML.format(base="http://x/")), "f.yaml")
    said: list[str] = []
    stop = threading.Event()

    def say(line: str) -> None:
        said.append(line)
        if sum("store unavailable" in s for s in said) == 2:
            stop.set()  # asked to stop after the second failed try

    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"not a database " * 100)
    monkeypatch.setattr("crawler.schedule.RETRY", timedelta(0))
    Scheduler([source], str(damaged), tmp_path, say=say, stop=stop).forever()
    assert [s for s in said if "store unavailable" in s][0].startswith(
        f"store unavailable: sqlite store {damaged}: cannot open: file is not a database")
    assert said[-1] == "stopped"


@pytest.fixture
def sources_dir(site: FixtureSite, tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    return folder


def test_once_crawls_what_is_due_then_nothing(sources_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = ["schedule", "--once", "--dir", str(sources_dir), "--store",
            str(tmp_path / "s.sqlite3"), "--archive", str(tmp_path / "archive")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "crawling fixture-site" in out and "new_ads=3" in out
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "crawling" not in out and "nothing due; next: fixture-site in 2" in out
    assert main([*args, "--source", "nope"]) == 2


def test_once_exits_1_when_a_run_read_nothing_from_its_site(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """For cron: a site that cannot be reached is a failed run, said and exit 1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "fixture.yaml").write_text(SOURCE_YAML.format(base=down), encoding="utf-8")
    args = ["schedule", "--once", "--dir", str(folder), "--store",
            str(tmp_path / "s.sqlite3"), "--archive", str(tmp_path / "archive")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "fixture-site: no ad seen, listed or removed this run: errors=1 (connection 1)" in out


def test_the_next_run_is_due_an_interval_after_the_scheduler_began_the_last(
        source: Source, tmp_path: Path) -> None:
    """The run's recorded start is the seconds a crawl takes to start up after the
    scheduler began it: counted from the record, a daily source would start that much
    later every day. A run someone else began after that counts from its own start."""
    sched = Scheduler([source], str(tmp_path / "s.sqlite3"), tmp_path / "archive",
                      say=lambda _line: None)
    assert sched.run_due() == 1
    store = open_store(str(tmp_path / "s.sqlite3"), create=False)
    try:
        recorded = last_started(store, source.id)
        began, ended = sched.attempted[source.id], sched.attempt_ended[source.id]
        assert recorded is not None and began < recorded <= ended
        assert sched.waits(began + timedelta(hours=3))[source.id] == timedelta(hours=21)
        manual = ended + timedelta(hours=1)  # `adtrace crawl` by hand, an hour later
        store.record_crawl_run(CrawlRun(source.id, started=manual, finished=manual))
    finally:
        store.close()
    assert sched.waits(manual)[source.id] == timedelta(hours=24)


def test_sigterm_stops_the_loop_between_runs(sources_dir: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "adtrace.cli", "schedule", "--dir", str(sources_dir),
         "--store", str(tmp_path / "s.sqlite3"), "--archive", str(tmp_path / "archive")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:  # wait until the first run is done and it sleeps
            lines.append(line)
            if line.startswith("waiting: next is fixture-site"):
                break
        else:
            pytest.fail("".join(lines))
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = "".join(lines) + rest
    assert "fixture-site: pages=6" in text
    assert "signal SIGTERM: stopping" in rest and rest.rstrip().endswith("stopped")


def test_ctrl_c_stops_the_run_under_way_gracefully_and_the_loop(
        site: FixtureSite, sources_dir: Path, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the scheduler's process group, as a terminal sends it) while a
    run fetches: the run stops as Scrapy stops on one Ctrl-C (on record as ``shutdown``,
    the page in flight stored), and then the loop."""
    store = tmp_path / "s.sqlite3"
    site.slow.add("/ad/2")  # in flight when Ctrl-C comes, answered after it
    proc = subprocess.Popen(
        [sys.executable, "-m", "adtrace.cli", "schedule", "--dir", str(sources_dir),
         "--store", str(store), "--archive", str(tmp_path / "archive")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)), start_new_session=True)
    try:
        assert site.wait_for_arrival("/ad/2")
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        site.release.set()
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "signal SIGINT: stopping" in out and out.rstrip().endswith("stopped"), out
    assert "Traceback" not in out, out
    db = open_store(str(store))
    try:
        assert db.crawl_runs("fixture-site", limit=1)[0].finish_reason == "shutdown"
        assert "2" in {ad.site_ad_id for ad in db.live_ads("fixture-site")}
    finally:
        db.close()


def offline_source() -> Source:
    import yaml

    return parse_source(yaml.safe_load(SOURCE_YAML.format(base="http://x/")), "f.yaml")


def store_with_run(path: Path, source: Source, run: CrawlRun) -> None:
    from indexer.model import SourceInfo

    store = open_store(str(path))
    try:
        store.upsert_source(SourceInfo(source.id, "F", "trafficking", "NL", "http://x/"))
        store.record_crawl_run(run)
    finally:
        store.close()


def test_a_run_recorded_in_the_future_does_not_count_and_is_said(tmp_path: Path) -> None:
    """A run recorded while the machine's clock was 30 days ahead is not the last run (it
    would hold the source back 31 days): the last that counts is the newest ended run begun
    by now, none here, so the source is due now; the scheduler says so once."""
    source = offline_source()
    ahead = T + timedelta(days=30)
    store_with_run(tmp_path / "s.sqlite3", source, CrawlRun(
        source.id, ahead, ahead + timedelta(minutes=1), finish_reason="finished"))
    said: list[str] = []
    sched = Scheduler([source], str(tmp_path / "s.sqlite3"), tmp_path / "archive", say=said.append)
    assert sched.waits(T)[source.id] == timedelta(0)
    assert sched.waits(T + timedelta(hours=10))[source.id] == timedelta(0)
    assert said == ["fixture-site: a run is recorded as begun 2026-12-02T09:00:00Z, in the "
                    "future (was the clock ahead?); not counted"]
    earlier = T - timedelta(hours=20)  # a run before the clock went ahead still counts
    store_with_run(tmp_path / "s.sqlite3", source, CrawlRun(
        source.id, earlier, earlier + timedelta(minutes=1), finish_reason="finished"))
    assert sched.waits(T)[source.id] == timedelta(hours=4)


def test_a_run_in_the_future_does_not_hold_back_schedule_once_from_cron(
        tmp_path: Path) -> None:
    """``adtrace schedule --once`` from cron is a new scheduler at each tick, remembering
    nothing: the store alone says when the source is due. With only a run recorded 30 days
    ahead it is due at every tick until a run begun by now ended; then an interval on."""
    source = offline_source()
    path = tmp_path / "s.sqlite3"
    ahead = T + timedelta(days=30)
    store_with_run(path, source, CrawlRun(
        source.id, ahead, ahead + timedelta(minutes=1), finish_reason="finished"))

    def tick(hours: int) -> timedelta:
        sched = Scheduler([source], str(path), tmp_path / "archive", say=lambda _line: None)
        return sched.waits(T + timedelta(hours=hours))[source.id]

    assert [tick(h) for h in (0, 1, 2)] == [timedelta(0)] * 3
    crawled = T + timedelta(hours=2)  # the tick's crawl
    store_with_run(path, source, CrawlRun(
        source.id, crawled, crawled + timedelta(minutes=1), finish_reason="finished"))
    assert [tick(h) for h in (3, 25, 26)] == [
        timedelta(hours=23), timedelta(hours=1), timedelta(0)]


def test_a_run_begun_after_one_in_the_future_counts_after_a_restart(tmp_path: Path) -> None:
    """A crawl by hand at T, after a run recorded 30 days ahead: a scheduler started
    anew counts from T (due at T + 24 h), not from the run ahead."""
    source = offline_source()
    path = tmp_path / "s.sqlite3"
    ahead = T + timedelta(days=30)
    store_with_run(path, source, CrawlRun(
        source.id, ahead, ahead + timedelta(minutes=1), finish_reason="finished"))
    store_with_run(path, source, CrawlRun(
        source.id, T, T + timedelta(minutes=1), finish_reason="finished"))
    sched = Scheduler([source], str(path), tmp_path / "archive", say=lambda _line: None)
    assert sched.waits(T + timedelta(hours=1))[source.id] == timedelta(hours=23)
    assert sched.waits(T + timedelta(hours=25))[source.id] == timedelta(hours=-1)


def test_runs_ahead_hide_no_run_before_them(tmp_path: Path) -> None:
    """More runs recorded ahead than the scheduler reads at first: the one begun by now
    behind them still counts (the source is not due at every tick)."""
    from crawler.revisits import RUNS_LOOKED_AT

    source = offline_source()
    path = tmp_path / "s.sqlite3"
    store_with_run(path, source, CrawlRun(
        source.id, T, T + timedelta(minutes=1), finish_reason="finished"))
    for day in range(RUNS_LOOKED_AT + 5):
        at = T + timedelta(days=30 + day)
        store_with_run(path, source, CrawlRun(
            source.id, at, at + timedelta(minutes=1), finish_reason="finished"))
    sched = Scheduler([source], str(path), tmp_path / "archive", say=lambda _line: None)
    assert sched.waits(T + timedelta(hours=1))[source.id] == timedelta(hours=23)
