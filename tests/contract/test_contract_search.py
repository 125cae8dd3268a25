"""Store contract: search text, fields, phones, sort, paging, dates, highlights, links."""

from __future__ import annotations

from dataclasses import replace

import pytest
from contract_data import PHONE_A, PHONE_B, at, enr, obs, seed

from indexer.model import ad_id_for
from indexer.search.parse import parse_args


def ids(result) -> list[str]:
    """Site ad ids of the hits, in order (ad ids are hashes; these read better)."""
    by_ad = {ad_id_for(s, x): x for s in ("alpha", "beta", "gamma")
             for x in ("a1", "a2", "a3", "b1", "b2", "g1", "g2", "x1", "x2")}
    return [by_ad.get(h.ad_id, h.ad_id) for h in result.hits]


def find(store, **args):
    return store.search(parse_args({k: v for k, v in args.items()}))


@pytest.fixture
def seeded(store):
    seed(store)
    return store


@pytest.mark.parametrize(("q", "expected"), [
    ("girl", {"a1", "b2"}),
    ('"new in town"', {"a1", "b2"}),
    ('"town new"', set()),
    ("massage OR nouvelle", {"a2", "a3", "b1"}),
    ("massage -amsterdam", {"a3"}),
    ("-utrecht", {"a2", "b1", "b2"}),
    ("ontspan*", {"a3"}),
    ("mass*", {"a2", "a3"}),
    ("girl antwerpen", {"b2"}),
    ("FILLE", {"b1"}),
    ("city:utrecht", {"a1", "g1", "a3"}),
    ('province:"Noord-Holland"', {"a2"}),
    ("site:beta", {"b1", "b2"}),
    ("-site:alpha", {"b1", "b2", "g1"}),
    ("theme:other", {"g1"}),
    ("indicator:youth", {"a1", "b1"}),
    ("lang:nl", {"a1", "a3"}),
    ("lang:NL site:ALPHA", {"a1", "a3"}),
    ("city:utr*", {"a1", "g1", "a3"}),
    ("email:mia@example.test", {"a2"}),
    ("handle:telegram:nina", {"b1"}),
    ("site:alpha OR site:gamma escort", {"g1"}),
    ("girl OR city:amsterdam", {"a1", "a2", "b2"}),
])
def test_query_syntax(seeded, q, expected):
    result = find(seeded, q=q, per_page="50")
    assert set(ids(result)) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize("typed", [
    "06-12345678", "+31 6 1234 5678", "0031612345678", "phone:06 12 34 56 78",
    "phone:+31612345678", "(06) 1234-5678",
])
def test_phone_typed_in_any_format(seeded, typed):
    assert set(ids(find(seeded, q=typed))) == {"a1", "b2"}


def test_empty_query_lists_every_current_ad(seeded):
    result = find(seeded)
    assert result.total == 6 and len(result.hits) == 6


def test_hit_carries_what_the_list_shows(seeded):
    [h] = find(seeded, q="nouvelle").hits
    assert h.source_id == "beta" and h.title == "Nina" and h.url == "http://beta.test/ad/b1"
    assert h.phones == (PHONE_B,) and h.places == ("Antwerpen",)
    assert set(h.indicators) == {"trustworthy", "youth", "obscured_phone"}
    assert h.risk_score == 4.5 and h.language == "en" and h.versions == 1
    assert h.first_seen == at(2) and h.removed_at is None
    [h] = find(seeded, q="sweet").hits
    assert h.thumbnail == "img1"


def facet(result, name) -> dict[str, tuple[int, bool]]:
    [f] = [f for f in result.facets if f.name == name]
    return {v.value: (v.count, v.selected) for v in f.values}


def test_facet_counts(seeded):
    r = find(seeded)
    assert facet(r, "site") == {"alpha": (3, False), "beta": (2, False), "gamma": (1, False)}
    assert facet(r, "city") == {"Utrecht": (3, False), "Antwerpen": (2, False), "Amsterdam": (1, False)}
    assert facet(r, "phone")[PHONE_A] == (2, False)
    assert facet(r, "indicator") == {"youth": (2, False), "new_in_town": (2, False),
                                     "trustworthy": (1, False), "obscured_phone": (1, False)}
    assert facet(r, "lang") == {"en": (4, False), "nl": (2, False)}
    assert facet(r, "risk") == {"none": (3, False), "low": (1, False), "medium": (1, False),
                                "high": (1, False)}
    assert facet(r, "status") == {"live": (6, False)}


def test_facet_selection_does_not_narrow_its_own_counts(seeded):
    r = store_search(seeded, {"f.site": ["beta"]})
    assert r.total == 2 and set(ids(r)) == {"b1", "b2"}
    assert facet(r, "site") == {"alpha": (3, False), "beta": (2, True), "gamma": (1, False)}
    assert facet(r, "city") == {"Antwerpen": (2, False)}  # other facets are narrowed
    r = store_search(seeded, {"f.site": ["beta", "gamma"], "f.city": ["Utrecht"]})
    assert set(ids(r)) == {"g1"}
    assert facet(r, "site") == {"alpha": (2, False), "gamma": (1, True)}
    assert facet(r, "city") == {"Antwerpen": (2, False), "Utrecht": (1, True)}


def store_search(store, args):
    return store.search(parse_args(args))


def test_facet_filters_risk_status_theme(seeded):
    assert set(ids(store_search(seeded, {"f.risk": ["high", "medium"]}))) == {"a1", "b1"}
    assert set(ids(store_search(seeded, {"f.theme": ["other"]}))) == {"g1"}
    assert set(ids(store_search(seeded, {"f.phone": ["06-12345678"]}))) == {"a1", "b2"}
    seeded.mark_removed("alpha", "a2", at(5), "gone")
    r = store_search(seeded, {"f.status": ["removed"]})
    assert ids(r) == ["a2"] and r.hits[0].removed_at == at(5)
    assert facet(r, "status") == {"live": (5, False), "removed": (1, True)}


def test_facet_size_asks_one_more_to_know_it_was_cut(seeded):
    q = replace(parse_args({}), facet_size=2)
    r = seeded.search(q)
    [site] = [f for f in r.facets if f.name == "site"]
    assert [v.value for v in site.values] == ["alpha", "beta"] and site.truncated
    [lang] = [f for f in r.facets if f.name == "lang"]
    assert len(lang.values) == 2 and not lang.truncated


def test_sort_orders(seeded):
    assert ids(find(seeded, sort="newest")) == ["g1", "a3", "b2", "b1", "a2", "a1"]
    assert ids(find(seeded, sort="oldest")) == ["a1", "a2", "b1", "b2", "a3", "g1"]
    assert ids(find(seeded, sort="risk")) == ["b1", "a1", "b2", "g1", "a3", "a2"]
    hits = find(seeded, q="utrecht").hits
    assert len(hits) == 3 and all(h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_paging(seeded):
    pages = [find(seeded, sort="newest", per_page="4", page=str(p)) for p in (1, 2, 3)]
    assert [ids(p) for p in pages] == [["g1", "a3", "b2", "b1"], ["a2", "a1"], []]
    assert all(p.total == 6 and p.pages == 2 for p in pages)


def test_date_range_on_first_seen(seeded):
    day = lambda n: at(n).date().isoformat()  # noqa: E731
    assert set(ids(find(seeded, **{"from": day(2), "to": day(2)}))) == {"b1", "b2"}
    assert set(ids(find(seeded, **{"from": day(3)}))) == {"g1", "a3"}
    assert set(ids(find(seeded, to=day(1)))) == {"a1", "a2"}


def snapshot(result):
    return (result.total, [(h.ad_id, h.version_id) for h in result.hits],
            [(f.name, [(v.value, v.count) for v in f.values]) for f in result.facets])


def test_as_of_a_day_does_not_change_after_later_crawls(seeded):
    day1, day3 = at(1).date().isoformat(), at(3).date().isoformat()
    before1 = snapshot(find(seeded, as_of=day1, sort="oldest"))
    before3 = snapshot(find(seeded, as_of=day3, sort="oldest", q="girl"))
    assert before1[0] == 2
    # later crawls: a1 changes, b1 goes, b2 goes and comes back, a new ad appears
    seeded.write(obs("alpha", "a1", at(4), "Totally new text", "Lisa"), enr(lang="en"))
    seeded.mark_removed("beta", "b1", at(4), "gone")
    seeded.mark_removed("beta", "b2", at(4, 1), "gone")
    seeded.write(obs("beta", "b2", at(6), "Real girl, new in town Antwerpen", "Eva",
                     {"city": "Antwerpen"}), enr((PHONE_A,), ("Antwerpen",), (("new_in_town", 0.5),)))
    seeded.write(obs("alpha", "x1", at(4), "girl fresh"), enr())
    assert snapshot(find(seeded, as_of=day1, sort="oldest")) == before1
    assert snapshot(find(seeded, as_of=day3, sort="oldest", q="girl")) == before3
    # the day the ads were gone, they do not count; the old text is what day 3 shows
    day5 = at(5).date().isoformat()
    assert set(ids(find(seeded, as_of=day5))) == {"a1", "a2", "a3", "g1", "x1"}
    assert set(ids(find(seeded, as_of=day5, q="sweet"))) == set()
    assert set(ids(find(seeded, as_of=day3, q="sweet"))) == {"a1"}
    assert set(ids(find(seeded, as_of=at(6).date().isoformat(), q="girl"))) == {"b2", "x1"}


def test_highlights_mark_the_matched_words(seeded):
    [h] = find(seeded, q="sweet").hits
    assert [h.snippet.text[s:e].lower() for s, e in h.snippet.ranges] == ["sweet"]
    [h] = find(seeded, q='"new in town" lisa').hits
    marked = " ".join(h.snippet.text[s:e].lower() for s, e in h.snippet.ranges)
    assert "new" in marked and "town" in marked
    assert "<" not in h.snippet.text  # plain text: the template does the marking


def test_hostile_markup_cannot_forge_highlights(store):
    store.write(obs("alpha", "evil", at(1), "plain \ue000forged\ue001 words and bait"), enr())
    [h] = store.search(parse_args({"q": "bait"})).hits
    assert [h.snippet.text[s:e] for s, e in h.snippet.ranges] == ["bait"]


def test_ads_for_identifier_over_all_versions(seeded):
    seeded.write(obs("alpha", "a1", at(4), "number gone now", "Lisa"), enr())
    hits = seeded.ads_for_identifier("phone", PHONE_A)
    assert ids_of(hits) == ["b2", "a1"]  # newest first
    assert hits[1].phones == (PHONE_A,)  # shown as the version that carried it
    assert ids_of(seeded.ads_for_identifier("email", "mia@example.test")) == ["a2"]
    assert ids_of(seeded.ads_for_identifier("handle", "telegram:nina")) == ["b1"]
    assert seeded.ads_for_identifier("phone", "+31600000000") == []


def ids_of(hits):
    return [h.url.rsplit("/", 1)[-1] for h in hits]


def test_theme_walls(seeded):
    q = replace(parse_args({}), themes=("other",))
    assert ids(seeded.search(q)) == ["g1"]
    assert seeded.search(replace(q, themes=())).total == 0


def test_theme_and_week_facets(seeded):
    seeded.write(obs("gamma", "g2", at(8), "next week ad"), enr())  # Monday 2026-03-09
    q = replace(parse_args({}), facets=("theme", "first_seen"))
    r = seeded.search(q)
    assert facet(r, "theme") == {"trafficking": (5, False), "other": (2, False)}
    assert facet(r, "first_seen") == {"2026-03-09": (1, False), "2026-03-02": (6, False)}
    [weeks] = [f for f in r.facets if f.name == "first_seen"]
    assert [v.value for v in weeks.values] == ["2026-03-09", "2026-03-02"]  # newest week first
    r = seeded.search(replace(q, filters={"first_seen": ("2026-03-09",)}))
    assert ids(r) == ["g2"]
    assert facet(r, "first_seen")["2026-03-02"] == (6, False)


def test_a_store_may_stop_counting_at_the_count_limit(seeded):
    """Past count_limit a store may say "at least count_limit" (the embedded store does;
    Elasticsearch counts exactly, its aggregations read every match anyway), but every
    hit it returns is a real match, and under the limit everything is exact."""
    asked = replace(parse_args({"q": "utrecht", "per_page": "50"}), count_limit=1)
    exact = seeded.search(replace(asked, count_limit=10_000))
    assert exact.total == 3 and not exact.total_is_lower_bound and not exact.order_sampled
    cut = seeded.search(asked)
    assert (cut.total, cut.total_is_lower_bound) in ((3, False), (1, True))
    assert cut.hits and {h.ad_id for h in cut.hits} <= {h.ad_id for h in exact.hits}
