"""The revisit and removal-by-absence rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.revisits import (
    is_due,
    listed_outside,
    missing_ads,
    not_crawled,
    removals_by_absence,
    section_key,
    section_names,
    seen_at_run_start,
    streak_missing,
)
from crawler.source import Section
from indexer.crawl_runs import UNFINISHED, CrawlRun

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


def test_an_ad_a_section_not_crawled_listed_is_not_missing() -> None:
    ams, utr = section_key("Amsterdam", "city/ams/"), section_key("Utrecht", "city/utr/")
    listed_in = {"1": [utr], "2": [utr, ams], "3": [ams]}
    missing = ["1", "2", "3", "4"]  # 4: stored before sections were kept
    amsterdam, utrecht = Section("Amsterdam", "city/ams/"), Section("Utrecht", "city/utr/")
    assert listed_outside(missing, listed_in, [amsterdam]) == {"1", "2"}  # 2 may be in Utrecht
    assert listed_outside(missing, listed_in, [amsterdam, utrecht]) == set()
    assert listed_outside(missing, listed_in, [Section("Rotterdam", "city/rdam/")]) == {
        "1", "2", "3"}
    # one of name and URL is enough: renamed, or its address written anew
    assert listed_outside(missing, listed_in, [Section("Amsterdam C", "city/ams/")]) == {"1", "2"}
    assert listed_outside(missing, listed_in, [Section("Amsterdam", "/city/ams/")]) == {"1", "2"}
    assert listed_outside(["5"], {"5": ["not a section key"]}, [amsterdam]) == {"5"}


def test_the_sections_not_crawled_are_told_by_name_or_url() -> None:
    """What the crawl's warning names: a section renamed (its URL kept) is still crawled,
    and is not named with the one taken off."""
    old_name, gone = section_key("Amsterdam", "city/ams/"), section_key("Utrecht", "city/utr/")
    renamed = [Section("Amsterdam C", "city/ams/")]
    assert section_names(not_crawled({old_name, gone}, renamed)) == ["Utrecht"]
    assert not_crawled(set(), renamed) == set()


def test_a_section_key_keeps_name_and_url_apart() -> None:
    key = section_key('Den "Haag", centrum', "city/den-haag/?q=a,b")
    assert section_names([key, section_key("Amsterdam", "x"), key]) == [
        "Amsterdam", 'Den "Haag", centrum']


def test_removed_after_n_consecutive_complete_runs() -> None:
    earlier = [run(True, ("3", "7"), 24)]
    assert removals_by_absence(["3", "5"], earlier, 2) == ["3"]
    assert removals_by_absence(["3"], [], 2) == []  # not enough history yet
    assert removals_by_absence(["3"], [], 1) == ["3"]


def test_an_incomplete_run_that_did_not_list_the_ad_neither_counts_nor_breaks_the_row() -> None:
    earlier = [run(False, ("3",), 12), run(True, ("3",), 24), run(True, (), 48)]
    assert removals_by_absence(["3"], earlier, 2) == ["3"]
    assert removals_by_absence(["3"], earlier, 3) == []  # seen listed 48 h ago


def test_an_incomplete_run_that_listed_the_ad_breaks_the_row() -> None:
    """Missing on Monday, listed on Tuesday by a run whose other listing page failed,
    missing on Wednesday: missing from two complete runs, but not in a row."""
    earlier = [run(False, (), 24), run(True, ("3",), 48)]
    assert removals_by_absence(["3"], earlier, 2) == []
    assert removals_by_absence(["3"], earlier, 1) == ["3"]  # this run alone decides


def test_a_run_that_never_ended_is_skipped() -> None:
    """A killed run, or this run as recorded when it began, knows nothing of listings."""
    killed = CrawlRun("s", T - timedelta(hours=12), T - timedelta(hours=12),
                      finish_reason=UNFINISHED)
    assert removals_by_absence(["3"], [killed, run(True, ("3",), 24)], 2) == ["3"]


def test_an_incomplete_run_records_what_it_did_not_list_of_the_rows_under_way() -> None:
    earlier = [run(False, ("3",), 12), run(True, ("3", "4"), 24), run(True, ("9",), 48)]
    assert streak_missing(["1", "2", "3"], earlier) == ("3",)  # "4" was listed this time
    assert streak_missing(["1"], []) == ()  # no complete run yet: no row under way


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        removals_by_absence(["3"], [], 0)
