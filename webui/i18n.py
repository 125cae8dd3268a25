"""Interface language: English text is the key, catalogues translate it.

Templates write ``{{ _('Search') }}``; ``_`` looks the text up in the catalogue of the
user's language (``webui/translations/<lang>.yaml``: English → translation) and falls
back to the English text, so a missing translation shows English, never a blank.
The language comes from the session (the user's choice), else the choice the user saved
earlier (webui.preferences), else the browser's Accept-Language, else English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from flask import Flask, g, request, session

LANGUAGES: dict[str, str] = {"en": "English", "nl": "Nederlands"}
DEFAULT = "en"
_DIR = Path(__file__).resolve().parent / "translations"


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = _DIR / f"{lang}.yaml"
    if lang == DEFAULT or not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a translation catalogue maps English text to a translation")
    return {str(k): str(v) for k, v in data.items()}


def current_language() -> str:
    """Worked out once per request (a page asks for every ``_()``: hundreds of times),
    again only if the session's choice changes during the request."""
    key = (session.get("lang"), session.get("pref_lang"), g.get("user") is not None)
    memo = g.get("_lang_memo")
    if memo is not None and memo[0] == key:
        return memo[1]
    lang = _language()
    g._lang_memo = (key, lang)
    return lang


def _language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if g.get("user") is not None:  # the user's saved choice, from an earlier session
        from webui import preferences

        saved = preferences.current("lang")
        if saved in LANGUAGES:
            return saved
    best = request.accept_languages.best_match(list(LANGUAGES)) if request else None
    return best or DEFAULT


def gettext(text: str, **values: object) -> str:
    """Translate ``text`` for the current request and fill ``{name}`` placeholders."""
    translated = catalogue(current_language()).get(text, text)
    return translated.format(**values) if values else translated


def _page_gettext() -> dict[str, object]:
    """Templates get a ``_`` bound to the page's catalogue, looked up once per render
    (a search page translates about two hundred strings) instead of once per string."""
    table = catalogue(current_language())

    def translate(text: str, **values: object) -> str:
        translated = table.get(text, text)
        return translated.format(**values) if values else translated

    return {"_": translate}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["_"] = gettext  # macros imported without context use this one
    app.context_processor(_page_gettext)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    from webui import preferences

    app.jinja_env.globals["preference"] = preferences.current
