"""The ingest worker: a second process that completes images, enriches and stores ads
while the crawl process only fetches, archives and parses.

Scrapy's reactor runs on one core; image inspection, spaCy and the store are most of
the rest of a crawl's CPU, so they run here, on the other core, fed through a pipe:
``python -m crawler.ingest_worker <read fd> <write fd> <parent pid>`` (it exits when that
process is gone). Messages are pickled tuples:

- to the worker: ``("open", config)`` first, then ``("ads", [AdItem, …])``,
  ``("removal", RemovalItem)`` in crawl order, and ``("finish",)``;
- back: ``("ready", log line, spooling?)`` or ``("failed", reason)`` (before it, while a
  spool is replayed, ``("replaying", done, total)`` about once a second), one
  ``("done", Outcome)`` per message, and ``("finished",)`` once everything is written and
  the store is closed.

The worker dies with the crawl process (``PR_SET_PDEATHSIG``): a killed crawl must not
leave a writer behind that stores ads after the next crawl read which ads it knows.
What was sent but not yet written when a kill came is in the WARC and not in the store,
so the next run fetches it again, as for a kill inside one process. It follows its
crawl process alone: it runs with SIGINT blocked (crawler.interrupts), so a terminal's
Ctrl-C does not end it (the crawl it serves stops gracefully on that Ctrl-C, and sends
it its last ads).

``WorkerClient`` is the crawl side. Sending happens on a thread through a small bounded
queue: the reactor hands a batch over and goes on fetching, and waits only when the
worker is several batches behind (back pressure instead of unbounded memory).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from crawler import gc_policy
from crawler.interrupts import blocked_sigint
from crawler.parent_death import end_with_parent
from crawler.run import ONE_BLAS_THREAD

REPO_ROOT = Path(__file__).resolve().parent.parent
QUEUE_BATCHES = 8  # batches handed over, not yet sent (they hold image bytes): the bound
READY_TIMEOUT_S = 120.0  # of silence: a spool replay that says how far it is may take longer
REPLAY_REPORT_S = 1.0  # how often a replay in the worker says how far it is

log = logging.getLogger(__name__)


class WorkerGone(RuntimeError):
    """The worker process failed or ended before it was asked to."""


class WorkerClient:
    """Starts the worker, feeds it in order, and collects what it reports."""

    wait_slice_s = 0.2  # while the queue is full: how often to check the worker and read

    def __init__(self, config: dict[str, Any]) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        env.update(ONE_BLAS_THREAD)
        try:
            # SIGINT blocked for good: a Ctrl-C meant for the crawl (which then stops
            # gracefully and sends its last ads) must not end the worker that stores them
            with blocked_sigint():
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "crawler.ingest_worker", str(to_r), str(from_w),
                     str(os.getpid())], pass_fds=(to_r, from_w), env=env,
                    stdin=subprocess.DEVNULL)
        finally:
            os.close(to_r)
            os.close(from_w)
        self._out = Connection(to_w, readable=False)
        self._in = Connection(from_r, writable=False)
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue(QUEUE_BATCHES)
        self._error: BaseException | None = None
        self._received: list[Any] = []  # Outcomes read while waiting to hand work over
        self._sender = threading.Thread(target=self._send_loop, name="ingest-sender",
                                        daemon=True)
        self._sender.start()
        self._unconfirmed: collections.deque[tuple[Any, ...]] = collections.deque()
        self.replayed = (0, 0)  # the spool lines the worker replayed, of how many (so far)
        self.submit(("open", config))

    # ------------------------------------------------------------------ sending
    def submit(self, message: tuple[Any, ...]) -> None:
        """Hand a message to the sender (waits while QUEUE_BATCHES are pending)."""
        if self._error is not None:
            raise WorkerGone(f"ingest worker: {self._error}")
        while True:
            try:
                self._queue.put(message, timeout=self.wait_slice_s)
                break
            except queue.Full:
                if self._error is not None or self.proc.poll() is not None:
                    raise WorkerGone(f"ingest worker ended (exit {self.proc.poll()})") from None
                self._drain()  # keep its answers flowing while waiting
        if message[0] not in ("open", "finish"):
            self._unconfirmed.append(message)

    @property
    def unanswered(self) -> int:
        return len(self._unconfirmed)

    def unconfirmed(self) -> list[tuple[Any, ...]]:
        """Messages handed over that the worker did not confirm, in order: after a
        failure they are done again elsewhere (store writes are idempotent)."""
        return list(self._unconfirmed)

    def _send_loop(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                self._out.send(message)
            except (OSError, ValueError) as exc:
                self._error = exc
                return

    # ------------------------------------------------------------------ receiving
    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> tuple[str, bool]:
        """(log line, spooling?) once the worker opened the store (or the spool).

        ``timeout`` bounds the silence, not the wait: a worker replaying a large spool
        (a night's crawls while the store was down) says how far it is, and is waited for
        as long as it moves on. Killed at a fixed limit, its replay would be done again,
        whole, in the crawl process."""
        while True:
            message = self._recv(timeout)
            if message[0] != "replaying":
                break
            self.replayed = (int(message[1]), int(message[2]))
            log.info("ingest worker: replaying the spool, %d of %d line(s)", *self.replayed)
        if message[0] == "ready":
            return str(message[1]), bool(message[2])
        raise WorkerGone(f"ingest worker could not start: {message[1:]}")

    def poll(self) -> list[Any]:
        """The Outcomes reported so far (those read while ``submit`` waited included),
        without waiting; each is returned once."""
        self._drain()
        return self.take_received()

    def take_received(self) -> list[Any]:
        """The Outcomes already read and not yet returned, without reading more: after a
        failure, what the worker confirmed before it (its writes are in the store)."""
        done, self._received = self._received, []
        return done

    def _drain(self) -> None:
        """Read the answers that have come, and keep them for ``poll`` (appended only:
        an answer already kept is never kept again)."""
        while self._in.poll(0):
            self._received.append(self._take(self._recv(0)))

    def finish(self, on_outcome: Callable[[Any], None], timeout: float = 3600.0) -> None:
        """Ask the worker to write what is left and stop; its remaining Outcomes go to
        ``on_outcome`` as they come (so none is lost if the worker fails meanwhile)."""
        self.submit(("finish",))
        for outcome in self.take_received():
            on_outcome(outcome)
        while True:
            message = self._recv(timeout)
            if message[0] == "finished":
                break
            on_outcome(self._take(message))
        self.close()

    def _take(self, message: tuple[Any, ...]) -> Any:
        if message[0] != "done":
            raise WorkerGone(f"ingest worker: unexpected message {message[0]!r}")
        self._unconfirmed.popleft()
        return message[1]

    def _recv(self, timeout: float) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout
        while not self._in.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
            if self.proc.poll() is not None and not self._in.poll(0):
                raise WorkerGone(f"ingest worker ended (exit {self.proc.returncode}) with "
                                 f"{self.unanswered} message(s) unanswered")
            if time.monotonic() >= deadline:
                raise WorkerGone(f"ingest worker gave no answer within {timeout:.0f}s")
        try:
            return self._in.recv()
        except (EOFError, OSError) as exc:
            raise WorkerGone(f"ingest worker ended ({exc or 'end of pipe'}) with "
                             f"{self.unanswered} message(s) unanswered") from exc

    def close(self) -> None:
        """Stop the sender and the worker (killed if it does not end by itself)."""
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._sender.join(timeout=5)
        self._out.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._in.close()


# --------------------------------------------------------------------------- worker side
def serve(inbox: Connection, outbox: Connection) -> int:
    """Handle messages until "finish" (or the crawl process is gone)."""
    from crawler.ingest_core import IngestCore

    try:
        kind, config = inbox.recv()
        if kind != "open":
            raise ValueError(f"first message must be 'open', not {kind!r}")
        core = IngestCore.from_config(config)
        line = core.open(on_replayed=_replay_reporter(outbox))
    except Exception as exc:  # noqa: BLE001 - reported; the crawl ingests in its own process
        outbox.send(("failed", f"{type(exc).__name__}: {exc}"))
        return 1
    gc_policy.for_long_run()  # set up (store open, spaCy loaded): it lives as long as we do
    outbox.send(("ready", line, core.spooling))
    try:
        while True:
            try:
                message = inbox.recv()
            except EOFError:
                return 1  # the crawl process closed the pipe without "finish"
            if message[0] in ("ads", "removal"):
                outbox.send(("done", _handle(core, message)))
            elif message[0] == "finish":
                core.close()
                outbox.send(("finished",))
                return 0
            else:
                raise ValueError(f"unknown message {message[0]!r}")
    finally:
        core.close()


def _replay_reporter(outbox: Connection) -> Callable[[int, int], None]:
    """Tells the crawl how far a spool replay is, about once a second and at its end, so
    that it keeps waiting for the worker (WorkerClient.wait_ready)."""
    last = time.monotonic()

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done == total or now - last >= REPLAY_REPORT_S:
            last = now
            outbox.send(("replaying", done, total))

    return report


def _handle(core: Any, message: tuple[Any, ...]) -> Any:
    """One message's Outcome; an unexpected failure is an error of each ad it carried."""
    from crawler.ingest_core import Outcome

    kind, payload = message[0], message[1]
    try:
        return core.ads(payload) if kind == "ads" else core.removal(payload)
    except Exception as exc:  # noqa: BLE001 - the crawl goes on; the URLs are reported
        log.exception("ingest worker: %s failed", kind)
        items = payload if kind == "ads" else [payload]
        return Outcome(errors=[(getattr(i, "url", "?"), f"could not store: {exc}")
                               for i in items])


def main(argv: list[str]) -> int:
    inbox = Connection(int(argv[0]), writable=False)
    outbox = Connection(int(argv[1]), readable=False)
    end_with_parent(int(argv[2]), signal.SIGKILL)  # the crawl died: nothing more is written
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    return serve(inbox, outbox)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
