"""HR pages for shaping a draft: its questions, the import of units and roles, a copy of an
earlier survey; and the administrators' page of uploaded templates.

Thin views: the form is read into a ``surveys.customise.Customisation`` and handed to
``portal.services.lifecycle``; every rule (what may be switched off, the limits, the
template validation) is in ``surveys/customise.py``.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from portal import clock, store
from portal.services import dimension_import, lifecycle, templates
from portal.store.models import Status, Survey
from portal.web.admin.auth import current_user, require_role
from portal.web.admin.nav import HR
from portal.web.admin.pages import (
    cannot_now,
    lifecycle_message,
    row_problems,
    survey_or_404,
    uploaded_file,
)
from portal.web.admin.survey_forms import ConfirmForm
from portal.web.routes import Routes
from surveys.customise import (
    LOCAL_PREFIX,
    LOCAL_TYPES,
    MAX_LOCAL_QUESTIONS,
    Customisation,
    LocalQuestion,
    next_local_key,
    raw_texts,
    why_fixed,
)
from surveys.definition import Definition, DefinitionError, Text

routes = Routes()
_LOCAL_FIELD = re.compile(r"^local\.(local_\d+)\.text\.sv$")


def _not_a_draft():
    return cannot_now(gettext(lifecycle.NOT_A_DRAFT))


def _text(form, name: str) -> Text:
    return Text(form.get(f"{name}.sv", "").strip(), form.get(f"{name}.en", "").strip())


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace("\r\n", "\n").split("\n") if line.strip()]


def read_customisation(form, template: Definition, current: Customisation) -> Customisation:
    """The customisation submitted on the questions page (only what differs from the template)."""
    originals = raw_texts(template)
    texts = {}
    for name, original in originals.items():
        text = _text(form, f"text.{name}")
        if f"text.{name}.sv" in form and text != original:
            texts[name] = text
    variables = {}
    for name, original in template.variables.items():
        text = _text(form, f"variable.{name}")
        if text != original:
            variables[name] = text
    intro: Text | None = _text(form, "intro")
    raw_intro = template.to_data()["intro"]
    if intro == Text(raw_intro["sv"].strip(), raw_intro["en"].strip()):
        intro = None
    local = []
    # The local questions on the page (an earlier, refused submission included), in order.
    keys = sorted(
        {m.group(1) for name in form if (m := _LOCAL_FIELD.match(name))},
        key=lambda k: int(k[len(LOCAL_PREFIX) :]),
    )
    for key in keys:
        if not form.get(f"local.{key}.delete"):
            local.append(_local(form, key))
    following = {k: None for k in keys}
    if form.get("local.new.text.sv", "").strip() or form.get("local.new.text.en", "").strip():
        added = _local(form, "new")
        numbered = Customisation(local=(*current.local, *(_local(form, k) for k in following)))
        local.append(
            LocalQuestion(
                next_local_key(numbered),
                added.section,
                added.type,
                added.text,
                added.note,
                added.options,
                added.key_options,
            )
        )
    return Customisation(
        switched_off=tuple(form.getlist("off")),
        texts=texts,
        variables=variables,
        intro=intro,
        roles=current.roles,
        local=tuple(local),
    )


def _numbers(text: str) -> tuple[int, ...]:
    """Option numbers typed as "1, 3" (spaces, commas or semicolons between them); what is
    not a number becomes 0, which the check refuses with the reason."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    return tuple(int(p) if p.strip().isdigit() and len(p.strip()) < 4 else 0 for p in parts)


def _local(form, key: str) -> LocalQuestion:
    prefix = f"local.{key}"
    note = _text(form, f"{prefix}.note")
    sv, en = (
        _lines(form.get(f"{prefix}.options.sv", "")),
        _lines(form.get(f"{prefix}.options.en", "")),
    )
    options = tuple(
        Text(sv[i] if i < len(sv) else "", en[i] if i < len(en) else "")
        for i in range(max(len(sv), len(en)))
    )
    return LocalQuestion(
        key=key,
        section=form.get(f"{prefix}.section", ""),
        type=form.get(f"{prefix}.type", ""),
        text=_text(form, f"{prefix}.text"),
        note=note if (note.sv or note.en) else None,
        options=options,
        key_options=_numbers(form.get(f"{prefix}.key_options", "")),
    )


def _page(survey: Survey, custom: Customisation, errors=None, status: int = 200):
    template = templates.load(survey.template)
    messages = {
        name: gettext(message, **params) for name, (message, params) in (errors or {}).items()
    }
    return render_template(
        "admin/surveys/questions.html",
        survey=survey,
        template=template,
        custom=custom,
        texts=raw_texts(template),
        fixed={q.key: why_fixed(template, q) for q in template.questions},
        errors=messages,
        local_types=LOCAL_TYPES,
        max_local=MAX_LOCAL_QUESTIONS,
        new_key=next_local_key(custom),
        open_questions={
            name.split(".")[1] if name.startswith("off.") else name.split(".")[0]
            for name in messages
        },
        raw_intro=template.to_data()["intro"],
        form=ConfirmForm(formdata=None),
    ), status


@routes.route("/surveys/<slug>/questions", methods=["GET", "POST"])
@require_role(*HR)
def questions(slug: str):
    """Switch optional questions off, reword, rename the incident system, add local questions."""
    survey = survey_or_404(slug)
    if survey.status != Status.DRAFT:
        return _not_a_draft()
    current = lifecycle.customisation(survey)
    try:
        template = templates.load(survey.template)
    except DefinitionError as exc:
        return cannot_now(str(exc))
    if request.method == "GET":
        return _page(survey, current)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    custom = read_customisation(request.form, template, current)
    try:
        lifecycle.customise_draft(survey, custom, actor=current_user())
    except lifecycle.SettingsError as exc:
        return _page(survey, custom, exc.errors, 400)
    except lifecycle.LifecycleError as exc:
        return cannot_now(lifecycle_message(exc))
    flash(gettext("The questions have been saved. Check them in the preview."))
    return redirect(url_for(".questions", slug=survey.slug), code=303)


@routes.route("/surveys/<slug>/import", methods=["GET", "POST"])
@require_role(*HR)
def import_dimensions(slug: str):
    """Replace the units and roles of a draft from a CSV or XLSX file, all or nothing."""
    survey = survey_or_404(slug)
    if survey.status != Status.DRAFT:
        return _not_a_draft()
    form = ConfirmForm()
    problems: list[tuple[int, str]] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            dims = dimension_import.read_file(*uploaded_file())
            lifecycle.import_dimensions(
                survey, dims.units, dims.roles, actor=current_user(), today=clock.today()
            )
        except dimension_import.ImportFileError as exc:
            problems = row_problems(exc)
        except lifecycle.SettingsError as exc:
            problems = [(0, gettext(m, **p)) for m, p in exc.errors.values()]
        except lifecycle.LifecycleError as exc:
            problems = [(0, gettext(exc.message, **exc.params))]
        else:
            flash(
                gettext(
                    "Imported %(units)d units and %(roles)d roles.",
                    units=len(dims.units),
                    roles=len(dims.roles),
                )
            )
            return redirect(url_for(".edit_survey", slug=survey.slug), code=303)
    status = 400 if problems else 200
    return render_template(
        "admin/surveys/import.html", survey=survey, form=form, problems=problems
    ), status


@routes.post("/surveys/<slug>/copy")
@require_role(*HR)
def copy_survey(slug: str):
    """A new draft from an earlier survey (any status): not its dates, codes or answers."""
    source = survey_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        survey = lifecycle.copy_survey(source, actor=current_user(), today=clock.today())
    except lifecycle.SettingsError as exc:
        messages = " ".join(gettext(m, **p) for m, p in exc.errors.values())
        return cannot_now(messages)
    except lifecycle.LifecycleError as exc:
        return cannot_now(lifecycle_message(exc))
    flash(
        gettext("A new draft has been created from the earlier survey. Check its title and dates.")
    )
    return redirect(url_for(".edit_survey", slug=survey.slug), code=303)


# -- uploaded templates (administrators) ---------------------------------------------------------


@routes.route("/templates", methods=["GET", "POST"])
@require_role("admin")
def survey_templates():
    """The templates HR can choose, and the upload of a municipality's own version."""
    form = ConfirmForm()
    problem = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise DefinitionError("?", None, "no file was chosen")
            definition = templates.upload(upload.filename, upload.read(), actor=current_user())
        except DefinitionError as exc:
            # The loader's own words, as the CLI and the tests show them.
            problem = str(exc)
        else:
            flash(gettext("The template %(key)s has been saved.", key=definition.key))
            return redirect(url_for(".survey_templates"), code=303)
    return render_template(
        "admin/templates.html",
        form=form,
        problem=problem,
        keys=templates.available(),
        uploaded={t.key: t for t in store.uploaded_templates()},
    ), (400 if problem else 200)


@routes.post("/templates/<key>/delete")
@require_role("admin")
def delete_template(key: str):
    """Remove an uploaded version: the shipped template of that key applies again."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not templates.remove(key, actor=current_user()):
        abort(404)
    flash(gettext("The uploaded template %(key)s has been removed.", key=key))
    return redirect(url_for(".survey_templates"), code=303)
