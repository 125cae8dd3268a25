"""Places from the shipped gazetteer: variants, ordinary words, country disambiguation."""

from __future__ import annotations

import pytest

from indexer.enrich.places import find_places, load_gazetteer


def _names(text, country="NL"):
    return [(p.name, p.province, p.country) for p in find_places(text, country)]


@pytest.mark.parametrize(("text", "name"), [
    ("Nieuw in Den Haag", "Den Haag"),
    ("Discreet adres in 's-Gravenhage centrum", "Den Haag"),
    ("Ontvangst in A'dam Zuid", "Amsterdam"),
    ("Ontvangst in A’dam", "Amsterdam"),
    ("Regio Den Bosch", "'s-Hertogenbosch"),
    ("near Utrecht central station", "Utrecht"),
    ("amsterdam-noord, privé", "Amsterdam"),
    ("Escort Liege et environs", "Luik"),
    ("Nu in Luik", "Luik"),
    ("Bruxelles centre", "Brussel"),
    ("Alphen a/d Rijn", "Alphen aan den Rijn"),
])
def test_spelling_variants_resolve_to_one_canonical_place(text, name):
    assert [n for n, _, _ in _names(text)] == [name]


def test_province_and_coordinates_come_with_a_place():
    (place,) = find_places("Ontvangst in Groningen", "NL")
    assert (place.name, place.province, place.country) == ("Groningen", "Groningen", "NL")
    assert 53.0 < place.lat < 53.4 and 6.4 < place.lon < 6.7
    assert place.span is not None and place.span.text == "Groningen"


def test_places_that_are_ordinary_words_need_a_capital_and_a_cue():
    assert _names("Best service in town, goes all the way") == []
    assert _names("De Best ervaring! Mol je niet") == []
    assert _names("Ik woon in Best.") == [("Best", "Noord-Brabant", "NL")]
    assert _names("city: Goes") == [("Goes", "Zeeland", "NL")]


def test_the_source_country_disambiguates_a_shared_name():
    assert _names("Nu in Mechelen", "BE") == [("Mechelen", "Antwerpen", "BE")]
    assert _names("Nu in Mechelen", "NL") == [("Mechelen", "Limburg", "NL")]
    assert _names("Nu in Bergen", "BE")[0][0] == "Bergen (BE)"


def test_larger_places_abroad_and_belgian_provinces():
    assert _names("Besuch in Köln und Düsseldorf", "DE") == [
        ("Keulen", "", "DE"), ("Düsseldorf", "", "DE")]
    assert _names("Nu in Gent en Hasselt", "BE") == [
        ("Gent", "Oost-Vlaanderen", "BE"), ("Hasselt", "Limburg (BE)", "BE")]


def test_each_place_once_with_its_first_mention():
    places = find_places("Amsterdam, A'dam, amsterdam", "NL")
    assert len(places) == 1 and places[0].span is not None and places[0].span.start == 0


def test_gazetteer_is_shipped_data_with_provinces_for_every_dutch_place():
    gaz = load_gazetteer()
    dutch = {e for cands in gaz.variants.values() for e in cands if e.country == "NL"}
    assert len(dutch) > 1000
    assert all(e.province for e in dutch)
