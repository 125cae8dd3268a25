"""The archived-page rewrite against markup aimed at its own rules: nothing that names
another site survives, and what is not a way out is kept."""

from __future__ import annotations

import pytest

from webui.archived_page import clean_css, make_inert

SITE = "ad.example"


def _inert(html: str) -> str:
    return make_inert(html.encode(), lambda ref: "/image/" + "a" * 64 if "ok.png" in ref else None)


@pytest.mark.parametrize("html", [
    # removing @import closes the style sheet: the meta refresh and the image get out
    f'<style>p{{}}</sty@import x;le><meta http-equiv=refresh content="0;url=https://{SITE}/r">'
    f'<img src="https://{SITE}/i.png"></style>',
    f'<style><\\/style><img src="https://{SITE}/i.png"></style>',  # an escape that closes it
    f'<image srcset="https://{SITE}/a.png 1x" src="https://{SITE}/b.png">',  # a browser's <img>
    f'<p srcset="https://{SITE}/x.png" imagesrcset="https://{SITE}/y.png">z</p>',
    f'<a attributionsrc="https://{SITE}/register">z</a>',  # attribution reporting
    f'<img src="/ok.png" attributionsrc="https://{SITE}/register">',
    f'<div style="background:\\75 rl(https://{SITE}/x)">a</div>',  # url( written with an escape
    f'<div style="background:\\\\75rl(https://{SITE}/x)">a</div>',  # and an escaped backslash
    f'<style>@font-face{{font-family:f;src:\\75rl(https://{SITE}/f.woff)}}</style>',
    f'<style>@\\69mport "https://{SITE}/a.css";</style>',
    f'<style>@imp@import x;ort "https://{SITE}/c.css";</style>',  # a removal that joins halves
    f'<style>b{{background:image-set("https://{SITE}/x.png" 1x, url(https://{SITE}/y) 2x)}}'
    f'</style>',
    f'<div style="background-image: -webkit-image-set(\'https://{SITE}/q.png\' 1x)">q</div>',
    f'<style>i{{background:cross-fade(url(a), "https://{SITE}/b.png", 50%)}}</style>',
    f'<style>i{{background:src("https://{SITE}/b.png")}}</style>',
])
def test_no_reference_to_another_site_survives(html: str) -> None:
    out = _inert(f"<p>before</p>{html}<p>after</p>")
    assert SITE not in out, out
    assert "before" in out and "after" in out


def test_an_image_element_is_an_img_and_keeps_what_follows_it() -> None:
    out = _inert('<image src="/ok.png"><p>held</p>')
    assert f'<img src="/image/{"a" * 64}">' in out and "<p>held</p>" in out


def test_plain_css_is_kept() -> None:
    css = "p{color:red} h1{font-weight:bold;margin:0 1em}"
    assert clean_css(css) == css
    assert clean_css('q::before{content:"\\201C"}') == 'q::before{content:"\u201c"}'


@pytest.mark.parametrize("css", [
    "@imp" * 9000 + "@import x;" + "ort ;" * 9000,  # one layer undone per pass
    "url(" * 50_000,  # never closed
    "p{color:red}" * 30_000,  # too long to clean
])
def test_a_sheet_built_to_be_slow_is_dropped_or_cut_short(css: str) -> None:
    """Nesting and unclosed functions cost one bounded pass each, at most MAX_PASSES of
    them: what does not settle, or is too long, is dropped (no timing asserted here)."""
    out = clean_css(css)
    assert "url(" not in out and "@import" not in out
    assert len(out) < len(css)
