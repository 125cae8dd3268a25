"""The revisit and removal-by-absence rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.revisits import is_due, missing_ads, removals_by_absence, seen_at_run_start
from indexer.crawl_runs import CrawlRun

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def run(complete: bool, missing: tuple[str, ...], hours_ago: int) -> CrawlRun:
    start = T - timedelta(hours=hours_ago)
    return CrawlRun("s", start, start, listings_complete=complete, missing=missing)


def test_due_once_the_interval_has_passed() -> None:
    assert is_due(None, T, 24)  # never fetched
    assert not is_due(T - timedelta(hours=6), T, 24)
    assert is_due(T - timedelta(hours=25), T, 24)
    # yesterday's fetch a few seconds after yesterday's start still counts as a day ago
    assert is_due(T - timedelta(hours=24) + timedelta(seconds=40), T, 24)
    assert not is_due(T - timedelta(hours=22), T, 24)  # grace is at most an hour


def test_an_ad_captured_late_in_a_long_run_is_due_a_day_after_that_run_began() -> None:
    """Yesterday's run began at 09:00 and took four hours; an ad fetched at 12:00 is due
    at today's 09:00 run, not the day after (every other day)."""
    yesterday = CrawlRun("s", T - timedelta(days=1), T - timedelta(days=1) + timedelta(hours=4))
    older = CrawlRun("s", T - timedelta(days=2), T - timedelta(days=2) + timedelta(hours=4))
    fetched = T - timedelta(days=1) + timedelta(hours=3)
    assert not is_due(fetched, T, 24)  # measured from the fetch itself: 21 h
    seen = seen_at_run_start(fetched, [yesterday, older])
    assert seen == yesterday.started and is_due(seen, T, 24)
    # a capture by no recorded run (a run that was killed) keeps its own time
    lone = T - timedelta(hours=30)
    assert seen_at_run_start(lone, [yesterday, older]) == lone


def test_missing_is_known_minus_listed() -> None:
    assert missing_ads(["3", "1", "2"], {"1"}) == ["2", "3"]


def test_removed_after_n_consecutive_complete_runs() -> None:
    earlier = [run(True, ("3", "7"), 24)]
    assert removals_by_absence(["3", "5"], earlier, 2) == ["3"]
    assert removals_by_absence(["3"], [], 2) == []  # not enough history yet
    assert removals_by_absence(["3"], [], 1) == ["3"]


def test_incomplete_runs_neither_count_nor_break_the_row() -> None:
    earlier = [run(False, (), 12), run(True, ("3",), 24), run(True, (), 48)]
    assert removals_by_absence(["3"], earlier, 2) == ["3"]
    assert removals_by_absence(["3"], earlier, 3) == []  # seen listed 48 h ago


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        removals_by_absence(["3"], [], 0)
