"""Typed attributes read from an ad: age, price with its unit of time, languages spoken,
nationality or ethnicity, the name the advertiser uses, services.

Word lists live in ``data/lexicon.yaml``; this module only compiles them, once, into a few
large regular expressions, because the crawler enriches every page it fetches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from indexer.enrich.trie import trie_pattern
from indexer.model import Attribute, Span

LEXICON_PATH = Path(__file__).parent / "data" / "lexicon.yaml"

_AGE = re.compile(
    r"\b(\d{2})\s*(?:-\s*)?(?:jaar|jr|years?(?:\s*old)?|yrs?|y\.?o\b\.?|jahre|jährige[rs]?|"
    r"de\s+ani|ani|años|ans|anni|lat)\b"
    r"|\b(?:leeftijd|age|alter|v[âa]rst[aă]|edad|âge|wiek|ik\s+ben|i\s+am|ich\s+bin)\s*[:=]?\s*(\d{2})\b"
    r"(?!\s*(?:cm|kg|€|euro|min|uur|h\b|/|[.,]\d))"
    r"|(?<=[a-zß-ÿ])\s*\((\d{2})\)",  # "Mila (24)"
    re.IGNORECASE,
)
_CURRENCY = r"€|eur(?:o|os)?|lei|ron|leva|лв|zł|pln|huf|ft|chf|£|gbp|\$"
_PRICE = re.compile(
    r"(?:(?P<cur1>" + _CURRENCY + r")\s*(?P<amt1>\d{2,4})(?:[.,](?:-|00))?(?!\d)"
    r"|(?<![\d.,])(?P<amt2>\d{2,4})(?:[.,](?:-|00))?\s*(?P<cur2>" + _CURRENCY + r"))(?![\w])",
    re.IGNORECASE,
)
_UNIT = re.compile(
    r"(?P<min>\d{1,3})\s*(?:min|mins|minuten|minutes|minute|minuti)\b"
    r"|(?P<half>half\s*uur|half\s*(?:an\s*)?hour|halbe\s*stunde|1/2\s*(?:uur|u|h|hour|std))"
    r"|(?P<hours>\d)\s*(?:uur|uren|hours?|h|std|stunden?|ore|ora|oră)\b"
    r"|(?P<hour>\b(?:per|p|pro|an|the|a|één|een|1)?\s*/?\s*(?:uur|u|hour|hr|h|stunde|std|oră|ora)\b)"
    r"|(?P<night>\b(?:nacht|night|overnight|noapte|nachts)\b)",
    re.IGNORECASE,
)
_CURRENCY_CODES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "lei": "RON",
                   "ron": "RON", "leva": "BGN", "лв": "BGN", "zł": "PLN", "pln": "PLN",
                   "huf": "HUF", "ft": "HUF", "chf": "CHF", "£": "GBP", "gbp": "GBP", "$": "USD"}


@dataclass(frozen=True)
class Lexicon:
    languages: re.Pattern[str]
    language_codes: dict[str, str]
    language_cue: re.Pattern[str]
    nationalities: re.Pattern[str]
    nationality_codes: dict[str, str]
    services: re.Pattern[str]
    service_codes: dict[str, str]
    names: re.Pattern[str]
    not_names: frozenset[str]
    version: str


def _alternation(words: list[str]) -> str:
    """A trie-shaped alternation (fast on long lists); one space matches any run of spaces."""
    return trie_pattern(str(w).lower() for w in words).replace(r"\ ", r"\s+")


def _inverse(mapping: dict[str, list[str]]) -> dict[str, str]:
    return {str(w).lower(): key for key, words in mapping.items() for w in words}


@functools.lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """Compile the lexicon once per process (the file is small; the regexes are not)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    langs = _inverse(data["languages"])
    nats = _inverse(data["nationalities"])
    servs = _inverse(data["services"])
    word = r"(?<![\w.@/-])(?:{})(?![\w@/-]|\.\w)"  # not inside kim.dutch or a URL
    return Lexicon(
        languages=re.compile(word.format(_alternation(list(langs))), re.I),
        language_codes=langs,
        language_cue=re.compile(word.format(_alternation(data["language_cues"])), re.I),
        nationalities=re.compile(word.format(_alternation(list(nats))), re.I),
        nationality_codes=nats,
        services=re.compile(word.format(_alternation(list(servs))), re.I),
        service_codes=servs,
        names=re.compile(r"(?<!\w)(?i:(?P<cue>" + _alternation(data["name_cues"]) + r"))"
                         r"\s*(?P<name>[A-ZÀ-Þ][a-zß-ÿ]{1,19}|(?<=:)\s*[a-zß-ÿ]{2,20})\b"),
        not_names=frozenset(str(w).lower() for w in data["not_names"]),
        version=str(data.get("version", "")),
    )


def _span(m: re.Match[str], group: int | str = 0) -> Span:
    return Span(m.start(group), m.end(group), m.group(group))


def find_ages(text: str) -> Iterator[Attribute]:
    for m in _AGE.finditer(text):
        group = next(g for g in (1, 2, 3) if m.group(g))
        age = int(m.group(group))
        if 12 <= age <= 79:
            yield Attribute("age", str(age), "years", _span(m))


def _price_unit(text: str, start: int, end: int) -> str:
    """The unit of time nearest to a price on the same line (after it wins a tie)."""
    after = text[end:end + 24].split("\n", 1)[0]
    before = text[max(0, start - 24):start].rsplit("\n", 1)[-1]
    m_after = _UNIT.search(after)
    befores = list(_UNIT.finditer(before))
    m_before = befores[-1] if befores else None
    d_after = m_after.start() if m_after else 99
    d_before = len(before) - m_before.end() if m_before else 99
    m = m_after if d_after <= d_before else m_before
    if m is None or min(d_after, d_before) > 12:
        return ""
    if m.group("min"):
        return f"{int(m.group('min'))}min"
    if m.group("half"):
        return "30min"
    if m.group("hours"):
        return f"{int(m.group('hours'))}h"
    return "night" if m.group("night") else "1h"


def find_prices(text: str) -> Iterator[Attribute]:
    for m in _PRICE.finditer(text):
        amount = m.group("amt1") or m.group("amt2")
        cur = (m.group("cur1") or m.group("cur2")).lower()
        unit = _price_unit(text, m.start(), m.end())
        yield Attribute("price", f"{int(amount)} {_CURRENCY_CODES.get(cur, cur.upper())}", unit, _span(m))


def _language_windows(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    windows = []
    for m in lex.language_cue.finditer(text):
        line_end = text.find("\n", m.end())
        end = min(m.end() + 60, line_end if line_end >= 0 else len(text))
        stop = text.find(".", m.end(), end)
        windows.append((m.start(), stop if stop >= 0 else end))
    return windows


def find_languages_and_nationalities(text: str, lex: Lexicon) -> Iterator[Attribute]:
    windows = _language_windows(text, lex)
    in_window: set[int] = set()
    for start, end in windows:
        for m in lex.languages.finditer(text, start, end):
            in_window.add(m.start())
            yield Attribute("language", lex.language_codes[m.group().lower()], "", _span(m))
    for m in lex.nationalities.finditer(text):
        if m.start() not in in_window:
            key = re.sub(r"\s+", " ", m.group().lower())
            yield Attribute("nationality", lex.nationality_codes[key], "", _span(m))


def find_names(text: str, lex: Lexicon) -> Iterator[Attribute]:
    for m in lex.names.finditer(text):
        name = m.group("name").strip()
        if name.lower() in lex.not_names:
            continue
        start = m.start("name") + (len(m.group("name")) - len(m.group("name").lstrip()))
        yield Attribute("name", name.capitalize(), "", Span(start, start + len(name), name))


def find_services(text: str, lex: Lexicon) -> Iterator[Attribute]:
    for m in lex.services.finditer(text):
        key = re.sub(r"\s+", " ", m.group().lower())
        yield Attribute("service", lex.service_codes[key], "", _span(m))


def find_attributes(text: str, lex: Lexicon | None = None) -> list[Attribute]:
    """All attributes, first occurrence of each (kind, value, unit)."""
    lex = lex or load_lexicon()
    out: dict[tuple[str, str, str], Attribute] = {}
    for gen in (find_names(text, lex), find_ages(text), find_prices(text),
                find_languages_and_nationalities(text, lex), find_services(text, lex)):
        for attr in gen:
            out.setdefault((attr.kind, attr.value, attr.unit), attr)
    return list(out.values())
