"""Request args and typed query text → Query: the first of the three search stages.

Query syntax (what analysts know from other search tools):
  words            all must match (AND)
  "a phrase"       words in this order
  a OR b           either (OR binds tighter than the implicit AND)
  -word, -"p"      exclude
  pref*            prefix
  field:value      phone: site: theme: city: province: indicator: lang: email: handle: url: signal:
                   (value may be quoted: city:"den haag"; -field:value excludes)
A phone number typed in any format (06-12345678, +31 6 1234 5678, 0031612345678) is
normalised to E.164 (default region NL) so it matches the enriched number. Everything the
analyst can get wrong raises QueryError with a message saying what and where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import phonenumbers

from indexer.search.query import (
    FACETS,
    MAX_PER_PAGE,
    RISK_BANDS,
    SORTS,
    Clause,
    Query,
    QueryError,
    Term,
)

FIELDS: tuple[str, ...] = (
    "phone", "site", "theme", "city", "province", "indicator", "lang", "email", "handle", "url",
    "signal",
)
DEFAULT_REGION = "NL"
_PHONE_CHARS = re.compile(r"^[+(]?[\d()\-./]+$")
_TOKEN = re.compile(r'\s+|-?[A-Za-z_]+:"[^"]*"|-?"[^"]*"|"|[^\s"]+')


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a number typed any way, or None if it is not a possible phone number."""
    digits = re.sub(r"[^\d+]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        num = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def normal_identifier(kind: str, value: str) -> str:
    """An identifier as the stores keep it: trimmed, and a phone number typed any way in
    E.164 (one rule for both backends' lookups and corrections)."""
    value = value.strip()
    return (normalize_phone(value) or value) if kind == "phone" else value


def parse_text(text: str) -> tuple[Clause, ...]:
    """The query text as clauses (AND) of terms (OR)."""
    tokens = _tokenize(text)
    clauses: list[list[Term]] = []
    pending_or = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "OR":
            if not clauses or pending_or:
                raise QueryError(f"'OR' needs a term on both sides in {text!r}")
            pending_or = True
            i += 1
            continue
        term, i = _term(tokens, i)
        if term is None:
            continue
        if pending_or:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        pending_or = False
    if pending_or:
        raise QueryError(f"'OR' needs a term on both sides in {text!r}")
    return tuple(Clause(tuple(ts)) for ts in clauses)


def _tokenize(text: str) -> list[str]:
    if len(text) > 2000:
        raise QueryError("query text is longer than 2000 characters")
    tokens = [t for t in _TOKEN.findall(text) if t.strip()]
    if '"' in tokens:
        raise QueryError(f"unbalanced quote in {text!r}: close every \" you open")
    return tokens


def _term(tokens: list[str], i: int) -> tuple[Term | None, int]:
    """One term from tokens[i:], and the index after it (a phone may span several tokens)."""
    tok = tokens[i]
    negate = tok.startswith("-") and len(tok) > 1
    body = tok[1:] if negate else tok
    m = re.match(r"^([A-Za-z_]+):(.*)$", body)
    if m and not m.group(2).startswith("//"):
        return _field_term(m.group(1).lower(), m.group(2), negate, tokens, i)
    if not negate:
        phone, j = _phone_run(tokens, i)
        if phone:
            return Term("word", phone, field="phone"), j
    if body.startswith('"'):
        value = body.strip('"').strip()
        return (Term("phrase", value, negate=negate) if _has_word(value) else None), i + 1
    if body.endswith("*"):
        value = body.rstrip("*")
        return (Term("prefix", value, negate=negate) if _has_word(value) else None), i + 1
    return (Term("word", body, negate=negate) if _has_word(body) else None), i + 1


def _field_term(name: str, raw: str, negate: bool, tokens: list[str],
                i: int) -> tuple[Term | None, int]:
    if name not in FIELDS:
        raise QueryError(f"unknown field {name!r} in {tokens[i]!r}; fields: {', '.join(FIELDS)}")
    value = raw.strip('"').strip()
    j = i + 1
    if name == "phone":
        while j < len(tokens) and _PHONE_CHARS.match(tokens[j]):
            value += tokens[j]
            j += 1
        e164 = normalize_phone(value)
        if e164 is None:
            raise QueryError(f"phone:{value} is not a phone number")
        return Term("word", e164, field="phone", negate=negate), j
    if not value:
        raise QueryError(f"{tokens[i]!r}: a field needs a value, e.g. {name}:something")
    kind = "prefix" if value.endswith("*") and len(value) > 1 else "word"
    return Term(kind, value.rstrip("*") if kind == "prefix" else value, field=name, negate=negate), j


def _phone_run(tokens: list[str], i: int) -> tuple[str | None, int]:
    """A bare phone number typed across tokens (``+31 6 1234 5678``), if it is one.

    Tries the longest run of number-like tokens first, so ``06 1234 5678`` is one number.
    """
    j = i
    while j < len(tokens) and j - i < 6 and _PHONE_CHARS.match(tokens[j]):
        j += 1
    for end in range(j, i, -1):
        text = "".join(tokens[i:end])
        if text.startswith(("+", "0", "(")) and len(re.sub(r"\D", "", text)) >= 9:
            phone = normalize_phone(text)
            if phone:
                return phone, end
    return None, i


def _has_word(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


# --------------------------------------------------------------------------- request args
def _getlist(args: Mapping[str, str | list[str]], key: str) -> list[str]:
    getlist = getattr(args, "getlist", None)
    if callable(getlist):
        return [str(v) for v in getlist(key)]
    value = args.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _one(args: Mapping[str, str | list[str]], key: str) -> str:
    values = _getlist(args, key)
    return values[0].strip() if values else ""


def _date(args: Mapping[str, str | list[str]], key: str) -> date | None:
    raw = _one(args, key)
    return _iso_day(raw, key) if raw else None


def _iso_day(raw: str, key: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"{key}={raw!r} is not a date: use YYYY-MM-DD") from None


def _int(args: Mapping[str, str | list[str]], key: str, default: int, hi: int) -> int:
    raw = _one(args, key)
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= hi:
        raise QueryError(f"{key}={raw!r} must be a whole number from 1 to {hi}")
    return int(raw)


def _filters(args: Mapping[str, str | list[str]]) -> dict[str, tuple[str, ...]]:
    filters: dict[str, tuple[str, ...]] = {}
    for key in args:
        if not key.startswith("f."):
            continue
        facet = key[2:]
        if facet not in FACETS:
            raise QueryError(f"unknown filter {key!r}; filters: {', '.join('f.' + f for f in FACETS)}")
        values = [v.strip() for v in _getlist(args, key) if v.strip()]
        if facet == "phone":
            values = [normalize_phone(v) or v for v in values]
        if facet == "risk":
            bands = {b[0] for b in RISK_BANDS}
            bad = [v for v in values if v not in bands]
            if bad:
                raise QueryError(f"f.risk={bad[0]!r}: risk bands are {', '.join(sorted(bands))}")
        if facet == "first_seen":
            for v in values:
                _iso_day(v, key)
        if values:
            filters[facet] = tuple(dict.fromkeys(values))
    return filters


def parse_args(args: Mapping[str, str | list[str]]) -> Query:
    """Request args (a dict, a dict of lists or a Werkzeug MultiDict) → Query."""
    text = _one(args, "q")
    sort = _one(args, "sort") or "relevance"
    if sort not in SORTS:
        raise QueryError(f"sort={sort!r}: choose one of {', '.join(SORTS)}")
    q = Query(
        text=text,
        clauses=parse_text(text),
        filters=_filters(args),
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        as_of=_date(args, "as_of"),
        sort=sort,
        page=_int(args, "page", 1, 10_000),
        per_page=_int(args, "per_page", 20, MAX_PER_PAGE),
    )
    if q.date_from and q.date_to and q.date_from > q.date_to:
        raise QueryError(f"from={q.date_from} is after to={q.date_to}")
    return q


def query_to_args(q: Query) -> list[tuple[str, str]]:
    """The URL args that parse back to the same Query (defaults left out)."""
    out: list[tuple[str, str]] = []
    if q.text:
        out.append(("q", q.text))
    for facet in FACETS:
        out += [(f"f.{facet}", v) for v in q.filters.get(facet, ())]
    for key, d in (("from", q.date_from), ("to", q.date_to), ("as_of", q.as_of)):
        if d:
            out.append((key, d.isoformat()))
    if q.sort != "relevance":
        out.append(("sort", q.sort))
    if q.page != 1:
        out.append(("page", str(q.page)))
    if q.per_page != 20:
        out.append(("per_page", str(q.per_page)))
    return out


def with_text(q: Query, text: str) -> Query:
    """The same query with new text, parsed, back on page 1."""
    return replace(q, text=text, clauses=parse_text(text), page=1)
