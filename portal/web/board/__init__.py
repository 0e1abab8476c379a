"""The board's reports: published surveys as readable, printable pages and exports,
and the public page of headline indicators that HR may switch on.

Everything comes from the snapshot frozen at publication (``portal.reports.board_report``),
never from raw responses. The report pages are for the roles board, hr and
admin; the public page needs no login but shows only the all-staff headline
indicators of a published survey whose switch is on.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext

from portal.reports import board_report
from portal.store.models import ROLES
from portal.web.admin.auth import require_role
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


def _reports(slug: str, every_breakdown: bool):
    """The survey's report for the requested breakdown, or for each of its breakdowns."""
    lang = current_language()
    survey = board_report.published_survey(slug)
    report = board_report.load(survey, lang, request.args.get("by") or None)
    if not every_breakdown:
        return survey, [report]
    return survey, [board_report.load(survey, lang, key) for key, _ in report.breakdowns]


@bp.get("/board/")
@require_role(*ROLES)
def index():
    """Every published report, latest first."""
    from portal import store

    return render_template("board/index.html", surveys=store.list_published())


@bp.get("/board/<slug>")
@require_role(*ROLES)
def report(slug: str):
    """The report of a published survey in one breakdown (``?by=``)."""
    try:
        survey, (view,) = _reports(slug, every_breakdown=False)
    except board_report.NotPublished:
        return _not_found()
    except board_report.UnknownBreakdown:
        return _bad_breakdown()
    return render_template("board/report.html", survey=survey, report=view)


@bp.get("/board/<slug>.csv")
@require_role(*ROLES)
def report_csv(slug: str):
    """Every breakdown of the report as CSV (UTF-8 with BOM)."""
    try:
        survey, views = _reports(slug, every_breakdown=True)
    except (board_report.NotPublished, board_report.UnknownBreakdown):
        return _not_found()
    return _download(board_report.to_csv(views), "text/csv; charset=utf-8", f"{slug}.csv")


@bp.get("/board/<slug>.xlsx")
@require_role(*ROLES)
def report_xlsx(slug: str):
    """Every breakdown of the report as an XLSX workbook, one sheet each, with the notes."""
    try:
        survey, views = _reports(slug, every_breakdown=True)
    except (board_report.NotPublished, board_report.UnknownBreakdown):
        return _not_found()
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(board_report.to_xlsx(views), mimetype, f"{slug}.xlsx")


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
        view = board_report.load(survey, current_language(), board_report.ALL, trend=False)
    except (board_report.NotPublished, board_report.UnknownBreakdown):
        return _not_found()
    return render_template("board/public.html", survey=survey, report=view)
