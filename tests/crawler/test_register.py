"""The source register: files validate strictly and errors say file, field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from adtrace.cli import main
from crawler.register import (
    SourceError,
    load_register,
    load_source,
    load_sources,
    parse_source,
    source_from_dict,
    source_to_dict,
)

REPO = Path(__file__).resolve().parents[2]
GOOD = {
    "id": "site-a", "name": "Site A", "theme": "trafficking", "country": "nl",
    "base_url": "https://a.example/", "reason": "Because.", "approved_by": "Chief",
    "approved_on": "2026-11-01",
    "sections": [{"name": "All", "url": "ads/"}],
    "selectors": {"ad_links": "a.ad::attr(href)", "ad_id": {"from_url": r"/ad/(\d+)"},
                  "fields": {"title": "h1::text", "text": "xpath://div[@id='t']//text()"}},
}


def write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_good_file_loads_with_defaults(tmp_path: Path) -> None:
    src = load_source(write(tmp_path, "a.yaml", GOOD))
    assert (src.id, src.country, src.robots, src.enabled) == ("site-a", "NL", "obey", True)
    assert src.selectors.ad_id_from_url == r"/ad/(\d+)"
    assert src.selectors.fields["text"].startswith("xpath:")
    assert src.politeness.concurrency == 2 and src.path.endswith("a.yaml")
    assert source_from_dict(source_to_dict(src)) == src


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, r"\(top level\): unknown key\(s\) \['colour'\]"),
    ({"id": "Bad Id"}, r"id: 'Bad Id' must match"),
    ({"id": "a" * 65}, r"id: .aaaa.*is 65 characters long; at most 64"),
    ({"reason": ""}, r"reason: is required"),
    ({"robots": "ignore"}, r"robots_reason: is required when robots is 'ignore'"),
    ({"robots": "maybe"}, r"robots: 'maybe' must be"),
    ({"base_url": "ftp://x"}, r"base_url: 'ftp://x' must be an http\(s\) URL"),
    ({"sections": []}, r"sections: must be a non-empty list"),
    ({"sections": [{"name": "x", "url": "y", "depth": 2}]}, r"sections\[0\]: unknown key"),
    ({"sections": [{"name": "Gent", "url": "a/"}, {"name": "Luik", "url": "b/"},
                   {"name": "Gent", "url": "c/"}]},
     r"sections\[2\].name: 'Gent' is also the name of sections\[0\]; each section needs a "
     r"name of its own"),
    ({"politeness": {"concurrency": 0}}, r"politeness.concurrency: must be at least 1"),
    ({"politeness": {"delay": 1}}, r"politeness: unknown key\(s\) \['delay'\]"),
    ({"selectors": {"ad_links": "a", "ad_id": {"from_url": "/ad/\\d+"}}},
     r"selectors.ad_id.from_url: needs exactly one group"),
    ({"selectors": {"ad_links": "a", "ad_id": {"from_url": "(["}}}, r"bad regex"),
    ({"selectors": {"ad_link": "a"}}, r"selectors: unknown key"),
    ({"enabled": "yes"}, r"enabled: must be true or false"),
    ({"revisit_hours": float("nan")}, r"revisit_hours: must be a finite number, not nan"),
    ({"crawl_every_hours": float("inf")}, r"crawl_every_hours: must be a finite number"),
    ({"politeness": {"download_delay": float("nan")}}, r"download_delay: must be a finite"),
    ({"revisit_hours": 0.01}, r"revisit_hours: must be at least 0.25"),
    ({"crawl_every_hours": 0.0001}, r"crawl_every_hours: must be 0 \(every revisit_hours\)"),
    ({"politeness": {"concurrency": 10**9}}, r"politeness.concurrency: must be at most 64"),
    ({"selectors": {**GOOD["selectors"], "ad_links": "a.ad[[[::attr(href)"}},
     r"selectors.ad_links: bad selector 'a.ad\[\[\["),
    ({"selectors": {**GOOD["selectors"], "fields": {"title": "xpath://h1[("}}},
     r"selectors.fields.title: bad selector"),
    ({"selectors": {**GOOD["selectors"], "empty_listing": "p..none"}},
     r"selectors.empty_listing: bad selector"),
    ({"country": "XX"}, r"country: 'XX' must be the ISO 3166 alpha-2 code of a country"),
    ({"approved_on": "last week"}, r"approved_on: 'last week' must be a date, YYYY-MM-DD"),
    ({"approved_on": "2026-02-30"}, r"approved_on: '2026-02-30' must be a date"),
    ({"base_url": "https://a.example /x"}, r"base_url: .* must be an http\(s\) URL with a host"),
    ({"base_url": "ftp://a.example/"}, r"base_url: .* must be an http\(s\) URL"),
    ({"sections": [{"name": "X", "url": "javascript:alert(1)"}]},
     r"sections\[0\].url: 'javascript:alert\(1\)' is not an http\(s\) page of base_url"),
    ({"sections": [{"name": "X", "url": "https://other.example/ads/"}]},
     r"sections\[0\].url: .* is on other.example, not on the approved site a.example"),
    ({"user_agent": "adtrace\r\nX-Evil: 1"}, r"user_agent: .* must not contain line breaks"),
    ({"base_url": "https://m.example/", "sections": [{"name": "X", "url": "https://o.example/"}]},
     r"sections\[0\].url: .* is on o.example, not on the approved site m.example"),
    ({"politeness": False}, r"politeness: must be a mapping, not bool"),
    ({"spider": "no-such-spider"}, r"spider: no spider named 'no-such-spider' in "
                                   r"crawler.spiders \(known: .*demo-board-api"),
    ({"spider": "crawler.spiders.generic:Listing"},
     r"spider: .* is not a spider class that subclasses GenericSpider"),
    ({"selectors": {**GOOD["selectors"], "ad_links": "jsonld:url"}},
     r"selectors.ad_links: 'jsonld:url': jsonld:/microdata: only work in selectors.fields"),
    ({"selectors": {**GOOD["selectors"], "removed_marker": "microdata:gone"}},
     r"selectors.removed_marker: .*only work in selectors.fields"),
])
def test_errors_name_file_field_and_problem(tmp_path: Path, change: dict, message: str) -> None:
    path = write(tmp_path, "bad.yaml", {**GOOD, **change})
    with pytest.raises(SourceError, match=message) as err:
        load_source(path)
    assert str(err.value).startswith(str(path))


def test_a_key_given_twice_is_refused_not_last_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "twice.yaml", GOOD)
    path.write_text(path.read_text(encoding="utf-8") + "name: Site A again\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"twice.yaml: not valid YAML: 'name' is given twice"):
        load_source(path)


def test_a_yaml_merge_may_be_overridden_but_an_explicit_key_not_repeated(
        tmp_path: Path) -> None:
    base = {k: v for k, v in GOOD.items() if k != "sections"}
    text = yaml.safe_dump(base) + (
        "sections:\n"
        "  - &city {name: Amsterdam, url: ads/ams/}\n"
        "  - <<: *city\n"
        "    name: Utrecht\n"
        "    url: ads/utr/\n")
    merged = tmp_path / "merged.yaml"
    merged.write_text(text, encoding="utf-8")
    assert [(s.name, s.url) for s in load_source(merged).sections] == [
        ("Amsterdam", "ads/ams/"), ("Utrecht", "ads/utr/")]
    merged.write_text(text + "    url: ads/other/\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"'url' is given twice"):
        load_source(merged)
    merged.write_text(text + "    <<: *city\n", encoding="utf-8")  # which merge wins?
    with pytest.raises(SourceError, match=r"'<<' is given twice"):
        load_source(merged)


def test_a_zero_crawl_interval_means_every_revisit_and_structured_selectors_pass() -> None:
    src = parse_source({**GOOD, "crawl_every_hours": 0, "selectors": {
        **GOOD["selectors"], "fields": {"title": "jsonld:name", "age": "microdata:age"},
        "empty_listing": "p.none"}})
    assert src.crawl_every_hours == 0 and src.selectors.empty_listing == "p.none"


def test_sections_may_use_the_sites_subdomains_and_custom_spiders_need_no_ad_links() -> None:
    src = parse_source({**GOOD, "base_url": "https://www.a.example/", "sections": [
        {"name": "Root", "url": "https://a.example/ads/"},
        {"name": "City", "url": "https://utrecht.a.example/ads/"}]})
    assert [s.url for s in src.sections][1] == "https://utrecht.a.example/ads/"
    for base, section in (("https://m.a.example/", "https://www.a.example/ads"),
                          ("https://www2.a.example/", "https://a.example/ads"),
                          ("https://a.example./", "https://a.example/ads"),
                          ("https://www.bücher.example/", "https://xn--bcher-kva.example/a"),
                          ("https://a.example:8443/x/", "https://a.example:8443/x/ads")):
        parse_source({**GOOD, "base_url": base, "sections": [{"name": "S", "url": section}]})
    tabbed = parse_source({**GOOD, "user_agent": "adtrace\t(research)",
                           "selectors": {**GOOD["selectors"], "ad_id": ""}})
    assert tabbed.user_agent == "adtrace\t(research)"
    custom = parse_source({**GOOD, "spider": "crawler.spiders.board_api:BoardApiSpider",
                           "selectors": {"fields": {"title": "h1::text"}}})
    assert custom.spider.endswith(":BoardApiSpider") and custom.selectors.ad_links == ""
    with pytest.raises(SourceError, match=r"selectors.ad_links: is required"):
        parse_source({**GOOD, "selectors": {"fields": {"title": "h1::text"}}})


def test_ignoring_robots_with_a_reason_is_allowed() -> None:
    src = parse_source({**GOOD, "robots": "ignore", "robots_reason": "Court order 123."})
    assert src.robots == "ignore" and src.robots_reason == "Court order 123."


def test_folder_loading_rejects_duplicates_and_bad_yaml(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yml", {**GOOD, "id": "site-b", "enabled": False})
    assert [s.id for s in load_sources(tmp_path)] == ["site-a", "site-b"]
    assert [s.id for s in load_sources(tmp_path, enabled_only=True)] == ["site-a"]
    write(tmp_path, "c.yaml", GOOD)
    with pytest.raises(SourceError, match=r"a.yaml: id: 'site-a' also given by .*c.yaml"):
        load_sources(tmp_path)
    (tmp_path / "c.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(SourceError, match="c.yaml: not valid YAML"):
        load_sources(tmp_path)


def test_every_wrong_field_of_a_file_is_named_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", {
        **{k: v for k, v in GOOD.items() if k != "reason"}, "colour": 1, "country": "XX",
        "politeness": {"concurrency": 0, "download_delay": -1},
        "selectors": {**GOOD["selectors"], "fields": {"title": "h1[[", "text": "p::text"},
                      "images": "img[["}})
    with pytest.raises(SourceError) as err:
        load_source(path)
    assert [p.split(": ", 2)[1] for p in err.value.problems] == [
        "(top level)", "reason", "country", "selectors.fields.title", "selectors.images",
        "politeness.download_delay", "politeness.concurrency"]
    assert all(p.startswith(f"{path}: ") for p in err.value.problems)
    assert str(err.value) == "\n".join(err.value.problems)
    assert err.value.path == str(path) and err.value.source_id == "site-a"


def test_the_register_keeps_the_valid_sources_and_the_errors_apart(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", {**GOOD, "id": "site-b", "revisit_hours": "daily"})
    (tmp_path / "c.yaml").write_text("id: [unclosed", encoding="utf-8")
    write(tmp_path, "d.yaml", {**GOOD, "id": "site-d"})
    write(tmp_path, "e.yaml", {**GOOD, "id": "site-d", "name": "Another D"})
    sources, errors = load_register(tmp_path)
    assert [s.id for s in sources] == ["site-a"]  # an id two files give: from neither
    assert [(Path(e.path).name, e.source_id) for e in errors] == [
        ("b.yaml", "site-b"), ("c.yaml", ""), ("d.yaml", "site-d"), ("e.yaml", "site-d")]
    assert "d.yaml: id: 'site-d' also given by" in str(errors[2])  # neither is valid
    assert "e.yaml: id: 'site-d' already used by" in str(errors[3])
    with pytest.raises(SourceError, match="b.yaml: revisit_hours: must be a number"):
        load_sources(tmp_path)  # the strict form: the first bad file


def test_bundled_sources_are_valid() -> None:
    sources = load_sources(REPO / "sources")
    assert sources and all(s.reason and s.approved_by for s in sources)


def test_cli_sources_check_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "a.yaml", GOOD)
    assert main(["sources", "check", "--dir", str(tmp_path)]) == 0
    assert "1 source file(s) valid" in capsys.readouterr().out
    assert main(["sources", "list", "--dir", str(tmp_path)]) == 0
    assert "site-a" in capsys.readouterr().out
    write(tmp_path, "a.yaml", {**GOOD, "reason": "Because.\x1b]0;owned\x07\nforged line"})
    assert main(["sources", "list", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "why: Because.\\x1b]0;owned\\x07\\nforged line (approved" in out
    assert "\x1b" not in out and "\nforged" not in out
    write(tmp_path, "b.yaml", {**GOOD, "id": "site-b", "colour": 1})
    assert main(["sources", "check", "--dir", str(tmp_path)]) == 1
    assert "b.yaml: (top level): unknown key(s) ['colour']" in capsys.readouterr().err


def test_a_value_yaml_cannot_build_is_an_error_of_its_file_not_a_crash(tmp_path: Path) -> None:
    """An impossible date written unquoted (YAML reads it as a date, and there is no
    30 February): the file is not valid, at its line; the other sources are kept."""
    write(tmp_path, "a.yaml", GOOD)
    text = yaml.safe_dump({**GOOD, "id": "site-b"}).replace("approved_on: '2026-11-01'",
                                                             "approved_on: 2026-02-30")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    sources, errors = load_register(tmp_path)
    assert [s.id for s in sources] == ["site-a"]
    [error] = errors
    assert str(error).startswith(f"{tmp_path / 'b.yaml'}: not valid YAML: '2026-02-30' cannot "
                                 "be read as a timestamp (day is out of range for month)")
    assert "approved_on: 2026-02-30" in str(error)  # the line, as YAML shows it


def test_a_base_60_number_is_refused_not_read_as_another_number(tmp_path: Path) -> None:
    text = yaml.safe_dump({**GOOD, "revisit_hours": 12}).replace("revisit_hours: 12",
                                                                 "revisit_hours: 1:30")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=r"a.yaml: not valid YAML: '1:30' is read by YAML "
                                          r"as a number in base 60 \(90\)"):
        load_source(tmp_path / "a.yaml")


def with_line(tmp_path: Path, key: str, line: str) -> Path:
    """GOOD written as YAML with ``key``'s line replaced by ``line`` (or added), as
    someone typed it."""
    text = yaml.safe_dump({k: v for k, v in GOOD.items() if k != key})
    lines = [*text.splitlines(), line]
    path = tmp_path / "typed.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("key", "line", "number"), [
    ("id", "id: 0123", "83"),          # YAML 1.1 octal
    ("id", "id: 0x1f", "31"),          # hex
    ("name", "name: 1.10", "1.1"),     # a version or a section number
    ("approved_by", "approved_by: 1_000", "1000"),
])
def test_a_text_field_written_as_a_number_is_refused_not_rewritten(
        tmp_path: Path, key: str, line: str, number: str) -> None:
    with pytest.raises(SourceError, match=rf"typed.yaml: {key}: YAML reads this as the "
                                          rf"number {number}, not as text.*write the text "
                                          r"in quotes"):
        load_source(with_line(tmp_path, key, line))


def test_a_section_name_written_as_a_number_is_refused(tmp_path: Path) -> None:
    """A German postcode as a section's name: 01067 would be section '567'."""
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(GOOD).replace("- name: All", "- name: 01067"),
                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"sections\[0\].name: YAML reads this as the "
                                          r"number 567"):
        load_source(path)
    path.write_text(yaml.safe_dump(GOOD).replace("- name: All", '- name: "01067"'),
                    encoding="utf-8")
    assert load_source(path).sections[0].name == "01067"  # quoted, it is kept


@pytest.mark.parametrize(("key", "line", "read_as"), [
    ("robots", "robots: no", "false"),
    ("name", "name: on", "true"),
])
def test_a_yes_no_word_read_as_true_or_false_is_said_so(tmp_path: Path, key: str, line: str,
                                                       read_as: str) -> None:
    with pytest.raises(SourceError, match=rf"{key}: YAML reads this as {read_as} .*not as "
                                          r"text: write the text in quotes, e.g. \"NO\""):
        load_source(with_line(tmp_path, key, line))


def test_country_no_unquoted_is_said_to_be_false_and_quoted_is_norway(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"country: YAML reads this as false .*write the "
                                          r"text in quotes, e.g. \"NO\""):
        load_source(with_line(tmp_path, "country", "country: NO"))
    assert load_source(with_line(tmp_path, "country", 'country: "NO"')).country == "NO"


def test_a_time_in_a_text_field_is_refused_not_rewritten(tmp_path: Path) -> None:
    """YAML reads ``2026-11-22 10:00:00`` as a time; as text it would come back
    '2026-11-22T10:00:00'. A plain date reads back as written and stays text."""
    with pytest.raises(SourceError, match=r"name: YAML reads this as the time "
                                          r"2026-11-22T10:00:00"):
        load_source(with_line(tmp_path, "name", "name: 2026-11-22 10:00:00"))
    assert load_source(with_line(tmp_path, "name", "name: 2026-11-22")).name == "2026-11-22"


def alias_bomb(depth: int = 5) -> str:
    """A YAML list of 10**(depth + 1) items written in a few hundred characters."""
    value = "&a0 [x,x,x,x,x,x,x,x,x,x]"
    for i in range(1, depth + 1):
        value = f"&a{i} [{value}, " + ", ".join([f"*a{i - 1}"] * 9) + "]"
    return value


@pytest.mark.parametrize(("key", "value", "field"), [
    ("revisit_hours", alias_bomb(), "revisit_hours"),     # a number: a list of a million items
    ("enabled", alias_bomb(), "enabled"),                 # a flag
    ("revisit_hours", "0x" + "f" * 4000, "revisit_hours"),  # over the 4300 digits Python writes
    ("id", "'" + "A" * 5000 + "'", "id"),                 # text: quoted only in part
    ("k" * 1000, "x", "(top level)"),                     # an unknown key: quoted in part
    ("? 0x" + "f" * 4000 + "\n", "x", "(top level)"),     # …or named by its size
])
def test_an_error_message_quotes_a_value_in_at_most_about_80_characters(
        tmp_path: Path, key: str, value: str, field: str) -> None:
    path = with_line(tmp_path, key, f"{key}: {value}")
    with pytest.raises(SourceError) as err:
        load_source(path)
    [problem] = err.value.problems
    quoting = problem.split("; allowed: ")[0]  # the keys allowed are the register's own
    assert problem.startswith(f"{path}: {field}: ") and len(quoting) < len(str(path)) + 200, \
        problem[:300]


def test_a_list_or_mapping_in_an_error_is_named_by_its_type_and_size() -> None:
    with pytest.raises(SourceError, match=r"revisit_hours: must be a number, not a list of "
                                          r"3 item\(s\)"):
        parse_source({**GOOD, "revisit_hours": [1, 2, 3]})
    with pytest.raises(SourceError, match=r"enabled: must be true or false, not a mapping "
                                          r"of 1 item\(s\)"):
        parse_source({**GOOD, "enabled": {"a": 1}})


def test_an_approval_date_must_be_a_day_that_has_been(tmp_path: Path) -> None:
    """Not after today (UTC: a day's slack, where the approver is it may be tomorrow),
    not before 2000 (0001-01-01 is a slip)."""
    from datetime import timedelta

    from indexer.model import utcnow

    today = utcnow().date()
    for fine in (today, today + timedelta(days=1), "2000-01-01"):
        assert parse_source({**GOOD, "approved_on": str(fine)}).approved_on == str(fine)
    for when, why in ((today + timedelta(days=2), rf"is after today \({today}, UTC\): a "
                                                  r"source is approved before it is crawled"),
                      ("2099-01-01", r"is after today"),
                      ("0001-01-01", r"is before 2000, older than any approval"),
                      ("1999-12-31", r"is before 2000")):
        with pytest.raises(SourceError, match=rf"f.yaml: approved_on: {when} {why}"):
            parse_source({**GOOD, "approved_on": str(when)}, "f.yaml")


@pytest.mark.parametrize("second", [
    "ads/",                                   # the same URL (a copy-paste slip)
    "https://a.example/ads",                  # absolute, no trailing slash
    "http://www.a.example/ads/",              # another scheme, www.
    "ads/#top",                               # a fragment
])
def test_two_sections_of_one_page_are_refused_naming_both(second: str) -> None:
    """The crawl reads a page once: the second section would never be read."""
    sections = [{"name": "All", "url": "ads/"}, {"name": "Gent", "url": "gent/"},
                {"name": "Again", "url": second}]
    with pytest.raises(SourceError, match=r"f.yaml: sections\[2\].url: .* is also the page "
                                          r"of sections\[0\]; each section needs a page of "
                                          r"its own"):
        parse_source({**GOOD, "sections": sections}, "f.yaml")


def test_a_page_under_two_query_orders_is_one_and_other_queries_are_other_pages() -> None:
    def sections(*urls: str) -> list[dict[str, str]]:
        return [{"name": f"S{i}", "url": url} for i, url in enumerate(urls)]

    with pytest.raises(SourceError, match=r"sections\[1\].url: 'ads\?sort=d&city=x' is also "
                                          r"the page of sections\[0\]"):
        parse_source({**GOOD, "sections": sections("ads?city=x&sort=d", "ads?sort=d&city=x")})
    src = parse_source({**GOOD, "sections": sections("ads?city=x", "ads?city=y", "ads/new/")})
    assert len(src.sections) == 3
