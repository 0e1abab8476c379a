"""Forms of the organisation pages (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.services import organisation
from portal.web.admin.forms import node_choices

NAME_MAX = 200
TEXT_MAX = organisation.PROFILE_MAX


def _name_fields():
    return (
        StringField(
            _l("Name in Swedish"),
            validators=[
                DataRequired(_l("Enter a Swedish name.")),
                Length(max=NAME_MAX, message=_l("At most %(max)d characters.")),
            ],
        ),
        StringField(
            _l("Name in English (optional)"),
            validators=[Length(max=NAME_MAX, message=_l("At most %(max)d characters."))],
        ),
    )


class AddNodeForm(FlaskForm):
    parent = SelectField(
        _l("Belongs under"),
        choices=node_choices,
        validators=[DataRequired(_l("Choose where the new part belongs."))],
        invalid_choice_message=_l("Choose one of the parts in the list."),
    )
    kind = RadioField(
        _l("Kind"),
        choices=lambda: [
            SelectChoice(
                "district", gettext("District or administration (under the organisation)")
            ),
            SelectChoice("unit", gettext("Unit (under a district or the organisation)")),
        ],
        default="unit",
        validators=[DataRequired(_l("Choose the kind."))],
    )
    name_sv, name_en = _name_fields()


class RenameNodeForm(FlaskForm):
    name_sv, name_en = _name_fields()


def _text(label, description=None, limit: int = TEXT_MAX):
    return TextAreaField(
        label,
        description=description,
        validators=[Length(max=limit, message=_l("At most %(max)d characters."))],
    )


class ProfileForm(FlaskForm):
    """The organisation's own pages; an empty field shows the default text."""

    logo_text = StringField(
        _l("Logo text"),
        description=_l(
            "Shown beside Värna in the header of every page, for example the city's name."
        ),
        validators=[Length(max=60, message=_l("At most %(max)d characters."))],
    )
    service_name = StringField(
        _l("Name of the service in the accessibility statement"),
        description=_l("For example “Värna – the staff survey on threats and violence”."),
        validators=[Length(max=200, message=_l("At most %(max)d characters."))],
    )
    controller = _text(
        _l("Data controller (personuppgiftsansvarig)"),
        _l("The authority or board responsible for the personal data, with contact details."),
    )
    dpo = _text(
        _l("Data protection officer (dataskyddsombud)"),
        _l("Name or function, with contact details."),
    )
    retention = _text(
        _l("Retention decision (gallringsbeslut)"),
        _l(
            "The decision that says how long raw responses are kept and when they are deleted, "
            "for example its number and what it says. Shown on the page about what Värna stores."
        ),
    )
    support_contacts = _text(
        _l("Support contacts for every survey"),
        _l(
            "Shown to staff in surveys whose HR has entered no support contacts of its own; "
            "bold, lists and links can be used as in a survey's own. Leave empty to show the "
            "portal's general text."
        ),
        limit=2000,
    )
    a11y_level = RadioField(
        _l("How well the service meets the accessibility requirements"),
        choices=lambda: [
            SelectChoice(key, gettext(label)) for key, label in organisation.A11Y_LEVELS.items()
        ],
        default=organisation.DEFAULT_A11Y_LEVEL,
        validators=[DataRequired(_l("Choose a compliance level."))],
    )
    a11y_problems = _text(
        _l("Known content that is not accessible, and why"),
        _l("Leave empty to show the default text, which describes what has not been tested."),
    )
    a11y_method = _text(
        _l("How the service was assessed"),
        _l("Leave empty to show the default text, which describes the portal's own tests."),
    )
    a11y_assessed_on = DateField(_l("Assessed on"), validators=[Optional()])
    a11y_updated_on = DateField(_l("Statement last updated on"), validators=[Optional()])
    a11y_feedback = _text(
        _l("How to report accessibility problems"),
        _l("An e-mail address, a phone number or a form, and how soon people get an answer."),
    )
