"""An analyst's day in a real browser: sign in, search, click a facet, open an ad,
compare two versions, open a number page, save a search, switch to Dutch; and the same
ad on a phone-sized screen. A screenshot of every step goes to test-artifacts/screenshots/.
Every request the browser makes must go to the adtrace server (nothing from any ad site)."""

from __future__ import annotations

from urllib.parse import urlsplit


def test_walkthrough(served, browser, shots):  # type: ignore[no-untyped-def]
    base = served["base"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert (shots / f"{name}.png").stat().st_size > 1000

    # sign in and accept the notice
    page.goto(base + "/search")
    page.fill("input[name=name]", served["user"])
    page.fill("input[name=password]", served["password"])
    page.click("button[type=submit]")
    page.check("input[name=accept]")
    shot("01-notice")
    page.click("form button[type=submit]")
    page.wait_for_url("**/search*")

    # search
    page.fill("input[name=q]", "anna OR lisa")
    page.click("form.searchbar button[type=submit]")
    page.wait_for_selector("article.hit")
    assert page.locator("article.hit").count() == 2
    shot("02-search")

    # the thumbnail is blurred until clicked
    thumb = page.locator("button.thumb.blurred").first
    blur = thumb.locator("img").evaluate("el => getComputedStyle(el).filter")
    assert "blur" in blur
    thumb.click()
    img = thumb.locator("img").element_handle()
    page.wait_for_function("el => getComputedStyle(el).filter === 'none'", arg=img, timeout=5000)

    # click a facet: the place Utrecht
    page.click("section.facet[aria-label=Place] a:has-text('Utrecht')")
    page.wait_for_url("**f.city=Utrecht**")
    assert page.locator("article.hit").count() == 1
    assert page.locator("p.chips a.chip.selected").count() == 1
    shot("03-facet")

    # open the ad
    page.click("article.hit h2 a")
    page.wait_for_selector("section#current")
    assert page.locator("section#current mark").count() >= 1  # evidence marked
    assert page.locator("#linked a[href*='/ad/']").count() >= 1
    shot("04-ad")

    # compare two versions
    page.click("a:has-text('Compare versions')")
    page.wait_for_selector("table.diff")
    assert page.locator("table.diff del").first.inner_text().strip().startswith("new in town")
    assert page.locator("table.diff ins").first.inner_text().strip().startswith("only a few days")
    shot("05-compare")

    # open the number page
    page.go_back()
    page.click("section#current a.phone")
    page.wait_for_url("**/phone/**")
    assert "+31612345678" in page.inner_text("h1")
    shot("06-number")

    # save a search, when the search page offers it (saved searches are another area's work)
    page.goto(base + "/search?q=anna")
    save = page.locator("a:has-text('Save this search')")
    if save.count():
        save.first.click()
        page.fill("input[name=name]", "Anna in Utrecht")
        page.click("form.card button[type=submit]")
        page.wait_for_load_state()
        assert "Anna in Utrecht" in page.content()
        shot("07-saved")

    # Dutch
    page.goto(base + "/help")
    page.click("form.lang-switch button[value=nl]")
    page.wait_for_selector("html[lang=nl]")
    assert "Bewijsniveaus" in page.content()
    shot("08-help-nl")

    # a phone-sized screen: the ad page still reads (no sideways scrolling of the page)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                storage_state=context.storage_state())
    small = phone.new_page()
    small.on("request", lambda r: requests.append(r.url))
    small.goto(f"{base}/ad/{served['anna']}")
    small.wait_for_selector("section#current")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"page is {width}px wide on a 390px screen"
    small.screenshot(path=str(shots / "09-ad-phone.png"), full_page=True)
    phone.close()
    context.close()

    origin = urlsplit(base).netloc
    outside = [u for u in requests if urlsplit(u).scheme not in ("data", "blob")
               and urlsplit(u).netloc != origin]
    assert outside == []
    assert errors == []
