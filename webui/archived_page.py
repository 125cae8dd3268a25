"""The archived copy of an ad page, made inert for display inside a sandboxed frame.

An archived page is hostile: it was written by the ad site. Three layers keep the
analyst's browser from running it or from calling the site (which would tell the site
operator that the police are watching):
1. this rewrite removes script, frames, objects, links, forms' targets, meta refreshes,
   event handlers and every ``href``; images point at their archived copies
   (``/image/<sha256>``) and an image with no archived copy is dropped; CSS ``url(…)``,
   ``image-set(…)`` and ``@import`` are removed (escapes undone first, so that ``\75 rl(``
   is no way round, and again until nothing changes, so that a removal cannot join two
   halves into a new one; a sheet that does not settle, or is too long, is dropped), and
   a style sheet that would end its own element is dropped;
2. the route serves it with its own strict CSP (no script, nothing from elsewhere);
3. the ad page embeds it in ``<iframe sandbox>`` without allow-scripts or
   allow-same-origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import urljoin

import lxml.html
from lxml import etree

# Elements removed with their content.
DROP = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta",
    "base", "noscript", "template", "svg", "math", "audio", "video", "source", "track",
    "portal", "canvas", "param",
})
URL_ATTRS = frozenset({"href", "action", "formaction", "background", "poster", "cite",
                       "longdesc", "usemap", "ping", "xlink:href", "manifest", "codebase",
                       "data", "lowsrc", "dynsrc", "attributionsrc", "archive", "classid",
                       "profile", "icon"})
LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-srcset")
# bounded: a hostile sheet of unclosed "url(" would otherwise cost the square of its length
_CSS_URL = re.compile(r"url\s*\([^)]{0,4096}\)?", re.IGNORECASE)
# CSS functions that load an image from a plain string, without url()
_CSS_IMAGE_FN = re.compile(
    r"(?:-webkit-)?(?:image-set|image|cross-fade|element|src)\s*\([^)]{0,4096}\)?",
    re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import[^;]{0,4096};?", re.IGNORECASE)
_CSS_BAD = re.compile(r"expression\s*\(|behavio(u)?r\s*:|-moz-binding", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\[0-9a-fA-F]{1,6}\s?|\\(.)", re.DOTALL)
MAX_CSS = 256 * 1024  # a longer sheet (or style attribute) is dropped, not cleaned
MAX_PASSES = 8  # a sheet that does not settle by then is dropped: nesting is an attack

Resolver = Callable[[str], str | None]  # absolute image URL → local URL, or None


def clean_css(css: str) -> str:
    """CSS with every external reference removed (url(), image-set() and the like,
    @import, old IE script hooks). Escapes are undone (``\\75 rl(`` is ``url(`` to a
    browser) and the removals repeated until nothing changes, escapes again included
    (``\\\\75`` is ``\\75`` once undone); a sheet too long or that does not settle
    within MAX_PASSES is dropped whole."""
    if len(css) > MAX_CSS:
        return ""
    for _ in range(MAX_PASSES):
        cleaned = _CSS_ESCAPE.sub(_unescaped, css)
        cleaned = _CSS_IMPORT.sub("", cleaned)
        cleaned = _CSS_URL.sub("none", cleaned)
        cleaned = _CSS_IMAGE_FN.sub("none", cleaned)
        cleaned = _CSS_BAD.sub("x:", cleaned)
        if cleaned == css:
            return css
        css = cleaned
    return ""


def _unescaped(match: re.Match[str]) -> str:
    """A CSS escape as the character it stands for (a backslash before another
    character: that character; a hex escape out of range or a control: nothing)."""
    if match.group(1) is not None:
        return match.group(1)
    code = int(match.group(0)[1:].strip(), 16)
    char = chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""
    return char if char.isprintable() else ""


def image_resolver(page_url: str, archived: Mapping[str, str],
                   local_url: Callable[[str], str]) -> Resolver:
    """Map an image reference (relative or absolute) to its archived copy, if any.

    ``archived`` maps the image's original URL to its sha256; ``local_url`` turns a
    sha256 into the adtrace URL that serves it.
    """
    def resolve(ref: str) -> str | None:
        ref = ref.strip()
        if ref.startswith("data:image/") and ";base64," in ref[:40]:
            return ref  # inline raster data loads nothing from anywhere
        absolute = urljoin(page_url, ref)
        sha = archived.get(absolute) or archived.get(ref)
        return local_url(sha) if sha else None

    return resolve


def _fix_image(el: etree._Element, resolve: Resolver) -> None:
    candidates = [el.get(a) for a in (*LAZY_ATTRS, "src") if el.get(a)]
    for srcset in (el.get("srcset"), el.get("data-srcset")):
        if srcset:
            candidates += [part.strip().split(" ")[0] for part in srcset.split(",") if part.strip()]
    for attr in (*LAZY_ATTRS, "src", "srcset", "sizes"):
        el.attrib.pop(attr, None)
    for ref in candidates:
        local = resolve(str(ref))
        if local:
            el.set("src", local)
            return
    el.drop_tree()


def _as_img(el: etree._Element) -> None:
    """An ``<image>`` as the ``<img>`` a browser makes of it. The parser here reads it as
    a container, so what it holds is kept after it, as a browser shows it."""
    img = etree.Element("img", dict(el.attrib))
    el.addprevious(img)
    el.drop_tag()


def _clean_attrs(el: etree._Element) -> None:
    for name in list(el.attrib):
        low = name.lower()
        if (low.startswith("on") or low in URL_ATTRS or low.startswith("xmlns") or ":" in low
                or low in ("srcset", "imagesrcset")):
            del el.attrib[name]
        elif low == "style":
            el.set(name, clean_css(el.get(name) or ""))
        elif low in ("target", "srcdoc") or (low == "src" and el.tag.lower() != "img"):
            del el.attrib[name]  # an img's src was resolved to the archive already


def _parse(html: bytes, charset: str) -> etree._Element:
    """Decode as the server declared, else as UTF-8, else as the page's own meta says."""
    for encoding in (charset, "utf-8"):
        if not encoding:
            continue
        try:
            return lxml.html.document_fromstring(html.decode(encoding))
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return lxml.html.document_fromstring(html)


def make_inert(html: bytes, resolve: Resolver, charset: str = "") -> str:
    """The page as HTML text with nothing that runs or loads from outside adtrace."""
    try:
        doc = _parse(html, charset)
    except (etree.ParserError, ValueError):
        return "<!doctype html><meta charset=\"utf-8\"><p>(the archived page is empty)</p>"
    for el in list(doc.iter(etree.Comment, etree.ProcessingInstruction)):
        el.drop_tree() if hasattr(el, "drop_tree") else el.getparent().remove(el)
    for el in list(doc.iter()):
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in DROP or ":" in tag:
            el.drop_tree()
        elif tag == "image":
            _as_img(el)
    for el in list(doc.iter()):
        if not isinstance(el.tag, str):
            continue
        if el.tag.lower() == "img":
            _fix_image(el, resolve)
            if el.getparent() is None:
                continue
        _clean_attrs(el)
        if el.tag.lower() == "style":
            el.text = clean_css(el.text or "")
            if "</" in (el.text or ""):  # written out raw, it would end the element
                el.drop_tree()
    body = lxml.html.tostring(doc, encoding="unicode", method="html")
    return "<!doctype html>\n<meta charset=\"utf-8\">\n" + body
