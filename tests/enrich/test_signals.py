"""Cross-ad signals, computed from hand-made facts (pure: no store, no enricher)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indexer import signals as sg
from indexer.signals import AdFacts, Sighting, compute_signals, fold, text_key

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
TEMPLATE = ("Hallo schatjes, ik ben nieuw hier en heel lief. Bel mij voor een ontspannen "
            "afspraak in een discrete omgeving, ik ontvang je graag")


def ad(ad_id: str, *sightings: Sighting, source: str = "s1") -> AdFacts:
    return AdFacts(ad_id, source, tuple(sightings))


def seen(day: int = 0, phones: tuple[str, ...] = (), **kw: object) -> Sighting:
    return Sighting(at=T0 + timedelta(days=day), phones=phones, **kw)  # type: ignore[arg-type]


def test_a_number_in_many_ads_flags_every_ad_that_carried_it() -> None:
    ads = [ad(f"a{i}", seen(phones=("+31611111111",))) for i in range(sg.MANY_ADS)]
    ads.append(ad("other", seen(phones=("+31622222222",))))
    result = compute_signals(ads)
    assert all(sg.PHONE_MANY_ADS in result.ads[f"a{i}"] for i in range(sg.MANY_ADS))
    assert "other" not in result.ads
    assert result.counts()[sg.PHONE_MANY_ADS] == sg.MANY_ADS


def test_one_ad_short_of_the_threshold_is_not_a_signal() -> None:
    ads = [ad(f"a{i}", seen(phones=("+31611111111",))) for i in range(sg.MANY_ADS - 1)]
    assert compute_signals(ads).counts()[sg.PHONE_MANY_ADS] == 0


def test_many_sites_and_many_names() -> None:
    phone = ("+31633333333",)
    ads = [ad("x1", seen(phones=phone, names=("Lisa",)), source="velvet"),
           ad("x2", seen(phones=phone, names=("LISA", "Ána")), source="board"),
           ad("x3", seen(phones=phone, names=("Mira",)), source="third")]
    result = compute_signals(ads)
    assert result.ads["x1"].keys() >= {sg.PHONE_MANY_SITES, sg.PHONE_MANY_NAMES}
    assert "3 names" in result.ads["x2"][sg.PHONE_MANY_NAMES][0]
    # names fold case and accents: Lisa/LISA are one name, so two sites' worth is not enough
    two = compute_signals([ad("y1", seen(phones=phone, names=("Lisa",))),
                           ad("y2", seen(phones=phone, names=("lisa", "Ana")))])
    assert sg.PHONE_MANY_NAMES not in two.ads.get("y1", set())


def test_a_number_moving_between_cities_over_a_week() -> None:
    phone = ("+31644444444",)
    moved = [ad("m1", seen(0, phone, places=("Utrecht",)),
                seen(sg.MOVE_MIN_DAYS, phone, places=("Groningen",)))]
    result = compute_signals(moved)
    assert sg.PHONE_MOVING in result.ads["m1"]
    assert "Utrecht" in result.ads["m1"][sg.PHONE_MOVING][0]
    # the same two cities on the same day is reach, not movement; nor is a return later
    reach = [ad("r1", seen(0, phone, places=("Utrecht",))), ad("r2", seen(0, phone, places=("Groningen",))),
             ad("r3", seen(30, phone, places=("Groningen",)))]
    assert sg.PHONE_MOVING not in compute_signals(reach).ads.get("r1", set())
    quick = [ad("q1", seen(0, phone, places=("Utrecht",)), seen(2, phone, places=("Breda",)))]
    assert sg.PHONE_MOVING not in compute_signals(quick).ads.get("q1", set())


def test_consecutive_numbers_need_a_run_of_three() -> None:
    run = [ad(f"c{i}", seen(phones=(f"+3161234567{d}",))) for i, d in enumerate((1, 2, 4))]
    result = compute_signals(run)
    assert all(sg.PHONE_CONSECUTIVE in result.ads[f"c{i}"] for i in range(3))
    pair = [ad("p1", seen(phones=("+31612345671",))), ad("p2", seen(phones=("+31612345672",)))]
    assert compute_signals(pair).counts()[sg.PHONE_CONSECUTIVE] == 0
    gap = [ad(f"g{i}", seen(phones=(f"+3161234567{d}",))) for i, d in enumerate((1, 2, 7))]
    assert compute_signals(gap).counts()[sg.PHONE_CONSECUTIVE] == 0
    # different lengths are different numbering plans, never one run
    mixed = [ad("l1", seen(phones=("+3161234567",))), ad("l2", seen(phones=("+31612345678",))),
             ad("l3", seen(phones=("+31612345679",)))]
    assert compute_signals(mixed).counts()[sg.PHONE_CONSECUTIVE] == 0


def test_one_image_under_two_numbers_but_not_site_furniture() -> None:
    ads = [ad("i1", seen(phones=("+31655555551",), images=("abc",))),
           ad("i2", seen(phones=("+31655555559",), images=("abc",))),
           ad("i3", seen(phones=("+31655555551",), images=("def",)))]
    result = compute_signals(ads)
    assert sg.IMAGE_MANY_PHONES in result.ads["i1"] and sg.IMAGE_MANY_PHONES in result.ads["i2"]
    assert sg.IMAGE_MANY_PHONES not in result.ads.get("i3", set())
    logo = [ad(f"l{i}", seen(phones=(f"+316{i:08d}",), images=("logo",)))
            for i in range(sg.IMAGE_MAX_ADS + 1)]
    assert compute_signals(logo).counts()[sg.IMAGE_MANY_PHONES] == 0


def test_near_identical_text_under_different_numbers() -> None:
    a = TEMPLATE + " Bel 0612345678, 150 euro per uur!"
    b = TEMPLATE.upper() + " bel 0687654321 — 120 euro per uur"
    ads = [ad("t1", seen(phones=("+31612345678",), text=a)),
           ad("t2", seen(phones=("+31687654321",), text=b)),
           ad("t3", seen(phones=("+31687654321",), text="Nieuw hier, bel me"))]
    result = compute_signals(ads)
    assert sg.TEXT_MANY_PHONES in result.ads["t1"] and sg.TEXT_MANY_PHONES in result.ads["t2"]
    assert "t3" not in result.ads
    assert text_key("kort") == "" and fold("Ána—ÉÉN 12") == "ana een"


def test_counts_list_every_signal_and_nothing_for_an_empty_store() -> None:
    assert compute_signals([]).counts() == dict.fromkeys(sg.SIGNALS, 0)


NEAR_A = ("Hoi lieverd, ik ben Lisa, een lieve en zachte meid uit de buurt. Bij mij kun je helemaal "
          "ontspannen in een schone en discrete kamer. Ik neem de tijd voor je en hou van een "
          "goed gesprek. Bel of app mij voor een afspraak, ik ontvang je graag in Utrecht.")
NEAR_B = (NEAR_A.replace("Lisa", "Mira").replace("Utrecht", "Breda")
          .replace("lieve en zachte", "lieve en warme"))


def test_near_identical_texts_under_different_numbers_are_one_template() -> None:
    ads = [ad("n1", seen(phones=("+31612345678",), text=NEAR_A)),
           ad("n2", seen(phones=("+31687654321",), text=NEAR_B)),
           ad("n3", seen(phones=("+31611112222",), text=TEMPLATE))]
    result = compute_signals(ads)
    assert sg.TEXT_MANY_PHONES in result.ads["n1"] and sg.TEXT_MANY_PHONES in result.ads["n2"]
    assert "near-identical" in result.ads["n1"][sg.TEXT_MANY_PHONES][0]
    assert "n3" not in result.ads
    # the same near-identical texts under ONE number are one advertiser: no signal
    same = [ad("s1", seen(phones=("+31612345678",), text=NEAR_A)),
            ad("s2", seen(phones=("+31612345678",), text=NEAR_B))]
    assert compute_signals(same).counts()[sg.TEXT_MANY_PHONES] == 0
