"""The dashboard: charts from the vendored Chart.js with data in a JSON block (no inline
script), the same figures as tables, behind the theme wall, audited."""

from __future__ import annotations

import json
import re

from webui_world import PHONE, login

WINDOW = "from=2026-03-02&to=2026-03-08"


def chart_json(html: str) -> dict:  # type: ignore[type-arg]
    block = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>',
                      html, re.S)
    assert block, "no data block"
    return json.loads(block.group(1))


def series(chart: dict, key: str) -> list[int]:  # type: ignore[type-arg]
    return next(s["data"] for s in chart["series"] if s["key"] == key)


def test_dashboard_figures_per_day(client, audit_rows) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/dashboard?{WINDOW}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    data = chart_json(html)
    assert data["site"]["labels"][0] == "2026-03-02" and len(data["site"]["labels"]) == 7
    # Anna online 2–5 March, Lisa from 3 March until her removal on 7 March
    assert series(data["site"], "demo-velvet") == [1, 2, 2, 2, 1, 1, 0]
    assert series(data["site"], "demo-trends") == [0, 1, 0, 0, 0, 0, 0]
    assert series(data["place"], "Utrecht") == [1, 2, 1, 1, 0, 0, 0]
    assert series(data["churn"], "new") == [1, 2, 0, 0, 0, 0, 0]
    assert series(data["churn"], "removed") == [0, 0, 0, 0, 0, 1, 0]
    assert "Velvet Nights" in html  # sites by name, not id
    # the table carries the same figures for screen readers and print
    assert re.search(r'<th scope="row">2026-03-03</th><td>2</td><td>1</td>', html)
    assert f">{PHONE}</a></td><td>2</td><td>1</td>" in html
    event = audit_rows("view_dashboard")[0]
    assert event.target == "2026-03-02..2026-03-08" and event.details["ads"] == 3


def test_dashboard_weekly_and_scripts_served_locally(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/dashboard?{WINDOW}&period=week").get_data(as_text=True)
    data = chart_json(html)
    assert data["site"]["labels"] == ["2026-03-02"]  # the Monday of the week
    assert series(data["site"], "demo-velvet") == [2]
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in s or 'type="application/json"' in s for s in scripts)  # no inline JS
    assert '/static/vendor/chart.umd.min.js' in html and "/static/dashboard.js" in html
    assert "http://" not in "".join(re.findall(r'src="([^"]+)"', html))
    lib = client.get("/static/vendor/chart.umd.min.js")
    assert lib.status_code == 200 and b"Chart.js v4" in lib.data[:200]
    assert client.get("/static/dashboard.js").status_code == 200


def test_dashboard_respects_the_theme_wall(app) -> None:  # type: ignore[no-untyped-def]
    ann = login(app.test_client(), "ann")
    data = chart_json(ann.get(f"/dashboard?{WINDOW}").get_data(as_text=True))
    assert [s["key"] for s in data["site"]["series"]] == ["demo-velvet"]
    assert series(data["place"], "Utrecht") == [1, 1, 1, 1, 0, 0, 0]


def test_dashboard_bad_window_says_why(client) -> None:  # type: ignore[no-untyped-def]
    bad = client.get("/dashboard?from=yesterday")
    assert bad.status_code == 400 and "from=&#39;yesterday&#39;" in bad.get_data(as_text=True)
    inverted = client.get("/dashboard?from=2026-03-08&to=2026-03-01")
    assert inverted.status_code == 400 and "after until" in inverted.get_data(as_text=True)


def test_dashboard_without_window_covers_the_data(client) -> None:  # type: ignore[no-untyped-def]
    data = chart_json(client.get("/dashboard").get_data(as_text=True))
    assert data["site"]["labels"][0] == "2026-03-02" and data["site"]["labels"][-1] == "2026-03-07"


def test_dashboard_needs_login(app) -> None:  # type: ignore[no-untyped-def]
    resp = app.test_client().get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_trends_users_get_figures_but_no_numbers(app, world) -> None:  # type: ignore[no-untyped-def]
    from webui_world import PASSWORD

    from webui import db
    from webui.accounts import add_user, get_user

    conn = db.connect(world.data_dir)
    try:
        if get_user(conn, "tess") is None:
            add_user(conn, "tess", PASSWORD, role="trends", themes=("*",))
    finally:
        conn.close()
    tess = login(app.test_client(), "tess")
    html = tess.get(f"/dashboard?{WINDOW}").get_data(as_text=True)
    assert series(chart_json(html)["site"], "demo-velvet") == [1, 2, 2, 2, 1, 1, 0]
    assert PHONE not in html and "Most active numbers" not in html
