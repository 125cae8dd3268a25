"""crawler.interrupts: Ctrl-C lets the crawl processes stop gracefully, and the command
waits for them.

Real processes and real signals: the test process sends itself SIGINT as a terminal
would send it to the command (``raise_signal`` runs the Python handler before it
returns); a crawl process is sent its own, as the terminal sends one to each process
of the job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.interrupts import HeldInterrupts, NotStarted
from crawler.run import child_command, crawl_job
from crawler.source import Source

SIGINT_BIT = 1 << (signal.SIGINT - 1)


def _blocked(pid: int) -> int:
    """The process's blocked-signal mask (``SigBlk`` in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigBlk line")


@pytest.fixture
def python_handler() -> Iterator[None]:
    """Python's own SIGINT handler in place, as in ``adtrace crawl``."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _sleeper(held: HeldInterrupts) -> subprocess.Popen[str]:
    return held.start([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_crawl_process_starts_with_sigint_blocked_and_the_command_does_not() -> None:
    held = HeldInterrupts()
    proc = held.start([sys.executable, "-c", "import sys; sys.stdin.read()"],
                      stdin=subprocess.PIPE, text=True)
    try:
        assert _blocked(proc.pid) & SIGINT_BIT
        assert not _blocked(os.getpid()) & SIGINT_BIT  # the mask is put back here
        assert os.getpgid(proc.pid) == os.getpgid(0)  # one job for the terminal
    finally:
        proc.communicate("", timeout=30)


def test_one_ctrl_c_is_held_back_until_the_crawl_processes_end(
        python_handler: None, capfd: pytest.CaptureFixture[str]) -> None:
    with HeldInterrupts() as held:
        proc = _sleeper(held)
        signal.raise_signal(signal.SIGINT)  # Python's handler would raise here
        assert proc.poll() is None  # the command does not touch the crawl process
        proc.kill()
        proc.wait(timeout=30)
        held.ended(proc)
    assert held.raise_after and held.ctrl_cs == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    assert "the crawl stops gracefully" in capfd.readouterr().err


def test_a_third_ctrl_c_kills_the_crawl_processes_and_raises(
        python_handler: None, capfd: pytest.CaptureFixture[str]) -> None:
    """After a second Ctrl-C a crawl process ignores SIGINT (Scrapy's way): a crawl that
    hangs then must not hold the terminal."""
    with HeldInterrupts() as held:
        proc = _sleeper(held)
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        assert proc.poll() is None
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        held.ended(proc)
    assert "Ctrl-C a third time to kill it" in capfd.readouterr().err


def test_another_handler_is_called_at_once(capfd: pytest.CaptureFixture[str]) -> None:
    """The scheduler's handler (it stops the loop) still hears every Ctrl-C."""
    got: list[int] = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        with HeldInterrupts() as held:
            signal.raise_signal(signal.SIGINT)
            assert got == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, before)
    assert held.interrupted and not held.raise_after


def test_no_crawl_process_is_started_after_a_ctrl_c(python_handler: None) -> None:
    with HeldInterrupts() as held:
        signal.raise_signal(signal.SIGINT)
        with pytest.raises(NotStarted, match="interrupted before it began"):
            _sleeper(held)


def test_a_ctrl_c_while_a_crawl_process_is_forked_reaches_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal's SIGINT reaches the processes that exist when it is sent: one that
    came while the crawl process was being forked is sent to it after (blocked there
    until it can stop gracefully; one with the terminal's, if that came too)."""
    held = HeldInterrupts()
    real_popen = subprocess.Popen

    def popen_meanwhile(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        proc = real_popen(*args, **kwargs)
        held.ctrl_cs += 1  # as the handler counts a Ctrl-C that came meanwhile
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_meanwhile)
    proc = held.start([sys.executable, "-c", "import sys; sys.stdin.read()"],
                      stdin=subprocess.PIPE, text=True)
    try:
        pending = next(int(line.split()[1], 16) for line in
                       Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                       if line.startswith("ShdPnd:"))
        assert pending & SIGINT_BIT
    finally:
        proc.communicate("", timeout=30)


@pytest.mark.parametrize("disposition", [signal.SIG_IGN, signal.SIG_DFL])
def test_sigint_not_handled_in_python_is_left_as_it_is(disposition: Any) -> None:
    before = signal.signal(signal.SIGINT, disposition)
    try:
        with HeldInterrupts() as held:
            assert not held.active
            assert signal.getsignal(signal.SIGINT) == disposition
    finally:
        signal.signal(signal.SIGINT, before)


def test_outside_the_main_thread_nothing_is_held() -> None:
    seen: dict[str, Any] = {}

    def run() -> None:
        with HeldInterrupts() as held:
            seen["active"] = held.active
            seen["handler"] = signal.getsignal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert seen == {"active": False, "handler": before}


def test_a_ctrl_c_while_a_crawl_process_starts_is_scrapy_s_first(
        source: Source, tmp_path: Path) -> None:
    """SIGINT at once after exec, before the crawl process has run a line of Python: it
    waits, blocked, until Scrapy's handler is in place, which stops the crawl
    gracefully (without the block: a KeyboardInterrupt in its imports or its crawlers'
    setup, or the default disposition's death)."""
    job = crawl_job([source], str(tmp_path / "s.sqlite3"), tmp_path / "archive",
                    progress=False, settings={"LOG_LEVEL": "INFO"})
    cmd, env = child_command()
    proc = HeldInterrupts().start(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, text=True)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(json.dumps(job), timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1])[source.id]["finish_reason"] == "shutdown"
    assert "Received SIGINT, shutting down gracefully" in err  # Scrapy's first Ctrl-C
    assert "Traceback" not in err, err


def test_three_ctrl_cs_under_the_scheduler_s_handler_are_an_interrupt(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler's own handler is in place (it stops its loop): the third Ctrl-C
    kills a crawl process that does not stop (Scrapy ignores SIGINT after its second),
    and the crawl ends as interrupted, not as a crawl process that failed."""
    import crawler.run as run

    started = tmp_path / "started"
    stubborn = ("import pathlib, sys, time; sys.stdin.read(); "
                f"pathlib.Path({str(started)!r}).touch(); time.sleep(60)")
    monkeypatch.setattr(run, "child_command",
                        lambda: ([sys.executable, "-c", stubborn], dict(os.environ)))
    heard: list[int] = []
    cue = threading.Event()

    def ctrl_cs() -> None:
        for n in range(1, 4):
            while not started.exists() or len(heard) < n - 1:  # one at a time
                cue.wait(0.02)
            os.kill(os.getpid(), signal.SIGINT)  # the kernel hands it to the main thread

    before = signal.signal(signal.SIGINT, lambda signum, frame: heard.append(signum))
    sender = threading.Thread(target=ctrl_cs, daemon=True)
    sender.start()
    try:
        with pytest.raises(run.CrawlInterrupted) as stopped:
            run.crawl([source], "", tmp_path / "archive", progress=False, timeout=120)
    finally:
        signal.signal(signal.SIGINT, before)
    sender.join(timeout=30)
    assert stopped.value.ctrl_cs == 3 and not stopped.value.failure
    assert heard == [signal.SIGINT] * 3  # the scheduler heard each


def test_what_a_ctrl_c_left_is_said_from_how_the_runs_ended() -> None:
    """Two Ctrl-Cs while a crawl process started were one to it (a graceful stop): the
    message goes by the runs' ends, not by the count."""
    from crawler.cli import interrupted_how
    from crawler.run import CrawlInterrupted, CrawlStats, SourceStats

    def said(*ends: str, ctrl_cs: int = 2, failure: str = "") -> str:
        stats = CrawlStats(sources={f"s{i}": SourceStats(source_id=f"s{i}", finish_reason=e)
                                    for i, e in enumerate(ends)})
        return interrupted_how(CrawlInterrupted(stats, ctrl_cs, failure))

    assert "gracefully" in said("shutdown", "shutdown")
    assert "at once" in said("shutdown", "")  # one run stopped at once
    assert "failed meanwhile: crawl of s0 failed" in said(failure="crawl of s0 failed")
    not_begun = CrawlStats(sources={"s0": SourceStats(
        source_id="s0", refused="interrupted before it began fetching")})
    assert interrupted_how(CrawlInterrupted(not_begun, 1)) == "no crawl had begun"
