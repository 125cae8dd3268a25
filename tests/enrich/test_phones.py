"""Phone numbers as advertisers hide them: every obfuscation from the domain guide."""

from __future__ import annotations

import pytest

from indexer.enrich.phones import find_phones, is_obscured

HIDDEN = [
    # (text, source country, expected E.164, a method that must be recorded)
    ("Bel 06-12 34 56 78 nu", "NL", "+31612345678", "plain"),
    ("+31 (0)6 1234 5678", "NL", "+31612345678", "plain"),
    ("0031612345678", "NL", "+31612345678", "plain"),
    ("O6 I2345678", "NL", "+31612345678", "letters"),
    ("06 twaalf 34 56 78", "NL", "+31612345678", "words"),
    ("zes een twee drie vier vijf zes zeven acht", "NL", "+31612345678", "words"),
    ("nul zes een twee drie vier vijf zes zeven acht", "NL", "+31612345678", "words"),
    ("zero six one two three four five six seven eight", "NL", "+31612345678", "words"),
    ("06 twenty-three 45 67 89", "NL", "+31623456789", "words"),
    ("nul zes vierendertig 56 78 90", "NL", "+31634567890", "words"),
    ("0.6.1.2.3.4.5.6.7.8", "NL", "+31612345678", "split"),
    ("06🔥12🔥34🔥56🔥78", "NL", "+31612345678", "emoji"),
    ("0️⃣6️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", "NL", "+31612345678", "emoji"),
    ("０６１２３４５６７８", "NL", "+31612345678", "plain"),
    ("06*12*34*56*78", "NL", "+31612345678", "separators"),
    ("wa.me/31612345678", "BE", "+31612345678", "link"),
    ("https://api.whatsapp.com/send?phone=32470123456", "NL", "+32470123456", "link"),
    ("t.me/+31612345678", "NL", "+31612345678", "link"),
    ("tel:0612345678", "NL", "+31612345678", "link"),
    ("+32 470 12 34 56", "NL", "+32470123456", "plain"),
    ("0470 12 34 56", "BE", "+32470123456", "plain"),
    ("+49 151 23456789", "NL", "+4915123456789", "plain"),
    ("0151 23456789", "DE", "+4915123456789", "plain"),
    ("+40 721 234 567", "NL", "+40721234567", "plain"),
    ("0721 234 567", "RO", "+40721234567", "plain"),
    ("+359 88 123 4567", "NL", "+359881234567", "plain"),
    ("+36 20 123 4567", "NL", "+36201234567", "plain"),
    ("06 20 123 4567", "HU", "+36201234567", "plain"),
    ("+48 512 345 678", "NL", "+48512345678", "plain"),
    ("tel: 020-1234567", "NL", "+31201234567", "plain"),
]


@pytest.mark.parametrize(("text", "country", "e164", "method"), HIDDEN)
def test_hidden_numbers_are_found_and_normalised(text, country, e164, method):
    phones = find_phones(text, country)
    assert [p.e164 for p in phones] == [e164]
    assert method in phones[0].methods
    span = phones[0].span
    assert span is not None and text[span.start:span.end] == span.text == phones[0].raw


NOT_PHONES = [
    "€150 per uur, 23 jaar, 1.70 m lang",
    "Prijzen: 30 min 80 euro, 1 uur 150 euro, nacht 1200 euro",
    "Postcode 1012 AB Amsterdam, huisnummer 12",
    "Beschikbaar van 12-05-2024 tot 01.06.2024",
    "Open 10:00-22:00, ma t/m za",
    "ad id 0612345678",
    "Advertentie #0612345678",
    "Ref: 0031612345678",
    "Lengte 170 cm, gewicht 55 kg, cup 75C",
    "I am 25 years old, one of the best, one two three",
    "one two three four five six seven eight nine ten",
    "KvK 12345678 BTW NL001234567B01 IBAN NL91ABNA0417164300",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_prices_dates_postcodes_ages_heights_and_ids_are_not_phones(text):
    assert find_phones(text, "NL") == []


def test_the_same_number_twice_appears_once_with_its_first_span():
    text = "Bel 06-12345678! Of app: +31 6 12345678 of wa.me/31612345678"
    phones = find_phones(text, "NL")
    assert [p.e164 for p in phones] == ["+31612345678"]
    assert phones[0].span is not None and phones[0].span.start == 4


def test_two_numbers_in_one_run_are_cut_apart():
    phones = find_phones("06 12345678 / 06 87654321", "NL")
    assert [p.e164 for p in phones] == ["+31612345678", "+31687654321"]


def test_times_and_availability_next_to_a_number_do_not_join_it():
    phones = find_phones("bel 10:00-22:00 06 1234 5678 24/7", "NL")
    assert [(p.e164, p.raw) for p in phones] == [("+31612345678", "06 1234 5678")]


def test_source_country_is_the_default_region():
    assert find_phones("0470 12 34 56", "BE")[0].e164 == "+32470123456"
    assert find_phones("0470 12 34 56", "NL") == []  # not a valid Dutch number


def test_masked_spans_are_not_scanned_but_links_still_are():
    text = "see site.nl/ad/0612345678 or wa.me/31687654321"
    masked = [(4, 25)]
    assert [p.e164 for p in find_phones(text, "NL", masked)] == ["+31687654321"]


def test_obscured_means_hidden_on_purpose():
    plain = find_phones("06-12345678", "NL")[0]
    words = find_phones("06 twaalf 34 56 78", "NL")[0]
    assert not is_obscured(plain)
    assert is_obscured(words)
