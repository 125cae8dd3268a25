"""The help page: the query syntax, every indicator in the catalogue with its
explanation and evidence level, and what the evidence levels mean. Read from the
catalogue itself, so the help can never describe indicators the system does not use."""

from __future__ import annotations

from flask import Blueprint, render_template

from indexer.enrich.catalogue import EVIDENCE_LEVELS, load_catalogue
from indexer.search.query import FACETS, RISK_BANDS, SORTS
from webui.i18n import current_language

bp = Blueprint("help", __name__)

LEVEL_TEXT: dict[str, str] = {
    "validated": "Predicted trafficking when tested against ads with known case outcomes "
                 "(Journal of Human Trafficking, 2024).",
    "commonly_cited": "Used in practice and in the literature, but not shown to predict "
                      "trafficking; some were tested and did not. Weigh with care.",
    "experimental": "Proposed by analysts; evidence to weigh, nothing more.",
}


@bp.route("/help")
def help_page() -> str:
    catalogue = load_catalogue()
    lang = current_language()
    order = {level: i for i, level in enumerate(EVIDENCE_LEVELS)}
    indicators = sorted(catalogue.indicators, key=lambda i: (order.get(i.evidence_level, 9), -i.weight))
    bands = [(name, lo, hi) for name, lo, hi in RISK_BANDS]
    return render_template(
        "help.html", catalogue=catalogue, lang=lang, facets=FACETS, sorts=SORTS, bands=bands,
        levels=[(lvl, LEVEL_TEXT.get(lvl, "")) for lvl in EVIDENCE_LEVELS],
        groups=[(lvl, [i for i in indicators if i.evidence_level == lvl]) for lvl in EVIDENCE_LEVELS])
