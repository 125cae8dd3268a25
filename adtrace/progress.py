"""A progress bar on stderr for long commands (reindex, archive verify): counts, rate, ETA.

On a terminal it redraws one line; elsewhere (a log file, a test) it writes a line now
and then, so a long job is visibly alive without flooding the log. No dependency: the
bar is a few characters, and stderr keeps stdout free for results.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24


def eta_text(seconds: float) -> str:
    if seconds == float("inf") or seconds != seconds:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def render(label: str, done: int, total: int, elapsed: float, unit: str) -> str:
    """One status line: ``label [####----] 120/300 versions 40.0/s ETA 00:04``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate > 0 and total >= done else float("inf")
    if total > 0:
        filled = min(BAR_WIDTH, int(BAR_WIDTH * done / total))
        bar = "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "] "
        count = f"{done}/{total}"
    else:
        bar, count = "", str(done)
    return f"{label} {bar}{count} {unit} {rate:.1f}/s ETA {eta_text(left if done < total else 0)}"


class Progress:
    def __init__(self, label: str, total: int, unit: str, stream: TextIO | None = None,
                 every_s: float = 0.25, log_every_s: float = 5.0) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every_s if self.tty else log_every_s
        self.done = 0
        self.start = time.monotonic()
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._draw(final=False)

    def close(self) -> None:
        """The final line, always written (with the real elapsed rate)."""
        self._draw(final=True)

    def _draw(self, final: bool) -> None:
        line = render(self.label, self.done, self.total, time.monotonic() - self.start, self.unit)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class ByteProgress:
    """Bytes read, shown in whole MiB."""

    def __init__(self, bar: Progress) -> None:
        self.bar, self.carry = bar, 0

    def add(self, n: int) -> None:
        self.carry += n
        if self.carry >= 1 << 20:
            self.bar.advance(self.carry >> 20)
            self.carry &= (1 << 20) - 1

    def close(self) -> None:
        self.bar.close()


class LateProgress:
    """A progress bar that starts with its first step (the store is read after the
    archive: its rate must not count the time the archive took)."""

    def __init__(self, label: str, total: int, unit: str) -> None:
        self.args = (label, total, unit)
        self.bar: Progress | None = None

    def advance(self) -> None:
        if self.bar is None:
            self.bar = Progress(*self.args)
        self.bar.advance()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
