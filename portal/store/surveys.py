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
    SurveyUnit,
)
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
    support_contacts: str | None = None,
) -> Survey:
    """Create a draft survey with a frozen copy of ``definition`` and its unit rows."""
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
        support_contacts=support_contacts,
        created_at=_now(),
    )
    survey.set_definition(definition.to_data())
    with write_transaction():
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
    survey: Survey, from_statuses: tuple[str, ...], to_status: str, today: dt.date
) -> bool:
    """Move ``survey`` to ``to_status`` if it is in one of ``from_statuses``.

    The status is tested in the UPDATE itself, so when several workers (or a
    worker and the cron ``tick``) apply the same transition at once, exactly
    one of them gets True. Closing deletes the survey's code hashes and form
    tokens (nothing can be admitted any more), mixes every submission still in
    the inbox and rewrites the survey's respondent rows in random order, all
    in the same transaction; then the old row versions and the write-ahead
    log are scrubbed (``inbox.close_rows``, ``database.scrub_after_close``).
    """
    values: dict[str, Any] = {"status": to_status}
    if to_status == Status.PUBLISHED:
        values["published_on"] = today
    with write_transaction():
        changed = (
            Survey.update(**values)
            .where(Survey.id == survey.id, Survey.status.in_(from_statuses))
            .execute()
        )
        if changed == 1 and to_status in RESULT_STATUSES:
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
            FormToken.delete().where(FormToken.survey == survey.id).execute()
        if changed == 1 and to_status == Status.CLOSED:
            inbox.close_rows(survey)
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
    """The latest survey of the same template published before ``survey``, or None.

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
            Survey.status == Status.PUBLISHED,
            Survey.id != survey.id,
            earlier,
        )
        .order_by(Survey.published_on.desc(), Survey.id.desc())
        .first()
    )


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
    """Delete the raw responses of a published survey; its report snapshots stay.

    Returns the number of rows deleted per table, or None when the survey is
    not published or was purged already. With ``secure_delete`` on, SQLite
    overwrites the deleted content.
    """
    with write_transaction():
        changed = (
            Survey.update(purged_on=today)
            .where(
                Survey.id == survey.id,
                Survey.status == Status.PUBLISHED,
                Survey.purged_on.is_null(True),
            )
            .execute()
        )
        if changed != 1:
            return None
        deleted = {
            "comments": Comment.delete().where(Comment.survey == survey.id).execute(),
            "answers": Answer.delete().where(Answer.survey == survey.id).execute(),
            "responses": Response.delete().where(Response.survey == survey.id).execute(),
        }
        ResultCounts.delete().where(ResultCounts.survey == survey.id).execute()
        AccessCode.delete().where(AccessCode.survey == survey.id).execute()
        FormToken.delete().where(FormToken.survey == survey.id).execute()
        InboxEntry.delete().where(InboxEntry.survey == survey.id).execute()
    survey.purged_on = today
    return deleted


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
    if not isinstance(slug, str) or len(slug) > 64:
        return None
    return Survey.get_or_none(Survey.slug == slug)


def get_survey_by_id(survey_id: int) -> Survey | None:
    """The survey with the database id ``survey_id``, or None."""
    return Survey.get_or_none(Survey.id == survey_id)


def set_status(survey: Survey, status: str) -> None:
    """Change the status unconditionally (tests and tools); closing works as in ``transition``."""
    with write_transaction():
        previous = Survey.select(Survey.status).where(Survey.id == survey.id).scalar()
        Survey.update(status=status).where(Survey.id == survey.id).execute()
        if status in RESULT_STATUSES:
            AccessCode.delete().where(AccessCode.survey == survey.id).execute()
            FormToken.delete().where(FormToken.survey == survey.id).execute()
        if status in RESULT_STATUSES and previous not in RESULT_STATUSES:
            inbox.close_rows(survey)
    survey.status = status
    if status == Status.CLOSED:
        scrub_after_close()


def response_count(survey: Survey) -> int:
    """The number of responses (the only figure shown while a survey is open).

    Submissions waiting in the sealed inbox count too.
    """
    return Response.select().where(Response.survey == survey.id).count() + inbox.pending(survey.id)
