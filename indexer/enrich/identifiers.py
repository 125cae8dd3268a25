"""E-mail addresses, URLs and social-media handles, each with its evidence span.

These link ads to one advertiser as strongly as a phone number does, so values are
normalised for linking (lower case, ``platform:handle``) while ``raw`` keeps the text as
written. Obfuscated e-mail (``lisa [at] mail [dot] com``) is read too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from indexer.model import Identifier, Span

_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.+-]{1,64})(?:@|[ \t]*(?:\[at\]|\(at\)|\{at\})[ \t]*)"
    r"([\w-]{1,63}(?:(?:\.|[ \t]*(?:\[dot\]|\(dot\)|\[punt\]|\(punt\))[ \t]*)[\w-]{1,63}){0,4}"
    r"(?:\.|[ \t]*(?:\[dot\]|\(dot\)|\[punt\]|\(punt\))[ \t]*)[a-zA-Z]{2,12})\b(?![.@-]?\w)",
    re.IGNORECASE,
)
_TLDS = "nl|be|de|com|net|org|eu|ro|bg|hu|pl|fr|uk|co\\.uk|info|biz|io|me|es|it|at|ch|lu|xxx|sex|club|online|site|app"
_URL = re.compile(
    r"\b(?:https?://[^\s<>\"'()]+|www\.[^\s<>\"'()]+|"
    r"(?<![@\w.-])[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\.(?:" + _TLDS + r")(?:/[^\s<>\"'()]*)?(?![\w@-]))",
    re.IGNORECASE,
)
_PLATFORM_URLS = {
    "instagram": re.compile(r"instagram\.com/([\w.]{1,30})", re.I),
    "snapchat": re.compile(r"snapchat\.com/add/([\w.-]{2,30})", re.I),
    "telegram": re.compile(r"(?:t|telegram)\.me/([a-z][\w]{3,31})", re.I),
    "onlyfans": re.compile(r"onlyfans\.com/([\w.-]{2,40})", re.I),
    "x": re.compile(r"(?:twitter|x)\.com/(\w{1,15})", re.I),
}
_LABELS = {
    "instagram": r"insta(?:gram)?|ig",
    "snapchat": r"snap(?:chat)?|sc",
    "telegram": r"telegram|tg",
    "onlyfans": r"onlyfans|only\s*fans|of",
    "x": r"twitter|x",
}
_HANDLE = re.compile(
    r"\b(?P<label>" + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()) + r")\b"
    r"[ \t]*(?::|-|=|>|➡️|👉|\bis\b|\bop\b)?[ \t]*@?(?P<handle>[a-z0-9_][\w.]{1,29}[a-z0-9_])",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?<![\w@.])@([a-z0-9_][\w.]{1,29}[a-z0-9_])\b", re.IGNORECASE)
_NOT_HANDLES = frozenset({"en", "and", "or", "of", "me", "mij", "mijn", "my", "the", "de", "het",
                          "is", "op", "on", "via", "voor", "for", "to", "naar", "und", "oder"})


def _span(m: re.Match[str], group: int | str = 0) -> Span:
    return Span(m.start(group), m.end(group), m.group(group))


def find_emails(text: str) -> list[Identifier]:
    out = []
    for m in _EMAIL.finditer(text):
        domain = re.sub(r"\s*(?:\[dot\]|\(dot\)|\[punt\]|\(punt\))\s*", ".", m.group(2), flags=re.I)
        domain = re.sub(r"\s+", "", domain)
        value = f"{m.group(1)}@{domain}".lower()
        out.append(Identifier("email", value, m.group(), "", _span(m)))
    return out


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def find_urls(text: str, taken: list[tuple[int, int]]) -> list[Identifier]:
    out = []
    for m in _URL.finditer(text):
        raw = m.group().rstrip(".,;:!?")
        end = m.start() + len(raw)
        if _overlaps(m.start(), end, taken) or raw.replace(".", "").isdigit():
            continue
        value = re.sub(r"^https?://", "", raw, flags=re.I)
        value = re.sub(r"^www\.", "", value, flags=re.I).rstrip("/")
        host, _, path = value.partition("/")
        value = host.lower() + ("/" + path if path else "")
        out.append(Identifier("url", value, raw, "", Span(m.start(), end, raw)))
    return out


def _handle(platform: str, handle: str, raw: str, span: Span) -> Identifier:
    return Identifier("handle", f"{platform}:{handle.lower().rstrip('.')}", raw, platform, span)


def find_handles(text: str, urls: list[Identifier],
                 taken: list[tuple[int, int]]) -> Iterator[Identifier]:
    """Handles from platform URLs, labelled mentions (``insta: lisa``) and bare ``@name``."""
    for url in urls:
        for platform, rx in _PLATFORM_URLS.items():
            m = rx.search(url.raw)
            if m and url.span is not None:
                yield _handle(platform, m.group(1), url.raw, url.span)
    seen_ends: set[int] = set()
    for m in _HANDLE.finditer(text):
        platform = next(k for k in _LABELS if m.group(k))
        handle = m.group("handle")
        if _overlaps(m.start(), m.end(), taken):
            continue
        if handle.lower() in _NOT_HANDLES or handle.isdigit():
            continue
        if platform in ("x", "onlyfans") and m.group("label").lower() in ("x", "of") and not (
            ":" in text[m.end("label"):m.start("handle")] or "@" in text[m.end("label"):m.start("handle")]
        ):
            continue  # "x" and "of" are words too: only with ':' or '@'
        seen_ends.add(m.end("handle"))
        yield _handle(platform, handle, m.group(), _span(m))
    for m in _AT_HANDLE.finditer(text):
        if m.end() not in seen_ends and not _overlaps(m.start(), m.end(), taken):
            yield Identifier("handle", f"unknown:{m.group(1).lower()}", m.group(), "", _span(m))


def find_identifiers(text: str) -> list[Identifier]:
    """E-mails first (their domains are not URLs), then URLs, then handles."""
    emails = find_emails(text)
    taken = [(e.span.start, e.span.end) for e in emails if e.span]
    urls = find_urls(text, taken)
    taken += [(u.span.start, u.span.end) for u in urls if u.span]
    handles = list(find_handles(text, urls, taken))
    seen: set[tuple[str, str]] = set()
    out = []
    for ident in (*emails, *urls, *handles):
        key = (ident.kind, ident.value)
        if key not in seen:
            seen.add(key)
            out.append(ident)
    return out
