"""Politeness settings per source: AutoThrottle on by default, per-domain concurrency,
download delay, robots obeyed unless the source says why not, the proxy, the size cap."""

from __future__ import annotations

import pytest
import yaml
from fixture_site import SOURCE_YAML

from crawler.register import SourceError, parse_source
from crawler.settings import scrapy_settings


def source(extra: str = "", politeness: str = "{download_delay: 2.5, concurrency: 3}"):  # noqa: ANN201
    text = SOURCE_YAML.format(base="http://x/").replace(
        "politeness: {download_delay: 0, concurrency: 4, autothrottle: false}",
        f"politeness: {politeness}") + extra
    return parse_source(yaml.safe_load(text), "f.yaml")


def test_defaults_are_polite() -> None:
    s = scrapy_settings(source(), store_url="", archive_dir="/tmp/a")
    assert s["AUTOTHROTTLE_ENABLED"] is True
    assert s["DOWNLOAD_DELAY"] == 2.5 and s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 3
    assert s["ROBOTSTXT_OBEY"] is True and s["ADTRACE_PROXY"] == ""
    assert s["ADTRACE_MAX_PAGE_BYTES"] > 0 and s["DOWNLOAD_MAXSIZE"] == 0


def test_robots_ignored_only_with_a_reason_and_proxy_set() -> None:
    s = scrapy_settings(source('robots: ignore\nrobots_reason: "site robots blocks all"\n'
                               'proxy: "http://127.0.0.1:8118"\n'),
                        store_url="", archive_dir="/tmp/a")
    assert s["ROBOTSTXT_OBEY"] is False and s["ADTRACE_PROXY"] == "http://127.0.0.1:8118"
    with pytest.raises(SourceError, match="f.yaml: robots_reason: is required"):
        source("robots: ignore\n")


def test_socks5_proxies_are_taken_and_bad_ones_refused_without_showing_the_password() -> None:
    for url in ("socks5h://127.0.0.1:9050", "socks5://user:p%40ss@proxy.example:1080",
                "SOCKS5H://tor"):
        assert source(f'proxy: "{url}"\n').proxy == url
    refused = {
        "socks4://127.0.0.1:9050": "the scheme must be socks5:// or socks5h://.*SOCKS4 is not",
        "socks5h://127.0.0.1:99999": "the port must be a number",
        "socks5h://:9050": "names no proxy host",
        "socks5h://127.0.0.1:9050/tor": "nothing after the port",
        "socks5h://:hunter2@127.0.0.1:9050": "a password needs a user name",
        "socks5h://u:" + "x" * 256 + "@127.0.0.1:9050": "longer than the 255 bytes",
        "ftp://u:hunter2@127.0.0.1:21": "must be an http://, https://, socks5:// or socks5h://",
        "socks5h://u:hunter2@[::1:9050": "Invalid IPv6 URL",
        "http://u:hunter2@[::1:8080": "Invalid IPv6 URL",
        "http://u:hunter2@proxy:port": "Port could not be cast",
        "http://": "must be an http://",
        "http://host:3128/a@b": "nothing after the port",  # Scrapy would read a login here
        # a mistyped scheme still keeps the password out of the message
        "user:hunter2@proxy:8080": "must be an http://",
        "http//u:hunter2@host:3128": "must be an http://",
        "socks5h:/u:hunter2@host:1080": "names no proxy host",
    }
    for url, why in refused.items():
        with pytest.raises(SourceError, match=f"f.yaml: proxy: .*{why}") as caught:
            source(f'proxy: "{url}"\n')
        assert "hunter2" not in str(caught.value) and "x" * 256 not in str(caught.value)


def test_removal_threshold_and_schedule_are_validated() -> None:
    s = source("missing_runs_before_removed: 3\ncrawl_every_hours: 6\n")
    assert s.missing_runs_before_removed == 3 and s.crawl_every_hours == 6
    assert source().missing_runs_before_removed == 2
    with pytest.raises(SourceError, match="missing_runs_before_removed: must be at least 1"):
        source("missing_runs_before_removed: 0\n")
    with pytest.raises(SourceError, match="missing_runs_before_removed: must be a whole"):
        source("missing_runs_before_removed: 1.5\n")
