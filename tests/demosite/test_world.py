"""The world: deterministic, lazy, and its life cycle consistent with its truth."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict

import phonenumbers
import pytest

from demosite import phones
from demosite.world import World

from .conftest import ROOT


def test_same_seed_same_truth_other_seed_other_truth():
    a, b, c = World(seed=3, n_ads=80), World(seed=3, n_ads=80), World(seed=4, n_ads=80)
    assert json.dumps(a.truth(4)) == json.dumps(b.truth(4))
    assert json.dumps(a.truth(4)) != json.dumps(c.truth(4))


def test_truth_is_the_same_in_another_process():
    """No dependence on hash randomisation or process state: a crawl in another process
    must see the world the test sees."""
    code = ("import json,sys; from demosite.world import World; "
            "sys.stdout.write(json.dumps(World(seed=5, n_ads=60).truth(3)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONHASHSEED": "123"}).stdout
    assert json.loads(out) == json.loads(json.dumps(World(seed=5, n_ads=60).truth(3)))


def test_a_million_ads_cost_nothing_until_asked():
    t0 = time.perf_counter()
    w = World(n_ads=1_000_000)
    assert time.perf_counter() - t0 < 0.5
    t0 = time.perf_counter()
    ad = w.ad(999_999)
    v = w.last_version(ad, w.days - 1)
    assert v is not None and v.title and v.phones
    assert w.find(ad.site, ad.site_ad_id) == 999_999
    assert time.perf_counter() - t0 < 0.5
    assert World(n_ads=1_000_000).ad(999_999) == ad


def test_site_ids_round_trip_and_unknown_ids_are_none(world):
    for i in range(world.n_ads):
        ad = world.ad(i)
        assert world.find(ad.site, ad.site_ad_id) == i
    other = {"velvet": "board", "board": "velvet"}
    ad = world.ad(0)
    assert world.find(other[ad.site], ad.site_ad_id) is None
    assert world.find("velvet", "999999999") is None
    assert world.find("board", "<script>") is None


def test_day_events_match_what_is_online(world):
    """appear, change, remove and return happen exactly on the days the truth says."""
    seen = defaultdict(int)
    for i in range(world.n_ads):
        ad = world.ad(i)
        for day in range(world.days):
            now, before = world.version_on(ad, day), world.version_on(ad, day - 1) if day else None
            if day == ad.first_day:
                assert now is not None and before is None
                seen["appear"] += 1
            elif day == ad.removed_day:
                assert now is None and before is not None
                seen["remove"] += 1
            elif day == ad.return_day:
                assert now is not None and before is None
                seen["return"] += 1
            changed = [c for c in ad.changes if c.day == day]
            if changed:
                assert now is not None and before is not None and now.key() != before.key()
                _assert_change_kinds(changed[0].kinds, before, now)
                seen["change"] += 1
            elif day not in (ad.first_day, ad.return_day) and now and before:
                assert now.key() == before.key()
    assert min(seen.values()) > 0 and len(seen) == 4, seen


def _assert_change_kinds(kinds, before, now):
    assert ("phone" in kinds) == (before.phones[0].e164 != now.phones[0].e164)
    assert ("city" in kinds) == (before.town_slug != now.town_slug)
    assert ("photos" in kinds) == (before.photos != now.photos)
    if kinds == ("text",):
        assert before.text != now.text and before.fields()["city"] == now.fields()["city"]


def test_truth_records_events_status_and_version_counts(world):
    day = world.days - 1
    truth = {a["index"]: a for a in world.truth(day)["ads"]}
    for i, t in truth.items():
        ad = world.ad(i)
        assert t["status"] == ("live" if ad.live_on(day) else "removed")
        kinds = [e["kind"] for e in t["events"]]
        assert kinds.count("change") == len(ad.changes)
        assert ("remove" in kinds) == (ad.removed_day is not None)
        # every change makes a new version; a return with the same content does not
        assert t["version_count"] == 1 + len(ad.changes)
    returned = [t for t in truth.values() if t["return_day"] is not None]
    assert returned, "some removed ads must come back"


def test_listings_hold_each_live_ad_once_newest_first(world):
    for day in range(world.days):
        for site in ("velvet", "board"):
            ids = world.live_ads(site, day)
            assert len(ids) == len(set(ids))
            live = {i for i in range(world.n_ads)
                    if world.ad(i).site == site and world.ad(i).live_on(day)}
            assert set(ids) == live
            for town in {world.ad(i).state_on(day).town for i in ids}:
                since = [world.ad(i).listed_since(day) for i in world.live_ads(site, day, town)]
                assert since == sorted(since, reverse=True)


def test_phones_are_valid_and_written_forms_hold_their_digits():
    w = World(seed=11, n_ads=600, days=3)
    methods = set()
    for i in range(w.n_ads):
        for p in w.last_version(i, 2).phones:
            num = phonenumbers.parse(p.e164)
            assert phonenumbers.is_valid_number(num), p
            assert phonenumbers.region_code_for_number(num) == p.country
            methods.add(p.method)
            if p.method not in phones.OBSCURED and p.method != "trunk":
                digits = "".join(ch for ch in p.written if ch.isdigit())
                assert p.e164[1:].endswith(digits.lstrip("0")[-8:]), p
            assert p.obscured == (p.method in phones.OBSCURED)
    assert {"letters", "mixed_words", "words_nl", "words_en", "emoji", "dots", "wa_me",
            "double_zero", "trunk", "separators"} <= methods


@pytest.mark.parametrize(("method", "written"), [
    ("separators", "06-12 34 56 78"), ("trunk", "+31 (0)6 1234 5678"),
    ("double_zero", "0031612345678"), ("letters", "O6 I2345678"),
    ("wa_me", "wa.me/31612345678"), ("dots", "0.6.1.2.3.4.5.6.7.8"),
    ("words_nl", "nul zes een twee drie vier vijf zes zeven acht"),
])
def test_written_forms_match_the_domain_guide(method, written):
    import random

    assert phones.write(phones.Number("NL", "612345678"), method, random.Random(0)) == written


def test_mixed_words_writes_one_pair_as_a_dutch_word():
    import random

    out = phones.write(phones.Number("NL", "612345678"), "mixed_words", random.Random(2))
    assert out.startswith("06 ") and any(ch.isalpha() for ch in out)
    assert phones.dutch_number(12) == "twaalf" and phones.dutch_number(22) == "tweeëntwintig"


def test_numbers_recur_move_and_come_in_bulk_runs():
    w = World(seed=2, n_ads=600, days=7)
    by_number = defaultdict(set)
    for i in range(w.n_ads):
        for day in range(w.days):
            v = w.version_on(i, day)
            if v:
                for p in v.phones:
                    by_number[p.e164].add((w.ad(i).site, v.town_slug, i))
    assert any(len({s for s, _, _ in uses}) == 2 for uses in by_number.values())
    assert any(len({t for _, t, _ in uses}) >= 3 for uses in by_number.values())
    numbers = sorted(int(n[1:]) for n in by_number)
    runs = sum(1 for a, b in zip(numbers, numbers[1:], strict=False) if b == a + 1)
    assert runs >= 5


def test_indicators_photos_and_hostile_content_are_in_the_truth(world):
    ads = world.truth(world.days - 1)["ads"]
    cats = defaultdict(int)
    for a in ads:
        v = a["version"]
        for cat, evidence in v["indicators"].items():
            cats[cat] += 1
            for piece in evidence:
                assert piece in v["fields"]["text"] or piece in v["fields"]["phone"], (cat, piece)
    assert set(cats) == {"trust", "youth", "ethnicity", "obscured_phone", "movement",
                         "third_person", "multiple_women"}
    assert any(not a["version"]["indicators"] for a in ads)
    hostile = [a for a in ads if a["version"]["hostile"]]
    assert hostile and len(hostile) < len(ads) / 5
    photo_numbers = defaultdict(set)
    for a in ads:
        for p in a["version"]["photos"]:
            photo_numbers[p].add(a["version"]["phones"][0]["e164"])
    assert any(len(n) > 1 for n in photo_numbers.values()), "same photo under two numbers"
    assert all(1 <= len(a["version"]["images"]) <= 4 for a in ads)


def test_bad_parameters_name_the_input():
    with pytest.raises(ValueError, match="n_ads=0"):
        World(n_ads=0)
    with pytest.raises(ValueError, match="day 9"):
        World(days=3).live_ads("velvet", 9)
    with pytest.raises(IndexError, match="ad 5"):
        World(n_ads=5).ad(5)


def test_template_ads_copy_wording_under_other_numbers():
    w = World(seed=2, n_ads=400, days=2)
    pairs = [(i, w.template_of(i)) for i in range(w.n_ads) if w.template_of(i) is not None]
    assert pairs
    for i, t in pairs:
        a, b = w.last_version(i, 1), w.last_version(t, 1)
        if a and b:
            assert a.title.endswith(b.title.split(" - ")[-1]) and a.slug == b.slug
    assert any(w.last_version(i, 1).phones[0].e164 != w.last_version(t, 1).phones[0].e164
               for i, t in pairs if w.last_version(i, 1) and w.last_version(t, 1))
    truth = {a["index"]: a for a in w.truth(1)["ads"]}
    assert all(truth[i]["template_of"] == t for i, t in pairs if i in truth)
    assert all(a["template_of"] is None for i, a in truth.items() if i not in dict(pairs))
