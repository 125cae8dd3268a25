"""Compile a word list into a trie-shaped regular expression.

Python's ``re`` tries the branches of ``a|b|c…`` one by one at every position, so a list
of a few hundred words costs hundreds of failed attempts per character. A trie shares
prefixes (``t(?:w(?:aalf|ee|…)|ien)``), so each position fails after one or two steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def trie_pattern(words: Iterable[str]) -> str:
    """A regex (no groups, no anchors) matching exactly the given words, longest first."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _pattern(trie)


def _pattern(node: dict[str, dict]) -> str:
    ends_here = "" in node
    branches = [re.escape(ch) + _pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends_here:
        return f"(?:{body})?"
    return body
