"""peewee models. Queries live in ``portal/store/``; nothing here knows about requests.

The respondent tables (Response, Answer, Comment, AccessCode, FormToken) carry
no time stamp, no address, no user agent and no session id, and nothing links
a code or form token to the response it admitted. In SQLite they are created
``WITHOUT ROWID`` (see ``store.create_tables``), so that their storage order
is the order of their random keys, not of insertion.
"""

from __future__ import annotations

import functools
import json
from enum import StrEnum
from typing import Any

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from portal.extensions import db
from surveys.definition import Definition, from_data


@functools.lru_cache(maxsize=128)
def _definition_from_json(text: str) -> Definition:
    return from_data(json.loads(text), source="frozen survey definition")


class Status(StrEnum):
    """A survey's place in its life cycle: draft → open → closed → published."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


STATUSES = tuple(Status)
# Results exist only for a closed, frozen data set (rule D2).
RESULT_STATUSES = (Status.CLOSED, Status.PUBLISHED)
MIN_GROUP_FLOOR = 3
DEFAULT_MIN_GROUP = 5
ACCESS_MODES = ("link", "codes")


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Survey(BaseModel):
    """A survey: a frozen definition and its lifecycle."""

    id = AutoField()
    slug = CharField(max_length=64, unique=True)
    template = CharField(max_length=64)
    kind = CharField(max_length=16)
    title_sv = TextField()
    title_en = TextField()
    definition_json = TextField()
    status = CharField(max_length=16, default=Status.DRAFT)
    access = CharField(max_length=16)
    min_group = IntegerField(default=5)
    opens_on = DateField(null=True)
    closes_on = DateField(null=True)
    created_at = DateTimeField()
    # Added by migration 2 (survey lifecycle and retention).
    archived = BooleanField(default=False)
    published_on = DateField(null=True)
    purge_after_months = IntegerField(null=True)
    purged_on = DateField(null=True)
    # Added by migration 3: HR's switch for the public page of headline indicators.
    public_results = BooleanField(default=False)
    # Added by the customisation migration: HR's changes to the template (JSON of
    # ``surveys.customise.Customisation``); the definition above is built from them.
    customisation_json = TextField(null=True)
    # Added by migration 8: the days the survey actually opened and closed (the report's period).
    opened_on = DateField(null=True)
    closed_on = DateField(null=True)
    # Added by migration 9: support contacts as plain text; None shows the organisation's.
    support_contacts = TextField(null=True)
    # Added by the organisation-tree migration: the node (OrgNode id) the survey belongs
    # to; None only in a database written before it, and read as the root.
    node_id = IntegerField(null=True, index=True)
    # Added by migration 14: the public half of the survey key (base64; the private half
    # is only ever shown to HR, ``portal.store.survey_key``), and whether a closed
    # survey's answers still wait sealed in the inbox for that key.
    seal_key = TextField(null=True)
    awaiting_key = BooleanField(default=False)

    def definition(self) -> Definition:
        """The frozen definition, validated once per distinct JSON text and then cached."""
        return _definition_from_json(self.definition_json)

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.title_en if lang == "en" else self.title_sv

    @property
    def has_results(self) -> bool:
        """Whether the survey's answers can be counted: closed or published, opened, not purged."""
        return self.status in RESULT_STATUSES and not self.awaiting_key and self.purged_on is None

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    def set_definition(self, data: dict[str, Any]) -> None:
        self.definition_json = json.dumps(data, ensure_ascii=False, sort_keys=True)

    def customisation_data(self) -> dict[str, Any]:
        """HR's customisation of the template as plain data (empty: none)."""
        if not self.customisation_json:
            return {}
        value = json.loads(self.customisation_json)
        return value if isinstance(value, dict) else {}


class AccessCode(BaseModel):
    """A single-use code, kept only as a keyed hash: no time, no link to a response."""

    code_hash = CharField(max_length=64, primary_key=True)
    survey = ForeignKeyField(Survey, on_delete="CASCADE", backref="codes")
    used = BooleanField(default=False)
    # Added by migration 11: in a city-wide survey, the district the code was handed out
    # in (its option key), so that the form opens with it chosen; None elsewhere.
    district = CharField(max_length=64, null=True)


class FormToken(BaseModel):
    """A link-mode form token that has been used, so one form cannot be submitted twice."""

    token_hash = CharField(max_length=64, primary_key=True)
    survey = ForeignKeyField(Survey, on_delete="CASCADE")


class InboxEntry(BaseModel):
    """A submission waiting for the mixer, sealed (``portal.store.seal``).

    Written in the transaction that admitted it, re-sealed under a new random
    id by every later submission to the survey, and moved into Response,
    Answer and Comment by the mixer (``portal.store.inbox``).
    """

    id = CharField(max_length=36, primary_key=True)
    survey = ForeignKeyField(Survey, on_delete="CASCADE")
    sealed = BlobField()


class Response(BaseModel):
    """One submitted questionnaire: a random UUIDv4 and, for exit surveys, the half-year."""

    id = CharField(max_length=36, primary_key=True)
    survey = ForeignKeyField(Survey, on_delete="CASCADE", backref="responses")
    period = CharField(max_length=7, null=True)  # "2025-H2"


class Answer(BaseModel):
    """One chosen option (or number) of one item.

    The response's breakdown values (role, unit, years, for exit surveys the
    half-year, for city-wide surveys the district) are copied onto each row, so
    that every breakdown is one indexed scan with GROUP BY, with no join; they
    add nothing that the response itself does not already say.
    """

    response = ForeignKeyField(Response, on_delete="CASCADE", backref="answers")
    survey = ForeignKeyField(Survey, on_delete="CASCADE")
    question = CharField(max_length=64)
    value = CharField(max_length=64)
    role = CharField(max_length=64, null=True)
    unit = CharField(max_length=64, null=True)
    years = CharField(max_length=64, null=True)
    period = CharField(max_length=7, null=True)
    # Added by the organisation-tree migration: the district chosen in a city-wide survey
    # (the option key of its ``district`` dimension question), None elsewhere.
    district = CharField(max_length=64, null=True)

    class Meta:
        primary_key = CompositeKey("response", "question", "value")
        indexes = (
            (("survey", "question", "value", "role", "unit", "years", "period", "district"), False),
        )


class ResultCounts(BaseModel):
    """The counts of a closed survey's report, aggregated once (a closed survey never changes).

    JSON of ``surveys.indicators.Counts``: the unprotected cube and per-response
    condition sums, no more detailed than the answers they come from, and the
    protection decided for them. Deleted with the responses when the survey is
    purged.
    """

    survey = ForeignKeyField(Survey, primary_key=True, on_delete="CASCADE")
    counts_json = TextField()
    # What disclosure control decided for these counts, per report mode and engine
    # version (portal.store.counts.keep_protection); NULL until the first report.
    protection_json = TextField(null=True)


class Comment(BaseModel):
    """A free-text answer, redacted, deliberately not linked to its response."""

    id = CharField(max_length=36, primary_key=True)
    survey = ForeignKeyField(Survey, on_delete="CASCADE", backref="comments")
    question = CharField(max_length=64)
    text = TextField()


class SurveyUnit(BaseModel):
    """A unit offered in the unit question, with the number of people invited when known.

    ``key`` is the option key stored in answers; the rows mirror the unit
    question of the survey's definition and are rewritten with it.
    """

    id = AutoField()

    survey = ForeignKeyField(Survey, on_delete="CASCADE", backref="units")
    position = IntegerField()
    key = CharField(max_length=64)
    name_sv = TextField()
    name_en = TextField()
    invited = IntegerField(null=True)

    class Meta:
        indexes = ((("survey", "position"), True),)

    def name(self, lang: str) -> str:
        """The unit's name in ``lang``."""
        return self.name_en if lang == "en" else self.name_sv


class CommentSelection(BaseModel):
    """A comment HR has chosen to include in the published report (admin data only)."""

    comment = ForeignKeyField(Comment, primary_key=True, on_delete="CASCADE")
    survey = ForeignKeyField(Survey, on_delete="CASCADE")
    # Added by migration 10: the text as HR masked it for the report, or None.
    masked_text = TextField(null=True)


class ReportSnapshot(BaseModel):
    """The published report of a survey in one language, frozen as JSON at publication.

    It holds only what passed disclosure control (and the comments HR
    selected), so it survives the purge of the raw responses.
    """

    id = AutoField()

    survey = ForeignKeyField(Survey, on_delete="CASCADE", backref="snapshots")
    lang = CharField(max_length=8)
    report_json = TextField()
    created = DateTimeField()

    class Meta:
        indexes = ((("survey", "lang"), True),)


ROLES = ("admin", "hr", "board")


class User(BaseModel):
    """An administration account: HR, the board or an administrator.

    ``session_nonce`` is copied into the session at login; changing it (on
    password change, disabling, re-roling or logout) ends every session of
    the account, since Flask's signed cookie cannot be revoked by itself.
    """

    id = AutoField()

    email = CharField(max_length=254, unique=True)  # always lower-case
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16)
    disabled = BooleanField(default=False)
    session_nonce = CharField(max_length=64)
    created_at = DateTimeField()
    last_login_at = DateTimeField(null=True)
    # Added by the sign-in migration (issue 21). The TOTP secret is encrypted with a
    # key derived from the portal's secret key (portal.services.mfa): a copy of the
    # database alone cannot generate codes. ``totp_last_step`` refuses a code's reuse.
    totp_secret = TextField(null=True)
    totp_enabled_at = DateTimeField(null=True)
    totp_last_step = IntegerField(null=True)
    # Set when an administrator generated the password: it must be changed at login.
    must_change_password = BooleanField(default=False)
    # Added by the organisation-tree migration: the node (OrgNode id) an HR or board
    # account works at; it sees surveys at or below it. None is read as the root.
    node_id = IntegerField(null=True)

    class Meta:
        # "user" is a reserved word in PostgreSQL.
        table_name = "admin_user"

    @property
    def is_active(self) -> bool:
        return not self.disabled

    @property
    def has_totp(self) -> bool:
        """Whether a confirmed second factor is enrolled."""
        return self.totp_enabled_at is not None and bool(self.totp_secret)


class AuditEntry(BaseModel):
    """One administrative action: who, when, what. Never anything about respondents.

    ``actor_email`` is copied so that the entry keeps its meaning if the
    account is ever removed.
    """

    id = AutoField()

    at = DateTimeField(index=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="audit_entries")
    actor_email = CharField(max_length=254, default="")
    action = CharField(max_length=64, index=True)
    subject = CharField(max_length=255, default="")
    detail = TextField(default="")
    # JSON object of the values for the %(name)s placeholders of ``detail``, which
    # is then an English message translated when shown; empty for plain text.
    detail_params = TextField(default="")

    def params(self) -> dict:
        """The placeholder values of ``detail`` (empty when it is plain text)."""
        import json

        if not self.detail_params:
            return {}
        try:
            values = json.loads(self.detail_params)
        except ValueError:
            return {}
        return values if isinstance(values, dict) else {}


class LoginThrottle(BaseModel):
    """Recent failed logins per account or per client, shared by every worker.

    ``key`` is a keyed hash (of the e-mail address typed, or of the client
    address): neither is stored in clear. Rows are deleted once their window
    and lock have passed.
    """

    key = CharField(max_length=80, primary_key=True)
    failures = IntegerField(default=0)
    first_failure_at = DateTimeField()
    last_failure_at = DateTimeField(index=True)
    locked_until = DateTimeField(null=True)


class AdminSession(BaseModel):
    """One signed-in administration session, so that people can see and end theirs.

    ``id`` is a hash of the random token in the (signed) session cookie, so the
    table cannot be used to forge a cookie. No address is stored: only when the
    session started, when it was last used (updated at most once a minute), the
    browser family ("Firefox", "Chrome", ...) and how it signed in.
    """

    id = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, on_delete="CASCADE", backref="sessions")
    started_at = DateTimeField()
    last_seen_at = DateTimeField()
    browser = CharField(max_length=32, default="")
    method = CharField(max_length=16, default="password")  # "password" or "sso"


class RecoveryCode(BaseModel):
    """A one-time recovery code for the second factor, stored as a keyed hash (HMAC)."""

    id = AutoField()
    user = ForeignKeyField(User, on_delete="CASCADE", backref="recovery_codes")
    code_hash = CharField(max_length=255)


class SurveyTemplate(BaseModel):
    """A template uploaded by an administrator: the municipality's own version of a TOML file.

    It replaces the shipped template of the same key for new surveys; surveys
    already created keep the definition they froze.
    """

    key = CharField(max_length=64, primary_key=True)
    toml_text = TextField()
    uploaded_at = DateTimeField()
    uploaded_by = CharField(max_length=254, default="")


NODE_KINDS = ("organisation", "district", "unit")


class OrgNode(BaseModel):
    """A node of the organisation tree: the organisation, a district (or administration)
    or a unit. There is exactly one root (``parent`` None, kind "organisation").

    ``key`` ("n" and the id) is unique in the portal: a city-wide survey uses it as the
    option key of its districts and units, so the same unit has the same key in every
    survey and every report.
    """

    id = AutoField()
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    parent_id: int | None  # the foreign key's column, set by peewee
    kind = CharField(max_length=16)
    name_sv = TextField()
    name_en = TextField(default="")
    position = IntegerField(default=0)

    @property
    def key(self) -> str:
        return f"n{self.id}"

    def name(self, lang: str) -> str:
        """The node's name in ``lang`` (the Swedish one when no English name is set)."""
        return (self.name_en or self.name_sv) if lang == "en" else self.name_sv


class OrgProfile(BaseModel):
    """The organisation's own pages, edited by an administrator (one row, id 1).

    Empty fields show the defaults of ``portal.services.organisation``.
    """

    id = IntegerField(primary_key=True)
    logo_text = TextField(default="")
    controller = TextField(default="")  # personuppgiftsansvarig, with contact details
    dpo = TextField(default="")  # dataskyddsombud, with contact details
    retention = TextField(default="")  # the retention decision (gallringsbeslut)
    support_contacts = TextField(default="")  # inherited by surveys without their own
    service_name = TextField(default="")
    a11y_level = CharField(max_length=16, default="")  # full / partial / none
    a11y_problems = TextField(default="")
    a11y_method = TextField(default="")
    a11y_assessed_on = DateField(null=True)
    a11y_updated_on = DateField(null=True)
    a11y_feedback = TextField(default="")


RESPONDENT_TABLES = (AccessCode, FormToken, InboxEntry, Response, Answer, Comment, ResultCounts)
ADMIN_TABLES = (User, AuditEntry, LoginThrottle, AdminSession, RecoveryCode)
SURVEY_ADMIN_TABLES = (SurveyUnit, CommentSelection, ReportSnapshot, SurveyTemplate)
ORGANISATION_TABLES = (OrgNode, OrgProfile)
ALL_MODELS = (
    OrgNode,
    Survey,
    *RESPONDENT_TABLES,
    *ADMIN_TABLES,
    *SURVEY_ADMIN_TABLES,
    OrgProfile,
)
