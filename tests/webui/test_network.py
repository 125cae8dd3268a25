"""The network view's graph: links from summaries, dense clusters folded, stable layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indexer.store.entity_summary import EntityAd, EntitySummary
from webui.network import ad_node_id, build, ident_id

T = datetime(2026, 3, 2, tzinfo=UTC)


def ad(n: int, *others: tuple[str, str], title: str = "") -> EntityAd:
    return EntityAd(f"ad{n}", "alpha", title or f"Ad {n}", T + timedelta(days=n),
                    T + timedelta(days=n), None, (), (), tuple(others))


def summary(kind: str, value: str, ads: list[EntityAd]) -> EntitySummary:
    return EntitySummary(kind, value, tuple(ads))


P1, P2 = ("phone", "+31611111111"), ("phone", "+31622222222")


def test_ads_and_identifiers_link_through_the_summaries() -> None:
    s1 = summary(*P1, [ad(1, P2), ad(2)])
    s2 = summary(*P2, [ad(1, P1), ad(3, ("email", "x@y.test"))])
    g = build(P1, [s1, s2])
    ids = {n.id for n in g.nodes}
    assert ids == {ident_id(*P1), ident_id(*P2), ident_id("email", "x@y.test"),
                   ad_node_id("ad1"), ad_node_id("ad2"), ad_node_id("ad3")}
    pairs = {(e.a, e.b) for e in g.edges}
    assert (ad_node_id("ad1"), ident_id(*P2)) in pairs
    assert (ad_node_id("ad3"), ident_id(*P2)) in pairs
    assert (ad_node_id("ad2"), ident_id(*P2)) not in pairs
    center = g.node(ident_id(*P1))
    assert center is not None and center.center and (center.x, center.y) == (g.width / 2, g.height / 2)
    assert g.collapsed == () and not g.truncated


def test_a_dense_cluster_is_folded_but_bridging_ads_stay() -> None:
    many = [ad(i) for i in range(10, 40)] + [ad(1, P2)]
    g = build(P1, [summary(*P1, many), summary(*P2, [ad(1, P1), ad(2)])], dense=8)
    cluster = g.node("c:" + ident_id(*P1))
    assert cluster is not None and cluster.count == 30 and cluster.label == "30 ads"
    assert g.node(ad_node_id("ad1")) is not None  # links to another number: kept
    assert g.node(ad_node_id("ad15")) is None
    assert g.collapsed == (ident_id(*P1),)
    opened = build(P1, [summary(*P1, many)], dense=8, expand=[ident_id(*P1)])
    assert opened.node(ad_node_id("ad15")) is not None and opened.collapsed == ()


def test_dead_end_identifiers_of_folded_ads_fold_with_them() -> None:
    many = [ad(i, ("email", f"u{i}@x.test")) for i in range(10, 25)]
    g = build(P1, [summary(*P1, many)], dense=8)
    assert [n.kind for n in g.nodes] == ["phone", "cluster"]


def test_layout_is_deterministic_and_capped() -> None:
    many = [ad(i, ("handle", f"h:{i}")) for i in range(100)]
    a = build(P1, [summary(*P1, many)], expand=[ident_id(*P1)], max_nodes=50)
    b = build(P1, [summary(*P1, many)], expand=[ident_id(*P1)], max_nodes=50)
    assert a == b and len(a.nodes) == 50 and a.truncated
    assert all(0 <= n.x <= a.width and 0 <= n.y <= a.height for n in a.nodes)


def test_an_unknown_centre_still_draws_alone() -> None:
    g = build(("email", "nobody@x.test"), [])
    assert [(n.kind, n.label, n.center) for n in g.nodes] == [("email", "nobody@x.test", True)]
    assert g.edges == ()
