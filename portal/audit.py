"""The audit log: who did what, when, in the administration. Never anything about respondents.

Actions are short stable keys stored in the database; their labels, shown on
the audit page, are here and nowhere else. The survey pages use the survey_*,
codes_*, responses_* and comments_* keys.
"""

from __future__ import annotations

from flask import has_request_context

from portal import clock, store
from portal.models import User
from surveys import N_

ACTIONS: dict[str, str] = {
    "login": N_("Logged in"),
    "login_failed": N_("Failed login"),
    "logout": N_("Logged out"),
    "account_created": N_("Account created"),
    "account_disabled": N_("Account disabled"),
    "account_enabled": N_("Account enabled"),
    "role_changed": N_("Role changed"),
    "password_changed": N_("Password changed"),
    "password_reset": N_("Password reset"),
    "survey_created": N_("Survey created"),
    "survey_edited": N_("Survey edited"),
    "survey_opened": N_("Survey opened"),
    "survey_closed": N_("Survey closed"),
    "survey_published": N_("Survey published"),
    "survey_archived": N_("Survey archived"),
    "codes_generated": N_("Access codes generated"),
    "codes_revoked": N_("Access codes revoked"),
    "responses_purged": N_("Responses purged"),
    "comments_selected": N_("Comments selected for the report"),
}

_UNSET = object()


class UnknownAction(ValueError):
    """An action key that is not in ACTIONS (a programming error)."""


def record(
    action: str,
    *,
    actor: User | None | object = _UNSET,
    subject: str = "",
    detail: str = "",
) -> None:
    """Append ``action`` to the audit log.

    ``actor`` defaults to the logged-in user when called during a request
    (and to nobody otherwise, e.g. from the command line). ``subject`` names
    what was acted on (an account's e-mail, a survey's title); ``detail`` is a
    short plain description. Neither may ever hold respondent data, a
    password, a code or a client address.
    """
    if action not in ACTIONS:
        raise UnknownAction(action)
    if actor is _UNSET:
        actor = None
        if has_request_context():
            from portal.admin.auth import current_user

            actor = current_user()
    store.add_audit_entry(
        at=clock.utcnow(), actor=actor, action=action, subject=subject, detail=detail
    )


def label(action: str) -> str:
    """The untranslated label of ``action`` (translate with ``_()`` where shown)."""
    return ACTIONS.get(action, action)
