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
from portal.services import lifecycle
from portal.store.models import Status, Survey
from portal.web import padding, security
from portal.web.errors import error_page
from portal.web.locale import current_language
from surveys.answers import InvalidAnswers, error_summary, raw_values, validate

bp = Blueprint("respond", __name__, template_folder="templates")


@bp.get("/")
def index():
    """The portal's front page."""
    return render_template("respond/index.html")


@bp.get("/privacy")
def privacy():
    """What the portal stores about respondents, in plain language."""
    return render_template("respond/privacy.html")


@bp.get("/s/<slug>")
def survey_page(slug: str):
    """The survey (link mode) or the code entry page (codes mode)."""
    survey = _open_survey_or_page(slug)
    if not isinstance(survey, Survey):
        return survey
    if survey.access == "codes":
        return render_template("respond/code.html", survey=survey)
    return _render_form(survey, admission={"form_token": _new_form_token()})


@bp.post("/s/<slug>")
def survey_post(slug: str):
    """Code entry, language switch, or submission of the answers."""
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
    if action == "language":
        if request.form.get("lang") in current_app.config["LANGUAGES"]:
            session["lang"] = request.form["lang"]
        return _render_form(survey, admission, values=_submitted_values(survey))
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
    else:
        # A code sent with the whole form is a guess like any other: the same
        # per-client slowdown as code entry applies (see _check_code).
        wait = security.limits().code_failures.wait(_client())
        if wait:
            return _too_many_attempts(wait, keep_form=admission)
    definition = survey.definition()
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
    try:
        answers = validate(definition, form)
    except InvalidAnswers as exc:
        return _render_form(
            survey, admission, values=raw_values(form, definition), errors=exc.errors, status=400
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
        security.limits().code_failures.failure(_client())
        return render_template("respond/code_used.html", survey=survey), 409
    except store.AlreadySubmitted:
        return render_template("respond/already.html", survey=survey), 409
    except store.DatabaseBusy:
        return _render_form(
            survey, admission, values=raw_values(form, definition), busy=True, status=503
        )
    return redirect(url_for(".thanks", slug=survey.slug), code=303)


def _check_code(survey: Survey, code: str):
    # Only this client's own wrong codes can make it wait (seconds, doubling up to a
    # cap); nothing survey-wide is counted, so no one can block others' codes.
    slowdown = security.limits().code_failures
    client = _client()
    wait = slowdown.wait(client)
    if wait:
        return _too_many_attempts(wait)
    if store.code_is_valid(survey, code, current_app.config["SECRET_KEY"]):
        return _render_form(survey, {"code": code})
    slowdown.failure(client)
    error = (
        _("Please enter your code.")
        if not code.strip()
        else _(
            "The code is not valid for this survey, or it has already been used. Check that "
            "you typed it as printed."
        )
    )
    return render_template("respond/code.html", survey=survey, error=error), 400


def _client() -> str:
    """This client for the rate limits: a keyed hash of its real address, in memory only."""
    return security.client_key(current_app.config["SECRET_KEY"])


def _too_many_attempts(retry_after: int, keep_form: dict[str, str] | None = None):
    """429 with Retry-After; a submission keeps its answers in the form."""
    if keep_form is not None:
        survey = store.get_survey(request.view_args["slug"])
        definition = survey.definition()
        page, status = _render_form(
            survey,
            keep_form,
            values=raw_values(request.form.to_dict(flat=False), definition),
            busy=True,
            status=429,
        )
    else:
        page, status = error_page(
            429,
            message=_(
                "Too many wrong codes have been tried from this device. Wait %(seconds)d "
                "seconds and try again.",
                seconds=retry_after,
            ),
        )
    return page, status, {"Retry-After": str(retry_after)}


def _questions_html(survey: Survey, values: dict[str, Any], errors: tuple) -> Markup:
    """The questions of the form; a blank form is the same for everyone, so it is cached."""
    if values or errors:
        return _render_questions(survey.definition(), values, errors)
    return _blank_questions(survey.definition_json, current_language())


@functools.lru_cache(maxsize=64)
def _blank_questions(definition_json: str, lang: str) -> Markup:
    # Keyed by the frozen definition's text and the language: a draft edited by
    # HR gets a new key, and nothing per respondent enters the cached markup.
    return _render_questions(Survey(definition_json=definition_json).definition(), {}, ())


def _render_questions(definition, values: dict[str, Any], errors: tuple) -> Markup:
    # The fragment comes from an autoescaped template: marking it safe adds no markup.
    return Markup(  # noqa: S704
        render_template(
            "respond/_sections.html",
            definition=definition,
            values=values,
            errors_by_item={e.item: e for e in errors},
        )
    )


def render_form(survey: Survey, admission: dict[str, str], preview: bool = False):
    """The survey form exactly as staff see it; with ``preview`` it cannot be sent (for HR)."""
    return _render_form(survey, admission, preview=preview)


def _render_form(
    survey: Survey,
    admission: dict[str, str],
    values: dict[str, Any] | None = None,
    errors: tuple = (),
    busy: bool = False,
    status: int = 200,
    preview: bool = False,
):
    definition = survey.definition()
    return (
        render_template(
            "respond/form.html",
            survey=survey,
            definition=definition,
            lang=current_language(),
            values=values or {},
            errors=error_summary(definition, errors),
            questions_html=_questions_html(survey, values or {}, errors),
            admission=admission,
            busy=busy,
            preview=preview,
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
    if survey.status == Status.DRAFT:
        return render_template("respond/not_open.html", survey=survey), 403
    if survey.status != Status.OPEN:
        return _closed_page(survey, submitted=submitted)
    return survey


def _closed_page(survey: Survey, submitted: bool = False):
    return render_template("respond/closed.html", survey=survey, submitted=submitted), 410
