"""Theme walls through the whole web UI: an analyst granted only 'trafficking' tries every
route of the app — found by enumerating app.url_map, so routes added later are tried too —
with the real ids and values of the 'research' ad, by GET and POST, with and without query
parameters. Nothing of that ad may come back: not its id, title, text, number, site or a
count that includes it; and nothing may be written about it.
"""

from __future__ import annotations

import itertools
import re

import pytest
from webui_world import login, token_from

from indexer.store import open_store

TREND_PHONE = "+32470123456"
# What only the research-theme ad (and its source) would reveal.
MARKERS = ("Trend Utrecht weekly", "research sample", "470123456", "Trend Board",
           "demo-trends", "trends/ad/9")
QUERY = {"q": "Trend weekly", "site": "demo-trends", "theme": "research",
         "phone": TREND_PHONE, "kind": "phone", "value": TREND_PHONE}
SKIP = {"static", "auth.logout", "auth.login", "auth.notice"}


@pytest.fixture(scope="module")
def trend(world):  # type: ignore[no-untyped-def]
    store = open_store(str(world.store_path))
    try:
        record = store.get_ad(world.trend_id)
    finally:
        store.close()
    assert record is not None and record.source_id == "demo-trends"
    return record


def _values(arg: str, world, trend) -> list[object]:  # type: ignore[no-untyped-def]
    """Real values of the other theme's ad for each kind of route argument."""
    version = trend.versions[-1]
    return {
        "ad_id": [world.trend_id], "capture_id": [version.captures[0].id],
        "seq": [1], "number": [TREND_PHONE, "0032470123456"],
        "kind": ["phone", "email", "handle", "url"], "value": [TREND_PHONE],
        "version_id": [version.id], "search_id": [1, 2, 3], "watch_id": [1, 2],
        "fmt": ["csv", "jsonl"], "sha256": ["a" * 64],
    }.get(arg, ["x1"])


def _urls(rule, world, trend) -> list[str]:  # type: ignore[no-untyped-def]
    args = sorted(rule.arguments)
    urls = []
    for combo in itertools.product(*(_values(a, world, trend) for a in args)):
        url = rule.rule
        for arg, value in zip(args, combo, strict=True):
            url = re.sub(r"<(?:[^<>]+:)?" + arg + ">", str(value), url)
        urls.append(url)
    return urls


def _leaks(body: bytes, request_text: str) -> list[str]:
    """Markers in the answer that the request did not itself carry (an echo is no leak)."""
    text = body.decode("utf-8", "replace")
    return [m for m in MARKERS if m in text and m not in request_text]


def test_every_route_keeps_the_other_theme_out(app, world, trend) -> None:  # type: ignore[no-untyped-def]
    client = login(app.test_client(), "ann")
    token = token_from(client.get("/").get_data(as_text=True))
    form = {"csrf_token": token, "q": "Trend", "ad_id": world.trend_id,
            "target": world.trend_id, "target_id": world.trend_id, "kind": "phone",
            "value": TREND_PHONE, "label": "yes", "note": "probe", "reason": "probe",
            "name": "probe", "terms": f"{TREND_PHONE}\nTrend weekly",
            "numbers": TREND_PHONE, "number": TREND_PHONE, "lang": "en", "blur": "0"}
    tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        for url in _urls(rule, world, trend):
            if "GET" in rule.methods:
                for full in (url, url + "?" + "&".join(f"{k}={v}" for k, v in QUERY.items())):
                    resp = client.get(full, follow_redirects=True)
                    assert resp.status_code < 500, full
                    assert not _leaks(resp.data, full + str(QUERY)), (full, _leaks(resp.data, full))
                    tried += 1
            if "POST" in rule.methods:
                resp = client.post(url, data=form, follow_redirects=True)
                assert resp.status_code < 500, url
                assert not _leaks(resp.data, url + str(form)), (url, _leaks(resp.data, url))
                tried += 1
    assert tried > 50
    # The other theme's ad itself answers as if it did not exist.
    assert client.get(f"/ad/{world.trend_id}").status_code == 404
    # Nothing was written about it through the wall.
    store = open_store(str(world.store_path))
    try:
        assert store.assessments(world.trend_id) == []
        assert store.suppressions(world.trend_id) == []
    finally:
        store.close()


def test_counts_leave_the_other_theme_out(app, analyst, client, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    def total(c, name: str, q: str) -> int:  # type: ignore[no-untyped-def]
        html = c.get(f"/search?q={q}&facets=site,theme").get_data(as_text=True)
        assert "Trend Board" not in html or name == "ada"
        return int(audit_rows("search", user=name)[0].details["total"])

    assert total(client, "ada", "utrecht") == 2  # the admin sees both themes
    assert total(analyst, "ann", "utrecht") == 1
    csv_rows = analyst.get("/export.csv?q=utrecht").get_data(as_text=True).strip().splitlines()
    assert len(csv_rows) == 2 and world.anna_id in csv_rows[1]
    assert analyst.get(f"/phone/{TREND_PHONE}").status_code in (200, 404)
    page = analyst.get(f"/phone/{TREND_PHONE}").get_data(as_text=True)
    assert world.trend_id not in page and "Trend Utrecht weekly" not in page


def test_the_wall_is_in_the_store_handed_to_views(app, world) -> None:  # type: ignore[no-untyped-def]
    """A view that forgot the wall would still get a walled store."""
    from flask import g

    from webui.accounts import get_user
    from webui.app import get_accounts, get_store

    with app.test_request_context("/"):
        g.user = get_user(get_accounts(), "ann")
        store = get_store()
        assert store.get_ad(world.trend_id) is None
        assert store.get_ad(world.anna_id) is not None
        assert store.get_ad(world.trend_id, themes=("research",)) is None  # cannot widen
        assert {r.source_id for r in store.iter_ads()} == {"demo-velvet"}
        assert store.ads_for_identifier("phone", TREND_PHONE) == []
        with pytest.raises(KeyError):
            store.set_assessment(world.trend_id, "ann", "yes", "through the wall")


def test_one_walled_store_per_request_and_wall(app, world) -> None:  # type: ignore[no-untyped-def]
    """The wrapper (and what it learnt about which ads are visible) lasts the request;
    a user set later in the request gets their own wall, not the earlier one."""
    from flask import g

    from webui.accounts import get_user
    from webui.app import get_accounts, get_store

    with app.test_request_context("/"):
        g.user = get_user(get_accounts(), "ann")
        walled = get_store()
        assert get_store() is walled
        with pytest.raises(KeyError):
            walled.assessments(world.trend_id)
        g.user = get_user(get_accounts(), "ada")  # the admin: no wall
        assert get_store() is not walled
        assert get_store().get_ad(world.trend_id) is not None
