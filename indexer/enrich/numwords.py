"""Numbers written as words (Dutch, English, German), for phone numbers hidden that way.

Advertisers write ``06 twaalf 34 56 78`` or ``zes een twee …`` so that simple scrapers
miss the number. Each word maps to the digit string it stands for; Dutch and English
compounds (``vierendertig``, ``thirty-four``) are generated rather than listed.
"""

from __future__ import annotations

_NL_UNITS = ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]
_NL_TEENS = ["tien", "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien",
             "zeventien", "achttien", "negentien"]
_NL_TENS = {2: "twintig", 3: "dertig", 4: "veertig", 5: "vijftig", 6: "zestig",
            7: "zeventig", 8: "tachtig", 9: "negentig"}
_EN_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_EN_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
             "seventeen", "eighteen", "nineteen"]
_EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy",
            8: "eighty", 9: "ninety"}
_DE_UNITS = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
_DE_TEENS = ["zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn",
             "siebzehn", "achtzehn", "neunzehn"]


def _build() -> dict[str, str]:
    words: dict[str, str] = {}
    for units, teens in ((_NL_UNITS, _NL_TEENS), (_EN_UNITS, _EN_TEENS), (_DE_UNITS, _DE_TEENS)):
        for i, w in enumerate(units):
            words[w] = str(i)
        for i, w in enumerate(teens):
            words[w] = str(10 + i)
    words.update({"één": "1", "oh": "0", "nought": "0", "ein": "1", "zwo": "2"})
    for tens, word in _NL_TENS.items():
        words[word] = f"{tens}0"
        for u in range(1, 10):
            joiner = "ën" if _NL_UNITS[u].endswith("e") else "en"
            words[f"{_NL_UNITS[u]}{joiner}{word}"] = f"{tens}{u}"
            words[f"{_NL_UNITS[u]}en{word}"] = f"{tens}{u}"
    for tens, word in _EN_TENS.items():
        words[word] = f"{tens}0"
        for u in range(1, 10):
            words[f"{word}-{_EN_UNITS[u]}"] = f"{tens}{u}"
            words[f"{word}{_EN_UNITS[u]}"] = f"{tens}{u}"
    return words


NUMBER_WORDS: dict[str, str] = _build()

# Words that are also everyday words; they count as digits only inside a run of other
# digits or number words, never on their own at the start of a run.
WEAK_WORDS = frozenset({"een", "one", "oh", "ein", "elf", "acht", "null", "vier"})
