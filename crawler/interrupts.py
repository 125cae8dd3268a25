"""Ctrl-C stops a crawl gracefully: the command waits for its crawl processes to stop.

A crawl process (crawler.process) stops as Scrapy stops: on its first SIGINT it ends the
run gracefully (in-flight pages answered, ads stored, the run on record as
``shutdown``), on a second it stops at once. A terminal sends Ctrl-C to its whole
foreground process group: the command (``adtrace crawl``, ``adtrace schedule``, the
demo), its crawl processes and their ingest workers. Before, the command, interrupted
while it waited, killed its crawl processes (``subprocess.run`` SIGKILLs its child a
quarter of a second after a KeyboardInterrupt), so the run was on record as killed; and
the ingest worker died of the same Ctrl-C with what it had not stored yet.

So, while crawls run, ``HeldInterrupts`` takes the command's SIGINT: it says what the
Ctrl-C does, lets the crawl processes (which had it from the terminal too) stop, and
waits for them. The KeyboardInterrupt Python's handler would raise is held back until
they have ended (``raise_after``: crawler.run.CrawlInterrupted); another handler that
was in place (the scheduler's, which stops its loop) is called at once. A third Ctrl-C
kills the crawl processes (after a second one they ignore SIGINT: Scrapy's way) and
raises at once: a crawl that hangs never holds the terminal.

``start`` starts a crawl process with SIGINT blocked (``blocked_sigint``; the mask is
inherited across exec): a Ctrl-C while it starts up waits until Scrapy has put its own
handler in place (crawler.process unblocks it then), instead of raising a
KeyboardInterrupt in the middle of its imports or its crawlers' setup (two Ctrl-Cs
meanwhile are one to it, as blocked signals do not queue: it stops gracefully; a
third kills it). One that comes while the process is being forked, which the terminal
sent before it existed, is sent to it after. The ingest
worker is started the same way and never unblocks it: it follows its crawl process
alone, which stops gracefully and sends it its last ads. Every process stays in the
command's process group, so terminal job control (Ctrl-Z, ``stty tostop``) treats the
crawl as one job.

A SIGINT sent to the command alone (``kill -INT``), not from the terminal, does not
reach the crawl processes: they crawl on, and the command waits for them (SIGTERM is
the signal for that: crawler.parent_death).

Signal handlers belong to the main thread: called from another, or where SIGINT is not
handled in Python (ignored, as in a background job), nothing is held.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

FIRST = b"\nCtrl-C: the crawl stops gracefully (pages in flight are answered, archived " \
        b"and stored); Ctrl-C again to stop it at once\n"
SECOND = b"\nCtrl-C again: the crawl stops at once (the next crawl resumes it); " \
         b"Ctrl-C a third time to kill it\n"
KILLS_AT = 3  # the Ctrl-C that kills the crawl processes


@contextlib.contextmanager
def blocked_sigint() -> Iterator[None]:
    """SIGINT blocked in this thread while the block runs: a process started in it
    starts with SIGINT blocked (a Ctrl-C meanwhile waits in this thread's process, to be
    taken when the block ends)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def take_sigint() -> None:
    """Unblock SIGINT in this thread (a crawl process, once Scrapy handles it)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class NotStarted(RuntimeError):
    """A crawl process asked for after a Ctrl-C: not started."""


class HeldInterrupts:
    """While it is entered: Ctrl-C lets the crawl processes ``start``ed here stop, and is
    held back from the caller until they have (see the module's docstring)."""

    def __init__(self) -> None:
        self.active = False
        self.ctrl_cs = 0  # Ctrl-Cs while crawls ran
        self.raise_after = False  # the handler before was Python's: KeyboardInterrupt
        self._previous: Any = None
        self._running: dict[int, subprocess.Popen[str]] = {}
        self._lock = threading.RLock()  # the handler runs in the main thread, which may hold it

    @property
    def interrupted(self) -> bool:
        return self.ctrl_cs > 0

    def __enter__(self) -> HeldInterrupts:
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN or SIG_DFL: not ours to change
            return self
        self._previous = previous
        signal.signal(signal.SIGINT, self._on_sigint)
        self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self._previous)
            self.active = False

    def start(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        """``subprocess.Popen(cmd, **kwargs)`` with SIGINT blocked in the new process
        (``blocked_sigint``), known here until it has ``ended``. After a Ctrl-C, no
        crawl is started: NotStarted."""
        with self._lock:
            if self.interrupted:
                raise NotStarted("interrupted before it began fetching")
            with blocked_sigint():
                proc = subprocess.Popen(cmd, **kwargs)
            self._running[proc.pid] = proc
            if self.interrupted:  # a Ctrl-C while it was forked may have missed it
                proc.send_signal(signal.SIGINT)  # blocked there: one with the terminal's
        return proc

    def ended(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._running.pop(proc.pid, None)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.ctrl_cs += 1
        if self.ctrl_cs < KILLS_AT:
            # os.write: no buffered stream to reenter if the main thread was writing
            os.write(2, FIRST if self.ctrl_cs == 1 else SECOND)
        else:
            with self._lock:
                running = list(self._running.values())
            for proc in running:
                proc.kill()  # not once it has ended (and been reaped)
        if self._previous is not signal.default_int_handler:
            self._previous(signum, frame)
        elif self.ctrl_cs >= KILLS_AT:
            raise KeyboardInterrupt
        else:
            self.raise_after = True  # once the crawl processes have stopped
