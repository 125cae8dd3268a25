"""The crawl's clock: a simulated start read from the ADTRACE_CLOCK_START setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.clock import Clock


@pytest.mark.parametrize("value", ["2026-11-01T08:00:00Z", "2026-11-01T08:00:00.000000Z",
                                   "2026-11-01T09:00:00+01:00", "2026-11-01T08:00:00+00:00"])
def test_a_start_with_a_zone_is_read_as_that_instant_in_utc(value: str) -> None:
    clock = Clock.from_setting(value)
    assert clock.start == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert clock.start.utcoffset().total_seconds() == 0
    assert clock.start <= clock.now()


def test_a_start_without_a_zone_is_refused_not_read_as_local_time() -> None:
    with pytest.raises(ValueError, match=r"'2026-11-01T08:00:00' has no time zone"):
        Clock.from_setting("2026-11-01T08:00:00")


def test_a_start_that_is_no_time_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"'yesterday' is not an ISO-8601 time"):
        Clock.from_setting("yesterday")


def test_no_start_is_real_time() -> None:
    clock = Clock.from_setting("")
    before = datetime.now(UTC)
    assert clock.start is None and before <= clock.now() <= datetime.now(UTC)
