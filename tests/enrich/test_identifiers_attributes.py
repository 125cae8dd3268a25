"""E-mail, URLs, handles and typed attributes, each with its evidence span."""

from __future__ import annotations

from indexer.enrich.attributes import find_attributes
from indexer.enrich.identifiers import find_identifiers

AD = ("Hoi, ik ben Lisa, 23 jaar, Roemeense schoonheid. Ik spreek Engels en Duits. "
      "150 euro per uur, half uur €100, nacht 800€.\nErotische massage en escort. "
      "Mail lisa.x@gmail.com of lisa [at] hotmail [dot] com, insta: lisa_hot, snap @lisaxx, "
      "OF: lisaof\nwww.lisa-escort.nl https://onlyfans.com/lisa22 t.me/lisanl twitter @lisa_x")


def _spans_true(items, text):
    for item in items:
        assert item.span is not None
        assert text[item.span.start:item.span.end] == item.span.text


def test_identifiers_are_normalised_for_linking_and_keep_their_evidence():
    ids = find_identifiers(AD)
    got = {(i.kind, i.value) for i in ids}
    assert {("email", "lisa.x@gmail.com"), ("email", "lisa@hotmail.com"),
            ("url", "lisa-escort.nl"), ("handle", "instagram:lisa_hot"),
            ("handle", "snapchat:lisaxx"), ("handle", "onlyfans:lisaof"),
            ("handle", "onlyfans:lisa22"), ("handle", "telegram:lisanl"),
            ("handle", "x:lisa_x")} <= got
    # the e-mail's domain is not a URL, and "x" inside "lisa.x@" is not a handle
    assert ("url", "gmail.com") not in got
    assert not any(v == "x:gmail.com" for _, v in got)
    _spans_true(ids, AD)


def test_attributes_with_units_and_spans():
    attrs = find_attributes(AD)
    got = {(a.kind, a.value, a.unit) for a in attrs}
    assert {("name", "Lisa", ""), ("age", "23", "years"), ("price", "150 EUR", "1h"),
            ("price", "100 EUR", "30min"), ("price", "800 EUR", "night"),
            ("language", "en", ""), ("language", "de", ""), ("nationality", "RO", ""),
            ("service", "erotic_massage", ""), ("service", "escort", "")} <= got
    _spans_true(attrs, AD)


def test_a_language_outside_a_spoken_languages_cue_is_a_nationality():
    text = "Sexy Thai girl. I speak Thai and English."
    attrs = find_attributes(text)
    got = [(a.kind, a.value, a.span.start) for a in attrs if a.kind in ("language", "nationality")]
    assert ("nationality", "TH", text.index("Thai")) in got
    assert ("language", "th", text.rindex("Thai")) in got
    assert ("language", "en", text.index("English")) in got


def test_ages_in_several_languages_and_minors_kept():
    got = {a.value for a in find_attributes("Ich bin 19 Jahre, am 21 de ani; age: 16; 22yo") if a.kind == "age"}
    assert got == {"19", "21", "16", "22"}


def test_not_every_number_is_an_age_or_a_name():
    attrs = find_attributes("Ik ben een nieuwe dame, lengte 170 cm, 1 uur 120 euro")
    assert not [a for a in attrs if a.kind in ("age", "name")]
    assert [(a.value, a.unit) for a in attrs if a.kind == "price"] == [("120 EUR", "1h")]
