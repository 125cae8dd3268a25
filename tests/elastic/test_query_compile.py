"""Query → search body, and response → result: pure, no server."""

from __future__ import annotations

from datetime import date

import pytest

from indexer.search.query import Clause, Query, QueryError, Term
from indexer.store import elastic_query as eq
from indexer.store.elastic_results import facets_from, parse_marked, snippet_for

THEMES = {"demo-a": "trafficking", "demo-b": "trafficking", "other": "labour"}


def test_current_versions_only_without_as_of() -> None:
    body = eq.compile_search(Query())
    assert {"term": {"is_current": True}} in body["query"]["bool"]["filter"]
    assert body["track_total_hits"] is True and body["timeout"] == "1000ms"


def test_as_of_is_a_validity_range_and_skips_absent_ads() -> None:
    flt = eq.compile_search(Query(as_of=date(2026, 3, 2)))["query"]["bool"]["filter"]
    end = "2026-03-03T00:00:00.000000Z"
    assert {"range": {"valid_from": {"lt": end}}} in flt
    assert {"bool": {"must_not": [{"term": {"absences": end}}]}} in flt
    assert not any(f == {"term": {"is_current": True}} for f in flt)


def test_words_phrases_prefixes_negation_and_or() -> None:
    q = Query(clauses=(
        Clause((Term("word", "utrecht"),)),
        Clause((Term("phrase", "nieuw in"), Term("prefix", "amst"))),
        Clause((Term("word", "+31612345678", field="phone", negate=True),)),
    ))
    must = eq.compile_search(q)["query"]["bool"]["must"]
    assert must[0]["multi_match"]["query"] == "utrecht"
    assert "text.folded" in must[0]["multi_match"]["fields"]
    assert must[1]["bool"]["minimum_should_match"] == 1
    assert [s["multi_match"]["type"] for s in must[1]["bool"]["should"]] == ["phrase",
                                                                             "phrase_prefix"]
    assert must[2] == {"bool": {"must_not": [
        {"term": {"phones": {"value": "+31612345678", "case_insensitive": True}}}]}}


def test_unknown_field_and_sort_are_query_errors() -> None:
    with pytest.raises(QueryError, match="shoe"):
        eq.compile_search(Query(clauses=(Clause((Term("word", "x", field="shoe"),)),)))
    with pytest.raises(QueryError, match="cheapest"):
        eq.compile_search(Query(sort="cheapest"))
    with pytest.raises(QueryError, match="extreme"):
        eq.compile_search(Query(filters={"risk": ("extreme",)}))


def test_multi_select_facets_use_post_filter_and_other_selections() -> None:
    q = Query(filters={"city": ("Utrecht", "Breda"), "lang": ("nl",)},
              facets=("city", "lang", "site"))
    body = eq.compile_search(q)
    assert body["post_filter"]["bool"]["filter"] == [
        {"terms": {"places": ["Utrecht", "Breda"]}}, {"terms": {"language": ["nl"]}}]
    # hits narrowed by post_filter only: the main query carries no facet selection
    assert "places" not in str(body["query"])
    aggs = body["aggs"]
    assert aggs["facet_city"]["filter"] == {"bool": {"filter": [{"terms": {"language": ["nl"]}}]}}
    assert aggs["facet_lang"]["filter"] == {"bool": {"filter": [
        {"terms": {"places": ["Utrecht", "Breda"]}}]}}
    assert len(aggs["facet_site"]["filter"]["bool"]["filter"]) == 2
    assert aggs["facet_city"]["aggs"]["values"]["terms"]["size"] == 11  # size + 1
    assert set(aggs["facet_city"]["aggs"]["selected"]["filters"]["filters"]) == {"Utrecht", "Breda"}


def test_themes_are_resolved_to_sources() -> None:
    body = eq.compile_search(Query(themes=("labour",), filters={"theme": ("trafficking",)}),
                             themes=THEMES)
    assert {"terms": {"source_id": ["other"]}} in body["query"]["bool"]["filter"]
    assert body["post_filter"]["bool"]["filter"] == [{"terms": {"source_id": ["demo-a", "demo-b"]}}]


def test_risk_bands_and_weeks() -> None:
    f = eq.facet_filter("risk", ("high",))
    assert f["bool"]["should"] == [{"range": {"risk_score": {"gte": 4.0}}}]
    w = eq.facet_filter("first_seen", ("2026-03-02",))["bool"]["should"][0]["range"]
    assert w["ad_first_seen"]["lt"].startswith("2026-03-09")
    with pytest.raises(QueryError, match="soon"):
        eq.facet_filter("first_seen", ("soon",))


@pytest.mark.parametrize(("sort", "first"), [
    ("relevance", {"_score": "desc"}), ("newest", {"ad_first_seen": "desc"}),
    ("oldest", {"ad_first_seen": "asc"}), ("risk", {"risk_score": "desc"})])
def test_sorts_end_in_a_unique_tiebreak(sort: str, first: dict) -> None:
    order = eq.compile_search(Query(sort=sort))["sort"]
    assert order[0] == first and order[-1] == {"ad_id": "asc"}


def test_paging_and_deep_paging() -> None:
    assert eq.compile_search(Query(page=3, per_page=20))["from"] == 40
    deep = Query(page=600, per_page=20)
    assert eq.needs_search_after(deep) and not eq.needs_search_after(Query())
    scan = eq.scan_body(deep, 1000, [1.0, "x"])
    assert scan["search_after"] == [1.0, "x"] and "from" not in scan and "aggs" not in scan


def test_highlight_uses_private_markers() -> None:
    hl = eq.compile_search(Query())["highlight"]
    assert hl["pre_tags"] == [eq.HL_PRE] and hl["post_tags"] == [eq.HL_POST]
    assert parse_marked(f"bel {eq.HL_PRE}Anna{eq.HL_POST} nu").ranges == ((4, 8),)


def test_forged_markers_in_ad_text_give_no_highlight() -> None:
    text = f"evil {eq.HL_PRE}x{eq.HL_POST}"
    got = snippet_for({"text": [f"evil {eq.HL_PRE}x{eq.HL_POST}"]}, text)
    assert got.ranges == ()
    fine = snippet_for({"text": [f"{eq.HL_PRE}Lieve{eq.HL_POST} Anna"]}, "Lieve Anna, bel")
    assert fine.text == "Lieve Anna" and fine.ranges == ((0, 5),)


def test_facet_results_truncation_selection_and_theme_folding() -> None:
    q = Query(filters={"city": ("Zwolle",)}, facets=("city", "theme", "risk"), facet_size=2)
    resp = {"aggregations": {
        "facet_city": {"values": {"buckets": [{"key": "Utrecht", "doc_count": 5},
                                              {"key": "Breda", "doc_count": 3},
                                              {"key": "Gouda", "doc_count": 1}]},
                       "selected": {"buckets": {"Zwolle": {"doc_count": 1}}}},
        "facet_theme": {"values": {"buckets": [{"key": "demo-a", "doc_count": 2},
                                               {"key": "demo-b", "doc_count": 3},
                                               {"key": "other", "doc_count": 4}]}},
        "facet_risk": {"values": {"buckets": [{"key": "none", "doc_count": 0},
                                              {"key": "high", "doc_count": 2}]}},
    }}
    city, theme, risk = facets_from(q, resp, {}, THEMES)
    assert city.truncated and [v.value for v in city.values] == ["Utrecht", "Breda", "Zwolle"]
    assert city.values[-1].selected and city.values[-1].count == 1
    assert [(v.value, v.count) for v in theme.values] == [("trafficking", 5), ("labour", 4)]
    assert [v.value for v in risk.values] == ["high"]
