"""The search page: highlights, facets with toggle URLs, paging, errors, export, audit."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from webui.views.search import _csv_safe


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_search_highlights_matches_and_counts(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=anna").get_data(as_text=True)
    assert "<mark>Anna</mark>" in html
    assert re.search(r"<strong>1</strong> ad\b", html)
    assert "Velvet Nights" in html  # site name, not only its id
    assert "/phone/+31612345678" in html
    assert "risk 0.5" in html and "movement" in html
    assert "2 versions" in html


def test_thumbnail_comes_from_the_archive(client, world) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=anna").get_data(as_text=True)
    srcs = re.findall(r'<img[^>]*src="([^"]+)"', html)
    assert srcs == [f"/image/{world.image_sha}"]


def test_hostile_ad_text_is_escaped(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=lisa").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "removed" in html


def test_facet_links_toggle_filters_in_the_url(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=utrecht").get_data(as_text=True)
    city_links = [h for h in hrefs(html) if "f.city=Utrecht" in h]
    assert city_links, "the Place facet offers Utrecht"
    selected = client.get(city_links[0]).get_data(as_text=True)
    assert "✓ Utrecht" in selected
    assert re.search(r"<strong>2</strong> ads", selected)  # Anna and the trend ad
    # The same facet value now links back to the unfiltered search.
    assert "/search?q=utrecht" in hrefs(selected)
    # A filter on a facet narrows the others: site filter on an empty-text search.
    only_trends = client.get("/search?f.site=demo-trends").get_data(as_text=True)
    assert re.search(r"<strong>1</strong> ad\b", only_trends)
    assert "Trend Utrecht weekly" in only_trends and "Anna" not in only_trends


def test_search_state_lives_in_the_url_and_the_form(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/search?q=call&f.city=Utrecht&sort=oldest&from=2026-03-01").get_data(
        as_text=True)
    assert 'name="f.city" value="Utrecht"' in html
    assert '<option value="oldest" selected>' in html
    assert 'name="from" value="2026-03-01"' in html


def test_paging_links(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/search?sort=oldest&per_page=1").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> ads", first)
    nxt = [h for h in hrefs(first) if "page=2" in h]
    assert nxt
    second = client.get(nxt[0]).get_data(as_text=True)
    assert "page 2 of 3" in second
    assert any("per_page=1" in h and "page=" not in h.replace("per_page", "")
               for h in hrefs(second))


def test_analyst_sees_only_granted_themes(analyst) -> None:  # type: ignore[no-untyped-def]
    html = analyst.get("/search?q=utrecht").get_data(as_text=True)
    assert "Anna" in html and "Trend Utrecht weekly" not in html
    assert re.search(r"<strong>1</strong> ad\b", html)


def test_bad_query_returns_the_search_page_with_the_reason(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get('/search?q="unbalanced')
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "This search cannot run" in html and "unbalanced quote" in html
    assert 'value="&#34;unbalanced"' in html or 'value="&quot;unbalanced"' in html
    bad_date = client.get("/search?from=2026-13-40")
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.get_data(as_text=True)


def test_every_search_is_audited_with_parameters_and_count(client, audit_rows) -> None:  # type: ignore[no-untyped-def]
    client.get("/search?q=anna&f.city=Utrecht")
    event = audit_rows("search", user="ada")[0]
    assert event.target == "anna"
    assert event.details["args"] == [["q", "anna"], ["f.city", "Utrecht"]]
    assert event.details["total"] == 1


def test_csv_export_is_audited(client, audit_rows) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/export.csv?q=utrecht")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert {r["title"] for r in rows} == {"Anna new in Utrecht", "Trend Utrecht weekly"}
    event = audit_rows("export", user="ada")[0]
    assert event.details["rows"] == 2 and event.details["args"] == [["q", "utrecht"]]
    assert event.details["complete"] is True


def test_a_csv_export_cut_off_by_the_client_is_audited_too(client, audit_rows, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The rows handed out are in the log even when the download stops halfway."""
    from webui.views import search

    monkeypatch.setattr(search, "MAX_PER_PAGE", 1)  # one hit per streamed chunk
    before = len(audit_rows("export", user="ada"))
    resp = client.get("/export.csv?q=utrecht", buffered=False)
    first = next(iter(resp.response))
    assert b"Anna new in Utrecht" in first or b"Trend Utrecht weekly" in first
    resp.close()  # the client goes away after the first chunk
    events = audit_rows("export", user="ada")
    assert len(events) == before + 1
    assert events[0].details["rows"] == 1 and events[0].details["complete"] is False


def test_csv_cells_never_become_formulas() -> None:
    assert _csv_safe("=HYPERLINK(\"http://x\")").startswith("'=")
    assert _csv_safe("+31612345678") == "'+31612345678"
    assert _csv_safe("Anna") == "Anna"


def test_a_search_past_the_count_limit_says_more_than_and_what_was_sampled(world, monkeypatch):  # type: ignore[no-untyped-def]
    """With the store counting one match at most, "utrecht" (two ads) reads "more than 1",
    and the order and facets say they cover that first match only."""
    from webui_world import login

    from webui.app import create_app

    monkeypatch.setenv("ADTRACE_SEARCH_COUNT_LIMIT", "1")
    app = create_app({"STORE_URL": str(world.store_path), "DATA_DIR": str(world.data_dir),
                      "ARCHIVE_DIR": str(world.archive_dir), "SECRET_KEY": "test-secret",
                      "NOTICE": "Test notice: all use is logged.", "TESTING": True})
    client = login(app.test_client())
    html = client.get("/search?q=utrecht").get_data(as_text=True)
    assert re.search(r"more than <strong>1</strong> ad\b", html)
    assert "this order is over the first 1 found" in html
    assert "Counted over the first 1 matches only." in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/batch").get_data(as_text=True))
    assert token, "batch page has no CSRF token"
    batch = client.post("/batch", data={"entries": "utrecht", "csrf_token": token.group(1)})
    assert '<td class="count-cell">more than 1</td>' in batch.get_data(as_text=True)
    dutch = login(app.test_client())
    token = re.search(r'name="csrf_token" value="([^"]+)"', dutch.get("/help").get_data(as_text=True))
    assert token, "help page has no CSRF token"
    dutch.post("/prefs/lang", data={"lang": "nl", "next": "/search", "csrf_token": token.group(1)})
    html = dutch.get("/search?q=utrecht").get_data(as_text=True)
    assert "meer dan <strong>1</strong>" in html and "Alleen geteld over de eerste 1 treffers." in html
