"""Assessments on the ad page: recorded with name and time, kept as history, audited, a
search facet, and exported as labelled data by ``adtrace assessments``."""

from __future__ import annotations

import json

from webui_world import token_from

from adtrace.cli import main


def assess(client, ad_id: str, label: str, note: str = ""):  # type: ignore[no-untyped-def]
    token = token_from(client.get(f"/ad/{ad_id}").get_data(as_text=True))
    return client.post(f"/ad/{ad_id}/assess",
                       data={"label": label, "note": note, "csrf_token": token})


def test_assessment_is_saved_shown_audited_and_searchable(client, world, audit_rows):
    resp = assess(client, world.lisa_id, "unsure", "look at the photos")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#assessment")
    resp = assess(client, world.lisa_id, "yes", "same number as <b>case</b> 12")
    page = client.get(f"/ad/{world.lisa_id}").get_data(as_text=True)
    assert page.index("Signals of exploitation</span> ada") < page.index("Unsure</span> ada")
    assert "same number as &lt;b&gt;case&lt;/b&gt; 12" in page  # the note is text, not markup
    events = [e for e in audit_rows("assessment") if e.target == world.lisa_id]
    assert [e.details["label"] for e in events][:2] == ["yes", "unsure"]

    search = client.get("/search?f.assessment=yes").get_data(as_text=True)
    assert f"/ad/{world.lisa_id}" in search and f"/ad/{world.anna_id}\"" not in search
    assert 'aria-label="Assessment"' in search and "Signals of exploitation" in search


def test_bad_assessments_are_refused_and_nothing_is_stored(client, world):
    before = client.get(f"/ad/{world.anna_id}").get_data(as_text=True).count("class=\"chip assess-")
    resp = assess(client, world.anna_id, "maybe")
    assert resp.status_code == 400 and "maybe" in resp.get_data(as_text=True)
    assert assess(client, world.anna_id, "yes", "x" * 5000).status_code == 400
    token = token_from(client.get(f"/ad/{world.anna_id}").get_data(as_text=True))
    assert client.post(f"/ad/{world.anna_id}/assess", data={"label": "yes"}).status_code == 400  # no CSRF
    assert client.post(f"/ad/{'f' * 16}/assess",
                       data={"label": "yes", "csrf_token": token}).status_code == 404
    after = client.get(f"/ad/{world.anna_id}").get_data(as_text=True).count("class=\"chip assess-")
    assert after == before


def test_analyst_cannot_assess_outside_their_themes(analyst, world):
    assert assess_status(analyst, world) == 404


def assess_status(analyst, world) -> int:  # type: ignore[no-untyped-def]
    token = token_from(analyst.get(f"/ad/{world.anna_id}").get_data(as_text=True))
    return analyst.post(f"/ad/{world.trend_id}/assess",
                        data={"label": "no", "csrf_token": token}).status_code


def test_export_labelled_data_as_json_lines(client, world, tmp_path, monkeypatch, capsys):
    assess(client, world.anna_id, "no", "regular ad")
    assess(client, world.anna_id, "unsure", "second look")
    monkeypatch.setenv("ADTRACE_STORE", str(world.store_path))
    out = tmp_path / "labels.jsonl"
    assert main(["assessments", "--out", str(out), "--latest", "--with-text"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    anna = [r for r in rows if r["ad_id"] == world.anna_id]
    assert len(anna) == 1 and anna[0]["label"] == "unsure" and anna[0]["user"] == "ada"
    assert anna[0]["version_seq"] == 2 and "only a few days" in anna[0]["text"]
    assert main(["assessments", "--out", str(out), "--label", "no"]) == 0
    assert {json.loads(line)["label"] for line in out.read_text().splitlines()} == {"no"}
    assert main(["assessments", "--out", str(out / "x.jsonl")]) == 2  # under a file
    assert "cannot write" in capsys.readouterr().err
