"""Dashboard aggregates, the same figures from every backend (see indexer.store.aggregates)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from contract_data import DAY1, PHONE_A, PHONE_B, PHONE_C, at, enr, obs, seed


def _world(store) -> None:  # type: ignore[no-untyped-def]
    """The contract seed, plus: a1 seen again unchanged on day 4, a2 removed on day 3."""
    seed(store)
    store.write(obs("alpha", "a1", at(4), "Sweet girl new in town, call now", "Lisa in Utrecht",
                    {"city": "Utrecht", "age": "21"}, images=("img1",)),
                enr((PHONE_A,), ("Utrecht",), (("new_in_town", 0.5), ("youth", 2.0))))
    store.mark_removed("alpha", "a2", at(3, 8), "gone")


def counts(agg, by: str, key: str, weekly: bool = False) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    series = {s.key: s.counts for s in (agg.per_week if weekly else agg.per_day)[by]}
    return series.get(key, ())


def test_ads_online_per_day_by_site_place_and_indicator(store) -> None:  # type: ignore[no-untyped-def]
    _world(store)
    agg = store.aggregates(since=DAY1, until=DAY1 + timedelta(days=3))
    assert agg.days == tuple(DAY1 + timedelta(days=i) for i in range(4))
    # a2 stays online until the day it was removed; a1 from day 1 to its last sighting
    assert counts(agg, "site", "alpha") == (2, 2, 3, 1)
    assert counts(agg, "site", "beta") == (0, 2, 0, 0)
    assert counts(agg, "site", "gamma") == (0, 0, 1, 0)
    assert counts(agg, "place", "Utrecht") == (1, 1, 3, 1)
    assert counts(agg, "place", "Antwerpen") == (0, 2, 0, 0)
    assert counts(agg, "indicator", "youth") == (1, 2, 1, 1)
    assert agg.new_per_day == (2, 2, 2, 0)
    assert agg.removed_per_day == (0, 0, 1, 0)
    assert agg.ads == 6


def test_weekly_counts_each_ad_once_per_week(store) -> None:  # type: ignore[no-untyped-def]
    _world(store)
    agg = store.aggregates(since=DAY1, until=DAY1 + timedelta(days=3))
    assert agg.weeks == (DAY1,)  # DAY1 is a Monday
    assert counts(agg, "site", "alpha", weekly=True) == (3,)
    assert counts(agg, "place", "Utrecht", weekly=True) == (3,)


def test_most_active_numbers(store) -> None:  # type: ignore[no-untyped-def]
    _world(store)
    agg = store.aggregates(since=DAY1, until=DAY1 + timedelta(days=3))
    top = [(n.phone, n.ads, n.sites) for n in agg.top_numbers]
    assert top == [(PHONE_A, 2, 2), (PHONE_C, 1, 1), (PHONE_B, 1, 1)]
    assert agg.top_numbers[0].last_seen == at(4)


def test_window_and_theme_wall(store) -> None:  # type: ignore[no-untyped-def]
    _world(store)
    day3 = DAY1 + timedelta(days=2)
    agg = store.aggregates(since=day3, until=day3)
    assert counts(agg, "site", "alpha") == (3,)
    assert agg.ads == 4 and agg.new_per_day == (2,) and agg.removed_per_day == (1,)
    walled = store.aggregates(themes=("trafficking",), since=DAY1, until=DAY1 + timedelta(days=3))
    assert counts(walled, "site", "gamma") == ()
    assert walled.ads == 5
    assert store.aggregates(themes=(), since=DAY1, until=DAY1).ads == 0


def test_open_window_comes_from_the_data(store) -> None:  # type: ignore[no-untyped-def]
    _world(store)
    agg = store.aggregates()
    assert agg.since == DAY1 and agg.until == DAY1 + timedelta(days=3)


def test_inverted_window_is_refused(store) -> None:  # type: ignore[no-untyped-def]
    _world(store)
    with pytest.raises(ValueError, match="after until"):
        store.aggregates(since=DAY1 + timedelta(days=1), until=DAY1)


def test_per_ad_path_agrees_with_the_backend(store) -> None:  # type: ignore[no-untyped-def]
    """``compute`` over one row per ad (how Elasticsearch feeds it) gives what the
    backend gives (SQLite groups in SQL): the two ways cannot drift apart."""
    from indexer.store.aggregates import AdSpan, compute

    _world(store)
    spans = [AdSpan(r.source_id, r.first_seen, r.last_seen, r.removed_at,
                    tuple(r.current.enrichment.values("place")),
                    tuple(r.current.enrichment.values("indicator")),
                    tuple(r.current.enrichment.values("phone")))
             for r in store.iter_ads() if r.current is not None]
    for since, until in ((DAY1, DAY1 + timedelta(days=3)), (DAY1 + timedelta(days=2), None),
                         (None, None)):
        assert compute(spans, since, until) == store.aggregates(since=since, until=until)
