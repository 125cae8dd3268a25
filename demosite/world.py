"""The demo ad world: deterministic from a seed, lazy per ad, with exact ground truth.

Every ad is drawn from ``(seed, index)`` with its own ``random.Random``, so a world of a
million ads costs nothing until an ad is asked for, and any ad can be rebuilt anywhere
(a test, a benchmark, the server in another process) without shared state. Listings are
built per day on first use and cached.
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from array import array
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from demosite import phones
from demosite.data import EMAIL_DOMAINS, HANDLE_PLATFORMS, NAMES, SITE_TOWNS, TOWN_BY_SLUG
from demosite.text import Features, draw_features

SITES = ("velvet", "board")
CHANGE_KINDS = ("text", "phone", "city", "photos")
MAX_PHOTOS_PER_PERSON = 16
_BOARD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_BOARD_SPACE = 32**5
_BOARD_MUL = 0x2F1A_9B3D | 1  # odd, so i → i*MUL mod 2**25 is a bijection


@dataclass(frozen=True)
class State:
    """What can change between versions; content is rendered from it."""

    contact: int
    town: str  # slug
    variant: int  # which written form of the town
    updates: tuple[int, ...]  # text changes so far
    photo_gen: int


@dataclass(frozen=True)
class Change:
    day: int
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Ad:
    """An ad's life: site, id, when it appears, changes, vanishes and comes back."""

    index: int
    site: str
    site_ad_id: str
    first_day: int
    removed_day: int | None
    return_day: int | None
    changes: tuple[Change, ...]
    states: tuple[State, ...]  # states[0] initially, states[k] after changes[k-1]

    def live_on(self, day: int) -> bool:
        if day < self.first_day:
            return False
        if self.removed_day is not None and day >= self.removed_day:
            return self.return_day is not None and day >= self.return_day
        return True

    def state_on(self, day: int) -> State:
        k = sum(1 for c in self.changes if c.day <= day)
        return self.states[k]

    def listed_since(self, day: int) -> int:
        """The day it (re)appeared, as of ``day``: listings show the newest first."""
        if self.return_day is not None and day >= self.return_day:
            return self.return_day
        return self.first_day


@dataclass(frozen=True)
class Contact:
    index: int
    number: phones.Number
    person: int  # whose photos
    home: str  # town slug
    email: str
    handle: str
    platform: str


@dataclass(frozen=True)
class TruthPhone:
    e164: str
    country: str
    written: str
    method: str
    obscured: bool


@dataclass(frozen=True)
class Version:
    """An ad's content on one day, as the site shows it."""

    title: str
    text: str
    town: str  # canonical name
    town_slug: str
    country: str
    town_written: str
    age: int
    price: str
    languages: str
    phones: tuple[TruthPhone, ...]
    email: str
    handle: str
    handle_platform: str
    photos: tuple[str, ...]  # photo ids; URLs depend on the site
    indicators: dict[str, tuple[str, ...]]
    hostile: str
    lang: str
    slug: str  # for the ad's URL; stays the same across versions

    @property
    def phone_field(self) -> str:
        return " / ".join(p.written for p in self.phones)

    def fields(self) -> dict[str, str]:
        """The attribute fields as shown on the page (what selectors must extract)."""
        out = {"title": self.title, "text": self.text, "city": self.town_written,
               "age": str(self.age), "price": self.price, "languages": self.languages,
               "phone": self.phone_field}
        if self.email:
            out["email"] = self.email
        if self.handle:
            out["handle"] = self.handle
        return out

    def key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.fields().items())), self.photos)


class World:
    """A synthetic ad world; see the module docstring for why it is lazy."""

    def __init__(self, seed: int = 1, n_ads: int = 300, days: int = 7,
                 start: date = date(2026, 11, 1), hostile_share: float = 0.02) -> None:
        if n_ads < 1 or n_ads > _BOARD_SPACE:
            raise ValueError(f"n_ads={n_ads}: must be between 1 and {_BOARD_SPACE}")
        if days < 1:
            raise ValueError(f"days={days}: must be at least 1")
        if not 0.0 <= hostile_share <= 1.0:
            raise ValueError(f"hostile_share={hostile_share}: must be between 0 and 1")
        self.seed, self.n_ads, self.days, self.start = seed, n_ads, days, start
        self.hostile_share = hostile_share
        self.n_contacts = max(4, int(n_ads * 0.45))
        self._listings: list[dict[tuple[str, str], array[int]]] = []
        self._listing_lock = threading.Lock()
        self.ad = lru_cache(maxsize=65536)(self._make_ad)  # type: ignore[method-assign]
        self.contact = lru_cache(maxsize=65536)(self._make_contact)  # type: ignore[method-assign]
        self._version = lru_cache(maxsize=8192)(self._render)

    # -- randomness ---------------------------------------------------------------
    def _rng(self, kind: int, i: int) -> random.Random:
        """An independent stream per (seed, kind, index): ads never share state."""
        return random.Random((self.seed * 1_000_003 + kind) * 0x1_0000_0000 + i)

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    # -- ids ----------------------------------------------------------------------
    def site_of(self, i: int) -> str:
        return "velvet" if self._rng(0, i).random() < 0.55 else "board"

    @staticmethod
    def _site_id(site: str, i: int) -> str:
        if site == "velvet":
            return str(100_000 + i)
        n, code = (i * _BOARD_MUL) % _BOARD_SPACE, ""
        for _ in range(5):
            n, r = divmod(n, 32)
            code = _BOARD_ALPHABET[r] + code
        return code

    def find(self, site: str, site_ad_id: str) -> int | None:
        """The index of the ad with this site id, or None if there is none."""
        if site == "velvet" and re.fullmatch(r"\d{6,8}", site_ad_id):
            i = int(site_ad_id) - 100_000
        elif site == "board" and re.fullmatch(f"[{_BOARD_ALPHABET}]{{5}}", site_ad_id):
            n = 0
            for ch in site_ad_id:
                n = n * 32 + _BOARD_ALPHABET.index(ch)
            i = (n * pow(_BOARD_MUL, -1, _BOARD_SPACE)) % _BOARD_SPACE
        else:
            return None
        if 0 <= i < self.n_ads and self.site_of(i) == site:
            return i
        return None

    # -- contacts -----------------------------------------------------------------
    def _make_contact(self, k: int) -> Contact:
        if not 0 <= k < self.n_contacts:
            raise IndexError(f"contact {k} outside 0..{self.n_contacts - 1}")
        rng = self._rng(3, k)
        block = self._rng(4, k // 4)
        if block.random() < 0.25:  # a run of four consecutive SIMs bought in bulk
            number = phones.random_number(block, phones.pick_country(block), room=4).plus(k % 4)
        else:
            number = phones.random_number(rng, phones.pick_country(rng))
        towns = [t for s in SITES for t in SITE_TOWNS[s]]
        name = rng.choice(NAMES).lower()
        email = handle = platform = ""
        x = rng.random()
        if x < 0.25:
            email = f"{name}.{k % 97}@{rng.choice(EMAIL_DOMAINS)}"
        elif x < 0.5:
            platform, handle = rng.choice(HANDLE_PLATFORMS), f"@{name}_{k}"
        return Contact(k, number, k, rng.choice(towns), email, handle, platform)

    # -- ads ----------------------------------------------------------------------
    def _make_ad(self, i: int) -> Ad:
        if not 0 <= i < self.n_ads:
            raise IndexError(f"ad {i} outside 0..{self.n_ads - 1}")
        site, rng, days = self.site_of(i), self._rng(1, i), self.days
        first = 0 if days == 1 or rng.random() < 0.55 else rng.randrange(1, days)
        removed = back = None
        if first < days - 1 and rng.random() < 0.25:
            removed = rng.randrange(first + 1, days)
            if removed < days - 1 and rng.random() < 0.3:
                back = rng.randrange(removed + 1, days)
        contact = rng.randrange(self.n_contacts)
        home = self.contact(contact).home
        towns = SITE_TOWNS[site]
        town = home if home in towns and rng.random() < 0.7 else rng.choice(towns)
        state = State(contact, town, rng.randrange(len(TOWN_BY_SLUG[town].variants)), (), 0)
        live_days = [d for d in range(first + 1, days)
                     if removed is None or d < removed or (back is not None and d >= back)]
        n_changes = min(len(live_days), rng.choice((0, 0, 0, 1, 1, 2, 3)))
        changes, states = [], [state]
        for day in sorted(rng.sample(live_days, n_changes)):
            kinds = tuple(sorted(rng.sample(CHANGE_KINDS, rng.choice((1, 1, 1, 2)))))
            state = self._apply(rng, state, kinds, towns)
            changes.append(Change(day, kinds))
            states.append(state)
        return Ad(i, site, self._site_id(site, i), first, removed, back,
                  tuple(changes), tuple(states))

    def _apply(self, rng: random.Random, s: State, kinds: tuple[str, ...],
               towns: tuple[str, ...]) -> State:
        contact, town, variant, updates, gen = s.contact, s.town, s.variant, s.updates, s.photo_gen
        if "phone" in kinds:
            contact = (contact + 1 + rng.randrange(self.n_contacts - 1)) % self.n_contacts
        if "city" in kinds:
            town = rng.choice([t for t in towns if t != town])
            variant = rng.randrange(len(TOWN_BY_SLUG[town].variants))
        if "text" in kinds:
            updates = updates + (rng.randrange(4),)
        if "photos" in kinds:
            gen += 1
        return State(contact, town, variant, updates, gen)

    def template_of(self, i: int) -> int | None:
        """The earlier ad whose wording this ad copies, if any: template ads placed by
        one hand under different numbers (a cross-ad signal)."""
        rng = self._rng(6, i)
        return rng.randrange(i) if i > 0 and rng.random() < 0.05 else None

    def _features(self, i: int) -> tuple[Features, random.Random]:
        rng = self._rng(2, i)
        own = draw_features(rng, rng.random() < self.hostile_share)
        template = self.template_of(i)
        if template is None:
            return own, rng
        return dataclasses.replace(self._features(template)[0], hostile=own.hostile), rng

    def version_on(self, ad: Ad | int, day: int) -> Version | None:
        """The ad's content as the site shows it on ``day``; None when not online."""
        ad = ad if isinstance(ad, Ad) else self.ad(ad)
        if not ad.live_on(day):
            return None
        return self._version(ad.index, ad.state_on(day))

    def last_version(self, ad: Ad | int, day: int) -> Version | None:
        """The content last online on or before ``day`` (for removed ads)."""
        ad = ad if isinstance(ad, Ad) else self.ad(ad)
        for d in range(day, -1, -1):
            if ad.live_on(d):
                return self._version(ad.index, ad.state_on(d))
        return None

    def _render(self, i: int, state: State) -> Version:
        from demosite.content import render  # the content module is the heavier half

        feats, rng = self._features(i)
        return render(self, self.ad(i), feats, rng, state)

    # -- ground truth ---------------------------------------------------------------
    def version_count_until(self, ad: Ad | int, day: int) -> int:
        """Distinct consecutive contents a once-a-day crawl sees from day 0 to ``day``."""
        ad = ad if isinstance(ad, Ad) else self.ad(ad)
        count, last = 0, None
        for d in range(min(day, self.days - 1) + 1):
            v = self.version_on(ad, d)
            if v is not None and v.key() != last:
                count, last = count + 1, v.key()
        return count

    def removed_on(self, ad: Ad | int) -> int | None:
        return (ad if isinstance(ad, Ad) else self.ad(ad)).removed_day

    def live_ads(self, site: str, day: int, town: str | None = None) -> list[int]:
        """Indexes of ads online on ``day`` in listing order (newest first).

        The first call builds the listings of every day (about 30 s per million ads);
        later calls are lookups.
        """
        index = self._listing(day)
        if town is not None:
            return list(index.get((site, town), []))
        return [i for t in SITE_TOWNS[site] for i in index.get((site, t), [])]

    def _listing(self, day: int) -> dict[tuple[str, str], array[int]]:
        if not 0 <= day < self.days:
            raise ValueError(f"day {day} outside 0..{self.days - 1}")
        with self._listing_lock:  # server threads must not build it twice
            if not self._listings:
                self._listings = self._build_listings()
        return self._listings[day]

    def _build_listings(self) -> list[dict[tuple[str, str], array[int]]]:
        """Every day's listings in one pass over the ads (one life cycle per ad).

        Rows are packed in ``array`` as one sortable integer (newest first, then the
        higher index first), so a million ads over a week stay within tens of MB.
        """
        n, days = self.n_ads, self.days
        rows: list[dict[tuple[str, str], array[int]]] = [{} for _ in range(days)]
        for i in range(n):
            ad = self._make_ad(i)
            for day in range(ad.first_day, days):
                if ad.live_on(day):
                    key = (ad.site, ad.state_on(day).town)
                    packed = (days - 1 - ad.listed_since(day)) * n + (n - 1 - i)
                    rows[day].setdefault(key, array("q")).append(packed)
        return [{k: array("q", (n - 1 - p % n for p in sorted(v))) for k, v in r.items()}
                for r in rows]

    def truth(self, day: int) -> dict[str, Any]:
        from demosite.truth import world_truth

        return world_truth(self, day)
