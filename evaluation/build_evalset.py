"""Build ``evalset.jsonl``: labelled ad texts for measuring the enrichment pipeline.

Why generated: real ads cannot be shipped (they are personal data), and every hard case
from the domain guide must be covered on purpose, in several languages. Each ad is put
together from hand-written parts whose labels are known *by construction*: the phone
number is drawn first and then written in one of the hiding styles, the place is drawn
from a list of spellings with the place each one means, indicator phrases are written
here (not copied from the catalogue where avoidable), and the filler is checked by hand
to carry no signal. Hard negatives (prices, dates, postcodes, heights, ages, ad ids,
place names that are ordinary words) are mixed in. ``handwritten.jsonl`` adds ads
written one by one. Labels never come from the pipeline.

    .venv/bin/python evaluation/build_evalset.py   # writes evaluation/evalset.jsonl

Line format: {"id", "lang", "country", "title", "text", "gold": {"phones": [E.164],
"places": [canonical name], "indicators": [id], "ages": [..], "identifiers": [value]}}.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import phonenumbers

HERE = Path(__file__).parent
N_GENERATED = 320

DIGIT_WORDS = {
    "nl": ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"],
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
}
NL_PAIRS = {"12": "twaalf", "13": "dertien", "14": "veertien", "15": "vijftien", "20": "twintig",
            "34": "vierendertig", "56": "zesenvijftig", "78": "achtenzeventig", "11": "elf"}
EN_PAIRS = {"12": "twelve", "13": "thirteen", "20": "twenty", "34": "thirty-four",
            "56": "fifty-six", "78": "seventy-eight", "11": "eleven"}

# (country, national prefix pattern, length of the rest)
MOBILES = {
    "NL": [("06", 8)], "BE": [("047", 7), ("048", 7), ("049", 7)],
    "DE": [("0151", 8), ("0160", 7), ("0176", 8)], "RO": [("072", 7), ("074", 7), ("075", 7)],
    "BG": [("088", 7), ("089", 7)], "HU": [("0620", 7), ("0630", 7), ("0670", 7)],
}
CC = {"NL": "31", "BE": "32", "DE": "49", "RO": "40", "BG": "359", "HU": "36"}

PLACES = [  # (as written, canonical, country, needs a cue)
    ("Den Haag", "Den Haag", "NL"), ("'s-Gravenhage", "Den Haag", "NL"), ("A'dam", "Amsterdam", "NL"),
    ("Amsterdam", "Amsterdam", "NL"), ("Rotterdam", "Rotterdam", "NL"), ("R'dam", "Rotterdam", "NL"),
    ("Utrecht", "Utrecht", "NL"), ("Eindhoven", "Eindhoven", "NL"), ("Den Bosch", "'s-Hertogenbosch", "NL"),
    ("Groningen", "Groningen", "NL"), ("Zwolle", "Zwolle", "NL"), ("Breda", "Breda", "NL"),
    ("Tilburg", "Tilburg", "NL"), ("Arnhem", "Arnhem", "NL"), ("Nijmegen", "Nijmegen", "NL"),
    ("Maastricht", "Maastricht", "NL"), ("Leeuwarden", "Leeuwarden", "NL"), ("Almere", "Almere", "NL"),
    ("Haarlem", "Haarlem", "NL"), ("Amersfoort", "Amersfoort", "NL"), ("Enschede", "Enschede", "NL"),
    ("Dordt", "Dordrecht", "NL"), ("Venlo", "Venlo", "NL"), ("Alkmaar", "Alkmaar", "NL"),
    ("Antwerpen", "Antwerpen", "BE"), ("Anvers", "Antwerpen", "BE"), ("Gent", "Gent", "BE"),
    ("Brussel", "Brussel", "BE"), ("Bruxelles", "Brussel", "BE"), ("Luik", "Luik", "BE"),
    ("Liège", "Luik", "BE"), ("Liege", "Luik", "BE"), ("Leuven", "Leuven", "BE"), ("Brugge", "Brugge", "BE"),
    ("Hasselt", "Hasselt", "BE"), ("Charleroi", "Charleroi", "BE"), ("Namur", "Namen", "BE"),
    ("Oostende", "Oostende", "BE"), ("Köln", "Keulen", "DE"), ("Düsseldorf", "Düsseldorf", "DE"),
    ("Aachen", "Aken", "DE"), ("Berlin", "Berlijn", "DE"), ("Bucuresti", "Boekarest", "RO"),
]
CUED_PLACES = [("Best", "Best", "NL"), ("Goes", "Goes", "NL"), ("Mol", "Mol", "BE"),
               ("Putten", "Putten", "NL"), ("Echt", "Echt", "NL"), ("Born", "Born", "NL")]
PLACE_NEGATIVES = {  # ordinary words that are also place names: no place here
    "nl": ["Best ervaring van je leven.", "Echt lekker en goes wild.", "Mijn haren zijn lang.",
           "Heel lief en spontaan.", "Ik ben de beste."],
    "en": ["Best service, goes all the way.", "Born to please.", "Made for pleasure.",
           "The best time of your life."],
    "de": ["Essen gehen ist auch möglich.", "Beste Zeit garantiert."],
    "ro": ["Cea mai bună companie."], "es": ["La mejor compañía."],
}

OPEN = {
    "nl": ["Hoi schat, ik ben {name}.", "Hallo heren, mijn naam is {name}.", "Lieve {name} ontvangt je."],
    "en": ["Hi guys, I'm {name}.", "Hello gentlemen, my name is {name}.", "Sweet {name} is waiting."],
    "de": ["Hallo, ich bin {name}.", "Hi Männer, mein Name ist {name}.", "Die süße {name} wartet."],
    "ro": ["Bună, sunt {name}.", "Salut, mă numesc {name}."],
    "es": ["Hola, soy {name}.", "Hola chicos, me llamo {name}."],
}
FILLER = {
    "nl": ["Ik ontvang je in een schoon en rustig appartement.", "Kom gezellig langs voor een drankje.",
           "Parkeren kan voor de deur.", "Ik hou van lachen en goede gesprekken.",
           "Bel of app voor een afspraak."],
    "en": ["I receive you in a clean and quiet apartment.", "Come by for a drink and a chat.",
           "Parking is right outside.", "I love laughing and good conversation.",
           "Call or text for an appointment."],
    "de": ["Ich empfange dich in einer sauberen und ruhigen Wohnung.", "Komm vorbei auf einen Drink.",
           "Parkplätze gibt es vor der Tür.", "Ruf an oder schreib für einen Termin."],
    "ro": ["Te aștept într-un apartament curat și liniștit.", "Sună pentru o programare."],
    "es": ["Te recibo en un apartamento limpio y tranquilo.", "Llama para una cita."],
}
CUE = {"nl": "Ontvangst in {p}.", "en": "Incall in {p}.", "de": "Besuchbar in {p}.",
       "ro": "Sunt în {p}.", "es": "Estoy en {p}."}
PHONE_LEAD = {"nl": "Bel: {t}", "en": "Call: {t}", "de": "Tel: {t}", "ro": "Suna: {t}", "es": "Llama: {t}"}
DISTRACTORS = {
    "nl": ["Prijzen: 30 min 80 euro, 1 uur 150 euro.", "Postcode 1012 AB.", "Lengte 1.70 m, 58 kg.",
           "Beschikbaar vanaf 12-05-2024.", "Open 10:00-22:00.", "Advertentie #{id}.",
           "Huisnummer 143, 2e verdieping."],
    "en": ["Rates: 30 min 80 euro, 1 hour 150 euro.", "Height 170 cm, 58 kg.",
           "Available from 01.06.2024.", "Open 10:00-22:00.", "Ad id {id}."],
    "de": ["Preise: 30 Min 80 Euro, 1 Stunde 150 Euro.", "PLZ 50667.", "Größe 1,70 m.",
           "Ab 12.05.2024 da.", "Anzeige #{id}."],
    "ro": ["Tarif: 150 euro ora.", "Înălțime 170 cm."],
    "es": ["Tarifa: 150 euros la hora.", "Altura 1,70 m."],
}
INDICATORS = {  # id -> phrases per language (written here for the evaluation)
    "trust_language": {"nl": ["Mijn foto's zijn 100% echt!", "Geen nep, echte foto's."],
                       "en": ["Real photos, no fake!", "Pics are 100% real."],
                       "de": ["Echte Fotos, kein Fake!"], "ro": ["Poze reale, 100% reala."]},
    "youth_language": {"nl": ["Jonge meid, net 18.", "Heel jong en lief."],
                       "en": ["Very young and sweet.", "Just 18 and shy."],
                       "de": ["Sehr jung und süß."], "ro": ["Foarte tanara."]},
    "movement_language": {"nl": ["Nieuw in de stad, alleen deze week!", "Maar een paar dagen hier."],
                          "en": ["New in town, only a few days!", "Just arrived, last days."],
                          "de": ["Neu in der Stadt, nur wenige Tage!"], "ro": ["Noua in oras!"]},
    "always_available": {"nl": ["Dag en nacht bereikbaar.", "24/7 voor je klaar."],
                         "en": ["Available 24/7.", "Day and night for you."],
                         "de": ["Rund um die Uhr für dich da."], "ro": ["Non stop."]},
    "no_limits": {"nl": ["Bij mij is alles mogelijk.", "Geen taboes."],
                  "en": ["No limits, no taboos.", "Anything goes."], "de": ["Alles ist möglich."]},
    "third_person": {"nl": ["Zij is lief en spreekt goed Engels.", "Dit meisje is nieuw bij ons."],
                     "en": ["She is sweet and speaks English.", "This girl is new with us."],
                     "de": ["Sie ist lieb und zärtlich."]},
    "multiple_providers": {"nl": ["Elke week nieuwe meiden.", "Meerdere dames aanwezig."],
                           "en": ["New girls every week.", "Several girls available."],
                           "de": ["Mehrere Damen anwesend."]},
    "unprotected_services": {"nl": ["Ook zonder condoom."], "en": ["Also without condom."],
                             "de": ["Auch ohne Gummi."]},
}
NATIONALITY = {"nl": ["Roemeense", "Hongaarse", "Latina", "Aziatische"],
               "en": ["Romanian", "Hungarian", "Latina", "Asian"],
               "de": ["Rumänin", "Ungarin", "Latina", "Asiatin"], "ro": ["româncă"], "es": ["Latina"]}
AGE = {"nl": "{a} jaar.", "en": "{a} years old.", "de": "{a} Jahre.", "ro": "{a} de ani.", "es": "{a} años."}
NAMES = ["Lisa", "Mila", "Sofia", "Anna", "Bianca", "Nina", "Eva", "Kim", "Jade", "Luna"]
LANG_COUNTRY = {"nl": ["NL", "NL", "BE"], "en": ["NL", "BE"], "de": ["DE", "NL"], "ro": ["RO", "NL"],
                "es": ["NL"]}


def draw_number(rng: random.Random, country: str) -> str:
    """A valid national mobile number of ``country`` (checked with phonenumbers)."""
    while True:
        prefix, rest = rng.choice(MOBILES[country])
        national = prefix + "".join(str(rng.randint(0, 9)) for _ in range(rest))
        num = phonenumbers.parse(national, country)
        if phonenumbers.is_valid_number(num):
            return national


def e164(national: str, country: str) -> str:
    num = phonenumbers.parse(national, country)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def nsn(national: str, country: str) -> str:
    """The national significant number: without the trunk prefix (0, or 06 in Hungary)."""
    return phonenumbers.national_significant_number(phonenumbers.parse(national, country))


def _groups(s: str, size: int = 2) -> list[str]:
    return [s[i:i + size] for i in range(0, len(s), size)]


def write_number(rng: random.Random, national: str, country: str, lang: str) -> tuple[str, bool]:
    """The number written in one hiding style; returns (text, obscured on purpose)."""
    sig = nsn(national, country)
    intl = CC[country] + sig
    styles = ["plain", "spaced", "intl", "intl_paren", "00", "letters", "dots", "emoji", "keycap",
              "wa", "tme", "stars"]
    if country == "NL" and lang in ("nl", "en"):
        styles += ["words", "mixed_words", "words"]
    style = rng.choice(styles)
    if style == "plain":
        return national[:2] + "-" + national[2:], False
    if style == "spaced":
        return " ".join([national[:4], *_groups(national[4:])]), False
    if style == "intl":
        return f"+{CC[country]} {sig[:3]} {sig[3:]}", False
    if style == "intl_paren":
        return f"+{CC[country]} (0){sig[:3]} {sig[3:]}", False
    if style == "00":
        return "00" + intl, False
    if style == "letters":
        return national.replace("0", "O").replace("1", "I"), "0" in national or "1" in national
    if style == "dots":
        return ".".join(national), True
    if style == "emoji":
        return rng.choice(["🔥", "💋", "❤️", "😘"]).join(_groups(national)), True
    if style == "keycap":
        return "".join(d + "\ufe0f\u20e3" for d in national), True
    if style == "wa":
        return f"wa.me/{intl}", False
    if style == "tme":
        return f"t.me/+{intl}", False
    if style == "stars":
        return "*".join(_groups(national)), True
    words = DIGIT_WORDS[lang]
    if style == "words":
        return " ".join(words[int(d)] for d in national), True
    pairs = NL_PAIRS if lang == "nl" else EN_PAIRS
    parts = [pairs.get(g, g) for g in _groups(national[2:])]
    return national[:2] + " " + " ".join(parts), any(p.isalpha() for p in parts)


def make_ad(rng: random.Random, i: int) -> dict:
    lang = rng.choice(["nl", "nl", "nl", "en", "en", "de", "ro", "es"])
    country = rng.choice(LANG_COUNTRY[lang])
    gold: dict[str, list] = {"phones": [], "places": [], "indicators": [], "ages": [], "identifiers": []}
    name = rng.choice(NAMES)
    parts = [rng.choice(OPEN[lang]).format(name=name)]
    age = rng.choice([19, 21, 22, 24, 26, 29, 31, 35, 17])
    if rng.random() < 0.7:
        parts.append(AGE[lang].format(a=age))
        gold["ages"].append(str(age))
        if age < 23:
            gold["indicators"].append("age_under_23")
        if age < 18:
            gold["indicators"].append("stated_minor")
    if rng.random() < 0.35:
        nat = rng.choice(NATIONALITY.get(lang, NATIONALITY["en"]))
        parts.append(f"{nat} {'schoonheid' if lang == 'nl' else 'beauty' if lang == 'en' else 'Schönheit' if lang == 'de' else 'bella'}.")
        gold["indicators"].append("ethnicity_stated")
    parts.append(rng.choice(FILLER[lang]))
    roll = rng.random()
    if roll < 0.7:
        surface, canonical, pcountry = rng.choice(PLACES)
        country = pcountry if pcountry in ("NL", "BE") and rng.random() < 0.8 else country
        parts.append(CUE[lang].format(p=surface))
        gold["places"].append(canonical)
    elif roll < 0.8:
        surface, canonical, pcountry = rng.choice(CUED_PLACES)
        country = pcountry
        parts.append(CUE[lang].format(p=surface))
        gold["places"].append(canonical)
    if rng.random() < 0.4:
        parts.append(rng.choice(PLACE_NEGATIVES[lang]))
    for ind, by_lang in INDICATORS.items():
        if lang in by_lang and rng.random() < 0.12:
            parts.append(rng.choice(by_lang[lang]))
            gold["indicators"].append(ind)
    for _ in range(rng.randint(1, 2)):
        parts.append(rng.choice(DISTRACTORS[lang]).format(id=rng.randint(10**8, 10**10)))
    n_phones = 1 if rng.random() < 0.9 else 2
    for _ in range(n_phones):
        pc = country if rng.random() < 0.75 or country not in CC else rng.choice(list(CC))
        pc = pc if pc in CC else "NL"
        national = draw_number(rng, pc)
        written, obscured = write_number(rng, national, pc, lang)
        if pc != country and not written.startswith(("+", "00", "wa.me", "t.me")):
            written = f"+{CC[pc]} {nsn(national, pc)}"
            obscured = False
        parts.append(PHONE_LEAD[lang].format(t=written))
        if e164(national, pc) not in gold["phones"]:
            gold["phones"].append(e164(national, pc))
        if obscured and "obscured_phone" not in gold["indicators"]:
            gold["indicators"].append("obscured_phone")
    if rng.random() < 0.25:
        handle = f"{name.lower()}{rng.randint(10, 99)}"
        parts.append(rng.choice([f"Insta: {handle}", f"snap @{handle}", f"Mail: {handle}@mail.com"]))
        gold["identifiers"].append(
            f"{handle}@mail.com" if "Mail" in parts[-1] else
            ("instagram:" if "Insta" in parts[-1] else "snapchat:") + handle)
    title = parts.pop(0)
    return {"id": f"gen-{i:04d}", "lang": lang, "country": country, "title": title,
            "text": " ".join(parts), "gold": gold}


def main() -> None:
    rng = random.Random(20261122)
    ads = [make_ad(rng, i) for i in range(N_GENERATED)]
    hand = HERE / "handwritten.jsonl"
    if hand.exists():
        ads += [json.loads(line) for line in hand.read_text("utf-8").splitlines() if line.strip()]
    with open(HERE / "evalset.jsonl", "w", encoding="utf-8") as fh:
        for ad in ads:
            fh.write(json.dumps(ad, ensure_ascii=False) + "\n")
    print(f"wrote {len(ads)} labelled ads to {HERE / 'evalset.jsonl'}")


if __name__ == "__main__":
    main()
