"""The query parser: typed text and request args → Query, and back to URL args."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.search.parse import normalize_phone, parse_args, parse_text, query_to_args
from indexer.search.query import Clause, Query, QueryError, Term


def terms(text: str) -> list[list[tuple]]:
    return [[(t.kind, t.value, t.field, t.negate) for t in c.terms] for c in parse_text(text)]


def test_words_phrases_prefix_and_exclusion():
    assert terms('girl "new in town" mass* -agency -"only today"') == [
        [("word", "girl", "", False)],
        [("phrase", "new in town", "", False)],
        [("prefix", "mass", "", False)],
        [("word", "agency", "", True)],
        [("phrase", "only today", "", True)],
    ]


def test_or_groups_neighbours_into_one_clause():
    assert terms("a OR b c OR d OR e") == [
        [("word", "a", "", False), ("word", "b", "", False)],
        [("word", "c", "", False), ("word", "d", "", False), ("word", "e", "", False)],
    ]
    assert terms("cats or dogs") == [[("word", "cats", "", False)], [("word", "or", "", False)],
                                     [("word", "dogs", "", False)]]


def test_fields_with_plain_quoted_and_prefix_values():
    assert terms('city:"den haag" -site:alpha indicator:you* lang:NL') == [
        [("word", "den haag", "city", False)],
        [("word", "alpha", "site", True)],
        [("prefix", "you", "indicator", False)],
        [("word", "NL", "lang", False)],
    ]


@pytest.mark.parametrize("typed", [
    "06-12345678", "06 12 34 56 78", "+31 6 1234 5678", "0031612345678", "+31 (0)6 12345678",
    "phone:0612345678", 'phone:"+31 6 12 34 56 78"', "phone:06 1234 5678",
])
def test_phone_numbers_in_any_format_become_e164(typed):
    assert terms(typed) == [[("word", "+31612345678", "phone", False)]]


def test_a_phone_number_next_to_words_and_years():
    assert terms("escort 06-12345678 2024") == [
        [("word", "escort", "", False)], [("word", "+31612345678", "phone", False)],
        [("word", "2024", "", False)]]
    assert normalize_phone("+32 470 12 34 56") == "+32470123456"
    assert normalize_phone("12") is None


def test_urls_and_punctuation_are_plain_text():
    assert terms("http://example.test/x & ...") == [[("word", "http://example.test/x", "", False)]]
    assert parse_text("   ") == ()


@pytest.mark.parametrize(("text", "message"), [
    ('"new in town', "unbalanced quote"),
    ('city:"utrecht', "unbalanced quote"),
    ("colour:red", "unknown field 'colour'"),
    ("OR girl", "'OR' needs a term"),
    ("girl OR", "'OR' needs a term"),
    ("a OR OR b", "'OR' needs a term"),
    ("phone:hello", "not a phone number"),
    ("city:", "needs a value"),
])
def test_malformed_text_raises_a_clear_query_error(text, message):
    with pytest.raises(QueryError, match=message):
        parse_text(text)


def test_parse_args_reads_every_url_arg():
    q = parse_args({"q": "girl", "f.site": ["alpha", "beta"], "f.phone": "06-12345678",
                    "from": "2026-03-01", "to": "2026-03-31", "as_of": "2026-03-15",
                    "sort": "risk", "page": "3", "per_page": "50"})
    assert q.clauses == (Clause((Term("word", "girl"),)),)
    assert q.filters == {"site": ("alpha", "beta"), "phone": ("+31612345678",)}
    assert (q.date_from, q.date_to, q.as_of) == (date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 15))
    assert (q.sort, q.page, q.per_page, q.offset) == ("risk", 3, 50, 100)


def test_parse_args_accepts_a_werkzeug_multidict():
    from werkzeug.datastructures import MultiDict

    q = parse_args(MultiDict([("q", "x"), ("f.city", "Utrecht"), ("f.city", "Amsterdam")]))
    assert q.filters == {"city": ("Utrecht", "Amsterdam")}


@pytest.mark.parametrize(("args", "message"), [
    ({"from": "2026-13-01"}, "from='2026-13-01' is not a date"),
    ({"as_of": "yesterday"}, "as_of='yesterday' is not a date"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, "is after"),
    ({"sort": "random"}, "sort='random'"),
    ({"page": "0"}, "page='0'"),
    ({"per_page": "5000"}, "per_page='5000'"),
    ({"page": "two"}, "page='two'"),
    ({"f.colour": "red"}, "unknown filter 'f.colour'"),
    ({"f.risk": "extreme"}, "risk bands"),
    ({"f.first_seen": "last week"}, "f.first_seen='last week' is not a date"),
    ({"q": '"open'}, "unbalanced quote"),
])
def test_bad_args_raise_query_error_naming_the_arg(args, message):
    with pytest.raises(QueryError, match=message):
        parse_args(args)


def as_mapping(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def test_query_to_args_leaves_defaults_out():
    assert query_to_args(Query()) == []
    assert query_to_args(parse_args({"q": "x", "page": "2"})) == [("q", "x"), ("page", "2")]


_words = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(_words, max_size=4),
    sites=st.lists(_words, max_size=3, unique=True),
    risk=st.lists(st.sampled_from(["none", "low", "medium", "high"]), max_size=2, unique=True),
    day=st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1))),
    sort=st.sampled_from(["relevance", "newest", "oldest", "risk"]),
    page=st.integers(1, 50), per_page=st.integers(1, 200),
)
def test_args_round_trip(words, sites, risk, day, sort, page, per_page):
    args: dict[str, list[str]] = {"q": [" ".join(words)], "sort": [sort], "page": [str(page)],
                                  "per_page": [str(per_page)]}
    if sites:
        args["f.site"] = sites
    if risk:
        args["f.risk"] = risk
    if day:
        args["as_of"] = [day.isoformat()]
        args["from"] = [day.isoformat()]
    q = parse_args(args)
    assert parse_args(as_mapping(query_to_args(q))) == q
