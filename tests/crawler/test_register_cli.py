"""One invalid source file beside valid ones: the commands that read the register go on
with the valid sources and name the bad file (``sources``, ``crawl``, ``crawl status``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fixture_site import SOURCE_YAML, FixtureSite

from adtrace.cli import main


def register(folder: Path, base: str = "http://fixture.example/") -> Path:
    """A register with the fixture source, valid, and ``broken.yaml``, whose id is valid
    and two of whose fields are wrong; plus ``garbled.yaml``, not YAML at all."""
    folder.mkdir()
    (folder / "fixture.yaml").write_text(SOURCE_YAML.format(base=base), encoding="utf-8")
    data = yaml.safe_load(SOURCE_YAML.format(base="http://broken.example/"))
    data.update({"id": "broken", "revisit_hours": "daily", "country": "XX"})
    (folder / "broken.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (folder / "garbled.yaml").write_text("id: [unclosed", encoding="utf-8")
    return folder


def test_sources_check_names_every_wrong_field_of_every_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = register(tmp_path / "sources")
    assert main(["sources", "check", "--dir", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert out == "1 source file(s) valid, 2 not valid\n"
    broken, garbled = folder / "broken.yaml", folder / "garbled.yaml"
    lines = err.splitlines()
    assert lines[0].startswith(f"{broken}: country: 'XX' must be the ISO 3166")
    assert lines[1] == f"{broken}: revisit_hours: must be a number, not 'daily'"
    assert lines[2].startswith(f"{garbled}: not valid YAML: ")
    assert len(lines) == 3


def test_sources_list_lists_the_valid_and_warns_about_the_invalid(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = register(tmp_path / "sources")
    assert main(["sources", "list", "--dir", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("fixture-site         enabled ") and "broken" not in out
    assert (f"warning: source file not valid, not crawled: {folder / 'broken.yaml'}: "
            "country: 'XX' must be") in err and "(and 1 more)" in err
    assert f"not crawled: {folder / 'garbled.yaml'}: not valid YAML" in err


def test_crawl_status_works_and_warns_about_the_invalid_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = register(tmp_path / "sources")
    store = str(tmp_path / "s.sqlite3")
    assert main(["crawl", "status", "--dir", str(folder), "--store", store]) == 0
    out, err = capsys.readouterr()
    assert "fixture-site: never crawled" in out
    warnings = err.splitlines()
    assert len(warnings) == 2 and all(w.startswith("warning: source file not valid, not "
                                                   "crawled: ") for w in warnings)
    assert str(folder / "broken.yaml") in warnings[0]


def test_crawl_crawls_the_valid_sources_then_names_the_invalid_files(
        site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = register(tmp_path / "sources", base=site.url)
    args = ["crawl", "--dir", str(folder), "--store", str(tmp_path / "s.sqlite3"),
            "--archive", str(tmp_path / "archive"), "--quiet"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert out.startswith("fixture-site: pages=6 ads_seen=3 new_ads=3")
    named = [line for line in err.splitlines() if line.startswith("source file not valid")]
    assert named[0] == (
        f"source file not valid, not crawled: {folder / 'broken.yaml'}: country: 'XX' must "
        "be the ISO 3166 alpha-2 code of a country with a phone numbering plan, such as NL "
        "(ads write its numbers without +code) (and 1 more)")
    # YAML's own message spans lines: one line here, its breaks shown as \\n
    assert named[1].startswith(f"source file not valid, not crawled: {folder / 'garbled.yaml'}"
                               ": not valid YAML: ") and "\\n" in named[1]
    assert len(named) == 2

    assert main([*args, "--source", "fixture-site"]) == 0  # the others' files do not count
    out, err = capsys.readouterr()
    assert out.startswith("fixture-site: pages=")
    assert ("warning: 2 other source file(s) not valid, not crawled (adtrace sources "
            "check names the errors)\n") in err and "source file not valid" not in err

    assert main([*args, "--source", "broken"]) == 2
    assert capsys.readouterr().err.startswith(
        f"adtrace crawl: --source broken: its source file is not valid: "
        f"{folder / 'broken.yaml'}: country: ")


def test_crawl_with_only_invalid_files_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = register(tmp_path / "sources")
    (folder / "fixture.yaml").unlink()
    assert main(["crawl", "--dir", str(folder), "--store", str(tmp_path / "s.sqlite3")]) == 2
    assert capsys.readouterr().err == (
        "adtrace crawl: no enabled sources to crawl (2 source file(s) not valid: adtrace "
        "sources check)\n")


def test_sources_check_on_a_folder_with_no_source_file_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder without a single source file is most likely the wrong --dir."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a source", encoding="utf-8")
    assert main(["sources", "check", "--dir", str(tmp_path / "empty")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"no source files (*.yaml, *.yml) in {tmp_path / 'empty'}\n"
