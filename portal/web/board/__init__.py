"""The board's reports: published surveys as readable, printable pages and exports,
and the public page of headline indicators that HR may switch on.

Everything comes from the snapshot frozen at publication, through the one
report pipeline (``portal.reports.board_report`` builds the page model,
``portal.reports.exports`` the files), never from raw responses. The report
pages are for the roles board, hr and admin; the public page needs no login
but shows only the all-staff headline indicators of a published survey whose
switch is on.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext

from portal import store
from portal.reports import board_report, exports, slices
from portal.services import organisation
from portal.store.models import ROLES, Survey
from portal.web.admin.auth import current_user, require_role, signed_in_user
from portal.web.errors import error_page
from portal.web.locale import current_language

bp = Blueprint("board", __name__, template_folder="templates")


def _not_found():
    return error_page(
        404, gettext("Report not found"), gettext("There is no published report at this address.")
    )


def _bad_breakdown():
    return error_page(
        400,
        gettext("Unknown breakdown"),
        gettext("Choose one of the breakdowns on the report page."),
    )


def _scoped(survey: Survey, data: dict, tree: organisation.Tree) -> dict | None:
    """The snapshot data the account may read: the whole report of a survey at or below
    its node, its district's slice of a city-wide survey above it, else None."""
    user = signed_in_user()
    if organisation.can_run(user, survey, tree):
        return data
    keys = organisation.district_keys(user, survey, tree)
    if not keys:
        return None
    node = tree.get(organisation.account_node(user, tree))
    return slices.district_slice(data, keys, node.name(current_language()) if node else "")


def _readable(slug: str) -> tuple[Survey, dict]:
    """The published survey at ``slug`` and the data this account may read of it: 403 when
    it lies outside the account's part of the organisation (whatever its state), 404 when
    it is not published."""
    survey = store.get_survey(slug)
    if survey is None:
        raise board_report.NotPublished(slug)
    tree = organisation.load_tree()
    user = current_user()
    if not organisation.can_run(user, survey, tree) and not organisation.district_keys(
        user, survey, tree
    ):
        abort(403)
    survey = board_report.published_survey(slug)
    data = _scoped(survey, board_report.snapshot(survey, current_language()), tree)
    if data is None:
        abort(403)
    return survey, data


@bp.get("/board/")
@require_role(*ROLES)
def index():
    """Every published report the account may read, latest first, with its headline figure."""
    lang = current_language()
    surveys = store.list_published()
    snapshots = store.report_snapshots_of(surveys, lang)
    tree = organisation.load_tree()
    readable = {}
    for survey in surveys:
        data = (
            _scoped(survey, json.loads(snapshots[survey.id]), tree)
            if survey.id in snapshots
            else None
        )
        if data is not None:
            readable[survey.id] = data
    headlines = {
        survey_id: board_report.headline_of(data, lang) for survey_id, data in readable.items()
    }
    return render_template(
        "board/index.html",
        surveys=[s for s in surveys if s.id in readable],
        headlines=headlines,
    )


@bp.get("/board/<slug>")
@require_role(*ROLES)
def report(slug: str):
    """The report of a published survey: the summary, then the full part by ``?by=``."""
    try:
        survey, data = _readable(slug)
        view = board_report.build(data, current_language(), request.args.get("by") or None)
    except board_report.NotPublished:
        return _not_found()
    except board_report.UnknownBreakdown:
        return _bad_breakdown()
    return render_template(
        "board/report.html", survey=survey, report=view, page_endpoint="board.report"
    )


def _every_breakdown(slug: str) -> list[board_report.BoardReport]:
    _survey, data = _readable(slug)
    return board_report.every_breakdown(data, current_language())


@bp.get("/board/<slug>.csv")
@require_role(*ROLES)
def report_csv(slug: str):
    """Every breakdown of the report as CSV (UTF-8 with BOM)."""
    try:
        views = _every_breakdown(slug)
    except board_report.NotPublished:
        return _not_found()
    return _download(exports.to_csv(views), "text/csv; charset=utf-8", f"{slug}.csv")


@bp.get("/board/<slug>.xlsx")
@require_role(*ROLES)
def report_xlsx(slug: str):
    """The summary and every breakdown of the report as an XLSX workbook, with the notes."""
    try:
        views = _every_breakdown(slug)
    except board_report.NotPublished:
        return _not_found()
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(exports.to_xlsx(views), mimetype, f"{slug}.xlsx")


@bp.get("/board/<slug>.docx")
@require_role(*ROLES)
def report_docx(slug: str):
    """The summary and every table of one breakdown (``?by=``) as a Word document."""
    try:
        _survey, data = _readable(slug)
        view = board_report.build(data, current_language(), request.args.get("by") or None)
    except board_report.NotPublished:
        return _not_found()
    except board_report.UnknownBreakdown:
        return _bad_breakdown()
    mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    name = f"{slug}-{view.breakdown}.docx"
    return _download(exports.to_docx(view), mimetype, name)


def _download(body, mimetype: str, name: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/results/<slug>")
def public(slug: str):
    """The public page: headline indicators for all staff, when HR has switched it on."""
    try:
        survey = board_report.published_survey(slug)
        if not survey.public_results:
            raise board_report.NotPublished(slug)
        view = board_report.load(survey, current_language(), board_report.ALL, comparison=False)
    except (board_report.NotPublished, board_report.UnknownBreakdown):
        return _not_found()
    return render_template("board/public.html", survey=survey, report=view)
