"""One crawl of a source at a time (crawler.source_lock): a second crawl is refused and
names the first; the scheduler and the status tell a crawl under way from one killed.

The lock is held by a real second process here, as a crawl or the scheduler would hold
it; killing that process with SIGKILL must free it (the kernel drops an flock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main
from crawler import source_lock
from crawler.run import crawl
from crawler.schedule import Scheduler
from crawler.source import Source
from crawler.status import source_status, status_line
from indexer.crawl_runs import run_begun
from indexer.model import utcnow
from indexer.store import open_store

REPO = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from crawler import source_lock; "
        "source_lock.hold(sys.argv[1], sys.argv[2], '2026-11-23T10:00:00Z'); "
        "print('held', flush=True); sys.stdin.read()")


class Holder:
    """Another process that holds a source's lock until it is killed."""

    def __init__(self, archive: Path, source_id: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(archive), source_id], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=REPO,
            env=dict(os.environ, PYTHONPATH=str(REPO)))
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "held\n"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def holder_of(tmp_path: Path) -> Iterator[object]:
    made: list[Holder] = []

    def make(source_id: str) -> Holder:
        made.append(Holder(tmp_path / "archive", source_id))
        return made[-1]

    yield make
    for h in made:
        if h.proc.poll() is None:
            h.kill()


def test_a_held_lock_names_its_holder_and_goes_with_a_killed_process(
        tmp_path: Path, holder_of: object) -> None:
    archive = tmp_path / "archive"
    assert source_lock.under_way(archive, "s1") is None  # never crawled here
    other = holder_of("s1")  # type: ignore[operator]
    found = source_lock.under_way(archive, "s1")
    assert found == source_lock.Holder(other.proc.pid, "2026-11-23T10:00:00Z")
    with pytest.raises(source_lock.SourceBusy) as refused:
        source_lock.hold(archive, "s1", "2026-11-23T11:00:00Z")
    assert str(refused.value) == (f"s1 is being crawled (crawl process {other.proc.pid}, "
                                  "since 2026-11-23T10:00:00Z): a source is not crawled "
                                  "twice at once")
    fd = source_lock.hold(archive, "s2", "2026-11-23T11:00:00Z")  # other sources are free
    source_lock.release(fd)
    other.kill()
    assert source_lock.under_way(archive, "s1") is None
    fd = source_lock.hold(archive, "s1", "2026-11-23T11:00:00Z")
    try:
        assert source_lock.under_way(archive, "s1") == source_lock.Holder(
            os.getpid(), "2026-11-23T11:00:00Z")
    finally:
        source_lock.release(fd)


def test_a_second_crawl_of_a_source_is_refused_and_the_others_are_crawled(
        site: FixtureSite, source: Source, tmp_path: Path, holder_of: object) -> None:
    import dataclasses

    other_source = dataclasses.replace(source, id="fixture-two")
    other = holder_of(source.id)  # type: ignore[operator]
    store = str(tmp_path / "s.sqlite3")
    stats = crawl([source, other_source], store, tmp_path / "archive", progress=False,
                  processes=1)
    assert stats.refused() == {source.id: f"{source.id} is being crawled (crawl process "
                               f"{other.proc.pid}, since 2026-11-23T10:00:00Z): a source "
                               "is not crawled twice at once"}
    assert stats.sources["fixture-two"].new_ads == 3
    assert stats.lines()[0].startswith(f"{source.id}: not crawled: {source.id} is being")
    db = open_store(store, create=False)
    try:
        assert db.crawl_runs(source.id) == []  # nothing read, nothing recorded
        assert db.live_ads(source.id) == []
    finally:
        db.close()


def test_adtrace_crawl_says_which_source_it_did_not_crawl_and_exits_1(
        site: FixtureSite, tmp_path: Path, holder_of: object,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    args = ["crawl", "--dir", str(folder), "--store", str(tmp_path / "s.sqlite3"),
            "--archive", str(tmp_path / "archive")]
    other = holder_of("fixture-site")  # type: ignore[operator]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert (f"fixture-site: not crawled: fixture-site is being crawled (crawl process "
            f"{other.proc.pid}" in out)
    assert "signals refreshed" not in err, err  # nothing was crawled: nothing to refresh
    other.kill()
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "fixture-site: pages=6" in out and "signals refreshed" in err


def test_the_scheduler_waits_for_a_crawl_under_way_and_resumes_a_killed_one(
        source: Source, tmp_path: Path, holder_of: object) -> None:
    store_url, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    store = open_store(store_url)
    try:  # a crawl by hand began an hour ago and recorded that it began
        store.record_crawl_run(run_begun(source.id, utcnow() - timedelta(hours=1)))
    finally:
        store.close()
    sched = Scheduler([source], store_url, archive, say=lambda _line: None)
    other = holder_of(source.id)  # type: ignore[operator]
    assert sched.waits(utcnow())[source.id] > timedelta(hours=23)  # under way: not due
    assert sched.run_due() == 0
    other.kill()  # the crawl by hand was killed: its run never ends
    assert sched.waits(utcnow())[source.id] <= timedelta(0)
    assert sched.run_due() == 1


def test_the_status_tells_running_from_killed(source: Source, tmp_path: Path,
                                              holder_of: object) -> None:
    store_url, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    store = open_store(store_url)
    try:
        store.record_crawl_run(run_begun(source.id, utcnow() - timedelta(minutes=5)))
        other = holder_of(source.id)  # type: ignore[operator]
        [row] = source_status(store, [source.id], archive)
        assert row.crawling == f"crawl process {other.proc.pid}, since 2026-11-23T10:00:00Z"
        assert f"(unfinished: running now, crawl process {other.proc.pid}" in status_line(row)
        other.kill()
        [row] = source_status(store, [source.id], archive)
        assert (row.crawling, row.killed) == ("", True)
        assert "(unfinished: stopped before it could record its end (killed)" in \
            status_line(row)
        [row] = source_status(store, [source.id])  # no archive at hand: not known
        assert "(unfinished: running now, or stopped before" in status_line(row)
        [row] = source_status(store, [source.id], tmp_path / "elsewhere")
        assert not row.killed  # never crawled into that archive: nothing to tell
    finally:
        store.close()


def test_the_crawls_page_tells_running_from_killed(tmp_path: Path, holder_of: object) -> None:
    from test_crawl_status import crawls_app
    from webui_world import login

    from indexer.model import SourceInfo

    store_path = tmp_path / "s.sqlite3"
    store = open_store(str(store_path))
    try:
        store.upsert_source(SourceInfo("demo-board", "Board", "trafficking", "BE", "http://x/"))
        store.record_crawl_run(run_begun("demo-board", utcnow() - timedelta(minutes=5)))
    finally:
        store.close()
    client = login(crawls_app(store_path, tmp_path / "data").test_client(), "ann")
    other = holder_of("demo-board")  # type: ignore[operator]  (in tmp_path / "archive")

    def row() -> str:
        html = client.get("/crawls").get_data(as_text=True)
        return html.split('data-source="demo-board"')[1].split("</tr>")[0]

    assert f"unfinished: running now (crawl process {other.proc.pid}, since " in row()
    other.kill()
    assert "unfinished: stopped before it could record its end (killed)" in row()


def test_a_crawl_holds_each_sources_lock_while_it_runs_and_gives_it_back_at_its_end(
        site: FixtureSite, source: Source, tmp_path: Path) -> None:
    """One job, two sources in one crawl process; the second one's listing answers only
    when released. Meanwhile that process holds the second source's lock (a probe names
    it, another crawl is refused), while the first source's lock went back as soon as its
    own crawl ended, not at the end of the job."""
    import dataclasses
    import threading

    from crawler.source import Section

    slow = dataclasses.replace(source, id="fixture-slow",
                               sections=(Section("Rotterdam", "city/rotterdam/"),))
    site.pages["/city/rotterdam/"] = site.pages["/city/amsterdam/"]
    site.slow.add("/city/rotterdam/")
    archive, store_url = tmp_path / "archive", str(tmp_path / "s.sqlite3")
    done: list[object] = []
    crawler = threading.Thread(target=lambda: done.append(crawl(
        [source, slow], store_url, archive, progress=False, processes=1, timeout=120)))
    crawler.start()
    try:
        with site._arrival:
            assert site._arrival.wait_for(lambda: "/city/rotterdam/" in site.arrived,
                                          timeout=60)
        holder = source_lock.under_way(archive, slow.id)
        assert holder is not None and holder.pid not in (0, os.getpid())
        with pytest.raises(source_lock.SourceBusy, match=f"crawl process {holder.pid}"):
            source_lock.hold(archive, slow.id, "2026-11-23T12:00:00Z")
        _wait_for_finished_run(store_url, source.id)  # the first source's crawl ended…
        fd = source_lock.hold(archive, source.id, "2026-11-23T12:00:00Z")  # …lock free
        source_lock.release(fd)
        assert source_lock.under_way(archive, slow.id) == holder  # the other still held
    finally:
        site.release.set()
        crawler.join(timeout=120)
    slow_stats = done[0].sources[slow.id]  # type: ignore[attr-defined]
    assert not slow_stats.refused and slow_stats.new_ads > 0  # crawled once released


def _wait_for_finished_run(store_url: str, source_id: str) -> None:
    """Until the source's run has recorded its end (written before its crawl's lock goes
    back; ``hold`` then waits up to PROBE_GRACE_S for the release)."""
    import threading

    cue = threading.Event()
    for _ in range(600):  # 60 s at most, as the other waits here
        store = open_store(store_url, create=False) if Path(store_url).exists() else None
        try:
            runs = store.crawl_runs(source_id, limit=1) if store is not None else []
        finally:
            if store is not None:
                store.close()
        if runs and runs[0].ended:
            return
        cue.wait(0.1)
    pytest.fail(f"{source_id}: no finished run recorded")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie no one has reaped yet has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "\nState:\tZ" not in status


def _all_ended(pids: list[int], seconds: float) -> bool:
    """Whether every process of ``pids`` has ended within ``seconds`` (looked at every
    tenth of a second: they are not this process's children to wait for)."""
    import threading

    cue = threading.Event()
    for _ in range(int(seconds * 10)):
        if not any(_alive(pid) for pid in pids):
            return True
        cue.wait(0.1)
    return not any(_alive(pid) for pid in pids)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc/*/stat: the field after the
    state, which follows the command name in parentheses)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_crawl_whose_adtrace_crawl_is_killed_stops_and_frees_its_source(
        site: FixtureSite, tmp_path: Path) -> None:
    """``adtrace crawl`` killed with SIGKILL (an operator, the OOM killer) while its
    crawl process fetches: that process stops as on Ctrl-C (the run is on record as
    ``shutdown``, so it removes nothing by absence), its ingest worker goes with it, and
    the source's lock is free: the crawl started again is not refused."""

    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    store, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    args = ["crawl", "--dir", str(sources), "--store", store, "--archive", str(archive),
            "--quiet"]
    site.slow.add("/ad/2")
    cli = subprocess.Popen([sys.executable, "-m", "adtrace.cli", *args], cwd=REPO,
                           env=dict(os.environ, PYTHONPATH=str(REPO)),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert site.wait_for_arrival("/ad/2")
        holder = source_lock.under_way(archive, "fixture-site")
        assert holder is not None and holder.pid != cli.pid
        crawl_pid = holder.pid
        children = _children(crawl_pid)  # its worker, started before the first request
        assert len(children) == 1
        worker_pid = children[0]
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=30)
    finally:
        site.release.set()
    assert _all_ended([crawl_pid, worker_pid], seconds=60)
    db = open_store(store)
    try:
        assert db.crawl_runs("fixture-site", limit=1)[0].finish_reason == "shutdown"
    finally:
        db.close()
    assert main(args) == 0  # not refused: the lock went with the crawl process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_ctrl_c_stops_a_crawl_gracefully(site: FixtureSite, tmp_path: Path) -> None:
    """Ctrl-C on ``adtrace crawl`` (SIGINT to its whole process group, as a terminal
    sends it) while its crawl process fetches: the crawl stops as Scrapy stops on its
    first Ctrl-C, not killed. The page in flight is stored, the run is on record as
    ``shutdown`` (it removes nothing by absence), the ingest worker finishes its work
    (it does not die of the same Ctrl-C), and the command says it was interrupted."""

    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fixture.yaml").write_text(SOURCE_YAML.format(base=site.url), encoding="utf-8")
    store, archive = str(tmp_path / "s.sqlite3"), tmp_path / "archive"
    args = ["crawl", "--dir", str(sources), "--store", store, "--archive", str(archive)]
    site.slow.add("/ad/2")  # in flight when Ctrl-C comes, answered after it
    cli = subprocess.Popen([sys.executable, "-m", "adtrace.cli", *args], cwd=REPO,
                           env=dict(os.environ, PYTHONPATH=str(REPO)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)  # its own group, as a terminal's job
    try:
        assert site.wait_for_arrival("/ad/2")
        holder = source_lock.under_way(archive, "fixture-site")
        assert holder is not None
        crawl_pid = holder.pid
        worker_pid = _children(crawl_pid)[0]
        os.killpg(cli.pid, signal.SIGINT)
    finally:
        site.release.set()
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 130, (out, err)
    assert "interrupted: the crawl stopped early" in err
    assert out.startswith("fixture-site: pages=")  # what it did, as a crawl says it
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert _all_ended([crawl_pid, worker_pid], seconds=10)  # the command waited for them
    db = open_store(store)
    try:
        run = db.crawl_runs("fixture-site", limit=1)[0]
        assert run.finish_reason == "shutdown"
        stored = {ad.site_ad_id for ad in db.live_ads("fixture-site")}
    finally:
        db.close()
    assert "2" in stored  # the page in flight was answered, archived and stored
    assert main(args) == 0  # not refused, and the next crawl completes the listings
