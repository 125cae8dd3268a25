"""Rendering one version of an ad from its features and its current state.

Split from ``world`` so the life cycle (cheap, needed for every listing) and the content
(text, phones, photos; needed only for the pages shown) stay apart.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from demosite import phones
from demosite.data import LANGUAGES_SPOKEN, SITE_COUNTRY, TOWN_BY_SLUG
from demosite.text import Features, compose

if TYPE_CHECKING:
    from demosite.world import Ad, State, TruthPhone, Version, World


def render(world: World, ad: Ad, f: Features, rng: random.Random, state: State) -> Version:
    """The version shown while the ad is in ``state``; draws continue ``rng`` in order.

    The photos show the ad's first contact's person: a new number does not change
    who is pictured (the same photo then appears under another number).
    """
    from demosite.world import Version

    price = rng.choice((100, 120, 150, 150, 180, 200, 250, 300))
    price_text = f"€{price} / {'uur' if f.lang == 'nl' else 'hour'}"
    languages = _languages(rng, f.lang)
    method_pick, second_pick = rng.random(), rng.random()
    two_numbers = rng.random() < 0.08
    other_person = rng.random() < 0.1
    other = rng.randrange(world.n_contacts)
    n_photos = rng.randint(1, 4)

    contact = world.contact(state.contact)
    contacts = [contact]
    if two_numbers:
        contacts.append(world.contact((state.contact + 1) % world.n_contacts))
    site_country = SITE_COUNTRY[ad.site]
    truth_phones = tuple(
        _phone(c.number, site_country, f.lang, pick, random.Random(f"{c.index}:{pick}"))
        for c, pick in zip(contacts, (method_pick, second_pick), strict=False))
    town = TOWN_BY_SLUG[state.town]
    written_town = town.variants[state.variant]
    person = world.contact(other if other_person else ad.states[0].contact).person
    photos = tuple(f"p{person}-{(state.photo_gen * n_photos + k) % 16}" for k in range(n_photos))
    w = compose(f, written_town, [p.written for p in truth_phones], list(state.updates),
                [p.written for p in truth_phones if p.obscured])
    return Version(
        title=w.title, text=w.text, town=town.name, town_slug=town.slug, country=town.country,
        town_written=written_town, age=f.age, price=price_text, languages=languages,
        phones=truth_phones, email=contact.email, handle=contact.handle,
        handle_platform=contact.platform, photos=photos, indicators=w.indicators,
        hostile=f.hostile, lang=f.lang,
        slug="-".join(n.lower() for n in (f.name, f.name2) if n),
    )


def _languages(rng: random.Random, lang: str) -> str:
    first = {"nl": ["Nederlands"], "en": ["English"], "mixed": ["Nederlands", "English"]}[lang]
    extra = [x for x in rng.sample(LANGUAGES_SPOKEN, 2) if x not in first][: rng.randint(0, 2)]
    return ", ".join(first + extra)


def _phone(number: phones.Number, site_country: str, lang: str, pick: float,
           rng: random.Random) -> TruthPhone:
    from demosite.world import TruthPhone

    methods = phones.methods_for(number, site_country, "en" if lang == "en" else "nl")
    national = [m for m in methods if m not in phones.INTERNATIONAL]
    if national and pick < 0.7:  # at home, ads mostly write the national form
        method = national[int(pick / 0.7 * len(national))]
    else:
        method = methods[int(pick * len(methods))]
    written = phones.write(number, method, rng)
    if method == "mixed_words" and not any(ch.isalpha() for ch in written):
        method = "separators"  # no pair could become a word; it fell back to dashes
    return TruthPhone(number.e164, number.country, written, method, method in phones.OBSCURED)
