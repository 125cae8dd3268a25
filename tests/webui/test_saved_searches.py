"""Saved searches (save, list, rename, delete, run, selection list), the watch list and
batch search, through the Flask client against a real SQLite store and accounts file."""

from __future__ import annotations

import csv
import io

from webui_world import PHONE, login, token_from


def _save(client, query: str, name: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/saved/new?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = {"name": name, "csrf_token": token_from(html)}
    for key, value in __import__("urllib.parse").parse.parse_qsl(query):
        data[key] = value
    return client.post("/saved/new", data=data)


def _saved_ids(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    import re

    html = client.get("/saved").get_data(as_text=True)
    return {name: int(i) for i, name in re.findall(r'href="/saved/(\d+)/run">([^<]+)</a>', html)}


def test_search_page_offers_to_save_the_search(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=Anna&f.city=Utrecht").get_data(as_text=True)
    assert '/saved/new?q=Anna&amp;f.city=Utrecht' in html
    form = client.get("/saved/new?q=Anna&f.city=Utrecht&page=2").get_data(as_text=True)
    assert 'name="f.city" value="Utrecht"' in form and 'name="page"' not in form


def test_save_list_rename_run_delete(client, audit_rows) -> None:  # type: ignore[no-untyped-def]
    resp = _save(client, "q=Anna&sort=newest", "Anna watch")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/saved")
    listing = client.get("/saved").get_data(as_text=True)
    assert "Anna watch" in listing and "1 ad(s) match now" in listing
    sid = _saved_ids(client)["Anna watch"]
    event = audit_rows("saved_search")[0]
    assert event.details["op"] == "create" and event.details["baseline"] == 1
    assert ["q", "Anna"] in event.details["args"]

    token = token_from(listing)
    assert client.post(f"/saved/{sid}/rename", data={"name": "  Anna  Utrecht ",
                                                       "csrf_token": token}).status_code == 302
    assert "Anna Utrecht" in client.get("/saved").get_data(as_text=True)
    run = client.get(f"/saved/{sid}/run")
    assert run.status_code == 302 and run.headers["Location"] == "/search?q=Anna&sort=newest"
    assert client.post(f"/saved/{sid}/delete", data={"csrf_token": token}).status_code == 302
    assert "Anna Utrecht" not in client.get("/saved").get_data(as_text=True)
    assert [e.details["op"] for e in audit_rows("saved_search")[:2]] == ["run", "create"]
    assert audit_rows("saved_search_rename")[0].details["to"] == "Anna Utrecht"
    assert audit_rows("saved_search_delete")[0].details == {"op": "delete", "id": sid}


def test_bad_names_and_queries_are_refused_with_the_reason(client) -> None:  # type: ignore[no-untyped-def]
    resp = _save(client, "q=Anna", "   ")
    assert resp.status_code == 400 and "give the saved search a name" in resp.get_data(as_text=True)
    bad = client.get("/saved/new?sort=sideways")
    assert bad.status_code == 400 and "sort=" in bad.get_data(as_text=True)


def test_a_saved_search_is_private_to_its_owner(app, client) -> None:  # type: ignore[no-untyped-def]
    _save(client, "q=Lisa", "Ada private")
    sid = _saved_ids(client)["Ada private"]
    other = login(app.test_client(), "ann")
    token = token_from(other.get("/saved").get_data(as_text=True))
    assert "Ada private" not in other.get("/saved").get_data(as_text=True)
    assert other.get(f"/saved/{sid}/run").status_code == 404
    assert other.get(f"/saved/{sid}/selection.csv").status_code == 404
    assert other.post(f"/saved/{sid}/delete", data={"csrf_token": token}).status_code == 404
    assert "Ada private" in client.get("/saved").get_data(as_text=True)


def test_selection_list_for_inspections(app, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    """A supervisor's regional criteria as a saved search, exported as a CSV selection list,
    behind the supervisor's theme wall (ann sees only trafficking sources)."""
    ann = login(app.test_client(), "ann")
    _save(ann, "f.city=Utrecht", "Utrecht region")
    sid = _saved_ids(ann)["Utrecht region"]
    resp = ann.get(f"/saved/{sid}/selection.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["ad_id"] for r in rows] == [world.anna_id]  # the research-theme ad is walled off
    assert rows[0]["site"] == "Velvet Nights"
    assert rows[0]["phones"] == "'" + PHONE  # a leading + would start a spreadsheet formula
    assert rows[0]["adtrace_page"] == f"/ad/{world.anna_id}"
    event = audit_rows("export", user="ann")[0]
    assert event.details["format"] == "selection-csv" and event.details["rows"] == 1


def test_selection_csv_defuses_formulas(client, world) -> None:  # type: ignore[no-untyped-def]
    _save(client, "q=Lisa", "Lisa csv")
    sid = _saved_ids(client)["Lisa csv"]
    text = client.get(f"/saved/{sid}/selection.csv").get_data(as_text=True)
    assert world.lisa_id in text
    for row in csv.reader(io.StringIO(text)):
        assert all(not cell.startswith(("=", "+", "@")) for cell in row)


def test_watch_list_normalises_numbers(client, audit_rows) -> None:  # type: ignore[no-untyped-def]
    token = token_from(client.get("/saved").get_data(as_text=True))
    client.post("/watch", data={"numbers": "06-12 34 56 78\nnot a number\n0031612345678",
                                "label": "Anna", "csrf_token": token})
    html = client.get("/saved").get_data(as_text=True)
    assert html.count(">+31612345678</a>") == 1
    assert "not a phone number" in html and "already on your watch list" in html
    event = audit_rows("watch_list")[0]
    assert event.details == {"op": "add", "added": ["+31612345678"], "errors": 2}
    import re

    wid = re.search(r'/watch/(\d+)/delete', html).group(1)
    assert client.post(f"/watch/{wid}/delete", data={"csrf_token": token}).status_code == 302
    assert ">+31612345678</a>" not in client.get("/saved").get_data(as_text=True)


def test_batch_search_counts_matches_per_entry(app, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    ann = login(app.test_client(), "ann")
    token = token_from(ann.get("/batch").get_data(as_text=True))
    resp = ann.post("/batch", data={
        "entries": "06 12345678\nUtrecht\n+32 470 12 34 56\nUtrecht\nsort:(", "csrf_token": token})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    cells = __import__("re").findall(r'<td class="count-cell">(\d+)</td>', html)
    # the number is in Anna's and Lisa's ads; Utrecht in Anna's (the research ad is walled);
    # the Belgian number only in the research ad; "Utrecht" once (duplicates dropped)
    assert cells[:3] == ["2", "1", "0"]
    assert f"/ad/{world.anna_id}" in html and f"/ad/{world.trend_id}" not in html
    assert "/phone/%2B31612345678" in html or "/phone/+31612345678" in html
    event = audit_rows("batch_search", user="ann")[0]
    assert event.details["entries"][:3] == ["06 12345678", "Utrecht", "+32 470 12 34 56"]


def test_batch_search_upload_and_limits(client) -> None:  # type: ignore[no-untyped-def]
    token = token_from(client.get("/batch").get_data(as_text=True))
    upload = (io.BytesIO("\ufeffnumber,name\n+31612345678,anna\n".encode()), "list.csv")
    resp = client.post("/batch", data={"entries": "", "file": upload, "csrf_token": token},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<td class="entry">+31612345678</td>' in html
    empty = client.post("/batch", data={"entries": " \n ", "csrf_token": token})
    assert empty.status_code == 400 and "at least one" in empty.get_data(as_text=True)
    many = "\n".join(f"term{i}" for i in range(201))
    too_many = client.post("/batch", data={"entries": many, "csrf_token": token})
    assert too_many.status_code == 400 and "at most 200" in too_many.get_data(as_text=True)


def test_saving_a_too_broad_search_warns_about_alerts(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from webui import alerts

    monkeypatch.setattr(alerts, "ALERT_LIMIT", 1)
    resp = _save(client, "f.phone=%2B31612345678", "Broad")  # two ads carry the number
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    html = client.get("/saved").get_data(as_text=True)
    assert "matches 1 ads or more" in html and "1 ad(s) match now" in html
