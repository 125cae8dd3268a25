"""Spiders: one generic spider driven by a source file; custom ones where a site needs it.

A source's ``spider:`` names its spider: ``generic`` (the default), the ``name`` of a
spider in this package (``demo-board-api``), or ``package.module:Class`` for one kept
outside adtrace. Every one subclasses GenericSpider, so it takes the same arguments and
feeds the same pipeline.
"""

from __future__ import annotations

import importlib
from typing import Any


class UnknownSpider(LookupError):
    """A source names a spider that cannot be found or cannot serve as one."""


def spider_named(name: str) -> Any:
    """The GenericSpider subclass ``name`` names (see the module docstring)."""
    from crawler.spiders.generic import GenericSpider

    if name == "generic":
        return GenericSpider
    cls = _imported(name) if ":" in name else _in_package(name)
    if not (isinstance(cls, type) and issubclass(cls, GenericSpider)):
        raise UnknownSpider(f"{name!r} is not a spider class that subclasses GenericSpider")
    return cls


def _in_package(name: str) -> Any:
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": [__name__]}))
    try:
        return loader.load(name)
    except KeyError:
        raise UnknownSpider(f"no spider named {name!r} in {__name__} (known: "
                            f"{', '.join(sorted(loader.list()))})") from None


def _imported(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownSpider(f"cannot import {module_name!r} for spider {path!r}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UnknownSpider(f"{module_name!r} has no {attr!r}") from None
