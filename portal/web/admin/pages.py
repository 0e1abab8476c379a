"""What the survey pages of the administration share: finding the survey, refusing an action."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext

from portal import store
from portal.services import lifecycle, organisation
from portal.store.models import Survey
from portal.web.admin.auth import current_user
from portal.web.errors import error_page


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
