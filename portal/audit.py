"""The audit log: who did what, when, in the administration. Never anything about respondents.

Actions are short stable keys stored in the database; their labels, shown on
the audit page, are here and nowhere else. The survey pages use the survey_*,
codes_*, responses_* and comments_* keys.
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext

from portal import clock, store
from portal.models import AuditEntry, User
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
    "public_results_on": N_("Public results page switched on"),
    "public_results_off": N_("Public results page switched off"),
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
    params: dict[str, str | int] | None = None,
) -> None:
    """Append ``action`` to the audit log.

    ``actor`` defaults to the logged-in user when called during a request
    (and to nobody otherwise, e.g. from the command line). ``subject`` names
    what was acted on (an account's e-mail, a survey's title); ``detail`` is a
    short description: plain text, or an English message marked with ``N_``
    whose ``%(name)s`` placeholders ``params`` fill, translated when shown.
    Neither may ever hold respondent data, a password, a code or a client
    address.
    """
    if action not in ACTIONS:
        raise UnknownAction(action)
    if actor is _UNSET:
        actor = None
        if has_request_context():
            from portal.admin.auth import current_user

            actor = current_user()
    store.add_audit_entry(
        at=clock.utcnow(),
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        params=params,
    )


def describe(entry: AuditEntry) -> str:
    """The entry's detail in the current language, its placeholders filled.

    Role keys among the values are shown by their labels.
    """
    from portal.admin.forms import ROLE_LABELS

    if not entry.detail:
        return ""
    params = {
        name: str(ROLE_LABELS[value]) if value in ROLE_LABELS else value
        for name, value in entry.params().items()
    }
    try:
        return gettext(entry.detail, **params) if params else gettext(entry.detail)
    except (KeyError, ValueError, TypeError):
        # Placeholders that do not match their values: show the stored text.
        return entry.detail


def label(action: str) -> str:
    """The untranslated label of ``action`` (translate with ``_()`` where shown)."""
    return ACTIONS.get(action, action)
