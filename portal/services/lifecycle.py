"""The survey lifecycle: draft → open → closed → published, archiving, access codes,
comment selection, retention and the date schedule.

Plain functions with explicit arguments (the acting user, today's date, the
secret key), so the web views, the CLI and the tests share one set of rules.
Every change is written to the audit log; nothing about respondents is.
Refusals are ``LifecycleError`` with an English message marked for
translation: the view shows it in the user's language, the CLI in English.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from portal import clock, codes, store
from portal.services import audit, org_tree, templates
from portal.store import survey_key
from portal.store.models import DEFAULT_MIN_GROUP, MIN_GROUP_FLOOR, RESULT_STATUSES, Status, Survey
from surveys import N_
from surveys.customise import (
    Customisation,
    CustomisationError,
    Role,
    apply,
    template_roles,
    with_role_keys,
)
from surveys.definition import (
    Definition,
    DefinitionError,
    Text,
    city_parts,
    with_districts,
    with_unit_names,
)
from surveys.redact import is_masking, redact

MAX_MIN_GROUP = 100
MAX_CODES_PER_BATCH = 5000
MAX_INVITED = 1_000_000
MAX_PURGE_MONTHS = 120
ACCESS_MODES = ("link", "codes")

WHY_NO_REOPEN_PUBLISHED = N_(
    "A published survey can never be reopened: new answers would change figures the board "
    "has already seen, and comparing the two versions could reveal how individual people "
    "answered."
)
WHY_NO_REOPEN_CLOSED = N_(
    "A closed survey cannot be reopened: its results are visible to HR from the moment it "
    "closes, and answers added afterwards could be picked out by comparing the figures before "
    "and after. Its access codes have also been deleted. Create a new survey instead."
)


DUPLICATE_UNIT = N_("Each unit may be listed only once.")
ON_ITS_DATE = N_("Automatically, on its date")
PURGED = N_("Deleted %(responses)s responses with %(answers)s answers and %(comments)s comments")
SCHEDULED_PURGE = N_(
    "Automatically, after the retention period: deleted %(responses)s responses with "
    "%(answers)s answers and %(comments)s comments"
)
NOT_A_DRAFT = N_("Only a draft can be edited: opening froze the survey.")
ANSWERS_SEALED = N_(
    "The survey is closed, but its answers are still sealed: enter the survey key on the "
    "survey's page to open them."
)


class LifecycleError(Exception):
    """A refused lifecycle action; ``message`` is an English msgid with ``params``."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class SettingsError(LifecycleError):
    """Invalid survey settings; ``errors`` maps a field name to its (msgid, params)."""

    def __init__(self, errors: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__(N_("The survey settings are not valid."))
        self.errors = errors


TEMPLATE_UNAVAILABLE = N_(
    "The template of this survey (%(template)s) cannot be loaded any more, so its questions "
    "cannot be changed: %(problem)s"
)


@dataclass(frozen=True)
class UnitSetting:
    """One unit as HR enters it."""

    name_sv: str
    name_en: str = ""
    invited: int | None = None


@dataclass(frozen=True)
class SurveySettings:
    """Everything HR can set on a draft survey."""

    title_sv: str
    title_en: str
    access: str
    min_group: int = DEFAULT_MIN_GROUP
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    units: tuple[UnitSetting, ...] = field(default_factory=tuple)
    # The roles offered in the role question; None leaves them as they are.
    roles: tuple[Role, ...] | None = None
    purge_after_months: int | None = None
    # Shown to staff, formatted through portal/sanitize.py; empty means the organisation's
    # text (or the portal's default).
    support_contacts: str = ""
    # The node of the organisation tree the survey belongs to (None: the root).
    node_id: int | None = None
    # Respondents choose their district and unit from the tree below the node.
    city_wide: bool = False

    def fields(self) -> dict[str, Any]:
        """The survey columns these settings write."""
        return {
            "support_contacts": _plain_text(self.support_contacts) or None,
            "title_sv": self.title_sv.strip(),
            "title_en": self.title_en.strip() or self.title_sv.strip(),
            "access": self.access,
            "min_group": self.min_group,
            "opens_on": self.opens_on,
            "closes_on": self.closes_on,
            "node_id": self.node_id,
        }


SUPPORT_CONTACTS_MAX = 2000


def _plain_text(text: str) -> str:
    """Typed text with Windows newlines made plain and the ends stripped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def check_settings(settings: SurveySettings, today: dt.date) -> None:
    """Raise SettingsError naming each invalid field."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    if not settings.title_sv.strip():
        errors["title_sv"] = (N_("Enter a title."), {})
    if settings.access not in ACCESS_MODES:
        errors["access"] = (N_("Choose how staff get access."), {})
    if not MIN_GROUP_FLOOR <= settings.min_group <= MAX_MIN_GROUP:
        errors["min_group"] = (
            N_("The minimum group size must be between %(min)d and %(max)d."),
            {"min": MIN_GROUP_FLOOR, "max": MAX_MIN_GROUP},
        )
    if settings.closes_on is not None:
        if settings.closes_on < today:
            errors["closes_on"] = (N_("The closing date has already passed."), {})
        elif settings.opens_on is not None and settings.closes_on < settings.opens_on:
            errors["closes_on"] = (N_("The survey must close on or after its opening date."), {})
    for lang in ("sv", "en"):
        names = [_unit_name(u, lang).casefold() for u in settings.units if u.name_sv.strip()]
        if len(set(names)) != len(names):
            errors["units"] = (DUPLICATE_UNIT, {})
    for unit in settings.units:
        if unit.invited is not None and not 1 <= unit.invited <= MAX_INVITED:
            errors["units"] = (N_("The number invited must be a positive whole number."), {})
    if len(_plain_text(settings.support_contacts)) > SUPPORT_CONTACTS_MAX:
        errors["support_contacts"] = (
            N_("At most %(max)d characters."),
            {"max": SUPPORT_CONTACTS_MAX},
        )
    if errors:
        raise SettingsError(errors)


def _unit_name(unit: UnitSetting, lang: str) -> str:
    return (unit.name_en.strip() or unit.name_sv.strip()) if lang == "en" else unit.name_sv.strip()


def _definition_with_units(definition, units: Sequence[UnitSetting]):
    """The definition with HR's units, and the invited counts by option key."""
    named = [u for u in units if u.name_sv.strip()]
    if named and store.unit_question_key(definition) is not None:
        current = _current_units(definition)
        wanted = [(u.name_sv.strip(), _unit_name(u, "en")) for u in named]
        if wanted != [(sv, en) for _, sv, en in current]:
            try:
                definition = with_unit_names(definition, wanted)
            except DefinitionError as exc:
                raise SettingsError(
                    {"units": (N_("Each unit may be listed only once."), {})}
                ) from exc
    current = _current_units(definition)
    invited = {}
    for (key, _sv, _en), unit in zip(current, named, strict=False):
        if unit.invited is not None:
            invited[key] = unit.invited
    return definition, invited


CITY_UNITS = N_(
    "The districts and units of a city-wide survey come from the organisation tree: "
    "change them on the organisation page."
)
CityParts = tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str, str], ...]]
NO_DISTRICTS = N_(
    "A city-wide survey needs districts with units below the chosen part of the organisation. "
    "Add them on the organisation page, or choose another part."
)


def _placed(definition, units: Sequence[UnitSetting], city: CityParts | None):
    """The definition with its units: HR's list, or a city-wide survey's districts and units."""
    if city is None:
        return _definition_with_units(definition, units)
    try:
        return with_districts(definition, *city), {}
    except DefinitionError as exc:
        raise SettingsError({"units": (NO_DISTRICTS, {})}) from exc


def _city_from_tree(node_id: int | None) -> CityParts:
    """The districts below ``node_id`` and the units in each, as portal-unique keys."""
    tree = org_tree.load_tree()
    top = node_id if node_id is not None else (tree.root.id if tree.root else 0)
    districts: list[tuple[str, str, str]] = []
    units: list[tuple[str, str, str, str]] = []
    for district in tree.districts_under(top):
        members = tree.units_under(district.id)
        if not members:
            continue
        districts.append((district.key, district.name_sv, district.name_en or district.name_sv))
        # A unit's label names its district: two districts may each have a "Mottagningen".
        units.extend(
            (
                u.key,
                f"{u.name_sv} ({district.name_sv})",
                f"{u.name_en or u.name_sv} ({district.name_en or district.name_sv})",
                district.key,
            )
            for u in members
        )
    if not districts:
        raise SettingsError({"city_wide": (NO_DISTRICTS, {})})
    return tuple(districts), tuple(units)


def _current_units(definition) -> list[tuple[str, str, str]]:
    key = store.unit_question_key(definition)
    if key is None:
        return []
    return [
        (o.key, o.label.sv, o.label.en)
        for o in definition.question(key).options
        if not o.prefer_not
    ]


# -- creating and editing ------------------------------------------------------------------


def _template(key: str) -> Definition:
    try:
        return templates.load(key)
    except DefinitionError as exc:
        raise LifecycleError(TEMPLATE_UNAVAILABLE, template=key, problem=str(exc)) from None


def _customised(template: Definition, custom: Customisation) -> tuple[Definition, Customisation]:
    """``template`` with ``custom`` applied; role errors go to the settings' role list."""
    custom = with_role_keys(template, custom)
    if [(r.key, r.sv, r.en or r.sv, r.invited) for r in custom.roles] == [
        (r.key, r.sv, r.en, None) for r in template_roles(template)
    ]:
        custom = replace(custom, roles=())  # the template's roles, unchanged
    try:
        return apply(template, custom), custom
    except CustomisationError as exc:
        raise SettingsError(exc.errors) from None


def _customisation_json(custom: Customisation) -> str | None:
    if custom == Customisation():
        return None
    return json.dumps(custom.to_data(), ensure_ascii=False, sort_keys=True)


def customisation(survey: Survey) -> Customisation:
    """HR's customisation of ``survey``'s template (empty when there is none)."""
    return Customisation.from_data(survey.customisation_data())


def create_survey(
    template: str,
    settings: SurveySettings,
    *,
    actor: Any,
    today: dt.date,
    custom: Customisation | None = None,
) -> Survey:
    """Create a draft survey from ``template`` with ``settings`` (and a customisation)."""
    if template not in templates.available():
        raise SettingsError({"template": (N_("Choose one of the templates."), {})})
    check_settings(settings, today)
    custom = custom or Customisation()
    if settings.roles is not None:
        custom = replace(custom, roles=settings.roles)
    definition, custom = _customised(_template(template), custom)
    city = _city_from_tree(settings.node_id) if settings.city_wide else None
    definition, invited = _placed(definition, settings.units, city)
    survey = store.create_survey(
        definition,
        invited=invited,
        customisation_json=_customisation_json(custom),
        purge_after_months=settings.purge_after_months,
        **settings.fields(),
    )
    audit.record(
        "survey_created",
        actor=actor,
        subject=_subject(survey),
        detail=N_("From the template %(template)s"),
        params={"template": template},
    )
    return survey


def edit_draft(survey: Survey, settings: SurveySettings, *, actor: Any, today: dt.date) -> None:
    """Change a draft's settings, units and roles; refused once the survey has opened."""
    if survey.status != Status.DRAFT:
        raise LifecycleError(NOT_A_DRAFT)
    check_settings(settings, today)
    custom = customisation(survey)
    city = city_parts(survey.definition())
    if settings.roles is None and custom == Customisation():
        # Nothing customised: the frozen definition is the template's; only units change.
        definition, stored, rebuilt = survey.definition(), custom, False
    else:
        if settings.roles is not None:
            custom = replace(custom, roles=settings.roles)
        definition, stored = _customised(_template(survey.template), custom)
        rebuilt = True
    if city is not None and not rebuilt:
        invited: dict[str, int] = {}  # the districts and units are already in place
    else:
        definition, invited = _placed(definition, settings.units, city)
    fields = {**settings.fields(), "customisation_json": _customisation_json(stored)}
    if fields["node_id"] is None:
        fields.pop("node_id")
    try:
        store.update_draft(survey, fields, definition, invited)
    except store.WrongStatus:
        raise LifecycleError(NOT_A_DRAFT) from None
    audit.record("survey_edited", actor=actor, subject=_subject(survey))


def customise_draft(survey: Survey, custom: Customisation, *, actor: Any) -> Definition:
    """Save HR's customisation of a draft's questions; returns the new definition.

    The definition is rebuilt from the template, the customisation and the
    survey's current units, through the template validation; nothing is saved
    when any part is invalid (CustomisationError names each field).
    """
    if survey.status != Status.DRAFT:
        raise LifecycleError(NOT_A_DRAFT)
    definition, custom = _customised(_template(survey.template), custom)
    definition, invited = _placed(
        definition, _unit_settings(survey), city_parts(survey.definition())
    )
    try:
        store.update_draft(
            survey, {"customisation_json": _customisation_json(custom)}, definition, invited
        )
    except store.WrongStatus:
        raise LifecycleError(NOT_A_DRAFT) from None
    audit.record("survey_customised", actor=actor, subject=_subject(survey))
    return definition


def preview_customisation(survey: Survey, custom: Customisation) -> Definition:
    """The definition ``custom`` would give the survey, without saving anything."""
    definition, _ = _customised(_template(survey.template), custom)
    definition, _ = _placed(definition, _unit_settings(survey), city_parts(survey.definition()))
    return definition


def _unit_settings(survey: Survey) -> tuple[UnitSetting, ...]:
    return tuple(UnitSetting(u.name_sv, u.name_en, u.invited) for u in store.survey_units(survey))


def current_roles(survey: Survey) -> tuple[Role, ...]:
    """The roles of ``survey`` as HR lists them, with the numbers invited when known."""
    custom = customisation(survey)
    return custom.roles or template_roles(survey.definition())


def import_dimensions(
    survey: Survey,
    units: Sequence[UnitSetting],
    roles: Sequence[Role],
    *,
    actor: Any,
    today: dt.date,
) -> None:
    """Replace a draft's units and/or roles (an empty list keeps the current ones).

    A role whose Swedish name is already listed keeps its key, so answers and
    the trend comparison still find it.
    """
    if units and city_parts(survey.definition()) is not None:
        raise LifecycleError(CITY_UNITS)
    by_name = {r.sv.strip().casefold(): r.key for r in current_roles(survey)}
    settings = replace(
        copy_settings(survey),
        opens_on=survey.opens_on,
        closes_on=survey.closes_on,
        units=tuple(units) or _unit_settings(survey),
        roles=tuple(replace(r, key=by_name.get(r.sv.strip().casefold())) for r in roles)
        if roles
        else None,
    )
    edit_draft(survey, settings, actor=actor, today=today)


def copy_settings(source: Survey) -> SurveySettings:
    """The settings of a new survey started from ``source``: not its dates, codes or answers."""
    return SurveySettings(
        title_sv=source.title_sv,
        title_en=source.title_en,
        access=source.access,
        min_group=source.min_group,
        units=_unit_settings(source),
        purge_after_months=source.purge_after_months,
        support_contacts=source.support_contacts or "",
        node_id=source.node_id,
        city_wide=city_parts(source.definition()) is not None,
    )


def copy_survey(
    source: Survey, *, actor: Any, today: dt.date, title_sv: str = "", title_en: str = ""
) -> Survey:
    """A new draft from an earlier survey: customisation, units, roles, support contacts, settings.

    Dates, access codes and answers are never copied. The template is loaded
    as it is now (an uploaded version included), so a newer template version
    with the same keys is picked up; a customisation that no longer fits it
    is refused with the reason.
    """
    settings = copy_settings(source)
    if title_sv.strip():
        settings = replace(settings, title_sv=title_sv, title_en=title_en)
    survey = create_survey(
        source.template, settings, actor=actor, today=today, custom=customisation(source)
    )
    audit.record(
        "survey_edited",
        actor=actor,
        subject=_subject(survey),
        detail=N_("Copied from %(source)s"),
        params={"source": source.slug},
    )
    return survey


# -- transitions -----------------------------------------------------------------------------


def check_action(survey: Survey, action: str) -> None:
    """Raise LifecycleError unless ``action`` (close, publish, archive, revoke) is possible now.

    The confirmation pages ask this before showing their question, and the
    actions themselves ask it again before acting.
    """
    if action == "close" and survey.status != Status.OPEN:
        raise LifecycleError(N_("Only an open survey can be closed."))
    if action == "publish" and survey.status != Status.CLOSED:
        raise LifecycleError(N_("Only a closed survey can be published."))
    if action == "publish" and survey.awaiting_key:
        raise LifecycleError(ANSWERS_SEALED)
    if action == "archive":
        if survey.archived:
            raise LifecycleError(N_("The survey is already archived."))
        if survey.status not in RESULT_STATUSES:
            raise LifecycleError(N_("Only a closed or published survey can be archived."))
    if action == "revoke" and (
        survey.access != "codes" or survey.status not in (Status.DRAFT, Status.OPEN)
    ):
        raise LifecycleError(N_("There are no codes to revoke."))


NO_SURVEY_KEY = N_(
    "The survey has no survey key yet. Make it on the survey's page and keep it safe before "
    "the survey opens: the answers can only be opened with it."
)
NOT_A_KEY = N_(
    "That is not a survey key. A survey key has 52 letters and digits, in groups of four."
)
WRONG_KEY = N_(
    "That key does not open this survey: it belongs to another survey, or to a key that was "
    "replaced. This survey's key is marked %(mark)s."
)
KEY_ONLY_FOR_DRAFTS = N_("The survey key can only be made or replaced before the survey opens.")


def make_survey_key(survey: Survey, *, actor: Any) -> str:
    """Give a draft a new survey key; returns its private half as text, to show HR once.

    The portal keeps only the public half: every answer is sealed to it, and
    nobody can read the answers until someone enters the private half at
    close (``close_survey``, ``open_answers``). A key made again replaces the
    previous one, which then opens nothing (drafts have no answers yet).
    """
    if survey.status != Status.DRAFT:
        raise LifecycleError(KEY_ONLY_FOR_DRAFTS)
    private, public = survey_key.new_key()
    if not store.set_seal_key(survey, public):
        raise LifecycleError(N_("The survey changed meanwhile; reload the page."))
    audit.record(
        "survey_key_made",
        actor=actor,
        subject=_subject(survey),
        detail=N_("Key mark %(mark)s"),
        params={"mark": survey_key.fingerprint(public)},
    )
    return private


def key_mark(survey: Survey) -> str | None:
    """The four characters that tell this survey's key printout from others (not secret)."""
    return survey_key.fingerprint(survey.seal_key) if survey.seal_key else None


def _private_key(survey: Survey, text: str | None) -> Any:
    """The private key HR entered, checked against the survey's; None if nothing was entered."""
    if not text or not text.strip() or not survey.seal_key:
        return None
    try:
        return survey_key.parse(text, survey.seal_key)
    except survey_key.WrongKey as exc:
        raise LifecycleError(WRONG_KEY, mark=key_mark(survey)) from exc
    except survey_key.NotAKey as exc:
        raise LifecycleError(NOT_A_KEY) from exc


def open_survey(survey: Survey, *, actor: Any, today: dt.date) -> None:
    """Open a draft for answers, freezing its definition (it must have its survey key)."""
    if survey.status == Status.PUBLISHED:
        raise LifecycleError(WHY_NO_REOPEN_PUBLISHED)
    if survey.status in (Status.CLOSED,):
        raise LifecycleError(WHY_NO_REOPEN_CLOSED)
    if survey.status == Status.OPEN:
        raise LifecycleError(N_("The survey is already open."))
    if survey.closes_on is not None and survey.closes_on < today:
        raise LifecycleError(
            N_("The closing date has already passed: change it before opening the survey.")
        )
    if not survey.seal_key:
        raise LifecycleError(NO_SURVEY_KEY)
    if not store.transition(survey, (Status.DRAFT,), Status.OPEN, today):
        raise LifecycleError(N_("The survey changed meanwhile; reload the page."))
    audit.record("survey_opened", actor=actor, subject=_subject(survey))


def close_survey(
    survey: Survey, *, actor: Any, today: dt.date, key_text: str | None = None
) -> None:
    """Close an open survey (early or on time); final, and its codes are deleted.

    With the survey key (``key_text``) the answers are opened in the same
    step; without it they wait sealed (``open_answers``). A key that is not
    this survey's is refused before anything changes.
    """
    check_action(survey, "close")
    private = _private_key(survey, key_text)
    if not store.transition(survey, (Status.OPEN,), Status.CLOSED, today, private):
        raise LifecycleError(N_("The survey changed meanwhile; reload the page."))
    audit.record("survey_closed", actor=actor, subject=_subject(survey))


def open_answers(survey: Survey, key_text: str | None, *, actor: Any) -> int:
    """Open the sealed answers of a survey closed without its key; returns how many."""
    if not survey.awaiting_key:
        raise LifecycleError(N_("This survey's answers are not waiting for its key."))
    if survey.purged_on is not None:
        raise LifecycleError(N_("The sealed answers were deleted unopened."))
    private = _private_key(survey, key_text)
    if private is None:
        raise LifecycleError(N_("Enter the survey key."))
    opened = store.open_answers(survey, private)
    audit.record("answers_opened", actor=actor, subject=_subject(survey))
    return opened


def publish_survey(
    survey: Survey,
    snapshots: Callable[[Survey], dict[str, str]],
    *,
    actor: Any,
    today: dt.date,
) -> None:
    """Publish a closed survey to the board, freezing its report as ``snapshots(survey)``."""
    check_action(survey, "publish")
    if not store.publish(survey, snapshots(survey), today):
        raise LifecycleError(N_("The survey changed meanwhile; reload the page."))
    audit.record("survey_published", actor=actor, subject=_subject(survey))


def archive_survey(survey: Survey, *, actor: Any) -> None:
    """Hide a closed or published survey from the default list."""
    check_action(survey, "archive")
    if not store.set_archived(survey):
        raise LifecycleError(N_("The survey changed meanwhile; reload the page."))
    audit.record("survey_archived", actor=actor, subject=_subject(survey))


PUBLIC_ONLY_PUBLISHED = N_(
    "The public results page can only be switched on for a published survey."
)


def set_public_results(survey: Survey, public: bool, *, actor: Any) -> None:
    """Switch the survey's public page of headline indicators on or off (published surveys)."""
    if public and survey.status != Status.PUBLISHED:
        raise LifecycleError(PUBLIC_ONLY_PUBLISHED)
    store.set_public_results(survey, public)
    action = "public_results_on" if public else "public_results_off"
    audit.record(action, actor=actor, subject=_subject(survey))


def why_not_reopen(survey: Survey) -> str | None:
    """The msgid explaining why ``survey`` cannot be reopened, or None if not applicable."""
    if survey.status == Status.PUBLISHED:
        return WHY_NO_REOPEN_PUBLISHED
    if survey.status == Status.CLOSED:
        return WHY_NO_REOPEN_CLOSED
    return None


# -- access codes ------------------------------------------------------------------------------


def generate_codes(
    survey: Survey, count: int, secret_key: str, *, actor: Any, district: str | None = None
) -> list[str]:
    """A new batch of single-use codes; the caller shows them once, only hashes are kept.

    In a city-wide survey the batch may be for one ``district`` (an option key of its
    district question): the form then opens with that district chosen.
    """
    if survey.access != "codes":
        raise LifecycleError(N_("This survey uses an open link, not codes."))
    if survey.status not in (Status.DRAFT, Status.OPEN):
        raise LifecycleError(N_("Codes can only be added before the survey closes."))
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise LifecycleError(
            N_("Generate between %(min)d and %(max)d codes at a time."),
            min=1,
            max=MAX_CODES_PER_BATCH,
        )
    if district and district not in district_options(survey):
        raise LifecycleError(N_("Choose one of the survey's districts."))
    raw = codes.new_codes(count)
    store.add_codes(survey, [codes.code_hash(secret_key, c) for c in raw], district or None)
    audit.record(
        "codes_generated",
        actor=actor,
        subject=_subject(survey),
        detail=N_("Number of codes: %(count)s"),
        params={"count": count},
    )
    return [codes.format_code(c) for c in raw]


def district_options(survey: Survey) -> dict[str, Any]:
    """A city-wide survey's districts: {option key: label} (empty for other surveys)."""
    parts = city_parts(survey.definition())
    if parts is None:
        return {}
    return {key: Text(sv, en) for key, sv, en in parts[0]}


def revoke_unused_codes(survey: Survey, *, actor: Any) -> int:
    """Delete every unused code of the survey; used ones stay counted."""
    check_action(survey, "revoke")
    revoked = store.revoke_unused_codes(survey)
    audit.record(
        "codes_revoked",
        actor=actor,
        subject=_subject(survey),
        detail=N_("Unused codes revoked: %(count)s"),
        params={"count": revoked},
    )
    return revoked


# -- comments ----------------------------------------------------------------------------------


NOT_MASKING = N_(
    "A comment can only be masked: replace the parts to hide with […] and change nothing "
    "else. The choice was not saved."
)


def select_comments(
    survey: Survey,
    comment_ids: Iterable[str],
    *,
    actor: Any,
    masked: dict[str, str] | None = None,
) -> int:
    """Choose the comments to include in the report, masked as HR edited them.

    ``masked`` maps comment ids to HR's version; a version that is not the
    redacted comment with parts replaced by markers is refused (nothing is
    saved), and one equal to the redacted comment is no masking at all.
    Only before publication.
    """
    if survey.status != Status.CLOSED:
        raise LifecycleError(
            N_("Comments can be chosen only while the survey is closed and not yet published.")
        )
    originals = {c.id: redact(c.text) for c, _, _ in store.survey_comments(survey)}
    edits: dict[str, str] = {}
    for comment_id, text in (masked or {}).items():
        original = originals.get(comment_id)
        if original is None:
            continue
        text = text.replace("\r\n", "\n").strip()
        if text == original.strip():
            continue
        if not is_masking(original.strip(), text):
            raise LifecycleError(NOT_MASKING)
        edits[comment_id] = text
    chosen = store.set_comment_selection(survey, comment_ids, edits)
    audit.record(
        "comments_selected",
        actor=actor,
        subject=_subject(survey),
        detail=N_("Comments chosen: %(count)s"),
        params={"count": chosen},
    )
    return chosen


# -- retention ---------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def purge_due_on(survey: Survey) -> dt.date | None:
    """When the automatic purge of ``survey`` falls due, if it has one."""
    if survey.published_on is None or survey.purge_after_months is None:
        return None
    return add_months(survey.published_on, survey.purge_after_months)


def set_retention(survey: Survey, months: int | None, *, actor: Any) -> None:
    """Purge the raw responses automatically ``months`` after publication (None: by hand)."""
    if months is not None and not 1 <= months <= MAX_PURGE_MONTHS:
        raise SettingsError(
            {
                "purge_after_months": (
                    N_("Enter a number of months between %(min)d and %(max)d."),
                    {"min": 1, "max": MAX_PURGE_MONTHS},
                )
            }
        )
    store.set_purge_after(survey, months)
    audit.record(
        "survey_edited",
        actor=actor,
        subject=_subject(survey),
        detail=N_("Automatic purge after %(months)s months")
        if months is not None
        else N_("Automatic purge switched off"),
        params={"months": months} if months is not None else None,
    )


def purge_responses(
    survey: Survey, *, actor: Any, today: dt.date, budget: float | None = None
) -> dict[str, int]:
    """Delete the raw responses of a published survey; the published report stays.

    The survey is marked purged at once (and the purge logged), then its raw
    rows are deleted in short transactions, so that submissions to other
    surveys keep flowing. With ``budget`` (seconds) the deletion stops after
    about that long; ``continue_purge`` (the purge page) or the next ``tick``
    finishes it. Returns the rows purged per table.
    """
    if survey.status != Status.PUBLISHED and not (
        survey.status == Status.CLOSED and survey.awaiting_key
    ):
        # A closed survey whose answers still wait for their key may be purged: that
        # is all anyone can do with them when the key is lost.
        raise LifecycleError(N_("Raw responses can be purged only after publication."))
    if survey.purged_on is not None:
        raise LifecycleError(N_("The raw responses have already been purged."))
    deleted = store.begin_purge(survey, today)
    if deleted is None:
        raise LifecycleError(N_("The survey changed meanwhile; reload the page."))
    audit.record(
        "responses_purged",
        actor=actor,
        subject=_subject(survey),
        detail=PURGED,
        params=deleted,
    )
    continue_purge(survey, budget)
    return deleted


def continue_purge(survey: Survey, budget: float | None = None) -> int:
    """Delete a begun purge's raw rows chunk by chunk; returns how many raw rows remain.

    Each chunk is one short transaction. Without ``budget`` it runs to the end;
    with one it stops once about ``budget`` seconds have passed.
    """
    started = time.monotonic()
    while store.purge_chunk(survey):
        if budget is not None and time.monotonic() - started >= budget:
            return sum(store.raw_row_counts(survey).values())
    return 0


def purge_progress(survey: Survey) -> int | None:
    """Raw rows of a begun purge still to delete (None when no purge has begun)."""
    if survey.purged_on is None:
        return None
    return sum(store.raw_row_counts(survey).values())


# -- the schedule --------------------------------------------------------------------------------


def apply_schedule(today: dt.date, *, purge: bool = True) -> list[tuple[str, str]]:
    """Apply every transition that is due by date; returns (slug, action) pairs applied.

    Idempotent and safe under concurrent workers: each transition is a
    conditional UPDATE, and only the worker that made it writes the audit
    entry. A draft opens on ``opens_on`` unless its closing date has passed;
    an open survey closes the day after ``closes_on``; a published survey's
    raw responses are purged ``purge_after_months`` after publication.
    """
    applied = []
    for survey in store.scheduled_surveys(today):
        action = apply_survey_schedule(survey, today, purge=purge)
        if action:
            applied.append((survey.slug, action))
    if purge:
        applied.extend((slug, "purge_finished") for slug in finish_purges())
    return applied


def apply_survey_schedule(survey: Survey, today: dt.date, *, purge: bool = False) -> str | None:
    """Apply the transition due for one survey today, if any; returns its audit action.

    A scheduled transition is logged at the moment it was due (the start of
    the day), not when a request happened to apply it: the first request
    after midnight may be a respondent's, and the audit log must not tell
    when anyone opened the survey.
    """
    if _due_to_open(survey, today) and store.transition(
        survey, (Status.DRAFT,), Status.OPEN, today
    ):
        _record_scheduled("survey_opened", survey, survey.opens_on or today)
        return "survey_opened"
    if _due_to_close(survey, today) and store.transition(
        survey, (Status.OPEN,), Status.CLOSED, today
    ):
        _record_scheduled(
            "survey_closed", survey, (survey.closes_on or today) + dt.timedelta(days=1)
        )
        return "survey_closed"
    due = purge_due_on(survey)
    if not (purge and survey.status == Status.PUBLISHED and survey.purged_on is None and due):
        return None
    if due <= today:
        deleted = store.begin_purge(survey, today)
        if deleted is not None:
            _record_scheduled("responses_purged", survey, due, SCHEDULED_PURGE, deleted)
            continue_purge(survey)
            return "responses_purged"
    return None


def finish_purges() -> list[str]:
    """Finish purges that were begun but interrupted (or left to run); returns their slugs."""
    finished = []
    for survey in store.unfinished_purges():
        continue_purge(survey)
        finished.append(survey.slug)
    return finished


def _record_scheduled(
    action: str,
    survey: Survey,
    day: dt.date,
    detail: str = ON_ITS_DATE,
    params: dict[str, int] | None = None,
) -> None:
    store.add_audit_entry(
        at=clock.start_of_day(day),
        actor=None,
        action=action,
        subject=_subject(survey),
        detail=detail,
        params=params,
    )


def _subject(survey: Survey) -> str:
    """How the audit log names a survey: its Swedish title and its identifier."""
    return f"{survey.title_sv[:180]} ({survey.slug})"


def _due_to_open(survey: Survey, today: dt.date) -> bool:
    return (
        survey.status == Status.DRAFT
        and bool(survey.seal_key)
        and survey.opens_on is not None
        and survey.opens_on <= today
        and (survey.closes_on is None or survey.closes_on >= today)
    )


def _due_to_close(survey: Survey, today: dt.date) -> bool:
    return (
        survey.status == Status.OPEN and survey.closes_on is not None and survey.closes_on < today
    )


def schedule_due(survey: Survey, today: dt.date) -> bool:
    """Whether an open or close transition is due for ``survey`` (cheap, no query)."""
    return _due_to_open(survey, today) or _due_to_close(survey, today)


# -- report snapshots ------------------------------------------------------------------------------


def snapshot_json(
    report_data: dict[str, Any],
    comments: Sequence[tuple[str, str]],
    comparison: dict[str, Any] | None = None,
    references: Sequence[dict[str, Any]] = (),
) -> str:
    """The frozen published report (snapshot format 2).

    The suppressed report data, the selected comments, the comparison HR chose
    (the earlier survey's title, label and published figures, or None) and
    the reference figures of the template, all as they were at publication.
    """
    return json.dumps(
        {
            "format": 2,
            "report": report_data,
            "comments": [{"question": q, "text": t} for q, t in comments],
            "comparison": comparison,
            "references": list(references),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
