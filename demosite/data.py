"""Word lists of the demo world: towns, names, phrases.

Kept as plain data so the world generator stays small and so tests and benchmarks can
see exactly which phrases carry which indicator category.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Town:
    slug: str  # section key in URLs
    name: str  # canonical name (as a gazetteer would hold it)
    country: str  # ISO 3166 alpha-2
    variants: tuple[str, ...]  # how ads write it; variants[0] is the common form
    weight: int  # relative share of ads


TOWNS: tuple[Town, ...] = (
    Town("amsterdam", "Amsterdam", "NL", ("Amsterdam", "A'dam", "Amsterdam-Zuid"), 24),
    Town("rotterdam", "Rotterdam", "NL", ("Rotterdam", "R'dam"), 14),
    Town("den-haag", "Den Haag", "NL", ("Den Haag", "'s-Gravenhage", "The Hague"), 12),
    Town("utrecht", "Utrecht", "NL", ("Utrecht", "Utrecht centrum"), 10),
    Town("eindhoven", "Eindhoven", "NL", ("Eindhoven",), 7),
    Town("groningen", "Groningen", "NL", ("Groningen",), 5),
    Town("maastricht", "Maastricht", "NL", ("Maastricht",), 5),
    Town("breda", "Breda", "NL", ("Breda",), 4),
    Town("antwerpen", "Antwerpen", "BE", ("Antwerpen", "Antwerp", "Anvers"), 14),
    Town("brussel", "Brussel", "BE", ("Brussel", "Bruxelles", "Brussels"), 12),
    Town("gent", "Gent", "BE", ("Gent", "Ghent"), 8),
    Town("luik", "Luik", "BE", ("Luik", "Liège"), 5),
    Town("hasselt", "Hasselt", "BE", ("Hasselt",), 4),
)
TOWN_BY_SLUG = {t.slug: t for t in TOWNS}

# Which towns each site lists (its sections).
SITE_TOWNS: dict[str, tuple[str, ...]] = {
    "velvet": ("amsterdam", "rotterdam", "den-haag", "utrecht", "eindhoven", "groningen"),
    "board": ("antwerpen", "brussel", "gent", "luik", "hasselt", "maastricht", "breda"),
}
SITE_COUNTRY = {"velvet": "NL", "board": "BE"}

NAMES = (
    "Anna", "Mila", "Sofia", "Lara", "Nina", "Eva", "Bianca", "Daria", "Ioana", "Elena",
    "Kasia", "Zsofi", "Petra", "Yasmin", "Luna", "Jade", "Chloe", "Vera", "Maya", "Roxy",
    "Andreea", "Gabi", "Lina", "Noor", "Tess", "Iris", "Sara", "Lisa", "Mona", "Dora",
)

# (nl word, en word) for stated nationality/ethnicity.
ETHNICITIES = (
    ("Roemeense", "Romanian"), ("Hongaarse", "Hungarian"), ("Bulgaarse", "Bulgarian"),
    ("Braziliaanse", "Brazilian"), ("Thaise", "Thai"), ("Poolse", "Polish"),
    ("Spaanse", "Spanish"), ("Oost-Europese", "Eastern European"),
)

# Indicator phrases per category and language. Each phrase is a whole sentence piece
# that the generator inserts verbatim, so the truth can list it as evidence.
INDICATORS: dict[str, dict[str, tuple[str, ...]]] = {
    "trust": {
        "nl": ("100% echt", "betrouwbaar en eerlijk", "echte foto's, geen nep"),
        "en": ("100% real", "real photos, no fake", "trustworthy and honest"),
    },
    "youth": {
        "nl": ("jong meisje", "net 18 geworden", "jonge studente"),
        "en": ("barely legal", "new young girl", "young and fresh"),
    },
    "movement": {
        "nl": ("nieuw in de stad", "alleen deze week", "maar een paar dagen hier"),
        "en": ("new in town", "only this week", "only a few days here"),
    },
}

# Neutral sentences: carry no indicator.
FILLERS = {
    "nl": ("Discreet en gezellig.", "Alleen op afspraak.", "Schone en rustige kamer.",
           "Geen haast, neem de tijd.", "Parkeren voor de deur."),
    "en": ("Discreet and friendly.", "Appointments only.", "Clean and quiet room.",
           "No rush, take your time.", "Parking in front of the door."),
}

# Sentences a text change appends (neutral, so indicators stay as they were).
UPDATES = {
    "nl": ("Vandaag beschikbaar vanaf 14:00.", "Nieuwe foto's!", "Ook in het weekend.",
           "Vanavond nog plek."),
    "en": ("Available today from 14:00.", "New photos!", "Also at weekends.",
           "Still free tonight."),
}

TAGLINES = {
    "nl": ("Lieve verwennerij", "Sexy en sensueel", "Zomaar even langs?", "Jouw vriendin"),
    "en": ("Sweet and sensual", "Your girlfriend experience", "Come and visit",
           "Pure relaxation"),
}

LANGUAGES_SPOKEN = ("Nederlands", "English", "Deutsch", "Română", "Español", "Magyar",
                    "Polski", "Français")

HANDLE_PLATFORMS = ("snapchat", "instagram", "telegram")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

DIGIT_WORDS = {
    "nl": ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
NL_TEENS = ("tien", "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien",
            "zeventien", "achttien", "negentien")
NL_TENS = ("", "", "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig",
           "tachtig", "negentig")
