"""`adtrace search / export / stats` against a real store file chosen by ADTRACE_STORE."""

from __future__ import annotations

import argparse
import json

import pytest
from contract_data import at, enr, obs, seed

from adtrace.cli import CommandError
from indexer import cli
from indexer.store.sqlite import SqliteStore


def run(argv: list[str]) -> int:
    """The indexer's subcommands exactly as `adtrace` wires them."""
    parser = argparse.ArgumentParser(prog="adtrace")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "cli.sqlite3"
    s = SqliteStore(path)
    seed(s)
    s.close()
    monkeypatch.setenv("ADTRACE_STORE", str(path))
    return path


def test_search_prints_a_table_and_facets(store_path, capsys):
    assert run(["search", "girl", "--filter", "site=alpha"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 ads match")
    assert "Lisa in Utrecht" in out and "+31612345678" in out
    assert "Site: alpha (1), beta (1)" in out


def test_search_past_the_count_limit_says_so(store_path, capsys, monkeypatch):
    monkeypatch.setenv("ADTRACE_SEARCH_COUNT_LIMIT", "1")
    assert run(["search", "utrecht"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("more than 1 ads match")
    assert "sorted among the first 1 matches found" in out
    assert "Site: " in out and "(over the first 1 matches)" in out
    assert run(["search", "utrecht", "--json"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["total"] == 1 and last["total_is_lower_bound"] and last["order_sampled"]


def test_search_json_lines(store_path, capsys):
    assert run(["search", "", "--sort", "newest", "--limit", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["hit"]["title"] for line in lines[:2]] == ["Escort Utrecht", "Salon"]
    assert lines[2]["total"] == 6
    assert {f["name"] for f in lines[2]["facets"]} >= {"site", "city", "phone"}


def test_search_as_of(store_path, capsys):
    assert run(["search", "--as-of", "2026-03-02", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["total"] == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["search", '"open'], "unbalanced quote"),
    (["search", "x", "--filter", "cityUtrecht"], "--filter 'cityUtrecht'"),
    (["search", "x", "--as-of", "tomorrow"], "as_of='tomorrow'"),
    (["search", "x", "--limit", "0"], "per_page='0'"),
])
def test_search_user_errors_are_command_errors(store_path, argv, message):
    with pytest.raises(CommandError, match=message):
        run(argv)


def test_export_writes_every_ad_with_versions_and_captures(store_path, tmp_path, capsys):
    out = tmp_path / "out" / "ads.jsonl"
    assert run(["export", "--out", str(out)]) == 0
    ads = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ads) == 6
    assert all(a["versions"][0]["captures"][0]["sha256"] for a in ads)
    assert {a["site_ad_id"] for a in ads} == {"a1", "a2", "a3", "b1", "b2", "g1"}
    assert "exported 6 ads" in capsys.readouterr().err


def test_export_to_stdout(store_path, capsys):
    assert run(["export"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_stats(store_path, capsys):
    assert run(["stats"]) == 0
    out = capsys.readouterr().out
    assert "ads        6" in out and "sources    3" in out


def test_a_store_that_cannot_open_is_a_command_error(tmp_path, monkeypatch):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 200)
    monkeypatch.setenv("ADTRACE_STORE", str(bad))
    with pytest.raises(CommandError, match="bad.sqlite3"):
        run(["stats"])


def test_search_json_writes_an_ads_control_and_bidi_characters_escaped(store_path, capsys):
    title = "Mila \x9b31m\u202eenord\u2028\U000f0001 \U0001f339"  # C1 CSI, RLO, LS, private use
    store = SqliteStore(store_path)
    store.write(obs("alpha", "hostile", at(3), "zebrafinch text", title), enr())
    store.close()
    assert run(["search", "zebrafinch", "--json"]) == 0
    out = capsys.readouterr().out
    assert all(line.isprintable() for line in out.splitlines())
    assert "\\u009b31m\\u202eenord\\u2028\\udb80\\udc01 \U0001f339" in out  # the rose is printable
    assert json.loads(out.splitlines()[0])["hit"]["title"] == title
