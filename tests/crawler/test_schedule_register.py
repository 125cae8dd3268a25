"""``adtrace schedule`` reads the source register again before each start: the register,
not the scheduler's memory, says what may be crawled.

The scheduler is the real one over real source files and a real store; its clock is
set by the test and each tick is one ``run_due()``. Only the crawl itself is replaced
(by one that records what it was asked to start, and records the run in the store as
a crawl does), except in the last test, which crawls a live fixture site.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main
from crawler.register import load_register
from crawler.run import CrawlStats, SourceStats
from crawler.schedule import Scheduler, scheduled
from crawler.source import Source
from indexer.crawl_runs import CrawlRun
from indexer.store import open_store

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def source_file(folder: Path, sid: str, **change: Any) -> Path:
    """A valid source file ``<sid>.yaml``, crawled every hour, with ``change`` applied."""
    data = yaml.safe_load(SOURCE_YAML.format(base=f"http://{sid}.example/"))
    data.update({"id": sid, "crawl_every_hours": 1, **change})
    path = folder / f"{sid}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class World:
    """A register folder, a store, a clock, and what the scheduler started and said."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = tmp_path / "sources"
        self.folder.mkdir()
        self.store_url = str(tmp_path / "s.sqlite3")
        self.archive = tmp_path / "archive"
        self.clock = T
        self.started: list[list[Source]] = []  # one list per tick
        self.said: list[str] = []
        self.during_crawl: Callable[[Source], None] = lambda _source: None
        monkeypatch.setattr("crawler.run.crawl", self.crawl)

    def crawl(self, sources: list[Source], store_url: str, archive_dir: Any,
              **_options: Any) -> CrawlStats:
        store = open_store(store_url)
        try:
            for source in sources:
                self.started[-1].append(source)
                self.during_crawl(source)
                store.record_crawl_run(CrawlRun(source.id, started=self.clock,
                                                finished=self.clock, finish_reason="finished"))
        finally:
            store.close()
        return CrawlStats({s.id: SourceStats(s.id) for s in sources})

    def scheduler(self, **options: Any) -> Scheduler:
        """As ``adtrace schedule`` makes it: from a first reading of the register."""
        valid, errors = load_register(self.folder)
        return Scheduler(scheduled(valid), self.store_url, self.archive, say=self.said.append,
                         register_dir=self.folder, errors=errors, now=lambda: self.clock,
                         **options)

    def tick(self, sched: Scheduler, *, after: timedelta = timedelta(0)) -> list[str]:
        """Move the clock on, run what is due; the ids started."""
        self.clock += after
        self.started.append([])
        sched.run_due()
        return [s.id for s in self.started[-1]]

    def lines(self, text: str) -> list[str]:
        """What was said of the register, with ``text`` in it."""
        return [line for line in self.said if line.startswith("register:") and text in line]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return World(tmp_path, monkeypatch)


def test_a_source_whose_file_is_deleted_between_ticks_is_not_started(world: World) -> None:
    gone = source_file(world.folder, "site-a")
    source_file(world.folder, "site-b")
    sched = world.scheduler()
    assert world.tick(sched) == ["site-a", "site-b"]
    gone.unlink()  # its approval was withdrawn
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert world.lines("site-a") == [
        f"register: site-a: dropped, not started again: {gone} is gone and no file of "
        "the register names it"]  # said once, not every tick
    assert list(sched.waits(world.clock)) == ["site-b"]


def test_a_source_whose_file_is_edited_to_disabled_is_not_started(world: World) -> None:
    source_file(world.folder, "site-a")
    source_file(world.folder, "site-b")
    sched = world.scheduler()
    assert world.tick(sched) == ["site-a", "site-b"]
    path = source_file(world.folder, "site-a", enabled=False)
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert world.lines("site-a") == [
        f"register: site-a: dropped, not started again: disabled in {path}"]
    source_file(world.folder, "site-a")  # enabled again: started at once (it is overdue)
    assert world.tick(sched) == ["site-a"]
    assert world.lines("site-a")[-1] == f"register: site-a: scheduled from now on ({path})"


def test_a_changed_interval_and_politeness_apply_from_the_next_run(world: World) -> None:
    source_file(world.folder, "site-a", crawl_every_hours=24)
    source_file(world.folder, "site-b", crawl_every_hours=24)
    sched = world.scheduler()
    assert world.tick(sched) == ["site-a", "site-b"]
    source_file(world.folder, "site-a", crawl_every_hours=1,
                politeness={"download_delay": 5, "concurrency": 1, "autothrottle": True})
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-a"]  # site-b: 24 h
    ran = world.started[-1][0]
    assert (ran.crawl_every_hours, ran.politeness.download_delay,
            ran.politeness.concurrency) == (1.0, 5.0, 1)
    assert world.lines("changed") == [
        "register: site-a: changed (crawl_every_hours 24.0 -> 1.0, politeness); applies "
        "from its next run"]
    assert sched.waits(world.clock) == {"site-a": timedelta(hours=1),
                                        "site-b": timedelta(hours=22)}


def test_a_file_made_invalid_is_not_started_its_error_said_once_the_others_go_on(
        world: World) -> None:
    bad = source_file(world.folder, "site-a")
    source_file(world.folder, "site-b")
    sched = world.scheduler()
    assert world.tick(sched) == ["site-a", "site-b"]
    # a wrong field: the last good definition is not used either (not an approved entry)
    source_file(world.folder, "site-a", politeness={"concurrency": 0})
    # the loop itself outlives it: one round, stopped as it goes to sleep
    world.clock += timedelta(hours=2)
    world.started.append([])
    sched.say = lambda line: (world.said.append(line),
                              line.startswith("waiting:") and sched.stop.set())
    sched.forever()
    assert [s.id for s in world.started[-1]] == ["site-b"]
    assert world.said[-2:] == ["waiting: next is site-b in 1.0 h", "stopped"]
    sched.stop.clear()
    sched.say = world.said.append
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert world.lines("site-a") == [
        f"register: site-a: dropped, not started again: its file {bad} is not valid (the "
        "error is said apart)",
        f"register: not valid, not crawled: {bad}: politeness.concurrency: must be at "
        "least 1, not 0"]
    bad.write_text("id: [unclosed", encoding="utf-8")  # not even YAML now: said, once
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert world.tick(sched, after=timedelta(hours=2)) == ["site-b"]
    assert len(world.lines(f"not crawled: {bad}: not valid YAML")) == 1
    source_file(world.folder, "site-a")  # fixed: back on schedule
    assert world.tick(sched) == ["site-a"]


def test_a_new_file_is_started(world: World) -> None:
    source_file(world.folder, "site-a")
    sched = world.scheduler()
    assert world.tick(sched) == ["site-a"]
    added = source_file(world.folder, "site-b")
    assert world.tick(sched, after=timedelta(minutes=10)) == ["site-b"]  # site-a not due
    assert world.said.count(f"register: site-b: scheduled from now on ({added})") == 1


def test_a_source_dropped_while_another_crawls_is_not_started_after_it(world: World) -> None:
    """The register is read before each start, not once per tick: a file removed during
    a long crawl of another source is not crawled after it."""
    source_file(world.folder, "site-a")
    withdrawn = source_file(world.folder, "site-b")
    sched = world.scheduler()
    world.during_crawl = lambda source: source.id == "site-a" and withdrawn.unlink()
    assert world.tick(sched) == ["site-a"]
    assert world.lines("site-b: dropped")


def test_a_register_that_cannot_be_read_starts_nothing(world: World, tmp_path: Path) -> None:
    source_file(world.folder, "site-a")
    sched = world.scheduler()
    world.folder.rename(tmp_path / "elsewhere")
    assert world.tick(sched) == []
    assert world.tick(sched, after=timedelta(hours=2)) == []
    assert len(world.lines("register cannot be read")) == 1
    assert world.lines("site-a: dropped, not started again")


def test_only_the_sources_named_are_scheduled(world: World) -> None:
    source_file(world.folder, "site-a")
    sched = world.scheduler(only=frozenset({"site-b"}))
    sched.sources = []
    source_file(world.folder, "site-b")
    assert world.tick(sched) == ["site-b"]


def test_once_crawls_the_valid_sources_beside_an_invalid_file(
        site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``adtrace schedule --once`` (cron): the valid source is crawled, the invalid file
    is named with its field, and the exit status says the register needs fixing."""
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    source_file(folder, "broken", revisit_hours="daily")
    args = ["schedule", "--once", "--dir", str(folder), "--store",
            str(tmp_path / "s.sqlite3"), "--archive", str(tmp_path / "archive")]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "crawling fixture-site" in out and "new_ads=3" in out
    assert (f"warning: source file not valid, not crawled: {folder / 'broken.yaml'}: "
            "revisit_hours: must be a number, not 'daily'") in err
    assert main([*args, "--source", "fixture-site"]) == 0  # the bad file is not asked for
    assert main([*args, "--source", "broken"]) == 2
    assert "--source broken: its source file is not valid" in capsys.readouterr().err


def test_stop_is_honoured_between_starts(world: World) -> None:
    source_file(world.folder, "site-a")
    source_file(world.folder, "site-b")
    sched = world.scheduler(stop=threading.Event())
    world.during_crawl = lambda _source: sched.stop.set()
    assert world.tick(sched) == ["site-a"]
