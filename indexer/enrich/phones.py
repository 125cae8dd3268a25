"""Phone numbers as advertisers hide them, normalised to E.164.

Why a hand-written scanner and not ``phonenumbers.PhoneNumberMatcher``: the matcher
finds numbers written the usual way, but ads hide them on purpose (``O6 I2345678``,
``06 twaalf 34 56 78``, ``0.6.1.2…``, digits split by emoji, ``wa.me/31612345678``).
The scanner reads the text as a stream of *units* (digit groups, digits with letters
for digits, number words) joined by *separators* (spaces, dots, dashes, emoji …) and
cuts each run of units into the longest valid numbers. ``phonenumbers`` decides what
is valid, with the source's country as the default region.

False friends are kept out by rule, not by luck: a number must carry a trunk prefix
(``0…``), an international prefix (``+``/``00``) or come from a link; dates and
numbers after ``id``/``ref``/``#`` are never read; ``:`` and currency signs break runs,
so times and prices do not join up into numbers.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import phonenumbers

from indexer.enrich.numwords import NUMBER_WORDS, WEAK_WORDS
from indexer.enrich.trie import trie_pattern
from indexer.model import Phone, Span

_TOKEN = re.compile(
    r"(?P<mixed>(?<![^\W_])(?=[\dOoIl]*\d)[\dOoIl]+(?![^\W_]))"
    r"|(?P<digits>\d+)"
    r"|(?P<word>[^\W\d_]+(?:-[^\W\d_]+)*)"
    r"|(?P<plus>\+)"
    r"|(?P<other>[^\w+])"
)
_INNER_SEP = frozenset(" \t\u00a0\u202f-./(),_*|~·•'‑–—")
_PLAIN_SEP = frozenset(" \t\u00a0\u202f-/().")  # dots between groups: normal in BE
_ZERO_WIDTH_CATS = frozenset({"Mn", "Me", "Cf", "Sk"})
_EMOJI_CATS = frozenset({"So", "Sk", "Cf", "Me", "Mn", "Co", "Cs"})
_LINK = re.compile(
    r"(?:wa\.me/|api\.whatsapp\.com/send/?\?phone=|whatsapp://send\?phone=|t\.me/|"
    r"telegram\.me/|tel:|viber://chat\?number=)(\+|%2B)?(\d[\d\s\-]{5,18}\d)",
    re.IGNORECASE,
)
_EXCLUDE_BEFORE = re.compile(
    r"(?:\b(?:id|ref|referentie|reference|advertentie(?:nummer)?|ad|kvk|iban|btw|bsn|order|"
    r"anzeige|nummer\s+advertentie)\s*(?:nr|no)?\.?\s*[:#.]?\s*|#\s*|№\s*)$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{1,2}\s*[-./]\s*\d{1,2}\s*[-./]\s*(?:19|20)?\d{2}$")
_MAX_GAP = 3
_KNOWN_REGIONS = frozenset(
    ["NL", "BE", "DE", "FR", "LU", "GB", "IE", "ES", "PT", "IT", "AT", "CH", "DK", "SE", "NO", "FI", "PL", "CZ", "SK", "HU", "RO", "BG", "GR", "HR", "SI", "RS", "UA", "MD", "RU", "LT", "LV", "EE", "AL", "MK", "BA", "ME", "TR", "MA", "NG", "BR", "CO", "VE", "DO", "TH", "CN", "VN", "PH"]
)
_OBSCURING = frozenset({"words", "letters", "emoji", "split", "separators"})


_WORDS_RE = re.compile(
    r"\b(?:" + trie_pattern(w for w in NUMBER_WORDS if "-" not in w and len(w) > 2) + r")\b",
    re.IGNORECASE)


_SEED = re.compile(r"\d+|" + _WORDS_RE.pattern, re.IGNORECASE)
_MARGIN = 40
_DIGIT = re.compile(r"\d")


@dataclass
class _Unit:
    start: int
    end: int
    digits: str
    kind: str  # digits | mixed | word
    gap: str  # separator text between the previous unit and this one


@dataclass
class _Run:
    units: list[_Unit]
    plus_at: int  # offset of a leading '+', or -1


def _decimal(chars: str) -> str:
    """Any Unicode decimal digit (fullwidth, maths bold, Arabic-Indic …) to ASCII."""
    if chars.isascii():
        return chars
    return "".join(str(unicodedata.decimal(c, 0)) if c.isdigit() else c for c in chars)


def _mixed_digits(token: str) -> str:
    return _decimal(token).translate(str.maketrans("OoIl", "0011"))


def _word_units(token: str, start: int) -> list[_Unit] | None:
    """A number word (or hyphenated run of them) as units, or None if it is a plain word."""
    low = token.lower()
    if low in NUMBER_WORDS:
        return [_Unit(start, start + len(token), NUMBER_WORDS[low], "word", "")]
    if "-" not in low:
        return None
    units, pos = [], start
    for part in token.split("-"):
        value = NUMBER_WORDS.get(part.lower())
        if value is None:
            return None
        units.append(_Unit(pos, pos + len(part), value, "word", "-" if units else ""))
        pos += len(part) + 1
    return units


def _gap_ok(gap: str) -> bool:
    visible = [c for c in gap if unicodedata.category(c) not in _ZERO_WIDTH_CATS]
    if len(visible) > _MAX_GAP:
        return False
    return all(c in _INNER_SEP or unicodedata.category(c) in _EMOJI_CATS for c in visible)


def _plus_before(text: str, start: int) -> int:
    """Offset of a '+' written just before a unit (``+31``, ``+ (31)``), or -1."""
    idx = start - 1
    while idx >= 0 and text[idx] in " \t(":
        idx -= 1
    return idx if idx >= 0 and text[idx] == "+" and start - idx <= 3 else -1


def _windows(text: str) -> list[tuple[int, int]]:
    """Stretches of text around digits and number words; the rest cannot hold a number.

    Scanning only these keeps the per-token Python loop off the prose that makes up most
    of an ad. A run's separators are at most a few characters, so the margin keeps every
    run whole.
    """
    windows: list[list[int]] = []
    for m in _SEED.finditer(text):
        start, end = max(0, m.start() - _MARGIN), m.end() + _MARGIN
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [(s, min(e, len(text))) for s, e in windows]


def _runs(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[_Run]:
    """Maximal runs of digit-like units joined only by short separators."""
    run: list[_Unit] = []
    for m in _TOKEN.finditer(text, pos, len(text) if endpos is None else endpos):
        kind = m.lastgroup
        if kind == "other":
            continue
        units: list[_Unit] | None = None
        if kind == "digits":
            units = [_Unit(m.start(), m.end(), _decimal(m.group()), "digits", "")]
        elif kind == "mixed":
            tok = m.group()
            mixed = "mixed" if any(c in "OoIl" for c in tok) else "digits"
            units = [_Unit(m.start(), m.end(), _mixed_digits(tok), mixed, "")]
        elif kind == "word":
            units = _word_units(m.group(), m.start())
        if not units:  # a plain word or a '+': the run ends here
            if run:
                yield _Run(run, _plus_before(text, run[0].start))
                run = []
            continue
        gap = text[run[-1].end:m.start()] if run else ""
        if run and _gap_ok(gap):
            units[0].gap = gap
            run.extend(units)
            continue
        if run:
            yield _Run(run, _plus_before(text, run[0].start))
        run = units
    if run:
        yield _Run(run, _plus_before(text, run[0].start))


def _is_trunk_in_parens(units: Sequence[_Unit], k: int) -> bool:
    """The ``(0)`` in ``+31 (0)6 …``: dropped once a country code has been written."""
    return (k > 0 and units[k].digits == "0" and "(" in units[k].gap
            and k + 1 < len(units) and ")" in units[k + 1].gap)


@functools.lru_cache(maxsize=8192)
def _parse(digits: str, intl: bool, region: str, bare_ok: bool) -> phonenumbers.PhoneNumber | None:
    """The valid number ``digits`` stand for, or None. Cached: phonenumbers' parsing and
    checks cost more than the rest of finding phones, and the same candidates recur (a
    number on many ads, each of its prefixes tried longest first). The result is shared
    between callers, who only read it."""
    try:
        if intl:
            num = phonenumbers.parse("+" + digits)
        elif digits.startswith("00"):
            num = phonenumbers.parse("+" + digits[2:])
        elif digits.startswith("0"):
            num = phonenumbers.parse(digits, region or "NL")
        elif bare_ok and len(digits) >= 11:
            num = phonenumbers.parse("+" + digits)
            if phonenumbers.number_type(num) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                       phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
                return None
        else:
            return None
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    if phonenumbers.region_code_for_number(num) not in _KNOWN_REGIONS and not intl:
        return None
    return num


def _mobile(num: phonenumbers.PhoneNumber | None) -> phonenumbers.PhoneNumber | None:
    """Only a mobile number may be read from words with its trunk 0 left out: counting
    "three four five …" must not become a landline."""
    mobile = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return num if num is not None and phonenumbers.number_type(num) in mobile else None


def _methods(units: Sequence[_Unit]) -> tuple[str, ...]:
    methods: list[str] = []
    if any(u.kind == "word" for u in units):
        methods.append("words")
    if any(u.kind == "mixed" for u in units):
        methods.append("letters")
    gaps = "".join(u.gap for u in units[1:])
    if any(unicodedata.category(c) in _EMOJI_CATS for c in gaps):
        methods.append("emoji")
    if len(units) >= 7:
        methods.append("split")
    if any(c not in _PLAIN_SEP and unicodedata.category(c) not in _EMOJI_CATS for c in gaps):
        methods.append("separators")
    return tuple(methods) or ("plain",)


def _excluded(text: str, start: int, raw: str) -> bool:
    if _DATE.match(raw):
        return True
    return bool(_EXCLUDE_BEFORE.search(text[max(0, start - 30):start]))


def _numbers_in_run(text: str, run: _Run, region: str) -> Iterator[Phone]:
    units, n, i = run.units, len(run.units), 0
    while i < n:
        found = None
        intl = run.plus_at >= 0 and i == 0
        digits, ends = "", []
        for j in range(i, n):
            if not (intl and _is_trunk_in_parens(units, j)):
                digits += units[j].digits
            if len(digits) > 15:
                break
            ends.append((j, digits))
        for j, cand in reversed(ends):
            if len(cand) < 8:
                break
            num = _parse(cand, intl, region, bare_ok=units[i].kind == "digits")
            if num is None and all(u.kind == "word" for u in units[i:j + 1]):
                num = _mobile(_parse("0" + cand, False, region, False))  # "zes een twee …"
            if num is not None:
                found = (j, num)
                break
        if found is None or (units[i].kind == "word" and units[i].digits in _weak_values(units, i)):
            i += 1
            continue
        j, num = found
        start = run.plus_at if intl else units[i].start
        raw = text[start:units[j].end]
        if not _excluded(text, start, raw):
            methods = _methods(units[i:j + 1])
            yield _phone(num, raw, methods, start, units[j].end)
        i = j + 1


def _weak_values(units: Sequence[_Unit], i: int) -> set[str]:
    """A weak word (``een``, ``one``) may not open a number unless words follow it."""
    word = units[i]
    nxt = units[i + 1] if i + 1 < len(units) else None
    if nxt is not None and nxt.kind == "word":
        return set()
    return {NUMBER_WORDS[w] for w in WEAK_WORDS if NUMBER_WORDS[w] == word.digits}


def _phone(num: phonenumbers.PhoneNumber, raw: str, methods: tuple[str, ...],
           start: int, end: int) -> Phone:
    return Phone(
        e164=phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
        raw=raw,
        country=phonenumbers.region_code_for_number(num) or "",
        methods=methods,
        span=Span(start, end, raw),
    )


def _link_phones(text: str, region: str) -> Iterator[Phone]:
    for m in _LINK.finditer(text):
        digits = re.sub(r"\D", "", m.group(2))
        num = _parse(digits, bool(m.group(1)) or not digits.startswith("0"), region, True)
        if num is not None:
            yield _phone(num, m.group(), ("link",), m.start(), m.end())


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\n" * (end - start)
    return "".join(chars)


def find_phones(text: str, country: str, masked: Sequence[tuple[int, int]] = ()) -> list[Phone]:
    """Every phone number in ``text``, first occurrence of each E.164 number only.

    ``masked`` spans (URLs, e-mail addresses) are not scanned for hidden numbers;
    links such as ``wa.me/…`` are read before masking.
    """
    region = (country or "NL").upper()
    region = "GB" if region == "UK" else region
    found: dict[str, Phone] = {}
    for phone in _link_phones(text, region):
        found.setdefault(phone.e164, phone)
    if not _DIGIT.search(text) and not _has_number_word(text):
        return sorted(found.values(), key=_span_start)
    scan = _mask(text, masked)
    runs = (run for start, end in _windows(scan) for run in _runs(scan, start, end))
    for run in runs:
        if sum(len(u.digits) for u in run.units) < 8:
            continue
        for phone in _numbers_in_run(text, run, region):
            prev = found.get(phone.e164)
            if prev is None or _span_start(phone) < _span_start(prev):
                found[phone.e164] = phone
    return sorted(found.values(), key=_span_start)


def _span_start(p: Phone) -> int:
    return p.span.start if p.span else 0


def _has_number_word(text: str) -> bool:
    return _WORDS_RE.search(text) is not None


def is_obscured(phone: Phone) -> bool:
    """Whether the number was hidden on purpose (a validated risk indicator)."""
    return bool(_OBSCURING.intersection(phone.methods))
