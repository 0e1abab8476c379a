"""What the administration's pages share: finding the survey, refusing an action, reading
an uploaded import file."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext

from portal import store
from portal.services import lifecycle, organisation
from portal.services.dimension_import import ImportFileError, RowError
from portal.store.models import Survey
from portal.web.admin.auth import current_user
from portal.web.errors import error_page
from surveys import N_


def survey_or_404(slug: str) -> Survey:
    """The survey at ``slug`` if the account may run it: 404 when there is none, 403 when
    it lies outside the account's part of the organisation (every survey page, every
    action, every export and preview of the administration finds its survey here)."""
    survey = store.get_survey(slug)
    if survey is None:
        abort(404)
    if not organisation.can_run(current_user(), survey):
        abort(403)
    return survey


def cannot_now(message: str):
    """The 409 page of an action the survey's state does not allow, with the reason."""
    return error_page(409, gettext("That cannot be done now"), message)


def lifecycle_message(exc: lifecycle.LifecycleError) -> str:
    """A refused lifecycle action's reason in the user's language."""
    return gettext(exc.message, **exc.params)


def uploaded_file(field: str = "file") -> tuple[str, bytes]:
    """The name and bytes of the file sent in ``field``; ImportFileError when none was."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        raise ImportFileError([RowError(0, N_("Choose a file."), {})])
    return upload.filename, upload.read()


def row_problems(exc: ImportFileError) -> list[tuple[int, str]]:
    """An import file's problems as (line, message in the user's language); line 0 is the
    file as a whole."""
    return [(e.line, gettext(e.message, **e.params)) for e in exc.errors]
