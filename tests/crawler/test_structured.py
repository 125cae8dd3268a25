"""Structured data (JSON-LD, microdata) read into fields; hostile JSON is harmless."""

from __future__ import annotations

from parsel import Selector

from crawler.structured import jsonld_objects, jsonld_value, microdata_value, structured_value

PAGE = """<html><head>
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
  {"@type": "WebPage", "name": "Board"},
  {"@type": "Product", "sku": "A1", "name": "Lisa \\u003cb\\u003e", "description": "Hi  there",
   "offers": {"@type": "Offer", "price": 80, "priceCurrency": "EUR"},
   "image": ["/a.jpg", "/b.jpg"]}]}</script>
<script type="application/ld+json">{not json</script>
</head><body><div itemscope itemtype="https://schema.org/Person">
<span itemprop="name"> Eva </span><meta itemprop="age" content="24"></div></body></html>"""


def test_jsonld_paths_and_graphs() -> None:
    objs = jsonld_objects(Selector(text=PAGE))
    assert len(objs) == 2  # the @graph flattened; the broken block ignored
    assert jsonld_value(objs, "name") == "Board"  # the first object that has it
    assert jsonld_value(objs, "sku") == "A1"
    assert jsonld_value(objs, "offers.price") == "80"
    assert jsonld_value(objs, "image") == "/a.jpg, /b.jpg"
    assert jsonld_value(objs, "description") == "Hi there"
    assert jsonld_value(objs, "offers") == "80, EUR"  # an object: its values, no @type
    assert jsonld_value(objs, "nope.deeper") == ""


def test_microdata_content_or_text() -> None:
    sel = Selector(text=PAGE)
    assert microdata_value(sel, "name") == "Eva"
    assert microdata_value(sel, "age") == "24"
    assert microdata_value(sel, 'x"] | //script | //*[@a="') == ""  # no XPath injection
    assert structured_value(sel, [], "microdata:age") == "24"


def test_deeply_nested_json_is_bounded() -> None:
    deep = "[" * 5000 + "]" * 5000
    page = f'<script type="application/ld+json">{deep}</script>'
    objs = jsonld_objects(Selector(text=page))
    assert jsonld_value(objs, "a.b") == ""
