"""HR pages for running surveys: list, create, edit, preview, lifecycle, access,
monitoring, comments, results preview and retention.

Thin views: they parse the form, call ``portal.services.lifecycle`` (the rules) and
``portal.store`` / ``portal.services.monitoring`` (the figures), and render. Only the
roles ``hr`` and ``admin`` reach them; ``board`` gets 403.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from portal import clock, store
from portal.reports import board_report
from portal.services import access, lifecycle, monitoring, organisation, publication
from portal.store.models import Status, Survey
from portal.web.admin.auth import current_user, require_role
from portal.web.admin.nav import HR
from portal.web.admin.pages import cannot_now, lifecycle_message, survey_or_404
from portal.web.admin.survey_forms import (
    CodesForm,
    ConfirmForm,
    CreateSurveyForm,
    PurgeForm,
    RetentionForm,
    SurveyForm,
)
from portal.web.errors import error_page
from portal.web.locale import current_language
from portal.web.routes import Routes
from surveys import N_

routes = Routes()


def today() -> dt.date:
    """Today's date (``TODAY`` in the config moves the calendar in tests)."""
    return clock.today()


@routes.before_request
def _apply_schedule() -> None:
    """Surveys open and close on their dates before any admin page is shown.

    Both are a conditional UPDATE each, cheap enough for a request. Purging is
    not: it runs only from ``tick`` and the purge button (in short chunks).
    """
    lifecycle.apply_schedule(today(), purge=False)


_survey = survey_or_404


def _qr(link: str):
    return access.qr_svg(link, gettext("QR code for %(link)s", link=link))


_message = lifecycle_message


def _refused(survey: Survey, exc: lifecycle.LifecycleError):
    return cannot_now(lifecycle_message(exc))


def _settings_errors(form: SurveyForm, exc: lifecycle.SettingsError) -> list[str]:
    """Put each rule's message beside its field; unit problems are returned for the list."""
    unit_errors = []
    for name, (message, params) in exc.errors.items():
        text = gettext(message, **params)
        if name in ("units", "roles") or not hasattr(form, name):
            # Roles are listed with the units' problems; a customisation problem too.
            unit_errors.append(text)
        else:
            getattr(form, name).errors = [*getattr(form, name).errors, text]
    return unit_errors


# -- list, create, edit, preview ---------------------------------------------------------------


@routes.get("/surveys")
@require_role(*HR)
def surveys():
    """Every survey with its status and number of responses."""
    archived = request.args.get("archived") == "1"
    tree = organisation.load_tree()
    listed = organisation.visible_surveys(
        current_user(), store.list_surveys(include_archived=archived), tree
    )
    return render_template(
        "admin/surveys/list.html",
        surveys=listed,
        counts=store.response_counts(),
        archived=archived,
        tree=tree,
    )


@routes.route("/surveys/new", methods=["GET", "POST"])
@require_role(*HR)
def new_survey():
    """Create a draft from a template."""
    form = CreateSurveyForm()
    if request.method == "GET":
        form.fill_units([])
    unit_errors: list[str] = []
    if form.validate_on_submit():
        settings = form.settings()
        if settings.node_id is None:
            # Not chosen: the account's own part of the organisation.
            tree = organisation.load_tree()
            settings = replace(settings, node_id=organisation.account_node(current_user(), tree))
        try:
            survey = lifecycle.create_survey(
                form.template.data, settings, actor=current_user(), today=today()
            )
        except lifecycle.SettingsError as exc:
            unit_errors = _settings_errors(form, exc)
        else:
            return _after_create(survey)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/surveys/form.html", form=form, survey=None, unit_errors=unit_errors
    ), status


def _after_create(survey: Survey):
    if survey.opens_on is not None and survey.opens_on <= today():
        # Its opening date has come: it opens as soon as it has its survey key.
        flash(
            gettext(
                "The survey has been created. Its opening date has come: it opens as soon as "
                "you have made its survey key."
            )
        )
        return redirect(url_for(".survey", slug=survey.slug, _anchor="survey-key"), code=303)
    flash(gettext("The draft survey has been created. Check its units below."))
    return redirect(url_for(".edit_survey", slug=survey.slug), code=303)


@routes.route("/surveys/<slug>/edit", methods=["GET", "POST"])
@require_role(*HR)
def edit_survey(slug: str):
    """Change a draft; an opened survey is frozen."""
    survey = _survey(slug)
    if survey.status != Status.DRAFT:
        return _refused(survey, lifecycle.LifecycleError(lifecycle.NOT_A_DRAFT))
    form = SurveyForm(obj=survey if request.method == "GET" else None)
    if request.method == "GET":
        form.fill_units(store.survey_units(survey))
        form.fill_roles(lifecycle.current_roles(survey))
    unit_errors: list[str] = []
    if form.validate_on_submit():
        try:
            lifecycle.edit_draft(survey, form.settings(), actor=current_user(), today=today())
        except lifecycle.SettingsError as exc:
            unit_errors = _settings_errors(form, exc)
        except lifecycle.LifecycleError as exc:
            return _refused(survey, exc)
        else:
            flash(gettext("The changes have been saved."))
            return redirect(url_for(".survey", slug=survey.slug), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/surveys/form.html",
        form=form,
        survey=survey,
        unit_errors=unit_errors,
        node_path=organisation.load_tree().path(survey.node_id, current_language()),
        city_wide=organisation.is_city_wide(survey),
    ), status


@routes.get("/surveys/<slug>/preview")
@require_role(*HR)
def preview_survey(slug: str):
    """The form exactly as staff see it; it cannot be sent."""
    from portal.web.respond import render_form

    return render_form(_survey(slug), admission={}, preview=True)


# -- the survey page and its lifecycle ---------------------------------------------------------


@routes.get("/surveys/<slug>")
@require_role(*HR)
def survey(slug: str):
    """Status, lifecycle actions, access, and what may be seen of participation."""
    return _detail(_survey(slug), CodesForm(formdata=None))


def _detail(survey: Survey, codes_form: CodesForm, status: int = 200):
    issued, used = store.code_counts(survey)
    link = access.survey_link(current_app.config["BASE_URL"], survey.slug)
    return render_template(
        "admin/surveys/detail.html",
        districts=lifecycle.district_options(survey),
        survey=survey,
        units=store.survey_units(survey),
        overall=monitoring.overall(survey),
        unit_rates=monitoring.unit_rates(survey),
        role_rates=monitoring.role_rates(survey),
        link=link,
        # From VARNA_BASE_URL, never from the request's Host or X-Forwarded-Host.
        public_link=current_app.config["BASE_URL"].rstrip("/")
        + url_for("board.public", slug=survey.slug),
        qr_svg=_qr(link) if survey.access == "link" else None,
        issued=issued,
        used=used,
        codes_form=codes_form,
        open_form=ConfirmForm(formdata=None),
        key_mark=lifecycle.key_mark(survey),
        why_not_reopen=lifecycle.why_not_reopen(survey),
        purge_due_on=lifecycle.purge_due_on(survey),
    ), status


@routes.post("/surveys/<slug>/open")
@require_role(*HR)
def open_survey(slug: str):
    """Open a draft now (a closed or published survey is refused, with the reason)."""
    return _change(
        slug,
        lambda survey: lifecycle.open_survey(survey, actor=current_user(), today=today()),
        gettext("The survey is open: staff can answer now."),
    )


def _change(slug: str, act: Callable[[Survey], object], done: str):
    """A confirmed post that changes a survey through ``lifecycle``: back to the survey's
    page saying ``done``, or the reason it was refused."""
    survey = _survey(slug)
    if not ConfirmForm().validate_on_submit():
        return error_page(400)
    try:
        act(survey)
    except lifecycle.LifecycleError as exc:
        return _refused(survey, exc)
    flash(done)
    return redirect(url_for(".survey", slug=slug), code=303)


@routes.post("/surveys/<slug>/key")
@require_role(*HR)
def make_key(slug: str):
    """Make (or replace) a draft's survey key and show its private half, in this response only."""
    survey = _survey(slug)
    if not ConfirmForm().validate_on_submit():
        return error_page(400)
    try:
        key = lifecycle.make_survey_key(survey, actor=current_user())
    except lifecycle.LifecycleError as exc:
        return _refused(survey, exc)
    # Like the codes sheet: the key rides in this response and is kept nowhere.
    response = make_response(
        render_template(
            "admin/surveys/survey_key.html",
            survey=survey,
            key=key,
            mark=lifecycle.key_mark(survey),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/surveys/<slug>/open-answers")
@require_role(*HR)
def open_answers(slug: str):
    """Open the sealed answers of a survey closed without its key."""
    return _change(
        slug,
        lambda survey: lifecycle.open_answers(
            survey, request.form.get("survey_key"), actor=current_user()
        ),
        gettext("The answers are open: the results can be seen."),
    )


ACTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    # action: (lifecycle function, success message)
    "close": (
        lambda s, user: lifecycle.close_survey(
            s, actor=user, today=today(), key_text=request.form.get("survey_key")
        ),
        N_("The survey is closed."),
    ),
    "publish": (
        lambda s, user, compare_with=publication.LATEST: lifecycle.publish_survey(
            s,
            functools.partial(publication.report_snapshots, compare_with=compare_with),
            actor=user,
            today=today(),
        ),
        N_("The survey is published to the board."),
    ),
    "archive": (
        lambda s, user: lifecycle.archive_survey(s, actor=user),
        N_("The survey is archived."),
    ),
    "revoke": (
        lambda s, user: lifecycle.revoke_unused_codes(s, actor=user),
        N_("The unused codes have been revoked."),
    ),
}


@routes.route("/surveys/<slug>/close", methods=["GET", "POST"])
@require_role(*HR)
def close_survey(slug: str):
    """Close the survey early (after a confirmation page)."""
    return _confirm_action(slug, "close")


@routes.route("/surveys/<slug>/publish", methods=["GET", "POST"])
@require_role(*HR)
def publish_survey(slug: str):
    """Publish the closed survey to the board (after a confirmation page)."""
    return _confirm_action(slug, "publish")


@routes.route("/surveys/<slug>/archive", methods=["GET", "POST"])
@require_role(*HR)
def archive_survey(slug: str):
    """Archive the survey (after a confirmation page)."""
    return _confirm_action(slug, "archive")


@routes.route("/surveys/<slug>/revoke", methods=["GET", "POST"])
@require_role(*HR)
def revoke_codes(slug: str):
    """Revoke every unused code (after a confirmation page)."""
    return _confirm_action(slug, "revoke")


def _confirm_action(slug: str, action: str):
    """A confirmation page, then the final action (close, publish, archive, revoke codes)."""
    survey = _survey(slug)
    try:
        lifecycle.check_action(survey, action)
    except lifecycle.LifecycleError as exc:
        return _refused(survey, exc)
    form = ConfirmForm()
    choices = publication.comparison_choices(survey) if action == "publish" else []
    if form.validate_on_submit():
        perform, message = ACTIONS[action]
        options = {}
        if action == "publish":
            options["compare_with"] = _comparison_choice(survey)
            if options["compare_with"] is False:
                return error_page(
                    400, gettext("Choose a comparison"), gettext(publication.NOT_A_CHOICE)
                )
        try:
            perform(survey, current_user(), **options)
        except lifecycle.LifecycleError as exc:
            return _refused(survey, exc)
        flash(gettext(message))
        if action == "close" and survey.awaiting_key:
            flash(gettext(lifecycle.ANSWERS_SEALED))
        return redirect(url_for(".survey", slug=slug), code=303)
    issued, used = store.code_counts(survey)
    return render_template(
        "admin/surveys/confirm.html",
        survey=survey,
        action=action,
        form=form,
        overall=monitoring.overall(survey),
        issued=issued,
        used=used,
        choices=choices,
        key_mark=lifecycle.key_mark(survey),
        lang=current_language(),
    )


def _comparison_choice(survey: Survey) -> str | None | bool:
    """The comparison HR chose on the publish page: a slug, LATEST, NO_COMPARISON; False if bad."""
    value = request.form.get("compare_with")
    if value is None:
        return publication.LATEST
    if value == "none":
        return publication.NO_COMPARISON
    if any(c.slug == value for c in publication.comparison_choices(survey)):
        return value
    return False


# -- access ------------------------------------------------------------------------------------


@routes.post("/surveys/<slug>/codes")
@require_role(*HR)
def generate_codes(slug: str):
    """Generate a batch and show it once: the sheet to print and the CSV, in this response only."""
    survey = _survey(slug)
    form = CodesForm()
    if not form.validate_on_submit():
        return _detail(survey, form, 400)
    try:
        codes = lifecycle.generate_codes(
            survey,
            form.count.data,
            current_app.config["SECRET_KEY"],
            actor=current_user(),
            district=request.form.get("district") or None,
        )
    except lifecycle.LifecycleError as exc:
        return _refused(survey, exc)
    link = access.code_entry_link(current_app.config["BASE_URL"])
    csv_text = access.codes_csv(codes, link, survey.title(current_language()))
    # The CSV rides in this same response as a data: link: the codes are never
    # kept anywhere (no session, no server-side store) for a second download.
    return render_template(
        "admin/surveys/codes_sheet.html",
        survey=survey,
        codes=codes,
        link=link,
        # One QR code for every slip: it holds the short address, never the code.
        qr_svg=_qr(link),
        csv_href=access.data_uri(csv_text, "text/csv"),
        csv_name=f"codes-{today().isoformat()}.csv",
    )


@routes.get("/surveys/<slug>/poster")
@require_role(*HR)
def poster(slug: str):
    """A printable poster with the link and its QR code (link mode)."""
    survey = _survey(slug)
    if survey.access != "link":
        return error_page(404)
    link = access.survey_link(current_app.config["BASE_URL"], survey.slug)
    return render_template(
        "admin/surveys/poster.html",
        survey=survey,
        link=link,
        qr_svg=_qr(link),
    )


# -- after close: comments, results, retention -------------------------------------------------


@routes.route("/surveys/<slug>/comments", methods=["GET", "POST"])
@require_role(*HR)
def comments(slug: str):
    """Free-text answers, shuffled and redacted, once enough people answered; choose some."""
    survey = _survey(slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            masked = {
                name[len("mask-") :]: value[:20000]
                for name, value in request.form.items()
                if name.startswith("mask-")
            }
            chosen = lifecycle.select_comments(
                survey, request.form.getlist("comment"), actor=current_user(), masked=masked
            )
        except lifecycle.LifecycleError as exc:
            return _refused(survey, exc)
        flash(gettext("Comments chosen for the report: %(n)d.", n=chosen))
        return redirect(url_for(".comments", slug=slug), code=303)
    overall = monitoring.overall(survey)
    visible = monitoring.comments_visible(survey, overall.responses)
    return render_template(
        "admin/surveys/comments.html",
        survey=survey,
        form=form,
        visible=visible,
        threshold=monitoring.comment_threshold(survey),
        groups=publication.comment_groups(survey, current_language()) if visible else [],
    )


@routes.get("/surveys/<slug>/results")
@require_role(*HR)
def results(slug: str):
    """The results preview: the board's own page (same template and breakdown selector),
    marked as a preview until the survey is published (after close only)."""
    survey = _survey(slug)
    lang = current_language()
    try:
        data = publication.results_view(survey, lang)
    except lifecycle.LifecycleError as exc:
        return _refused(survey, exc)
    try:
        view = board_report.build(data, lang, request.args.get("by") or None)
    except board_report.UnknownBreakdown:
        return error_page(
            400,
            gettext("Unknown breakdown"),
            gettext("Choose one of the breakdowns on the report page."),
        )
    published = survey.status == Status.PUBLISHED
    return render_template(
        "board/report.html",
        survey=survey,
        report=view,
        page_endpoint="admin.results",
        preview=not published,
        published_preview=published,
    )


@routes.post("/surveys/<slug>/public-results")
@require_role(*HR)
def public_results(slug: str):
    """Switch the public page of headline indicators on or off."""
    survey = _survey(slug)
    if not ConfirmForm().validate_on_submit() or request.form.get("public") not in ("0", "1"):
        return error_page(400)
    public = request.form["public"] == "1"
    try:
        lifecycle.set_public_results(survey, public, actor=current_user())
    except lifecycle.LifecycleError as exc:
        return _refused(survey, exc)
    flash(
        gettext("The public results page is on.")
        if public
        else gettext("The public results page is off.")
    )
    return redirect(url_for(".survey", slug=slug), code=303)


@routes.route("/surveys/<slug>/purge", methods=["GET", "POST"])
@require_role(*HR)
def purge(slug: str):
    """Retention: the automatic purge setting, and purging the raw responses now."""
    survey = _survey(slug)
    form = PurgeForm()
    if form.validate_on_submit():
        if form.slug.data.strip() != survey.slug:
            form.slug.errors = [gettext("That is not this survey's identifier.")]
        else:
            try:
                lifecycle.purge_responses(
                    survey,
                    actor=current_user(),
                    today=today(),
                    budget=current_app.config["PURGE_REQUEST_SECONDS"],
                )
            except lifecycle.LifecycleError as exc:
                return _refused(survey, exc)
            return _after_purge_step(survey)
    retention = RetentionForm(formdata=None, obj=survey)
    return _purge_page(survey, form, retention, 400 if request.method == "POST" else 200)


@routes.post("/surveys/<slug>/purge/continue")
@require_role(*HR)
def purge_continue(slug: str):
    """Delete the next part of a begun purge (a few seconds' worth, in short transactions)."""
    survey = _survey(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if survey.purged_on is not None:
        lifecycle.continue_purge(survey, current_app.config["PURGE_REQUEST_SECONDS"])
    return _after_purge_step(survey)


def _after_purge_step(survey: Survey):
    if lifecycle.purge_progress(survey):
        return redirect(url_for(".purge", slug=survey.slug), code=303)
    if survey.awaiting_key:
        flash(gettext("The sealed answers have been deleted unopened."))
    else:
        flash(gettext("The raw responses have been purged. The published report is kept."))
    return redirect(url_for(".survey", slug=survey.slug), code=303)


@routes.post("/surveys/<slug>/retention")
@require_role(*HR)
def retention(slug: str):
    """Save the automatic purge setting."""
    survey = _survey(slug)
    retention = RetentionForm()
    if not retention.validate_on_submit():
        return _purge_page(survey, PurgeForm(formdata=None), retention, 400)
    lifecycle.set_retention(survey, retention.purge_after_months.data, actor=current_user())
    flash(gettext("The retention setting has been saved."))
    return redirect(url_for(".purge", slug=slug), code=303)


def _purge_page(survey: Survey, form: PurgeForm, retention: RetentionForm, status: int):
    return render_template(
        "admin/surveys/purge.html",
        survey=survey,
        form=form,
        retention=retention,
        overall=monitoring.overall(survey),
        purge_due_on=lifecycle.purge_due_on(survey),
        purge_left=lifecycle.purge_progress(survey),
        continue_form=ConfirmForm(formdata=None),
    ), status
