"""Staff-facing pages: the survey form, code entry, thank-you, and what is stored.

Nothing here records who answered: no address, user agent, time or session
identifier is stored or logged. Codes arrive only in POST bodies.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup

from portal import clock, store
from portal.services import lifecycle, organisation
from portal.store.models import Status, Survey
from portal.web import padding, security
from portal.web.errors import error_page
from portal.web.locale import current_language
from surveys import pages
from surveys.answers import InvalidAnswers, error_summary, raw_values, validate
from surveys.definition import DISTRICT_QUESTION, iter_visible

bp = Blueprint("respond", __name__, template_folder="templates")


@bp.get("/")
def index():
    """The portal's front page, where a code alone opens its survey."""
    return render_template("respond/index.html")


@bp.get("/kod")
def code_entry():
    """Code entry without a survey address: the code finds its survey."""
    return render_template("respond/code.html", survey=None)


@bp.post("/kod")
def code_entry_post():
    """A code typed on /kod or the front page: open the survey it belongs to."""
    code = request.form.get("code", "")[:64]
    # The code is checked first: a valid code is never refused because of wrong codes
    # sent from the same address (a whole office may share one).
    lookup = store.look_up_code(code, current_app.config["SECRET_KEY"])
    survey = store.get_survey_by_id(lookup.survey_id) if lookup else None
    if lookup is None or survey is None:
        return _code_refused(None, code, used=False)
    page = _open_survey_or_page(survey.slug)
    if not isinstance(page, Survey):
        return page
    if lookup.used:
        return _code_refused(survey, code, used=True)
    return _render_form(survey, {"code": code}, values=_district_preset(survey, lookup.district))


@bp.get("/privacy")
def privacy():
    """What the portal stores about respondents, in plain language, with the organisation's
    data controller, data protection officer and retention decision."""
    return render_template("respond/privacy.html", profile=organisation.profile(current_language()))


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement (tillgänglighetsredogörelse), following DIGG's model."""
    return render_template(
        "respond/accessibility.html",
        profile=organisation.profile(current_language()),
        levels=organisation.A11Y_LEVELS,
        default_problems=organisation.DEFAULT_A11Y_PROBLEMS,
        default_method=organisation.DEFAULT_A11Y_METHOD,
        complaint_url=organisation.DIGG_COMPLAINT_URL,
    )


@bp.get("/s/<slug>")
def survey_page(slug: str):
    """The survey (link mode) or the code entry page (codes mode)."""
    survey = _open_survey_or_page(slug)
    if not isinstance(survey, Survey):
        return survey
    if survey.access == "codes":
        return render_template("respond/code.html", survey=survey)
    # A district's own link (a city-wide survey): the form opens with its district chosen.
    preset = _district_preset(survey, request.args.get("district"))
    return _render_form(survey, admission={"form_token": _new_form_token()}, values=preset)


def _district_preset(survey: Survey, district: str | None) -> dict[str, Any]:
    """The form's starting values for a district's code or link: that district chosen."""
    if district and district in lifecycle.district_options(survey):
        return {DISTRICT_QUESTION: district}
    return {}


@bp.post("/s/<slug>")
def survey_post(slug: str):
    """Code entry, language switch, moving between pages, or submission of the answers.

    Every page posts the whole form: the answers of the other pages travel in
    hidden fields, so nothing is stored before the final submission and
    nothing is put in the address.
    """
    action = request.form.get("action", "")
    if not padding.acceptable(request):
        return error_page(400)
    survey = _open_survey_or_page(slug, submitted=action == "submit")
    if not isinstance(survey, Survey):
        return survey
    admission = _admission_fields(survey)
    if action == "code" and survey.access == "codes":
        return _check_code(survey, admission["code"])
    if survey.access == "codes" and not admission["code"]:
        return render_template("respond/code.html", survey=survey), 400
    unreadable = _unreadable_form()
    if unreadable is not None:
        return unreadable
    definition = survey.definition()
    values = _submitted_values(survey)
    page = request.form.get("page", "")[:64]
    if action == "language":
        if request.form.get("lang") in current_app.config["LANGUAGES"]:
            session["lang"] = request.form["lang"]
        return _render_form(survey, admission, values=values, page=page)
    if action == "back":
        return _render_form(
            survey, admission, values=values, page=pages.previous_page(definition, values, page)
        )
    if action.startswith("goto:"):
        return _render_form(survey, admission, values=values, page=action[5:64])
    if action == "next":
        return _next_page(survey, admission, values, page)
    if action != "submit":
        abort(400)
    return _submit(survey, admission)


@bp.get("/s/<slug>/thanks")
def thanks(slug: str):
    """Shown after a response was committed; reloading it creates nothing."""
    survey = store.get_survey(slug)
    if survey is None:
        return error_page(404)
    return render_template("respond/thanks.html", survey=survey)


def _unreadable_form():
    """The error page for a form with undecodable bytes, or None."""
    form = request.form.to_dict(flat=False)
    form.pop(padding.PAD_FIELD, None)  # checked in survey_post; it carries nothing
    # Werkzeug decodes invalid UTF-8 as U+FFFD; such a form is refused, not stored garbled.
    if any("\ufffd" in value for values in form.values() for value in values):
        return error_page(
            400,
            _("The form could not be read"),
            _(
                "Some characters in what was sent could not be read. Go back, check your "
                "answers and send again."
            ),
        )
    return None


def _next_page(survey: Survey, admission: dict[str, str], values: dict[str, Any], page: str):
    """Check the answers of this page, then show the next one (or this one with its errors)."""
    definition = survey.definition()
    page = pages.current_page(definition, values, page)
    try:
        validate(definition, request.form.to_dict(flat=False))
        errors: tuple = ()
    except InvalidAnswers as exc:
        errors = pages.errors_on(definition, page, exc.errors)
    if errors:
        return _render_form(survey, admission, values=values, errors=errors, page=page, status=400)
    return _render_form(
        survey, admission, values=values, page=pages.next_page(definition, values, page)
    )


def _submit(survey: Survey, admission: dict[str, str]):
    if survey.access == "link":
        # A brake on floods in link mode (in codes mode every response needs a code):
        # per client (a keyed hash of its address, in memory), so that a flood never
        # refuses anyone else's answers. What protects respondents from stuffing is
        # that link-mode results have no breakdowns (portal/reports/scope.py).
        limiter = security.limits().submissions
        client = _client()
        if limiter.blocked(client):
            return _too_many_attempts(limiter.retry_after(client), keep_form=admission)
        limiter.hit(client)
    definition = survey.definition()
    form = request.form.to_dict(flat=False)
    try:
        answers = validate(definition, form)
    except InvalidAnswers as exc:
        values = raw_values(form, definition)
        page = pages.first_page_with_error(definition, values, exc.errors)
        return _render_form(
            survey,
            admission,
            values=values,
            errors=pages.errors_on(definition, page, exc.errors),
            page=page,
            status=400,
        )
    if survey.access == "codes":
        ticket = store.Admission("code", admission["code"])
    else:
        token = _verified_form_token(admission["form_token"])
        if token is None:
            return error_page(400)
        ticket = store.Admission("token", token)
    try:
        store.submit_response(
            survey, definition, answers, ticket, current_app.config["SECRET_KEY"], clock.today()
        )
    except store.SurveyNotOpen:
        return _closed_page(survey, submitted=True)
    except store.CodeRejected:
        # A code sent with the whole form is checked first, like one typed on the code
        # page; a wrong one counts as a guess, and while this client must wait it gets
        # the 429 page (answers kept) instead of finding out about the code.
        wait = _count_wrong_code()
        if wait:
            return _too_many_attempts(wait, keep_form=admission)
        return render_template("respond/code_used.html", survey=survey), 409
    except store.AlreadySubmitted:
        return render_template("respond/already.html", survey=survey), 409
    except store.DatabaseBusy:
        return _render_form(
            survey,
            admission,
            values=raw_values(form, definition),
            busy=True,
            status=503,
            page=pages.SUMMARY,
        )
    return redirect(url_for(".thanks", slug=survey.slug), code=303)


def _check_code(survey: Survey, code: str):
    # The code is checked first: a valid code opens the form even while this client
    # address must wait after wrong codes (someone else behind the same address may
    # have sent them). Only wrong codes are slowed down (_code_refused).
    lookup = store.look_up_code(code, current_app.config["SECRET_KEY"], survey)
    if lookup is not None and not lookup.used:
        return _render_form(
            survey, {"code": code}, values=_district_preset(survey, lookup.district)
        )
    return _code_refused(survey, code, used=lookup is not None)


def _count_wrong_code() -> int:
    """Count a wrong (or used) code from this client; returns the seconds it must now wait
    when it was waiting already (0 when it was not: the code's own page is shown).

    Only this client's own wrong codes count (seconds, doubling up to a cap);
    nothing survey-wide is counted. While a client must wait, its wrong codes are
    answered with the 429 page, which says nothing about the code (not even that
    it was used), and each one starts the wait again; valid codes from the same
    address are still accepted, since they are checked first.
    """
    limiter = security.limits().code_failures
    client = _client()
    waiting = limiter.wait(client) > 0
    limiter.failure(client)
    return limiter.wait(client) if waiting else 0


def _client() -> str:
    """This client for the rate limits: a keyed hash of its real address, in memory only."""
    return security.client_key(current_app.config["SECRET_KEY"])


def _code_refused(survey: Survey | None, code: str, used: bool):
    """The code page again, with the typed code and what was wrong with it; the 429 page
    instead while this client must wait after its own wrong codes."""
    # Only this client's failures count, and only wrong codes wait: a whole office
    # behind one address may still enter valid codes.
    wait = _count_wrong_code()
    if wait:
        return _too_many_attempts(wait)
    if not code.strip():
        error = _("Please enter your code.")
    elif used:
        error = _(
            "This code has already been used — your answers were saved. Each code can be used "
            "once, so nothing more is needed."
        )
    else:
        error = _(
            "The code was not recognised. Check the spelling: it has ten letters and digits, "
            "as printed on your slip."
        )
    page = render_template(
        "respond/code.html", survey=survey, error=error, code=code, used=used and code.strip()
    )
    return page, 409 if used and code.strip() else 400


def _too_many_attempts(retry_after: int, keep_form: dict[str, str] | None = None):
    """429 with Retry-After; a submission keeps its answers in the form."""
    if keep_form is not None:
        view_args = request.view_args
        survey = None if view_args is None else store.get_survey(view_args["slug"])
        if survey is None:  # only a submission to an existing survey keeps its form
            abort(404)
        definition = survey.definition()
        page, status = _render_form(
            survey,
            keep_form,
            values=raw_values(request.form.to_dict(flat=False), definition),
            busy=True,
            status=429,
            page=pages.SUMMARY,
        )
    else:
        page, status = error_page(
            429,
            message=_(
                "Too many wrong codes have been tried from this connection. Wait %(seconds)d "
                "seconds before trying another; a correct code is always accepted at once.",
                seconds=retry_after,
            ),
        )
    return page, status, {"Retry-After": str(retry_after)}


def _questions_html(
    survey: Survey, values: dict[str, Any], errors: tuple, page: str | None
) -> Markup:
    """The sections of the form, every one of them, all but ``page`` hidden.

    ``page`` None shows every section (HR's preview). A blank form is the same
    for everyone who sees the survey, so it is cached.
    """
    # The survey's own support contacts, else the organisation's (else the default text).
    support = organisation.support_text(survey)
    if values or errors:
        return _render_questions(survey.definition(), values, errors, page, support)
    return _blank_questions(survey.definition_json, current_language(), page, support)


@functools.lru_cache(maxsize=64)
def _blank_questions(definition_json: str, lang: str, page: str | None, support: str) -> Markup:
    # Keyed by the frozen definition's text, the language, the page and the support
    # contacts: a draft edited by HR gets a new key, and nothing per respondent enters it.
    survey = Survey(definition_json=definition_json, support_contacts=support or None)
    return _render_questions(survey.definition(), {}, (), page, support)


def _render_questions(
    definition, values: dict[str, Any], errors: tuple, page: str | None, support: str
) -> Markup:
    """Every section is in the form, so that with JavaScript the pages change in the browser
    (no request, so the number of requests does not tell who saw the follow-up pages);
    without it the server shows one section (the others are ``hidden`` but keep their
    answers as form fields) and the browser posts the whole form for the next one.
    """
    hidden_questions: set[str] = set()
    if page is not None:
        for section in definition.sections:
            shown = _rendered_questions(definition, values, [section])
            hidden_questions |= {q.key for q in section.questions if q.key not in shown}
    # The fragment comes from an autoescaped template: marking it safe adds no markup.
    return Markup(  # noqa: S704
        render_template(
            "respond/_sections.html",
            definition=definition,
            sections=definition.sections,
            current=page,
            hidden_questions=hidden_questions,
            visible_sections=pages.page_keys(definition, values),
            exposure_section=pages.exposure_section(definition),
            support_survey=Survey(support_contacts=support or None),
            values=values,
            errors_by_item={e.item: e for e in errors},
        )
    )


def _rendered_questions(definition, values: dict[str, Any], sections) -> set[str]:
    """The questions shown on a page: the visible ones, and those whose condition is on it.

    A question that depends on an answer on the same page is shown (and left to
    the script to hide, or to the server to ignore); one whose condition was
    answered on another page is shown only when that answer makes it visible.
    """
    visible = {q.key for q in iter_visible(definition, values)}
    rendered: set[str] = set()
    for section in sections:
        for question in section.questions:
            if question.key in visible or (
                question.condition and question.condition.question in rendered
            ):
                rendered.add(question.key)
    return rendered


def render_form(survey: Survey, admission: dict[str, str], preview: bool = False):
    """The survey form exactly as staff see it; with ``preview`` it cannot be sent (for HR).

    The preview shows every page at once, so HR can read the whole survey.
    """
    return _render_form(survey, admission, preview=preview, page=None if preview else "")


def _render_form(
    survey: Survey,
    admission: dict[str, str],
    values: dict[str, Any] | None = None,
    errors: tuple = (),
    busy: bool = False,
    status: int = 200,
    preview: bool = False,
    page: str | None = "",
):
    definition = survey.definition()
    values = values or {}
    keys = pages.page_keys(definition, values)
    if page is not None:
        page = pages.current_page(definition, values, page)
    step = keys.index(page) + 1 if page is not None else None
    return (
        render_template(
            "respond/form.html",
            survey=survey,
            definition=definition,
            lang=current_language(),
            values=values,
            errors=error_summary(definition, errors),
            questions_html=(
                _questions_html(survey, values, errors, page) if page != pages.SUMMARY else ""
            ),
            admission=admission,
            busy=busy,
            preview=preview,
            page=page,
            step=step,
            steps=len(keys),
            first_page=keys[0],
            section=next((s for s in definition.sections if s.key == page), None),
            # The summary carries every answer in hidden fields; a section page has them all
            # as fields of its sections.
            carried=pages.carried(definition, values, page) if page == pages.SUMMARY else (),
            summary=pages.summary(definition, values) if page == pages.SUMMARY else (),
        ),
        status,
    )


def _submitted_values(survey: Survey) -> dict[str, Any]:
    return raw_values(request.form.to_dict(flat=False), survey.definition())


def _admission_fields(survey: Survey) -> dict[str, str]:
    """The hidden admission field to carry through re-rendered forms."""
    if survey.access == "codes":
        return {"code": request.form.get("code", "")[:64]}
    token = request.form.get("form_token", "")[:200]
    return {"form_token": token or _new_form_token()}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="form-token")


def _new_form_token() -> str:
    """A one-time token for a link-mode form, signed so only issued tokens count."""
    return _serializer().dumps(secrets.token_urlsafe(16))


def _verified_form_token(token: str) -> str | None:
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def _open_survey_or_page(slug: str, submitted: bool = False):
    """The survey when it accepts answers, otherwise the page to show instead."""
    survey = store.get_survey(slug)
    if survey is None:
        return error_page(
            404,
            _("Survey not found"),
            _("There is no survey at this address. Check the link you were given."),
        )
    today = clock.today()
    if lifecycle.schedule_due(survey, today):
        # Opening and closing by date happen on the first request that needs them.
        lifecycle.apply_survey_schedule(survey, today)
        survey = store.get_survey(slug)
        if survey is None:  # the schedule changes a survey's status, never deletes it
            abort(404)
    if survey.status == Status.DRAFT:
        return render_template("respond/not_open.html", survey=survey), 403
    if survey.status != Status.OPEN:
        return _closed_page(survey, submitted=submitted)
    return survey


def _closed_page(survey: Survey, submitted: bool = False):
    return render_template("respond/closed.html", survey=survey, submitted=submitted), 410
