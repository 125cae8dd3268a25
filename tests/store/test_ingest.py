"""Ingestor: observations are enriched with their source's country and written."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import phonenumbers
import pytest
from contract_data import SOURCES, at, obs

from indexer.ingest import Ingestor, UnknownSourceError
from indexer.model import AdFields, Enrichment, Phone
from indexer.search.parse import parse_args
from indexer.store.sqlite import SqliteStore


class DigitsEnricher:
    """A small real enricher: phone numbers by regex + phonenumbers, in the given country."""

    def __init__(self) -> None:
        self.countries: list[str] = []
        self.batches = 0

    def enrich(self, fields: AdFields, country: str) -> Enrichment:
        self.countries.append(country)
        phones = []
        for m in re.finditer(r"\+?\d[\d -]{7,}\d", fields.document()):
            try:
                num = phonenumbers.parse(m.group(), country)
            except phonenumbers.NumberParseException:
                continue
            e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
            phones.append(Phone(e164, m.group(), phonenumbers.region_code_for_number(num)))
        return Enrichment(phones=tuple(phones), language="nl")

    def enrich_many(self, items: Iterable[tuple[AdFields, str]], batch_size: int = 64
                    ) -> Iterator[Enrichment]:
        self.batches += 1
        for fields, country in items:
            yield self.enrich(fields, country)


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "ingest.sqlite3")
    yield s
    s.close()


def test_ingest_enriches_with_the_source_country(store):
    enricher = DigitsEnricher()
    ing = Ingestor(store, enricher)
    for s in SOURCES:
        ing.register_source(s)
    r1 = ing.ingest(obs("alpha", "a1", at(1), "bel 06 12345678"))
    r2 = ing.ingest(obs("beta", "b1", at(1), "bel 0470 12 34 56"))
    assert r1.new_ad and r2.new_ad
    assert enricher.countries == ["NL", "BE"]
    assert store.get_ad(r1.ad_id).current.enrichment.phones[0].e164 == "+31612345678"
    assert store.get_ad(r2.ad_id).current.enrichment.phones[0].e164 == "+32470123456"
    assert store.search(parse_args({"q": "phone:0612345678"})).total == 1


def test_ingest_many_batches_and_keeps_order(store):
    enricher = DigitsEnricher()
    ing = Ingestor(store, enricher)
    ing.register_source(SOURCES[0])
    observations = [obs("alpha", f"a{i}", at(1, minute=i), f"text {i}") for i in range(10)]
    observations.append(observations[3])  # the same capture again within the batch
    results = ing.ingest_many(observations)
    assert enricher.batches == 1
    assert [r.ad_id for r in results] == [o.ad_id for o in observations]
    assert results[-1].duplicate_capture and sum(r.new_ad for r in results) == 10
    assert ing.ingest_many([]) == []


def test_sources_known_to_the_store_need_no_new_registration(store):
    store.upsert_source(SOURCES[1])
    ing = Ingestor(store, DigitsEnricher())
    assert ing.ingest(obs("beta", "b1", at(1), "x")).new_ad


def test_an_unregistered_source_is_refused_by_name_and_nothing_is_written(store):
    ing = Ingestor(store, DigitsEnricher())
    with pytest.raises(UnknownSourceError, match="'nowhere'"):
        ing.ingest(obs("nowhere", "x", at(1), "text"))
    with pytest.raises(UnknownSourceError):
        ing.ingest_many([obs("nowhere", "x", at(1), "text")])
    assert store.stats()["ads"] == 0


def test_removal_and_live_ads_pass_through(store):
    ing = Ingestor(store, DigitsEnricher())
    ing.register_source(SOURCES[0])
    ing.ingest(obs("alpha", "a1", at(1), "one"))
    ing.ingest(obs("alpha", "a2", at(1), "two"))
    assert ing.mark_removed("alpha", "a1", at(2), "gone")
    assert [a.site_ad_id for a in ing.live_ads("alpha")] == ["a2"]


def test_default_enricher_is_the_real_pipeline(store):
    ing = Ingestor(store)
    ing.register_source(SOURCES[0])
    r = ing.ingest(obs("alpha", "a1", at(1), "Nieuw in Utrecht, bel 06-12345678"))
    phones = store.get_ad(r.ad_id).current.enrichment.phones
    assert [p.e164 for p in phones] == ["+31612345678"]


def test_real_pipeline_in_batches_links_a_number_across_ads(store):
    ing = Ingestor(store)
    ing.register_source(SOURCES[0])
    results = ing.ingest_many([
        obs("alpha", "r1", at(1), "Nieuw in Utrecht, bel 06-12345678"),
        obs("alpha", "r2", at(2), "Lieve dame, tel +31 6 1234 5678"),
        obs("alpha", "r3", at(3), "Geen nummer hier"),
    ])
    assert [r.new_ad for r in results] == [True, True, True]
    linked = store.ads_for_identifier("phone", "+31612345678")
    assert sorted(h.url.rsplit("/", 1)[-1] for h in linked) == ["r1", "r2"]
    assert store.search(parse_args({"q": "06 12345678"})).total == 2
