"""The interface settings a user picks: language (kept in the session and for the user)
and whether result thumbnails are blurred until clicked."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session
from werkzeug.wrappers import Response

from webui import preferences
from webui.i18n import LANGUAGES
from webui.security import safe_next

bp = Blueprint("prefs", __name__, url_prefix="/prefs")


@bp.route("/lang", methods=["POST"])
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400, description=f"Language {lang[:20]!r} is not offered; choose one of "
                               f"{', '.join(LANGUAGES)}.")
    session["lang"] = lang
    preferences.set_current("lang", lang)
    return redirect(safe_next(request.form.get("next")))


@bp.route("/blur", methods=["POST"])
def set_blur() -> Response:
    value = request.form.get("blur", "")
    try:
        preferences.set_current("blur", value)
    except ValueError as exc:
        abort(400, description=str(exc))
    return redirect(safe_next(request.form.get("next")))
