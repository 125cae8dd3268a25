"""One identifier's history across ads, computed the same way for every backend.

Why a pure module: the store backends differ only in how they fetch the versions that
carried an identifier (SQL rows or Elasticsearch documents); what an analyst sees —
the ads, sites, places over time, names, co-occurring numbers, activity per day and
week — must not differ between them, so both hand plain rows to ``summarise``.

Suppressed extractions (an analyst marked "this number was read wrongly in this ad")
are left out here too: a suppressed (ad, kind, value) neither carries the identifier
nor counts as a co-occurring identifier of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from indexer.model import Enrichment

# Identifier kinds that link ads (and can be marked as a wrong extraction).
LINK_KINDS: tuple[str, ...] = ("phone", "email", "handle", "url")
# Kinds counted as "appears together with": urls are mostly the site's own links.
CO_KINDS: tuple[str, ...] = ("phone", "email", "handle")


@dataclass(frozen=True)
class Suppression:
    """An analyst's correction: this value was extracted wrongly from this ad.

    The enrichment is never changed (the evidence stays); the store only stops linking.
    """

    ad_id: str
    kind: str
    value: str
    user: str
    reason: str
    at: datetime
    version_id: str = ""  # the version the analyst pointed at, if any


@dataclass(frozen=True)
class VersionRow:
    """What a backend fetches per version that carried the identifier."""

    ad_id: str
    version_id: str
    source_id: str
    title: str
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None
    enrichment: Enrichment


@dataclass(frozen=True)
class EntityAd:
    ad_id: str
    source_id: str
    title: str
    first_seen: datetime  # of the first version carrying the identifier
    last_seen: datetime  # of the last version carrying it
    removed_at: datetime | None
    places: tuple[str, ...]
    names: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...]  # other linkable (kind, value) in these versions


@dataclass(frozen=True)
class PlaceVisit:
    """One place the identifier appeared in, and when (the movement over time)."""

    name: str
    province: str
    country: str
    lat: float
    lon: float
    first_seen: datetime
    last_seen: datetime
    ads: int


@dataclass(frozen=True)
class Counted:
    kind: str
    value: str
    ads: int


@dataclass(frozen=True)
class EntitySummary:
    kind: str
    value: str
    ads: tuple[EntityAd, ...] = ()  # oldest first
    sites: tuple[Counted, ...] = ()  # kind "site", value source id
    places: tuple[PlaceVisit, ...] = ()  # by first seen: the route it took
    names: tuple[Counted, ...] = ()
    co_occurring: tuple[Counted, ...] = ()
    activity_day: tuple[tuple[str, int], ...] = ()  # (YYYY-MM-DD, ads seen that day)
    activity_week: tuple[tuple[str, int], ...] = ()  # (Monday YYYY-MM-DD, ads seen that week)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    suppressed: tuple[Suppression, ...] = field(default=())  # corrections of this value


def check_correction(kind: str, value: str, reason: str) -> None:
    """Refuse a correction that could not mean anything, naming what was wrong."""
    if kind not in LINK_KINDS:
        raise ValueError(f"cannot correct a {kind!r} extraction; kinds: {', '.join(LINK_KINDS)}")
    if not value.strip():
        raise ValueError(f"empty {kind} value: nothing to correct")
    if not reason.strip():
        raise ValueError(f"give a reason for correcting {kind} {value!r}")


def carried(enr: Enrichment, kind: str, value: str) -> bool:
    return value.casefold() in {v.casefold() for v in enr.values(kind)}


def week_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _linked(enr: Enrichment, ad_id: str, blocked: set[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k in LINK_KINDS for v in enr.values(k) if (ad_id, k, v.casefold()) not in blocked]


def summarise(kind: str, value: str, rows: Iterable[VersionRow],
              captures: Iterable[tuple[str, datetime]],
              suppressions: Iterable[Suppression] = ()) -> EntitySummary:
    """The summary of one identifier from the versions that carried it.

    ``rows`` may include versions whose link was suppressed; they are dropped here, so a
    backend may fetch generously. ``captures`` are (ad_id, fetched_at) of those versions:
    activity counts distinct ads observed per day and week.
    """
    sup = list(suppressions)
    blocked = {(s.ad_id, s.kind, s.value.casefold()) for s in sup}
    key = value.casefold()
    per_ad: dict[str, list[VersionRow]] = defaultdict(list)
    for r in rows:
        carried = {v.casefold() for v in r.enrichment.values(kind)}
        if key in carried and (r.ad_id, kind, key) not in blocked:
            per_ad[r.ad_id].append(r)
    ads = sorted((_ad(vs, kind, key, blocked) for vs in per_ad.values()),
                 key=lambda a: (a.first_seen, a.ad_id))
    kept = [r for vs in per_ad.values() for r in vs]
    return EntitySummary(
        kind=kind, value=value, ads=tuple(ads),
        sites=_count("site", (a.source_id for a in ads)),
        places=_places(kept),
        names=_count("name", (n for a in ads for n in a.names)),
        co_occurring=tuple(sorted(
            (Counted(k, v, n) for (k, v), n in
             Counter(i for a in ads for i in a.identifiers if i[0] in CO_KINDS).items()),
            key=lambda c: (-c.ads, c.kind, c.value))),
        activity_day=_activity(captures, set(per_ad), weekly=False),
        activity_week=_activity(captures, set(per_ad), weekly=True),
        first_seen=min((a.first_seen for a in ads), default=None),
        last_seen=max((a.last_seen for a in ads), default=None),
        suppressed=tuple(s for s in sup if s.kind == kind and s.value.casefold() == key),
    )


def _ad(versions: list[VersionRow], kind: str, key: str,
        blocked: set[tuple[str, str, str]]) -> EntityAd:
    versions = sorted(versions, key=lambda r: r.first_seen)
    last = versions[-1]
    others = [i for r in versions for i in _linked(r.enrichment, r.ad_id, blocked)
              if not (i[0] == kind and i[1].casefold() == key)]
    return EntityAd(
        ad_id=last.ad_id, source_id=last.source_id, title=last.title,
        first_seen=versions[0].first_seen, last_seen=max(r.last_seen for r in versions),
        removed_at=last.removed_at,
        places=tuple(dict.fromkeys(p for r in versions for p in r.enrichment.values("place"))),
        names=tuple(dict.fromkeys(a.value for r in versions for a in r.enrichment.attributes
                                  if a.kind == "name" and a.value)),
        identifiers=tuple(dict.fromkeys(others)),
    )


def _count(kind: str, values: Iterable[str]) -> tuple[Counted, ...]:
    counts = Counter(values)
    return tuple(Counted(kind, v, n) for v, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))


def _places(rows: list[VersionRow]) -> tuple[PlaceVisit, ...]:
    spans: dict[str, list[datetime]] = {}
    info: dict[str, tuple[str, str, float, float]] = {}
    ads: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for p in r.enrichment.places:
            info.setdefault(p.name, (p.province, p.country, p.lat, p.lon))
            seen = spans.setdefault(p.name, [r.first_seen, r.last_seen])
            seen[0], seen[1] = min(seen[0], r.first_seen), max(seen[1], r.last_seen)
            ads[p.name].add(r.ad_id)
    visits = [PlaceVisit(name, *info[name], s[0], s[1], len(ads[name])) for name, s in spans.items()]
    return tuple(sorted(visits, key=lambda v: (v.first_seen, v.name)))


def _activity(captures: Iterable[tuple[str, datetime]], ad_ids: set[str],
              weekly: bool) -> tuple[tuple[str, int], ...]:
    seen: dict[date, set[str]] = defaultdict(set)
    for ad_id, at in captures:
        if ad_id in ad_ids:
            d = at.date()
            seen[week_of(d) if weekly else d].add(ad_id)
    return tuple((d.isoformat(), len(ids)) for d, ids in sorted(seen.items()))
