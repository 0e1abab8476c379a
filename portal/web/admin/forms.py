"""Forms of the account pages (Flask-WTF: CSRF on every POST); labels translated when shown."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from portal.services import accounts, passwords
from portal.store.models import ROLES

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "hr": _l("HR"),
    "board": _l("Board"),
}
ROLE_HINTS = {
    "admin": _l("Manages accounts and everything HR can do."),
    "hr": _l("Creates and runs surveys, and publishes reports to the board."),
    "board": _l("Reads published reports only."),
}


def role_choices() -> list[SelectChoice]:
    """The roles as choices of a select field, labelled in the current language."""
    return [SelectChoice(role, str(ROLE_LABELS[role])) for role in ROLES]


def password_choices() -> list[SelectChoice]:
    """Generate a password or type one."""
    return [
        SelectChoice("generate", gettext("Generate a password and show it once")),
        SelectChoice("set", gettext("Set the password myself")),
    ]


def node_choices() -> list[SelectChoice]:
    """Every node of the organisation tree, indented by depth, as choices of a select field."""
    from flask_babel import get_locale

    from portal.services import organisation

    lang = "en" if str(get_locale() or "sv").startswith("en") else "sv"
    return [
        SelectChoice(str(node.id), "\u2003" * depth + node.name(lang))
        for node, depth in organisation.load_tree().listing()
    ]


class PolicyChecked:
    """Validates a new password against the policy; ``email_field`` names the account's address."""

    def __init__(self, email_field: str | None = None):
        self.email_field = email_field

    def __call__(self, form: FlaskForm, field) -> None:
        email = getattr(form, "account_email", "")
        if self.email_field:
            email = form[self.email_field].data or ""
        problems = passwords.policy_problems(field.data or "", email)
        if problems:
            raise ValidationError(" ".join(gettext(p.message, **p.params) for p in problems))


def _email_valid(form: FlaskForm, field) -> None:
    try:
        accounts.check_email(field.data or "")
    except accounts.InvalidEmail as exc:
        raise ValidationError(gettext(exc.message)) from None


class LoginForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("The e-mail address is too long.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=passwords.MAX_LENGTH, message=_l("The password is too long.")),
        ],
    )


def _new_password_fields(email_field: str | None = None):
    new = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Enter a new password.")), PolicyChecked(email_field)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Enter the new password again.")),
            EqualTo("new_password", _l("The two passwords are not the same.")),
        ],
    )
    return new, confirm


def _when_chosen(check):
    """Run ``check`` only when the form's ``password_choice`` is "set" (not generated)."""

    def validator(form: FlaskForm, field) -> None:
        if form.password_choice.data == "set":
            check(form, field)

    return validator


def _chosen_password_fields(label, email_field: str | None = None):
    """A choice between a generated password and one typed twice, checked when typed."""

    def typed(form: FlaskForm, field) -> None:
        if not field.data:
            raise ValidationError(gettext("Enter a password."))
        PolicyChecked(email_field)(form, field)

    def same(form: FlaskForm, field) -> None:
        if field.data != form.new_password.data:
            raise ValidationError(gettext("The two passwords are not the same."))

    choice = RadioField(
        label,
        choices=password_choices,
        default="generate",
        validators=[InputRequired(_l("Choose how to set the password."))],
    )
    new = PasswordField(_l("Password"), validators=[_when_chosen(typed)])
    confirm = PasswordField(_l("Password again"), validators=[_when_chosen(same)])
    return choice, new, confirm


class AccountForm(FlaskForm):
    """A form about one account, whose address the password policy needs."""

    def __init__(self, *args, account_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class ChangePasswordForm(AccountForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[
            DataRequired(_l("Enter your current password.")),
            Length(max=passwords.MAX_LENGTH, message=_l("The password is too long.")),
        ],
    )
    new_password, confirm_password = _new_password_fields()


class CreateUserForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter an e-mail address.")), _email_valid],
    )
    role = SelectField(
        _l("Role"),
        choices=role_choices,
        validators=[InputRequired(_l("Choose a role."))],
        invalid_choice_message=_l("Choose one of the roles in the list."),
    )
    # Left out (an older client or script): the organisation itself, as before the tree.
    node = SelectField(
        _l("Part of the organisation"),
        choices=node_choices,
        validators=[Optional()],
        invalid_choice_message=_l("Choose one of the parts in the list."),
    )
    password_choice, new_password, confirm_password = _chosen_password_fields(
        _l("Initial password"), email_field="email"
    )


class NodeForm(FlaskForm):
    node = SelectField(
        _l("Part of the organisation"),
        choices=node_choices,
        validators=[InputRequired(_l("Choose a part of the organisation."))],
        invalid_choice_message=_l("Choose one of the parts in the list."),
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=role_choices,
        validators=[InputRequired(_l("Choose a role."))],
        invalid_choice_message=_l("Choose one of the roles in the list."),
    )


class StatusForm(FlaskForm):
    """Disable or enable: the action is the button pressed (no fields besides CSRF)."""


class ResetPasswordForm(AccountForm):
    password_choice, new_password, confirm_password = _chosen_password_fields(_l("New password"))


class CodeForm(FlaskForm):
    """A second-factor code: six digits from the app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter the code.")),
            Length(max=64, message=_l("The code is too long.")),
        ],
    )
