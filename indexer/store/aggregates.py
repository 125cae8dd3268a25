"""Dashboard aggregates: plain data and the one pure function both backends use.

Each backend only fetches one small row per ad (``AdSpan``: site, when it was online,
its current version's places, indicators and phones) for the ads that overlap the
window; ``compute`` turns those rows into the figures. One function means SQLite and
Elasticsearch can never disagree on what "ads per day" means:

- an ad is *online* on every UTC day from its first-seen day to its removal day (if
  removed) or else its last-seen day, both included;
- ads per day / per week count the ads online on that day / during that ISO week
  (Monday first), split by site, by place and by indicator of the ad's current version;
- new ads per day count first-seen days, removed ads per day count removal days;
- the most active numbers are the phones with the most ads online in the window.

Ads are first grouped by (key, first day, last day) (``Groups``; SQLite groups in SQL,
so 100k ads become a few thousand rows), then counted with difference arrays (+n where
a group starts, -n after it ends): the cost is one pass over the groups plus one over
the days, not ads × days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

MAX_DAYS = 731  # a dashboard window longer than two years is refused, not silently cut
TOP_NUMBERS = 20


@dataclass(frozen=True)
class AdSpan:
    """What the dashboard needs of one ad."""

    source_id: str
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None
    places: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()

    @property
    def end(self) -> datetime:
        return self.removed_at or self.last_seen


@dataclass(frozen=True)
class Series:
    """Counts per period for one key (a site, a place, an indicator)."""

    key: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class NumberActivity:
    phone: str
    ads: int
    sites: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Aggregates:
    since: date
    until: date
    days: tuple[date, ...]
    weeks: tuple[date, ...]  # the Monday of each ISO week touching the window
    per_day: dict[str, tuple[Series, ...]] = field(default_factory=dict)  # by: site|place|indicator
    per_week: dict[str, tuple[Series, ...]] = field(default_factory=dict)
    new_per_day: tuple[int, ...] = ()
    removed_per_day: tuple[int, ...] = ()
    top_numbers: tuple[NumberActivity, ...] = ()
    ads: int = 0  # ads online at some point in the window


BY = ("site", "place", "indicator")


def window(since: date | None, until: date | None, spans: list[AdSpan]) -> tuple[date, date]:
    """The asked window; an open end is taken from the data (or today when empty)."""
    return resolve_window(since, until, min((s.first_seen.date() for s in spans), default=None),
                          max((s.end.date() for s in spans), default=None))


def resolve_window(since: date | None, until: date | None, data_first: date | None,
                   data_last: date | None) -> tuple[date, date]:
    """Open ends from the data's first and last online day; checked for sense and size."""
    if until is None:
        until = data_last or datetime.now(UTC).date()
    if since is None:
        since = min(data_first or until, until)
        since = max(since, until - timedelta(days=MAX_DAYS - 1))
    if since > until:
        raise ValueError(f"aggregates: since {since} is after until {until}")
    if (until - since).days + 1 > MAX_DAYS:
        raise ValueError(f"aggregates: window {since}..{until} is longer than {MAX_DAYS} days")
    return since, until


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _keys(span: AdSpan, by: str) -> Iterable[str]:
    if by == "site":
        return (span.source_id,)
    values = span.places if by == "place" else span.indicators
    return dict.fromkeys(v for v in values if v)  # one count per ad, even if named twice


@dataclass
class Groups:
    """Ads counted by what they share: all ``compute`` needs, and small.

    ``online[by][(key, first day, last online day)]`` counts ads; ``removed[day]`` counts
    removals; ``numbers`` are the most active phones, already ranked. A backend may fill
    this directly (SQLite groups in SQL) or from per-ad rows (``groups_from_spans``).
    """

    online: dict[str, Counter[tuple[str, date, date]]] = field(
        default_factory=lambda: {b: Counter() for b in BY})
    removed: Counter[date] = field(default_factory=Counter)
    numbers: tuple[NumberActivity, ...] = ()


def groups_from_spans(spans: Iterable[AdSpan], since: date, until: date) -> Groups:
    """Per-ad rows → groups, keeping only ads online at some time in [since, until]."""
    groups = Groups()
    numbers: dict[str, list[AdSpan]] = defaultdict(list)
    for span in spans:
        start, end = span.first_seen.date(), span.end.date()
        if end < since or start > until:
            continue
        for by in BY:
            for key in _keys(span, by):
                groups.online[by][(key, start, end)] += 1
        if span.removed_at is not None:
            groups.removed[span.removed_at.date()] += 1
        for phone in dict.fromkeys(span.phones):
            numbers[phone].append(span)
    groups.numbers = _top_numbers(numbers)
    return groups


def _series(diffs: dict[str, list[int]]) -> tuple[Series, ...]:
    out = []
    for key, diff in diffs.items():
        running, counts = 0, []
        for step in diff[:-1]:
            running += step
            counts.append(running)
        out.append(Series(key, tuple(counts)))
    return tuple(sorted(out, key=lambda s: (-max(s.counts, default=0), s.key)))


def compute(spans: Iterable[AdSpan], since: date | None = None,
            until: date | None = None) -> Aggregates:
    """The dashboard figures for ads overlapping [since, until] (UTC days, inclusive)."""
    spans = list(spans)
    since, until = window(since, until, spans)
    return from_groups(groups_from_spans(spans, since, until), since, until)


def from_groups(groups: Groups, since: date, until: date) -> Aggregates:
    """Counting with difference arrays over the window's days and weeks."""
    ndays = (until - since).days + 1
    first_week = _monday(since)
    nweeks = (_monday(until) - first_week).days // 7 + 1
    per_day: dict[str, tuple[Series, ...]] = {}
    per_week: dict[str, tuple[Series, ...]] = {}
    new = [0] * ndays
    for by in BY:
        day_diff: dict[str, list[int]] = {}
        week_diff: dict[str, list[int]] = {}
        for (key, start, end), n in groups.online[by].items():
            if end < since or start > until:
                continue
            lo, hi = max(start, since), min(end, until)
            d = day_diff.setdefault(key, [0] * (ndays + 1))
            d[(lo - since).days] += n
            d[(hi - since).days + 1] -= n
            w = week_diff.setdefault(key, [0] * (nweeks + 1))
            w[(_monday(lo) - first_week).days // 7] += n
            w[(_monday(hi) - first_week).days // 7 + 1] -= n
            if by == "site" and since <= start:
                new[(start - since).days] += n
        per_day[by], per_week[by] = _series(day_diff), _series(week_diff)
    removed = [0] * ndays
    for day, n in groups.removed.items():
        if since <= day <= until:
            removed[(day - since).days] += n
    online = sum(n for (_, start, end), n in groups.online["site"].items()
                 if not (end < since or start > until))
    return Aggregates(
        since=since, until=until,
        days=tuple(since + timedelta(days=i) for i in range(ndays)),
        weeks=tuple(first_week + timedelta(weeks=i) for i in range(nweeks)),
        per_day=per_day, per_week=per_week,
        new_per_day=tuple(new), removed_per_day=tuple(removed),
        top_numbers=groups.numbers, ads=online,
    )


def _top_numbers(numbers: dict[str, list[AdSpan]]) -> tuple[NumberActivity, ...]:
    counted = Counter({phone: len(spans) for phone, spans in numbers.items()})
    ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_NUMBERS]
    return tuple(
        NumberActivity(phone, n, len({s.source_id for s in numbers[phone]}),
                       min(s.first_seen for s in numbers[phone]),
                       max(s.last_seen for s in numbers[phone]))
        for phone, n in ranked)
