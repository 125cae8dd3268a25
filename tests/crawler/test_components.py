"""The Scrapy components a source's crawl runs with: no console into the crawler, and no
downloader middleware that has nothing to do for the spider class."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from fixture_site import SOURCE_YAML
from scrapy.exceptions import NotConfigured
from scrapy.extensions.remote_control import RemoteControl
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list

from crawler.register import parse_source
from crawler.settings import scrapy_settings
from crawler.spiders.generic import GenericSpider

OFFSITE = "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"
HTTPAUTH = "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware"


def crawler_for(spider_cls: type[GenericSpider] = GenericSpider,
                overrides: dict[str, Any] | None = None) -> SimpleNamespace:
    """What a component sees of the fixture source's crawler: Scrapy's defaults with the
    spider class's custom settings over them, as ``crawler.process`` makes it."""
    source = parse_source(yaml.safe_load(SOURCE_YAML.format(base="http://x/")), "f.yaml")
    settings = Settings()
    spider_cls.for_source(source, scrapy_settings(source, store_url="", archive_dir="/tmp/a",
                                                  overrides=overrides)
                          ).update_settings(settings)
    return SimpleNamespace(settings=settings)


def downloader_middlewares(crawler: SimpleNamespace) -> list[str]:
    return build_component_list(crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES"))


def test_no_remote_control_or_telnet_console_into_the_crawl() -> None:
    crawler = crawler_for()
    with pytest.raises(NotConfigured):
        RemoteControl.from_crawler(crawler)
    extensions = build_component_list(crawler.settings.getwithbase("EXTENSIONS"))
    assert "scrapy.extensions.telnet.TelnetConsole" not in extensions
    assert "scrapy.extensions.remote_control.RemoteControl" in extensions  # off by setting


def test_middlewares_with_nothing_to_do_are_left_out_and_the_rest_stay() -> None:
    chain = downloader_middlewares(crawler_for())
    assert OFFSITE not in chain and HTTPAUTH not in chain
    for needed in ("RobotsTxtMiddleware", "UserAgentMiddleware", "RetryMiddleware",
                   "RedirectMiddleware", "HttpCompressionMiddleware", "HttpProxyMiddleware",
                   "DownloadTimeoutMiddleware", "crawler.middlewares.ArchiveMiddleware",
                   "crawler.middlewares.SourceProxyMiddleware"):
        assert any(path.endswith(needed) for path in chain), needed
    assert not crawler_for().settings.getbool("DOWNLOADER_STATS")


def test_a_custom_spider_that_needs_them_keeps_them() -> None:
    class Restricted(GenericSpider):
        allowed_domains = ["x"]

    class WithLogin(GenericSpider):
        http_user, http_pass = "analyst", "secret"

    assert OFFSITE in downloader_middlewares(crawler_for(Restricted))
    assert HTTPAUTH in downloader_middlewares(crawler_for(WithLogin))


def test_credentials_given_as_settings_keep_http_auth() -> None:
    overrides = {"HTTPAUTH_USER": "analyst", "HTTPAUTH_PASS": "secret",
                 "HTTPAUTH_DOMAIN": "x"}
    assert HTTPAUTH in downloader_middlewares(crawler_for(overrides=overrides))
    assert OFFSITE not in downloader_middlewares(crawler_for(overrides=overrides))
