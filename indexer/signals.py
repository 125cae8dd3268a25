"""Cross-ad signals: what only shows across many ads, never in one text.

Pure computation: ``AdFacts`` (what one ad ever carried, read from its stored versions)
in, ``{ad_id: {signal, ...}}`` and an explanation per signal out. The stores keep the
result so that ``signal:<name>`` and the ``signal`` facet work like any other field;
``Store.refresh_signals()`` recomputes them after ads are written (a crawl, a reindex).

Signals are evidence for the analyst to weigh (see the domain guide), never verdicts:
each threshold below is a named constant whose docstring says why it has its value.
A signal belongs to every ad that carried the subject (the phone, image or text) in any
version, so an old, removed ad is found through a number still in use today.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from indexer.model import AdRecord
from indexer.signals_text import near_groups

# ----------------------------------------------------------------------------- names
PHONE_MANY_ADS = "phone_many_ads"
PHONE_MANY_SITES = "phone_many_sites"
PHONE_MANY_NAMES = "phone_many_names"
PHONE_MOVING = "phone_moving"
PHONE_CONSECUTIVE = "phone_consecutive"
IMAGE_MANY_PHONES = "image_many_phones"
TEXT_MANY_PHONES = "text_many_phones"

SIGNALS: dict[str, str] = {
    PHONE_MANY_ADS: "One phone number in many ads",
    PHONE_MANY_SITES: "One phone number on many sites",
    PHONE_MANY_NAMES: "One phone number under many names",
    PHONE_MOVING: "Phone number moving between cities",
    PHONE_CONSECUTIVE: "Consecutive phone numbers (bought in bulk)",
    IMAGE_MANY_PHONES: "Same photo under different numbers",
    TEXT_MANY_PHONES: "Near-identical text under different numbers",
}

# ----------------------------------------------------------------------------- thresholds
MANY_ADS = 5
"""Ads per number. An independent advertiser reposts and keeps an ad per site, which
gives two to four ads for one number; five or more points at one contact for several
ads or women (the "one contact for several women" pattern of the domain guide)."""

MANY_SITES = 3
"""Sites per number. Two sites is ordinary reach for one advertiser; three or more
independent sites is the spread the guide names as a cross-ad signal."""

MANY_NAMES = 3
"""Distinct advertiser names per number. Two names is often one person's working name
and a variant ("Lisa", "Lisa Rose"); three or more distinct names under one number
suggests one contact for several people. Names compare case- and accent-folded."""

MOVE_MIN_DAYS = 7
"""Days between the first sighting in one city and a later sighting in another. The
guide speaks of movement "over weeks"; a number seen in two cities on the same day is
not movement but reach (ads placed in several cities at once), so a week is required."""

CONSECUTIVE_MAX_GAP = 2
"""Largest difference between neighbouring numbers in a run (one unused number in
between is allowed: a SIM of a bulk batch that was never advertised)."""

CONSECUTIVE_MIN_RUN = 3
"""Numbers in a run. With ten thousand numbers spread over the 10^8 Dutch mobile
numbers, about one *pair* within a gap of 2 is expected by chance alone, but a run of
three is expected about once in 10^4 such collections: three is evidence, two is not."""

IMAGE_MIN_PHONES = 2
"""Distinct numbers under one image: a photo is one person's, so two numbers is already
worth a look (a copied or shared photo)."""

IMAGE_MAX_ADS = 200
"""An image in more ads than this is site furniture (a logo, a placeholder), not a photo
of a person; it is left out so it cannot link everything to everything."""

TEXT_MIN_CHARS = 80
"""Normalised text shorter than this ("call me", "new here") is too common to say that
one hand wrote both ads."""

TEXT_MIN_PHONES = 2
"""Distinct numbers under one (near-)identical text: template ads placed by one hand.
How near is near: ``indexer.signals_text.MIN_JACCARD``."""

_LETTERS = re.compile(r"[^\w]+|[\d_]+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@dataclass(frozen=True)
class Sighting:
    """One version of one ad: when it was first seen and what it carried."""

    at: datetime
    phones: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # sha256 of each image (content identity)
    text: str = ""


@dataclass(frozen=True)
class AdFacts:
    ad_id: str
    source_id: str
    sightings: tuple[Sighting, ...] = ()

    def phones(self) -> set[str]:
        return {p for s in self.sightings for p in s.phones}


@dataclass
class SignalResult:
    """Which ads carry which signals, and why: ad id → signal → reasons."""

    ads: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, signal: str, ad_ids: Iterable[str], reason: str) -> None:
        for ad_id in ad_ids:
            self.ads[ad_id].setdefault(signal, []).append(reason)

    def counts(self) -> dict[str, int]:
        """Ads per signal (every signal listed, zero when none carries it)."""
        out = dict.fromkeys(SIGNALS, 0)
        for sigs in self.ads.values():
            for s in sigs:
                out[s] += 1
        return out


# ----------------------------------------------------------------------------- facts
def facts_from_ad(ad: AdRecord) -> AdFacts:
    """What one stored ad contributes: every version's phones, places, names, images."""
    return AdFacts(ad.id, ad.source_id, tuple(
        Sighting(
            at=v.first_seen,
            phones=tuple(v.enrichment.values("phone")),
            places=tuple(v.enrichment.values("place")),
            names=tuple(dict.fromkeys(a.value for a in v.enrichment.attributes if a.kind == "name")),
            images=tuple(dict.fromkeys(i.sha256 for i in v.fields.images if i.sha256)),
            text=v.fields.text,
        ) for v in ad.versions))


def fold(text: str) -> str:
    """Case- and accent-folded letters only, spaces between words: for comparing names
    and texts (numbers are dropped, since they differ between template ads)."""
    text = text.casefold()
    if not text.isascii():  # decompose, then drop the combining marks (é → e)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(_LETTERS.sub(" ", text).split())


# ----------------------------------------------------------------------------- compute
def compute_signals(facts: Iterable[AdFacts]) -> SignalResult:
    """Every cross-ad signal over a collection of ads."""
    ads = list(facts)
    result = SignalResult()
    by_phone: dict[str, list[AdFacts]] = defaultdict(list)
    for ad in ads:
        for phone in sorted(ad.phones()):
            by_phone[phone].append(ad)
    for phone, carriers in by_phone.items():
        _phone_signals(phone, carriers, result)
    _consecutive(by_phone, result)
    _shared_images(ads, result)
    _near_texts(ads, result)
    return result


def _phone_signals(phone: str, carriers: list[AdFacts], result: SignalResult) -> None:
    ids = [a.ad_id for a in carriers]
    if len(ids) >= MANY_ADS:
        result.add(PHONE_MANY_ADS, ids, f"{phone} is in {len(ids)} ads")
    sites = sorted({a.source_id for a in carriers})
    if len(sites) >= MANY_SITES:
        result.add(PHONE_MANY_SITES, ids, f"{phone} is on {len(sites)} sites: {', '.join(sites)}")
    names = {fold(n): n for a in carriers for s in a.sightings if phone in s.phones for n in s.names}
    names.pop("", None)
    if len(names) >= MANY_NAMES:
        result.add(PHONE_MANY_NAMES, ids,
                   f"{phone} is used under {len(names)} names: {', '.join(sorted(names.values()))}")
    move = movement(phone, carriers)
    if move:
        result.add(PHONE_MOVING, ids, move)


def movement(phone: str, carriers: list[AdFacts]) -> str:
    """'' or how the number moved: seen in one city, then at least MOVE_MIN_DAYS later in
    another city it was not seen in before."""
    seen = sorted((s.at, s.places[0]) for a in carriers for s in a.sightings
                  if phone in s.phones and s.places)
    if not seen:
        return ""
    first_at, first_city = seen[0]
    earlier: dict[str, datetime] = {}
    for at, city in seen:
        if city not in earlier and city != first_city and at - first_at >= timedelta(days=MOVE_MIN_DAYS):
            return (f"{phone} was in {first_city} on {first_at.date()} and in {city} "
                    f"on {at.date()}")
        earlier.setdefault(city, at)
    return ""


def _consecutive(by_phone: dict[str, list[AdFacts]], result: SignalResult) -> None:
    """Runs of numbers of one length whose neighbours differ by at most the gap."""
    numbers = sorted((len(p), int(p[1:]), p) for p in by_phone if p[1:].isdigit())
    run: list[tuple[int, int, str]] = []
    for item in [*numbers, (0, 0, "")]:
        if run and item[0] == run[-1][0] and 0 < item[1] - run[-1][1] <= CONSECUTIVE_MAX_GAP:
            run.append(item)
            continue
        if len(run) >= CONSECUTIVE_MIN_RUN:
            phones = [r[2] for r in run]
            ids = list(dict.fromkeys(a.ad_id for p in phones for a in by_phone[p]))
            result.add(PHONE_CONSECUTIVE, ids,
                       f"{len(phones)} consecutive numbers: {', '.join(phones)}")
        run = [item]


def text_key(text: str) -> str:
    """The near-identity of an ad text: folded words without numbers (a template reused
    with another number, price or age gives the same key); '' when too short."""
    folded = fold(text)
    return folded if len(folded) >= TEXT_MIN_CHARS else ""


def _carriers(ads: list[AdFacts], keys_of: Callable[[Sighting], Iterable[str]]
              ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each key (an image, a text): the ads and the phone numbers that carried it."""
    carriers: dict[str, set[str]] = defaultdict(set)
    phones: dict[str, set[str]] = defaultdict(set)
    for ad in ads:
        for s in ad.sightings:
            for key in keys_of(s):
                if key:
                    carriers[key].add(ad.ad_id)
                    phones[key].update(s.phones)
    return carriers, phones


def _shared_images(ads: list[AdFacts], result: SignalResult) -> None:
    """One image under at least IMAGE_MIN_PHONES numbers (site furniture left out)."""
    carriers, phones = _carriers(ads, lambda s: s.images)
    for key, ids in carriers.items():
        if len(phones[key]) >= IMAGE_MIN_PHONES and len(ids) <= IMAGE_MAX_ADS:
            result.add(IMAGE_MANY_PHONES, sorted(ids),
                       f"image {key[:16]}… appears under {len(phones[key])} numbers in {len(ids)} ads")


def _near_texts(ads: list[AdFacts], result: SignalResult) -> None:
    """One text, or near-identical texts (indexer.signals_text), under several numbers."""
    carriers, phones = _carriers(ads, lambda s: (text_key(s.text),))
    grouped = near_groups(carriers)
    in_group = {k for g in grouped for k in g}
    for group in [*grouped, *({k} for k in carriers if k not in in_group)]:
        ids = sorted({a for k in group for a in carriers[k]})
        numbers = {p for k in group for p in phones[k]}
        if len(numbers) >= TEXT_MIN_PHONES:
            sample = min(group)[:60]
            how = "the same text" if len(group) == 1 else f"{len(group)} near-identical texts"
            result.add(TEXT_MANY_PHONES, ids,
                       f"{how} (\"{sample}…\") under {len(numbers)} numbers in {len(ids)} ads")
