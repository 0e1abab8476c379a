"""Forms of the HR survey pages: every label and message in the user's language."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.services import lifecycle, organisation, templates
from portal.store.models import DEFAULT_MIN_GROUP, MIN_GROUP_FLOOR, SurveyUnit
from portal.web.admin.auth import signed_in_user
from portal.web.locale import current_language
from surveys.customise import Role

BLANK_UNIT_ROWS = 3
TITLE_MAX = 200

TEMPLATE_LABELS = {
    "staff_threats": _l("Threats, violence and unauthorized influence (staff survey)"),
    "exit": _l("Exit questionnaire"),
}


def template_order() -> list[str]:
    """The templates HR can choose, the staff survey first (the default), others after."""
    available = templates.available()
    known = [key for key in TEMPLATE_LABELS if key in available]
    return known + [key for key in available if key not in TEMPLATE_LABELS]


def _invited_field() -> IntegerField:
    """The number of people invited to a unit or role: optional, a positive whole number."""
    return IntegerField(
        _l("Number invited (optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=lifecycle.MAX_INVITED,
                message=_l("The number invited must be a positive whole number."),
            ),
        ],
    )


class UnitForm(Form):
    """One row of the unit list (a sub-form: the CSRF token is the outer form's)."""

    name_sv = StringField(_l("Unit name (Swedish)"), validators=[Length(max=TITLE_MAX)])
    name_en = StringField(_l("Unit name (English, optional)"), validators=[Length(max=TITLE_MAX)])
    invited = _invited_field()


class RoleForm(Form):
    """One row of the role list; ``key`` (hidden) keeps a role's answers and trend when renamed."""

    key = HiddenField()
    name_sv = StringField(_l("Role name (Swedish)"), validators=[Length(max=TITLE_MAX)])
    name_en = StringField(_l("Role name (English, optional)"), validators=[Length(max=TITLE_MAX)])
    invited = _invited_field()


class SurveyForm(FlaskForm):
    """The settings of a draft survey."""

    title_sv = StringField(
        _l("Title (Swedish)"),
        validators=[
            InputRequired(message=_l("Enter a title.")),
            Length(max=TITLE_MAX, message=_l("At most %(max)d characters.")),
        ],
    )
    title_en = StringField(
        _l("Title (English)"),
        description=_l("Leave empty to use the Swedish title."),
        validators=[Length(max=TITLE_MAX, message=_l("At most %(max)d characters."))],
    )
    access = RadioField(
        _l("Access"),
        choices=[
            SelectChoice("link", _l("One open link (and a QR code) for everyone")),
            SelectChoice("codes", _l("A single-use code for each person")),
        ],
        # The rule against ballot stuffing (portal/reports/scope.py), told to HR here.
        description=_l(
            "Results by role, unit, years or period are published only for surveys answered "
            "with codes. With an open link anyone who has it can answer several times, and "
            "someone could send made-up answers into a small unit and subtract them to see a "
            "colleague's answers; so a link survey's results are published for all "
            "respondents together only."
        ),
        default="link",
        validators=[InputRequired(message=_l("Choose how staff get access."))],
    )
    min_group = IntegerField(
        _l("Minimum group size (k)"),
        description=_l(
            "Results are shown only for groups of at least this many respondents. At least 3; "
            "5 is recommended."
        ),
        default=DEFAULT_MIN_GROUP,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(
                min=MIN_GROUP_FLOOR,
                max=lifecycle.MAX_MIN_GROUP,
                message=_l("The minimum group size must be between %(min)d and %(max)d."),
            ),
        ],
    )
    opens_on = DateField(
        _l("Opens on"),
        description=_l("Optional. The survey opens automatically on this date."),
        validators=[Optional()],
    )
    closes_on = DateField(
        _l("Closes on"),
        description=_l("Optional. The survey closes automatically at the end of this day."),
        validators=[Optional()],
    )
    units = FieldList(FormField(UnitForm), label=_l("Units"))
    roles = FieldList(FormField(RoleForm), label=_l("Roles"))
    support_contacts = TextAreaField(
        _l("Support contacts"),
        description=_l(
            "Shown to staff at the end of the questions about what they were exposed to and on "
            "the thank-you page: for example the occupational health service "
            "(företagshälsovård), the security coordinator (säkerhetssamordnare) and the safety "
            "representatives (skyddsombud), with phone numbers or addresses. Line breaks are "
            "kept; bold, lists and links can be used as in the introduction of the questions. "
            "Leave empty to show the portal's general text."
        ),
        validators=[
            Length(max=lifecycle.SUPPORT_CONTACTS_MAX, message=_l("At most %(max)d characters."))
        ],
    )

    def settings(self) -> lifecycle.SurveySettings:
        """The entered settings for the lifecycle rules."""
        return lifecycle.SurveySettings(
            title_sv=self.title_sv.data or "",
            title_en=self.title_en.data or "",
            access=self.access.data,
            min_group=self.min_group.data,
            opens_on=self.opens_on.data,
            closes_on=self.closes_on.data,
            support_contacts=self.support_contacts.data or "",
            units=tuple(
                lifecycle.UnitSetting(
                    (entry.form.name_sv.data or "").strip(),
                    (entry.form.name_en.data or "").strip(),
                    entry.form.invited.data,
                )
                for entry in self.units
            ),
            roles=self.role_settings(),
        )

    def role_settings(self) -> tuple[Role, ...] | None:
        """The roles entered; None when every row is empty (the list stays as it is)."""
        roles = tuple(
            Role(
                (entry.form.key.data or "").strip() or None,
                (entry.form.name_sv.data or "").strip(),
                (entry.form.name_en.data or "").strip(),
                entry.form.invited.data,
            )
            for entry in self.roles
            if (entry.form.name_sv.data or "").strip()
        )
        return roles or None

    def fill_roles(self, roles: tuple[Role, ...]) -> None:
        """Show the survey's roles followed by a few empty rows for new ones."""
        while len(self.roles):
            self.roles.pop_entry()
        for role in roles:
            self.roles.append_entry(
                {"key": role.key, "name_sv": role.sv, "name_en": role.en, "invited": role.invited}
            )
        for _ in range(BLANK_UNIT_ROWS):
            self.roles.append_entry()

    def fill_units(self, units: list[SurveyUnit]) -> None:
        """Show the survey's units followed by a few empty rows for new ones."""
        while len(self.units):
            self.units.pop_entry()
        for unit in units:
            self.units.append_entry(
                {"name_sv": unit.name_sv, "name_en": unit.name_en, "invited": unit.invited}
            )
        for _ in range(BLANK_UNIT_ROWS):
            self.units.append_entry()


def survey_node_choices() -> list[SelectChoice]:
    """The parts of the organisation where the logged-in account may put a survey."""
    lang = current_language()
    return [
        SelectChoice(str(node.id), "\u2003" * depth + node.name(lang))
        for node, depth in organisation.survey_nodes(signed_in_user())
    ]


class CreateSurveyForm(SurveyForm):
    """A new survey: the template and its place in the organisation first, then the settings."""

    template = SelectField(
        _l("Template"),
        choices=lambda: [
            SelectChoice(key, TEMPLATE_LABELS.get(key, key)) for key in template_order()
        ],
        validators=[InputRequired(message=_l("Choose one of the templates."))],
    )
    # Left out: the account's own part of the organisation.
    node = SelectField(
        _l("Part of the organisation"),
        description=_l(
            "The survey belongs here: HR and board accounts of this part and of the parts "
            "above it can run it and read its report."
        ),
        choices=survey_node_choices,
        validators=[Optional()],
        invalid_choice_message=_l("Choose one of the parts in the list."),
    )
    city_wide = BooleanField(
        _l("City-wide survey: staff choose their district and unit"),
        description=_l(
            "The districts below the chosen part, with their units from the organisation tree, "
            "replace the unit list. The survey has one protected report for the whole city; "
            "each district's HR and board accounts read their district's part of it."
        ),
    )

    def settings(self) -> lifecycle.SurveySettings:
        """The entered settings with the survey's place in the organisation."""
        return replace(
            super().settings(),
            node_id=int(self.node.data) if self.node.data else None,
            city_wide=bool(self.city_wide.data),
        )


class CodesForm(FlaskForm):
    """How many codes to generate now."""

    count = IntegerField(
        _l("Number of codes"),
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(
                min=1,
                max=lifecycle.MAX_CODES_PER_BATCH,
                message=_l("Generate between %(min)d and %(max)d codes at a time."),
            ),
        ],
    )


class ConfirmForm(FlaskForm):
    """A confirmation step: the CSRF token is its only field."""


class PurgeForm(FlaskForm):
    """Purging needs the survey's address typed out, so it cannot be done by a slip."""

    slug = StringField(
        _l("Type the survey's identifier to confirm"),
        validators=[InputRequired(message=_l("Type the survey's identifier to confirm."))],
    )


class RetentionForm(FlaskForm):
    """Automatic purge after publication."""

    purge_after_months = IntegerField(
        _l("Purge raw responses automatically this many months after publication"),
        description=_l("Leave empty to purge by hand only."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=lifecycle.MAX_PURGE_MONTHS,
                message=_l("Enter a number of months between %(min)d and %(max)d."),
            ),
        ],
    )
