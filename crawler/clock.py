"""The crawl's clock: real UTC now, or a simulated start plus real elapsed time.

The demo and the tests simulate days of crawling in minutes; every fetch time (and so
every capture and version time) comes from this one clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from indexer.model import utcnow


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError(f"clock_start {start.isoformat()!r} has no time zone: end it with "
                             "Z (UTC) or give its offset, as in 2026-11-01T08:00:00+01:00")
        self.start = start
        self._t0 = time.monotonic()
        # what it showed when it was made: a run's start, and ``elapsed`` its length so far
        self.first_reading = start if start is not None else utcnow()

    @classmethod
    def from_setting(cls, value: str | None) -> Clock:
        """Build from an ISO time (``ADTRACE_CLOCK_START``); empty means real time.

        A time without a zone is refused: read as the machine's local time, it would move
        every fetch time of the crawl by the machine's offset from UTC."""
        if not value:
            return cls()
        try:
            start = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"clock_start {value!r} is not an ISO-8601 time") from exc
        return cls(start.astimezone(UTC) if start.tzinfo else start)  # naive: refused there

    def elapsed(self) -> float:
        """Seconds since it was made, by the monotonic clock (never negative: a step of
        the machine's clock does not move it)."""
        return time.monotonic() - self._t0

    def now(self) -> datetime:
        if self.start is None:
            return utcnow()
        return self.start + timedelta(seconds=time.monotonic() - self._t0)
