"""Queries on surveys: creation, drafts, status transitions, units, snapshots, comments."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from peewee import (
    fn,
)

from portal import clock
from portal.extensions import db
from portal.store import inbox
from portal.store.database import scrub_after_close, write_transaction
from portal.store.errors import WrongStatus
from portal.store.models import (
    RESULT_STATUSES,
    AccessCode,
    Answer,
    Comment,
    CommentSelection,
    FormToken,
    InboxEntry,
    ReportSnapshot,
    Response,
    ResultCounts,
    Status,
    Survey,
    SurveyTemplate,
    SurveyUnit,
)
from portal.store.organisation import ensure_root_node
from surveys.definition import Definition

SLUG_BYTES = 16  # 128 bits


def new_slug() -> str:
    """An unguessable URL slug that does not start with "-" (the CLI would read an option)."""
    while True:
        slug = secrets.token_urlsafe(SLUG_BYTES)
        if not slug.startswith("-"):
            return slug


def create_survey(
    definition: Definition,
    *,
    title_sv: str,
    title_en: str,
    access: str,
    min_group: int = 5,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    invited: dict[str, int] | None = None,
    purge_after_months: int | None = None,
    customisation_json: str | None = None,
    support_contacts: str | None = None,
    node_id: int | None = None,
) -> Survey:
    """Create a draft survey at ``node_id`` (the root when None) with a frozen copy of
    ``definition`` and its unit rows."""
    survey = Survey(
        slug=new_slug(),
        template=definition.key,
        kind=definition.kind,
        title_sv=title_sv,
        title_en=title_en,
        status=Status.DRAFT,
        access=access,
        min_group=min_group,
        opens_on=opens_on,
        closes_on=closes_on,
        purge_after_months=purge_after_months,
        customisation_json=customisation_json,
        support_contacts=support_contacts,
        created_at=_now(),
    )
    survey.set_definition(definition.to_data())
    with write_transaction():
        survey.node_id = node_id if node_id is not None else ensure_root_node().id
        survey.save()
        _write_units(survey, definition, invited or {})
    return survey


def _now() -> dt.datetime:
    return clock.utcnow().replace(microsecond=0)


def unit_question_key(definition: Definition) -> str | None:
    """The key of the question that declares the unit dimension, if any."""
    return next((q.key for q in definition.dimensions() if q.dimension == "unit"), None)


def _write_units(survey: Survey, definition: Definition, invited: dict[str, int]) -> None:
    """Mirror the unit question's options (without "prefer not to say") as SurveyUnit rows."""
    SurveyUnit.delete().where(SurveyUnit.survey == survey.id).execute()
    key = unit_question_key(definition)
    question = definition.question(key) if key is not None else None
    if question is None:
        return
    options = [o for o in question.options if not o.prefer_not]
    rows = [
        {
            "survey": survey.id,
            "position": position,
            "key": option.key,
            "name_sv": option.label.sv,
            "name_en": option.label.en,
            "invited": invited.get(option.key),
        }
        for position, option in enumerate(options)
    ]
    if rows:
        SurveyUnit.insert_many(rows).execute()


def survey_units(survey: Survey) -> list[SurveyUnit]:
    """The survey's units in the order of the unit question."""
    return list(
        SurveyUnit.select().where(SurveyUnit.survey == survey.id).order_by(SurveyUnit.position)
    )


def update_draft(
    survey: Survey, fields: dict[str, Any], definition: Definition, invited: dict[str, int]
) -> None:
    """Save a draft's settings, definition and units; raises WrongStatus unless still a draft.

    The status is checked in the same UPDATE, so a draft that the schedule
    opened a moment ago is never changed after its definition was frozen.
    """
    values = {**fields, "definition_json": _definition_json(definition)}
    with write_transaction():
        changed = (
            Survey.update(**values)
            .where(Survey.id == survey.id, Survey.status == Status.DRAFT)
            .execute()
        )
        if changed != 1:
            raise WrongStatus()
        _write_units(survey, definition, invited)
        if fields.get("access") == "link":
            # Codes of a draft switched to link mode can never admit anyone.
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
    for name, value in values.items():
        setattr(survey, name, value)


def _definition_json(definition: Definition) -> str:
    holder = Survey()
    holder.set_definition(definition.to_data())
    return holder.definition_json


def list_surveys(include_archived: bool = False) -> list[Survey]:
    """Every survey, newest first; archived ones only when asked for."""
    query = Survey.select().order_by(Survey.created_at.desc(), Survey.id.desc())
    if not include_archived:
        query = query.where(Survey.archived == False)  # noqa: E712 - peewee expression
    return list(query)


def surveys_titled(template: str, title_sv: str) -> list[Survey]:
    """The surveys of ``template`` with exactly this Swedish title, oldest first."""
    return list(
        Survey.select()
        .where(Survey.template == template, Survey.title_sv == title_sv)
        .order_by(Survey.id)
    )


def response_counts() -> dict[int, int]:
    """The number of responses of every survey that has any, by survey id.

    Submissions still waiting in the sealed inbox count: HR sees every
    acknowledged response, mixed or not.
    """
    query = Response.select(Response.survey, fn.COUNT(Response.id).alias("n")).group_by(
        Response.survey
    )
    counts = {survey_id: n for survey_id, n in db.execute(query)}
    for survey_id, waiting in inbox.pending_counts().items():
        counts[survey_id] = counts.get(survey_id, 0) + waiting
    return counts


def transition(
    survey: Survey,
    from_statuses: tuple[str, ...],
    to_status: str,
    today: dt.date,
    private: Any = None,
) -> bool:
    """Move ``survey`` to ``to_status`` if it is in one of ``from_statuses``.

    The status is tested in the UPDATE itself, so when several workers (or a
    worker and the cron ``tick``) apply the same transition at once, exactly
    one of them gets True. Closing deletes the survey's code hashes and form
    tokens (nothing can be admitted any more), mixes every submission still in
    the inbox and rewrites the survey's respondent rows in random order, all
    in the same transaction; then the old row versions and the write-ahead
    log are scrubbed (``inbox.close_rows``, ``database.scrub_after_close``).

    A survey with a survey key needs its private half (``private``, parsed by
    ``survey_key.parse``) to open its entries at close. Closed without it (on
    its date, by ``flask tick``), it closes all the same, nothing can be
    admitted any more, and its answers wait sealed, ``awaiting_key``, until
    ``open_answers`` is given the key.
    """
    values: dict[str, Any] = {"status": to_status}
    if to_status == Status.PUBLISHED:
        values["published_on"] = today
    elif to_status == Status.OPEN:
        values["opened_on"] = today
    elif to_status == Status.CLOSED:
        values["closed_on"] = today
    with write_transaction():
        if to_status in RESULT_STATUSES:
            # The survey's lock first, as a submission takes it: taken after the code
            # rows are deleted, the close would hold a row the submission waits for while
            # waiting for the submission's lock (a deadlock on PostgreSQL, one aborted).
            inbox.lock_survey(survey.id)
        changed = (
            Survey.update(**values)
            .where(Survey.id == survey.id, Survey.status.in_(from_statuses))
            .execute()
        )
        if changed == 1 and to_status in RESULT_STATUSES:
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
            FormToken.delete().where(FormToken.survey == survey.id).execute()
        if changed == 1 and to_status == Status.CLOSED:
            _close_rows(survey, private)
    if changed != 1:
        return False
    for name, value in values.items():
        setattr(survey, name, value)
    if to_status == Status.CLOSED:
        scrub_after_close()
    return True


def publish(survey: Survey, snapshots: dict[str, str], today: dt.date) -> bool:
    """Publish a closed survey and store its report snapshots in the same transaction."""
    with write_transaction():
        changed = (
            Survey.update(status=Status.PUBLISHED, published_on=today)
            .where(Survey.id == survey.id, Survey.status == Status.CLOSED)
            .execute()
        )
        if changed != 1:
            return False
        ReportSnapshot.delete().where(ReportSnapshot.survey == survey.id).execute()
        for lang, text in snapshots.items():
            ReportSnapshot.insert(
                survey=survey.id, lang=lang, report_json=text, created=_now()
            ).execute()
    survey.status = Status.PUBLISHED
    survey.published_on = today
    return True


def report_snapshot(survey: Survey, lang: str) -> str | None:
    """The published report of ``survey`` in ``lang`` as JSON text, or None."""
    return (
        ReportSnapshot.select(ReportSnapshot.report_json)
        .where(ReportSnapshot.survey == survey.id, ReportSnapshot.lang == lang)
        .scalar()
    )


def previous_published(survey: Survey) -> Survey | None:
    """The latest survey of the same template and part of the organisation published before
    ``survey``, or None.

    "Before" is by publication date, then by creation (id) for the same date.
    """
    if survey.published_on is None:
        return None
    earlier = (Survey.published_on < survey.published_on) | (
        (Survey.published_on == survey.published_on) & (Survey.id < survey.id)
    )
    return (
        Survey.select()
        .where(
            Survey.template == survey.template,
            Survey.node_id == survey.node_id,
            Survey.status == Status.PUBLISHED,
            Survey.id != survey.id,
            earlier,
        )
        .order_by(Survey.published_on.desc(), Survey.id.desc())
        .first()
    )


def comparable_surveys(survey: Survey) -> list[Survey]:
    """The published surveys of the same template and part of the organisation that
    ``survey``'s report may compare with.

    Those published before it (all of them, while it is not published yet),
    latest first: HR choose one of them, or none, before publishing.
    """
    query = Survey.select().where(
        Survey.template == survey.template,
        # Only the same part of the organisation: its earlier surveys, never another
        # district's report (which its accounts may not read).
        Survey.node_id == survey.node_id,
        Survey.status == Status.PUBLISHED,
        Survey.id != survey.id,
    )
    if survey.published_on is not None:
        query = query.where(
            (Survey.published_on < survey.published_on)
            | ((Survey.published_on == survey.published_on) & (Survey.id < survey.id))
        )
    return list(query.order_by(Survey.published_on.desc(), Survey.id.desc()))


def report_snapshots_of(surveys: list[Survey], lang: str) -> dict[int, str]:
    """The published report in ``lang`` of each of ``surveys`` (one query), by survey id."""
    if not surveys:
        return {}
    query = ReportSnapshot.select(ReportSnapshot.survey, ReportSnapshot.report_json).where(
        ReportSnapshot.survey.in_([s.id for s in surveys]), ReportSnapshot.lang == lang
    )
    # peewee's stubs do not know the foreign key's survey_id, set on each row at run time.
    return {row.survey_id: row.report_json for row in query}  # type: ignore[attr-defined]


def list_published() -> list[Survey]:
    """Every published survey, latest publication first (archived ones included)."""
    return list(
        Survey.select()
        .where(Survey.status == Status.PUBLISHED)
        .order_by(Survey.published_on.desc(), Survey.id.desc())
    )


def set_public_results(survey: Survey, public: bool) -> None:
    """Switch the survey's public results page on or off."""
    with write_transaction():
        Survey.update(public_results=public).where(Survey.id == survey.id).execute()
    survey.public_results = public


def set_archived(survey: Survey) -> bool:
    """Archive a closed or published survey; False if it is not (or already archived)."""
    with write_transaction():
        changed = (
            Survey.update(archived=True)
            .where(
                Survey.id == survey.id,
                Survey.status.in_(RESULT_STATUSES),
                Survey.archived == False,  # noqa: E712 - peewee expression
            )
            .execute()
        )
    if changed == 1:
        survey.archived = True
    return changed == 1


def set_purge_after(survey: Survey, months: int | None) -> None:
    """Set the survey's retention: purge raw responses ``months`` after publication."""
    with write_transaction():
        Survey.update(purge_after_months=months).where(Survey.id == survey.id).execute()
    survey.purge_after_months = months


def scheduled_surveys(today: dt.date) -> list[Survey]:
    """Surveys that may have a transition due: to open, to close, or to purge."""
    due_open = (
        (Survey.status == Status.DRAFT)
        & Survey.opens_on.is_null(False)
        & (Survey.opens_on <= today)
    )
    due_close = (
        (Survey.status == Status.OPEN)
        & Survey.closes_on.is_null(False)
        & (Survey.closes_on < today)
    )
    due_purge = (
        (Survey.status == Status.PUBLISHED)
        & Survey.purged_on.is_null(True)
        & Survey.purge_after_months.is_null(False)
    )
    return list(Survey.select().where(due_open | due_close | due_purge).order_by(Survey.id))


def purge_responses(survey: Survey, today: dt.date) -> dict[str, int] | None:
    """Delete the raw responses of a published survey at once; its report snapshots stay.

    ``begin_purge`` and then ``purge_chunk`` until nothing is left: each chunk
    is its own short transaction, so other writes keep flowing meanwhile.
    Returns the number of rows purged per table, or None when the survey is
    not published or was purged already.
    """
    counts = begin_purge(survey, today)
    if counts is not None:
        while purge_chunk(survey):
            pass
    return counts


def begin_purge(survey: Survey, today: dt.date) -> dict[str, int] | None:
    """Claim the purge of a published survey (or of the sealed answers of a closed survey
    whose key is lost): from now on it counts as purged.

    One short transaction marks the survey purged (only one caller can win it),
    deletes its aggregated counts, code hashes and form tokens, and counts the
    raw rows to delete. The raw rows themselves go in chunks (``purge_chunk``):
    nothing reads them once the survey is marked, and an interrupted purge is
    finished by the next ``tick`` (``unfinished_purges``). With
    ``secure_delete`` on, SQLite overwrites the deleted content.
    """
    with write_transaction():
        changed = (
            Survey.update(purged_on=today)
            .where(
                Survey.id == survey.id,
                (Survey.status == Status.PUBLISHED)
                | ((Survey.status == Status.CLOSED) & (Survey.awaiting_key == True)),  # noqa: E712
                Survey.purged_on.is_null(True),
            )
            .execute()
        )
        if changed != 1:
            return None
        counts = raw_row_counts(survey)
        ResultCounts.delete().where(ResultCounts.survey == survey.id).execute()
        AccessCode.delete().where(AccessCode.survey == survey.id).execute()
        FormToken.delete().where(FormToken.survey == survey.id).execute()
        InboxEntry.delete().where(InboxEntry.survey == survey.id).execute()
    survey.purged_on = today
    return counts


PURGE_CHUNK_RESPONSES = 500  # about 20 000 answer rows: a transaction of a fraction of a second


def purge_chunk(survey: Survey, responses: int | None = None) -> int:
    """Delete up to ``responses`` raw responses (with their answers) and as many comments
    of a survey whose purge has begun, in one short transaction; returns the rows deleted."""
    responses = responses or PURGE_CHUNK_RESPONSES
    if Survey.get_by_id(survey.id).purged_on is None:
        raise WrongStatus("the purge of this survey has not begun")
    with write_transaction():
        ids = [
            r.id
            for r in Response.select(Response.id)
            .where(Response.survey == survey.id)
            .limit(responses)
        ]
        deleted = 0
        if ids:
            deleted += Answer.delete().where(Answer.response.in_(ids)).execute()
            deleted += Response.delete().where(Response.id.in_(ids)).execute()
        comment_ids = [
            c.id
            for c in Comment.select(Comment.id).where(Comment.survey == survey.id).limit(responses)
        ]
        if comment_ids:
            deleted += Comment.delete().where(Comment.id.in_(comment_ids)).execute()
        if not ids:
            # Answers of no response cannot exist (foreign key), but leave none behind.
            deleted += Answer.delete().where(Answer.survey == survey.id).execute()
    return deleted


def raw_row_counts(survey: Survey) -> dict[str, int]:
    """The raw rows a survey still has: responses, answers and comments."""
    return {
        "comments": Comment.select().where(Comment.survey == survey.id).count(),
        "answers": Answer.select().where(Answer.survey == survey.id).count(),
        "responses": Response.select().where(Response.survey == survey.id).count(),
    }


def unfinished_purges() -> list[Survey]:
    """Surveys marked purged whose raw rows are not all deleted yet (an interrupted purge)."""
    left = Response.select(Response.id).where(Response.survey == Survey.id)
    comments = Comment.select(Comment.id).where(Comment.survey == Survey.id)
    return list(
        Survey.select()
        .where(Survey.purged_on.is_null(False) & (fn.EXISTS(left) | fn.EXISTS(comments)))
        .order_by(Survey.id)
    )


def unit_response_counts(survey: Survey, unit_key: str) -> dict[str, int]:
    """Respondents per answer of the unit question (for a closed survey's response rates)."""
    query = (
        Answer.select(Answer.value, fn.COUNT(Answer.response).alias("n"))
        .where(Answer.survey == survey.id, Answer.question == unit_key)
        .group_by(Answer.value)
    )
    return {value: n for value, n in db.execute(query)}


def survey_comments(survey: Survey) -> list[tuple[Comment, bool, str | None]]:
    """Every comment of the survey, whether HR selected it and HR's masked text (by random id)."""
    selected = CommentSelection.select(
        CommentSelection.comment, CommentSelection.masked_text
    ).where(CommentSelection.survey == survey.id)
    chosen = {comment_id: masked for comment_id, masked in db.execute(selected)}
    comments = Comment.select().where(Comment.survey == survey.id).order_by(Comment.id)
    return [(c, c.id in chosen, chosen.get(c.id)) for c in comments]


def set_comment_selection(
    survey: Survey, comment_ids: Iterable[str], masked: dict[str, str] | None = None
) -> int:
    """Replace the survey's selected comments with ``comment_ids`` (its own only).

    ``masked`` maps a comment id to the text HR masked for the report.
    """
    masked = masked or {}
    wanted = {i for i in comment_ids if isinstance(i, str) and len(i) <= 36}
    with write_transaction():
        valid = [
            c.id
            for c in Comment.select(Comment.id).where(
                Comment.survey == survey.id, Comment.id.in_(list(wanted) or [""])
            )
        ]
        CommentSelection.delete().where(CommentSelection.survey == survey.id).execute()
        if valid:
            CommentSelection.insert_many(
                [{"comment": i, "survey": survey.id, "masked_text": masked.get(i)} for i in valid]
            ).execute()
    return len(valid)


def selected_comments(survey: Survey) -> list[Comment]:
    """The comments HR selected for the published report; ``masked`` is HR's text or None."""
    return list(
        Comment.select(Comment, CommentSelection.masked_text.alias("masked"))
        .join(CommentSelection, on=CommentSelection.comment == Comment.id)
        .where(Comment.survey == survey.id)
        .order_by(Comment.id)
        .objects()
    )


def get_survey(slug: str) -> Survey | None:
    """The survey with ``slug``, or None."""
    # A NUL byte cannot be sent to PostgreSQL at all (psycopg2 raises ValueError):
    # such an address names no survey.
    if not isinstance(slug, str) or len(slug) > 64 or "\x00" in slug:
        return None
    return Survey.get_or_none(Survey.slug == slug)


def get_survey_by_id(survey_id: int) -> Survey | None:
    """The survey with the database id ``survey_id``, or None."""
    return Survey.get_or_none(Survey.id == survey_id)


def _close_rows(survey: Survey, private: Any) -> None:
    """In the closing transaction: the inbox into the tables (``inbox.close_rows``), or,
    without the survey key, the survey marked as waiting for it."""
    if inbox.close_rows(survey, private) is None:
        Survey.update(awaiting_key=True).where(Survey.id == survey.id).execute()
        survey.awaiting_key = True


def set_seal_key(survey: Survey, public_text: str) -> bool:
    """Give a draft the public half of its survey key; False if it is no longer a draft."""
    with write_transaction():
        changed = (
            Survey.update(seal_key=public_text)
            .where(Survey.id == survey.id, Survey.status == Status.DRAFT)
            .execute()
        )
    if changed == 1:
        survey.seal_key = public_text
    return changed == 1


def open_answers(survey: Survey, private: Any) -> int:
    """Open a closed survey's sealed answers with its key (``survey_key.parse``d).

    One transaction: every entry is opened and written to the response tables
    in random order, and ``awaiting_key`` cleared; then the old row versions
    and the write-ahead log are scrubbed as after a close. Returns the number
    of answers opened; 0 and nothing done if the survey waits for none.
    """
    with write_transaction():
        inbox.lock_survey(survey.id)
        waiting = Survey.select(Survey.awaiting_key).where(Survey.id == survey.id).scalar()
        if not waiting:
            return 0
        opened = inbox.close_rows(survey, private) or 0
        Survey.update(awaiting_key=False).where(Survey.id == survey.id).execute()
    survey.awaiting_key = False
    scrub_after_close()
    return opened


def set_status(survey: Survey, status: str, private: Any = None) -> None:
    """Change the status unconditionally (tests and tools); closing works as in ``transition``."""
    with write_transaction():
        if status in RESULT_STATUSES:
            inbox.lock_survey(survey.id)  # first, as in ``transition``
        previous = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
        Survey.update(status=status).where(Survey.id == survey.id).execute()
        if status in RESULT_STATUSES:
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
            FormToken.delete().where(FormToken.survey == survey.id).execute()
        if status in RESULT_STATUSES and previous not in RESULT_STATUSES:
            _close_rows(survey, private)
    survey.status = status
    if status == Status.CLOSED:
        scrub_after_close()


def response_count(survey: Survey) -> int:
    """The number of responses (the only figure shown while a survey is open).

    Submissions waiting in the sealed inbox count too.
    """
    return Response.select().where(Response.survey == survey.id).count() + inbox.pending(survey.id)


# -- uploaded templates ----------------------------------------------------------------------


def uploaded_templates() -> list[SurveyTemplate]:
    """The templates administrators uploaded, by key."""
    return list(SurveyTemplate.select().order_by(SurveyTemplate.key))


def uploaded_template(key: str) -> SurveyTemplate | None:
    """The uploaded template with ``key``, or None."""
    return SurveyTemplate.get_or_none(SurveyTemplate.key == key)


def save_template(key: str, toml_text: str, uploaded_by: str) -> None:
    """Store (or replace) the uploaded template ``key``."""
    with write_transaction():
        SurveyTemplate.insert(
            key=key, toml_text=toml_text, uploaded_at=_now(), uploaded_by=uploaded_by
        ).on_conflict(
            conflict_target=[SurveyTemplate.key],
            update={
                SurveyTemplate.toml_text: toml_text,
                SurveyTemplate.uploaded_at: _now(),
                SurveyTemplate.uploaded_by: uploaded_by,
            },
        ).execute()


def delete_template(key: str) -> bool:
    """Remove the uploaded template ``key`` (the shipped one of that key applies again)."""
    with write_transaction():
        return SurveyTemplate.delete().where(SurveyTemplate.key == key).execute() == 1
