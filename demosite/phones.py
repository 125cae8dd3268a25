"""Phone numbers of the demo world and the ways ads hide them.

Numbers are valid mobile numbers of the countries ads come from (checked against
phonenumbers in the tests), so a correct enricher must recover every one. The written
forms follow the list in the domain guide; ``OBSCURED`` names the forms that count as
an obscured number (one of the four validated indicators).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from demosite.data import DIGIT_WORDS, NL_TEENS, NL_TENS

CALLING_CODES = {"NL": "31", "BE": "32", "DE": "49", "RO": "40", "BG": "359", "HU": "36",
                 "PL": "48"}
# National significant number: (prefixes, digits that follow).
_MOBILE = {
    "NL": (("61", "62", "63", "64", "65"), 7),
    "BE": (("470", "471", "472", "473", "475", "476", "477", "478", "479", "484", "485",
            "486", "487", "488", "489", "491", "492", "493", "494", "495", "496", "497"), 6),
    "DE": (("160", "162", "163", "170", "171", "172", "173", "174",
            "175", "176", "177", "178", "179"), 7),
    "RO": (("72", "73", "74", "75", "76"), 7),
    "BG": (("87", "88", "89"), 7),
    "HU": (("20", "30", "70"), 7),
    "PL": (("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 7),
}
COUNTRY_WEIGHTS = (("NL", 70), ("BE", 12), ("DE", 5), ("RO", 5), ("BG", 3), ("HU", 3), ("PL", 2))
_TRUNK = {"NL", "BE", "DE"}  # countries whose national form starts with a 0 trunk prefix

INTERNATIONAL = ("plain_international", "double_zero", "wa_me")
OBSCURED = frozenset({"letters", "mixed_words", "words_nl", "words_en", "dots", "emoji"})
EMOJI = ("\U0001f48b", "\U0001f525", "\u2764\ufe0f", "\u2728")


@dataclass(frozen=True)
class Number:
    country: str
    nsn: str  # national significant number (no trunk prefix)

    @property
    def e164(self) -> str:
        return f"+{CALLING_CODES[self.country]}{self.nsn}"

    @property
    def national(self) -> str:
        return ("0" if self.country in _TRUNK else "") + self.nsn

    def plus(self, offset: int) -> Number:
        """The number ``offset`` further on: bulk-bought SIMs come in consecutive runs."""
        return Number(self.country, str(int(self.nsn) + offset).zfill(len(self.nsn)))


def random_number(rng: random.Random, country: str, room: int = 0) -> Number:
    """A mobile number; ``room`` keeps the last digit low enough for a consecutive run."""
    prefixes, tail = _MOBILE[country]
    digits = [str(rng.randrange(10)) for _ in range(tail - 1)]
    digits.append(str(rng.randrange(10 - room)))
    return Number(country, rng.choice(prefixes) + "".join(digits))


def pick_country(rng: random.Random) -> str:
    total = sum(w for _, w in COUNTRY_WEIGHTS)
    x = rng.randrange(total)
    for country, weight in COUNTRY_WEIGHTS:
        if x < weight:
            return country
        x -= weight
    return "NL"


def methods_for(number: Number, site_country: str, lang: str) -> tuple[str, ...]:
    """Written forms that stay unambiguous on a site of ``site_country``.

    A national form is only used when the number belongs to the site's own country:
    elsewhere a reader could not tell which country a bare ``06…`` means.
    """
    intl = INTERNATIONAL
    if number.country != site_country:
        return intl + (("trunk",) if number.country in _TRUNK else ())
    national = ["plain_national", "separators", "dots", "emoji", "letters",
                "words_en" if lang == "en" else "words_nl"]
    if number.country == "NL":
        national.append("mixed_words")
    if number.country in _TRUNK:
        national.append("trunk")
    return intl + tuple(national)


def write(number: Number, method: str, rng: random.Random) -> str:
    """The number as an ad writes it with ``method``."""
    cc, nat = CALLING_CODES[number.country], number.national
    if method == "plain_national":
        return nat
    if method == "plain_international":
        return f"+{cc} {_groups(number.nsn)}"
    if method == "separators":
        return f"{nat[:2]}-{_pairs(nat[2:])}"
    if method == "trunk":
        nsn = number.nsn
        return f"+{cc} (0){nsn[0]} {nsn[1:5]} {nsn[5:]}"
    if method == "double_zero":
        return f"00{cc}{number.nsn}"
    if method == "wa_me":
        return f"wa.me/{cc}{number.nsn}"
    if method == "letters":
        return nat[:2].replace("0", "O").replace("1", "I") + " " + (
            nat[2:].replace("1", "I").replace("0", "O"))
    if method in ("words_nl", "words_en"):
        words = DIGIT_WORDS[method[-2:]]
        return " ".join(words[int(d)] for d in nat)
    if method == "dots":
        return ".".join(nat)
    if method == "emoji":
        sep = rng.choice(EMOJI)
        return sep.join(nat[i:i + 2] for i in range(0, len(nat), 2))
    if method == "mixed_words":
        return _mixed_words(nat, rng)
    raise ValueError(f"unknown phone writing method {method!r}")


def _pairs(digits: str) -> str:
    return " ".join(digits[i:i + 2] for i in range(0, len(digits), 2))


def _groups(nsn: str) -> str:
    return nsn[:3] + " " + _pairs(nsn[3:])


def _mixed_words(nat: str, rng: random.Random) -> str:
    """``06 twaalf 34 56 78``: one pair of digits written as a Dutch number word."""
    pairs = [nat[i:i + 2] for i in range(2, len(nat), 2)]
    spots = [i for i, p in enumerate(pairs) if p[0] != "0"]
    if not spots:  # every pair starts with 0: no number word fits, write it with dashes
        return f"{nat[:2]}-{_pairs(nat[2:])}"
    k = rng.choice(spots)
    pairs[k] = dutch_number(int(pairs[k]))
    return nat[:2] + " " + " ".join(pairs)


def dutch_number(n: int) -> str:
    """10..99 as a Dutch word (``tweeëntwintig``)."""
    if not 10 <= n <= 99:
        raise ValueError(f"dutch_number handles 10..99, not {n}")
    if n < 20:
        return NL_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return NL_TENS[tens]
    word = DIGIT_WORDS["nl"][unit]
    return word + ("ën" if word.endswith("e") else "en") + NL_TENS[tens]
