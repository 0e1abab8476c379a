"""The audit log: who did what, when, in the administration. Never anything about respondents.

Actions are short stable keys stored in the database; their labels, shown on
the audit page, are here and nowhere else. The survey pages use the survey_*,
codes_*, responses_* and comments_* keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal import clock, store
from portal.store.models import User
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
    "login_sso": N_("Logged in via SSO"),
    "login_sso_refused": N_("SSO login refused"),
    "mfa_enrolled": N_("Second factor enrolled"),
    "mfa_reset": N_("Second factor reset"),
    "recovery_code_used": N_("Recovery code used"),
    "session_ended": N_("Session ended"),
    "sessions_ended": N_("All sessions of an account ended"),
    "all_sessions_ended": N_("All sessions of everyone ended"),
    "survey_created": N_("Survey created"),
    "survey_edited": N_("Survey edited"),
    "survey_opened": N_("Survey opened"),
    "survey_closed": N_("Survey closed"),
    "survey_key_made": N_("Survey key made"),
    "answers_opened": N_("Sealed answers opened with the survey key"),
    "survey_published": N_("Survey published"),
    "survey_archived": N_("Survey archived"),
    "codes_generated": N_("Access codes generated"),
    "codes_revoked": N_("Access codes revoked"),
    "responses_purged": N_("Responses purged"),
    "comments_selected": N_("Comments selected for the report"),
    "public_results_on": N_("Public results page switched on"),
    "public_results_off": N_("Public results page switched off"),
    "survey_customised": N_("Survey questions changed"),
    "template_uploaded": N_("Template uploaded"),
    "template_removed": N_("Uploaded template removed"),
    "org_node_added": N_("Part of the organisation added"),
    "org_node_renamed": N_("Part of the organisation renamed"),
    "org_node_removed": N_("Part of the organisation removed"),
    "org_imported": N_("Organisation imported from a file"),
    "org_profile_saved": N_("Organisation's pages saved"),
    "account_node_changed": N_("Account moved in the organisation"),
}


class UnknownAction(ValueError):
    """An action key that is not in ACTIONS (a programming error)."""


def record(
    action: str,
    *,
    actor: User | None,
    subject: str = "",
    detail: str = "",
    params: Mapping[str, str | int] | None = None,
) -> None:
    """Append ``action`` to the audit log.

    ``actor`` is the account acting (None for the command line or the
    schedule). ``subject`` names
    what was acted on (an account's e-mail, a survey's title); ``detail`` is a
    short description: plain text, or an English message marked with ``N_``
    whose ``%(name)s`` placeholders ``params`` fill, translated when shown.
    Neither may ever hold respondent data, a password, a code or a client
    address.
    """
    if action not in ACTIONS:
        raise UnknownAction(action)
    store.add_audit_entry(
        at=clock.utcnow(),
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        params=params,
    )


def label(action: str) -> str:
    """The untranslated label of ``action`` (translate with ``_()`` where shown)."""
    return ACTIONS.get(action, action)
