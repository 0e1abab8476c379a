"""The organisation pages of the administration (administrators only): the tree of
districts and units, importing it from a file, and the organisation's own pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from portal.services import organisation
from portal.services.dimension_import import ImportFileError
from portal.web.admin.auth import require_role, signed_in_user
from portal.web.admin.organisation_forms import AddNodeForm, ProfileForm, RenameNodeForm
from portal.web.admin.pages import row_problems, uploaded_file
from portal.web.admin.survey_forms import ConfirmForm
from portal.web.locale import current_language
from portal.web.routes import Routes

routes = Routes()


def _tree_page(add_form=None, problem: str | None = None, status: int = 200):
    tree = organisation.load_tree()
    return render_template(
        "admin/organisation/tree.html",
        tree=tree,
        listing=tree.listing(),
        add_form=add_form or AddNodeForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        problem=problem,
        lang=current_language(),
        kinds=organisation.KIND_LABELS,
    ), status


def _message(exc: organisation.OrganisationError) -> str:
    return gettext(exc.message, **{k: v for k, v in exc.params.items() if k != "field"})


@routes.get("/organisation")
@require_role("admin")
def organisation_tree():
    """The organisation, its districts and their units."""
    return _tree_page()


@routes.post("/organisation/nodes")
@require_role("admin")
def add_node():
    """Add a district or a unit."""
    form = AddNodeForm()
    if not form.validate_on_submit():
        return _tree_page(form, status=400)
    try:
        node = organisation.add_node(
            form.parent.data,
            form.kind.data,
            form.name_sv.data,
            form.name_en.data,
            actor=signed_in_user(),
        )
    except organisation.OrganisationError as exc:
        return _tree_page(form, _message(exc), 400)
    flash(gettext("%(name)s has been added.", name=node.name_sv))
    return redirect(url_for(".organisation_tree"), code=303)


@routes.route("/organisation/nodes/<int:node_id>", methods=["GET", "POST"])
@require_role("admin")
def rename_node(node_id: int):
    """Rename a part of the organisation (the root's name is the organisation's)."""
    node = organisation.load_tree().get(node_id)
    if node is None:
        abort(404)
    form = RenameNodeForm(
        formdata=request.form if request.method == "POST" else None,
        name_sv=node.name_sv,
        name_en=node.name_en,
    )
    problem = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            organisation.rename_node(
                node_id, form.name_sv.data, form.name_en.data, actor=signed_in_user()
            )
        except organisation.OrganisationError as exc:
            problem = _message(exc)
        else:
            flash(gettext("The name has been changed."))
            return redirect(url_for(".organisation_tree"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/organisation/rename.html", node=node, form=form, problem=problem
    ), status


@routes.post("/organisation/nodes/<int:node_id>/delete")
@require_role("admin")
def remove_node(node_id: int):
    """Remove a part that has nothing under it and nothing attached."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        organisation.remove_node(node_id, actor=signed_in_user())
    except organisation.OrganisationError as exc:
        return _tree_page(problem=_message(exc), status=409)
    flash(gettext("The part has been removed."))
    return redirect(url_for(".organisation_tree"), code=303)


@routes.route("/organisation/import", methods=["GET", "POST"])
@require_role("admin")
def import_organisation():
    """Add districts and units from a CSV or XLSX file, all or nothing."""
    form = ConfirmForm()
    problems: list[tuple[int, str]] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            rows = organisation.read_tree_file(*uploaded_file())
            districts, units = organisation.import_tree(rows, actor=signed_in_user())
        except ImportFileError as exc:
            problems = row_problems(exc)
        else:
            flash(
                gettext(
                    "Added %(districts)d districts and %(units)d units.",
                    districts=districts,
                    units=units,
                )
            )
            return redirect(url_for(".organisation_tree"), code=303)
    status = 400 if problems else 200
    return render_template("admin/organisation/import.html", form=form, problems=problems), status


@routes.route("/organisation/pages", methods=["GET", "POST"])
@require_role("admin")
def organisation_pages():
    """The organisation's name on pages, data controller, retention and accessibility."""
    current = organisation.profile(current_language())
    # Empty texts stay empty in the form: the pages then show the default text.
    form = ProfileForm(formdata=None, obj=current) if request.method == "GET" else ProfileForm()
    problem = None
    if form.validate_on_submit():
        try:
            organisation.save_profile(form.data, actor=signed_in_user())
        except organisation.OrganisationError as exc:
            problem = _message(exc)
        else:
            flash(gettext("The organisation's pages have been saved."))
            return redirect(url_for(".organisation_pages"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/organisation/pages.html", form=form, problem=problem), status
