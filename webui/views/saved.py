"""Saved searches, the alert inbox, the watch list of numbers and batch search.

Thin views over ``webui.saved_db`` (rows), ``webui.alerts`` (matches) and
``webui.batch``; every action is audited. A saved search is its URL args, so "run" is a
redirect to the search page, and the selection list for inspections is the CSV of its
current matches (what a municipal supervisor takes on an inspection round).
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from indexer.search.parse import parse_args, query_to_args
from indexer.search.query import QueryError
from webui import alerts, audit, batch, saved_db
from webui.app import get_accounts, get_store
from webui.views.common import sources_by_id

bp = Blueprint("saved", __name__)
SELECTION_LIMIT = 10_000  # rows in a selection list, as for the search export
audit.register_actions("inbox")  # viewing and clearing the alert inbox
SELECTION_COLUMNS = ("ad_id", "site", "title", "places", "phones", "first_seen", "last_seen",
                     "removed_at", "risk_score", "ad_url", "adtrace_page")


@bp.app_template_global()
def inbox_unread() -> int:
    """Unread inbox rows of the signed-in user, for the menu (read once per request)."""
    if g.get("user") is None:
        return 0
    if "inbox_unread" not in g:
        g.inbox_unread = saved_db.unread_count(get_accounts(), g.user.name)
    return int(g.inbox_unread)


def _owned(search_id: int) -> saved_db.SavedSearch:
    found = saved_db.get_search(get_accounts(), g.user.name, search_id)
    if found is None:
        abort(404)  # someone else's saved search does not exist for this user
    return found


def _search_url(saved: saved_db.SavedSearch) -> str:
    return url_for("search.search") + ("?" + urlencode(saved.args) if saved.args else "")


@bp.route("/saved")
def saved_list() -> str:
    conn = get_accounts()
    return render_template(
        "saved.html", searches=saved_db.searches(conn, g.user.name),
        watches=saved_db.watches(conn, g.user.name), email=saved_db.email_of(conn, g.user.name),
        search_url=_search_url)


@bp.route("/saved/new", methods=["GET", "POST"])
def saved_new() -> str | BaseResponse | tuple[str, int]:
    source = request.form if request.method == "POST" else request.args
    try:
        query = parse_args(source)
        args = list(saved_db.clean_args(query_to_args(query)))
    except (QueryError, saved_db.SavedError) as exc:
        return render_template("saved_new.html", args=[], error=str(exc), name=""), 400
    if request.method == "GET":
        return render_template("saved_new.html", args=args, error="",
                               name=query.text[:saved_db.MAX_NAME])
    try:
        saved = saved_db.add_search(get_accounts(), g.user.name, request.form.get("name", ""), args)
    except saved_db.SavedError as exc:
        return render_template("saved_new.html", args=args, error=str(exc),
                               name=request.form.get("name", "")[:200]), 400
    baseline = alerts.baseline_search(get_store(), get_accounts(), saved, g.user)
    audit.record("saved_search", target=saved.name,
                 details={"op": "create", "id": saved.id, "args": args, "baseline": baseline})
    flash(f"Saved. {baseline} ad(s) match now; new ones will appear in your inbox.")
    if baseline >= alerts.ALERT_LIMIT:
        flash(f"This search matches {alerts.ALERT_LIMIT} ads or more: alerts look at the "
              f"{alerts.ALERT_LIMIT} newest only. Narrow it down for dependable alerts.")
    return redirect(url_for("saved.saved_list"))


@bp.route("/saved/<int:search_id>/rename", methods=["POST"])
def saved_rename(search_id: int) -> BaseResponse | tuple[str, int]:
    old = _owned(search_id)
    try:
        saved_db.rename_search(get_accounts(), g.user.name, search_id, request.form.get("name", ""))
    except saved_db.SavedError as exc:
        abort(400, description=str(exc))
    audit.record("saved_search_rename", target=old.name,
                 details={"op": "rename", "id": search_id,
                          "to": " ".join(request.form.get("name", "").split())})
    return redirect(url_for("saved.saved_list"))


@bp.route("/saved/<int:search_id>/delete", methods=["POST"])
def saved_delete(search_id: int) -> BaseResponse:
    old = _owned(search_id)
    saved_db.delete_search(get_accounts(), g.user.name, search_id)
    audit.record("saved_search_delete", target=old.name, details={"op": "delete", "id": search_id})
    return redirect(url_for("saved.saved_list"))


@bp.route("/saved/<int:search_id>/run")
def saved_run(search_id: int) -> BaseResponse:
    saved = _owned(search_id)
    audit.record("saved_search", target=saved.name, details={"op": "run", "id": search_id})
    return redirect(_search_url(saved))


def _csv_safe(value: object) -> str:
    """Hostile text must not become a spreadsheet formula when the CSV is opened."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/saved/<int:search_id>/selection.csv")
def saved_selection(search_id: int) -> Response:
    """The saved search's current matches as a selection list for inspections."""
    saved = _owned(search_id)
    try:
        query = alerts.walled_query(saved.args, g.user)
    except QueryError as exc:
        abort(400, description=f"saved search {saved.name!r}: {exc}")
    sources = sources_by_id()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(SELECTION_COLUMNS)
    rows = 0
    for h in alerts.search_hits(get_store(), query, limit=SELECTION_LIMIT):
        site = sources[h.source_id].name if h.source_id in sources else h.source_id
        writer.writerow([_csv_safe(v) for v in (
            h.ad_id, site, h.title, "; ".join(h.places), "; ".join(h.phones),
            h.first_seen.isoformat(), h.last_seen.isoformat(),
            h.removed_at.isoformat() if h.removed_at else "", h.risk_score, h.url,
            url_for("ads.ad", ad_id=h.ad_id))])
        rows += 1
    audit.record("export", target=saved.name,
                 details={"saved_search": search_id, "args": list(saved.args), "rows": rows,
                          "format": "selection-csv"})
    return Response(buf.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=adtrace-selection-{search_id}.csv"})


# ---------------------------------------------------------------------- watch list
@bp.route("/watch", methods=["POST"])
def watch_add() -> BaseResponse | tuple[str, int]:
    """Add one or more numbers (one per line), each normalised to E.164."""
    conn, added, errors = get_accounts(), [], []
    label = request.form.get("label", "")
    lines = [x.strip() for x in request.form.get("numbers", "").splitlines() if x.strip()]
    for line in lines[:100]:
        try:
            watch = saved_db.add_watch(conn, g.user.name, line, label)
        except saved_db.SavedError as exc:
            errors.append(str(exc))
            continue
        alerts.baseline_watch(get_store(), conn, watch, g.user)
        added.append(watch.phone)
    if not lines:
        errors.append("numbers: type at least one phone number")
    audit.record("watch_list", target=", ".join(added)[:300],
                 details={"op": "add", "added": added, "errors": len(errors)})
    for e in errors:
        flash(e)
    return redirect(url_for("saved.saved_list"))


@bp.route("/watch/<int:watch_id>/delete", methods=["POST"])
def watch_delete(watch_id: int) -> BaseResponse:
    if not saved_db.delete_watch(get_accounts(), g.user.name, watch_id):
        abort(404)
    audit.record("watch_list", target=str(watch_id), details={"op": "delete", "id": watch_id})
    return redirect(url_for("saved.saved_list"))


@bp.route("/saved/email", methods=["POST"])
def alert_email() -> BaseResponse:
    try:
        email = saved_db.set_email(get_accounts(), g.user.name, request.form.get("email", ""))
    except saved_db.SavedError as exc:
        flash(str(exc))
        return redirect(url_for("saved.saved_list"))
    audit.record("saved_search", target=g.user.name,
                 details={"op": "alert_email", "on": bool(email)})
    return redirect(url_for("saved.saved_list"))


# ---------------------------------------------------------------------- inbox
@bp.route("/inbox")
def inbox() -> str:
    items = saved_db.inbox(get_accounts(), g.user.name)
    audit.record("inbox", target=g.user.name, details={"op": "view", "items": len(items)})
    return render_template("inbox.html", items=items)


@bp.route("/inbox/read", methods=["POST"])
def inbox_read() -> BaseResponse:
    ids = None if request.form.get("all") else [
        int(x) for x in request.form.getlist("item") if x.isdigit()][:500]
    changed = saved_db.mark_read(get_accounts(), g.user.name, ids)
    audit.record("inbox", target=g.user.name, details={"op": "read", "items": changed})
    return redirect(url_for("saved.inbox"))


# ---------------------------------------------------------------------- batch search
@bp.route("/batch", methods=["GET", "POST"])
def batch_search() -> str | tuple[str, int]:
    if request.method == "GET":
        return render_template("batch.html", rows=None, text="", error="")
    text = request.form.get("entries", "")
    upload = request.files.get("file")
    try:
        if upload is not None and upload.filename:
            text = (text + "\n" + batch.decode_upload(upload.read(), upload.filename)).strip()
        rows = batch.run_batch(get_store(), text, g.user)
    except batch.BatchError as exc:
        return render_template("batch.html", rows=None, text=text[:20000], error=str(exc)), 400
    audit.record("batch_search", target=f"{len(rows)} entries",
                 details={"entries": [r.entry for r in rows][:200],
                          "matches": sum(r.count for r in rows)})
    return render_template("batch.html", rows=rows, text=text[:20000], error="",
                           sources=sources_by_id())
