"""Demonstration data: a demo administrator and demo surveys with synthetic responses.

``set_up_demo`` (the ``flask --app app demo`` command) creates them. Each is
found again by a fixed e-mail address or a fixed title, so running it again
creates nothing twice: it finishes what an interrupted run left half done and
otherwise only gives the demo administrator a new password (only its hash is
stored, so the old one cannot be shown again). Other accounts and surveys are
never changed.

Every step goes through the same lifecycle functions, audit log and storage
as HR's own work. The published surveys replay their lifecycle on their own
dates (the staff surveys in the spring of the years their titles name), so
that the board report compares this year's survey with last year's; the
synthetic responses come from ``surveys.demo`` with fixed seeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from portal import clock, store
from portal.services import accounts, lifecycle, monitoring, publication
from portal.store.models import STATUSES, Status, Survey
from surveys.answers import Answers
from surveys.demo import demo_responses

DEMO_EMAIL = "demo-admin@varna.invalid"
STAFF_TITLE_SV = "Demo – Hot och otillåten påverkan {year}"
STAFF_TITLE_EN = "Demo – Threats and unauthorized influence {year}"
# Comments chosen for each published report, as HR would pick a few.
CHOSEN_COMMENTS = 3


def demo_answers(
    survey: Survey,
    count: int,
    seed: int | None,
    workers: int = 1,
    *,
    today: dt.date | None = None,
) -> Iterator[tuple[Answers, str | None]]:
    """Synthetic responses, validated exactly like real submissions, with their periods.

    An exit questionnaire's periods are spread over the twelve months up to ``today``.
    """
    return demo_responses(survey.definition(), count, seed, today or clock.today(), workers=workers)


@dataclass(frozen=True)
class DemoSurvey:
    """One demo survey: its template and title, its synthetic responses, its dates."""

    template: str
    title_sv: str
    title_en: str
    access: str
    status: str  # the status it is brought to: "open" or "published"
    responses: int = 0
    seed: int = 0
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    published_on: dt.date | None = None


def demo_surveys(today: dt.date) -> tuple[DemoSurvey, ...]:
    """The demo surveys, in the order they are made (last year's before this year's).

    The staff surveys have fixed dates, in the years their titles name; the
    exit questionnaire ran for the twelve months up to ``today``, the months
    its synthetic responses are spread over.
    """
    return (
        _staff_survey(2025, responses=300, seed=2025),
        _staff_survey(2026, responses=400, seed=2026),
        DemoSurvey(
            template="exit",
            title_sv="Demo – Avslutningsenkät",
            title_en="Demo – Exit questionnaire",
            access="codes",
            status=Status.PUBLISHED,
            responses=150,
            seed=150,
            opens_on=lifecycle.add_months(today.replace(day=1), -11),
            closes_on=today,
            published_on=today,
        ),
        DemoSurvey(
            template="staff_threats",
            title_sv="Demo – Svara själv: hot och otillåten påverkan",
            title_en="Demo – Try it yourself: threats and unauthorized influence",
            access="link",
            status=Status.OPEN,
        ),
    )


def _staff_survey(year: int, responses: int, seed: int) -> DemoSurvey:
    return DemoSurvey(
        template="staff_threats",
        title_sv=STAFF_TITLE_SV.format(year=year),
        title_en=STAFF_TITLE_EN.format(year=year),
        # Codes: results by role and unit are published only for surveys answered with
        # codes (portal/reports/scope.py).
        access="codes",
        status=Status.PUBLISHED,
        responses=responses,
        seed=seed,
        opens_on=dt.date(year, 3, 2),
        closes_on=dt.date(year, 3, 22),
        published_on=dt.date(year, 4, 7),
    )


@dataclass(frozen=True)
class DemoAccount:
    """The demo administrator and the password it has now (shown once)."""

    email: str
    password: str
    created: bool


@dataclass(frozen=True)
class DemoResult:
    """What ``set_up_demo`` made or found."""

    account: DemoAccount
    surveys: tuple[tuple[DemoSurvey, Survey], ...]

    def published(self) -> list[Survey]:
        """The published demo surveys, latest publication first (as the board lists them)."""
        found = [s for _, s in self.surveys if s.status == Status.PUBLISHED]
        return sorted(found, key=lambda s: (s.published_on, s.id), reverse=True)

    def open(self) -> list[Survey]:
        """The demo surveys open for answers."""
        return [s for _, s in self.surveys if s.status == Status.OPEN]


def set_up_demo(today: dt.date, progress: Callable[[str], None] = lambda _line: None) -> DemoResult:
    """Create or complete the demo surveys, then (re)set the demo administrator's password.

    ``progress`` receives a line per step, in English (publishing builds the
    disclosure-controlled report, which takes several seconds). Raises
    lifecycle.LifecycleError or store.SurveyNotOpen when a demo survey was
    changed meanwhile by someone else.
    """
    surveys = []
    for spec in demo_surveys(today):
        survey = _find_or_create(spec, today, progress)
        _complete(spec, survey, today, progress)
        surveys.append((spec, survey))
    return DemoResult(_demo_admin(), tuple(surveys))


def _find_or_create(spec: DemoSurvey, today: dt.date, progress: Callable[[str], None]) -> Survey:
    """The demo survey that is (or can still become) ``spec.status``, created if there is none."""
    reachable = STATUSES[: STATUSES.index(spec.status) + 1]
    for survey in store.surveys_titled(spec.template, spec.title_sv):
        if survey.status in reachable:
            return survey
    settings = lifecycle.SurveySettings(
        title_sv=spec.title_sv,
        title_en=spec.title_en,
        access=spec.access,
        opens_on=spec.opens_on,
        closes_on=spec.closes_on,
    )
    # A dated survey is created as HR would have created it, on its opening day.
    survey = lifecycle.create_survey(
        spec.template, settings, actor=None, today=spec.opens_on or today
    )
    progress(f"{spec.title_en}: created ({survey.slug}).")
    return survey


def _complete(
    spec: DemoSurvey, survey: Survey, today: dt.date, progress: Callable[[str], None]
) -> None:
    """Take ``survey`` from wherever it is to ``spec.status``, with its synthetic responses."""
    before = survey.status
    if survey.status == Status.DRAFT:
        key = lifecycle.make_survey_key(survey, actor=None)
        if spec.status == Status.OPEN:
            # The one survey left open for trying the form: its key closes it later.
            progress(f"{spec.title_en}: survey key {key} (needed to open its answers).")
        lifecycle.open_survey(survey, actor=None, today=spec.opens_on or today)
    if survey.status == Status.OPEN:
        missing = spec.responses - store.response_count(survey)
        if missing > 0:
            progress(f"{spec.title_en}: adding {missing} synthetic responses…")
            store.submit_responses(
                survey, survey.definition(), demo_answers(survey, missing, spec.seed, today=today)
            )
        if spec.status == Status.PUBLISHED:
            lifecycle.close_survey(survey, actor=None, today=spec.closes_on or today)
    if survey.status == Status.CLOSED:
        _choose_comments(survey)
        progress(
            f"{spec.title_en}: publishing; building the disclosure-controlled report "
            "takes several seconds…"
        )
        lifecycle.publish_survey(
            survey, publication.report_snapshots, actor=None, today=spec.published_on or today
        )
    if survey.status == before:
        progress(f"{spec.title_en}: already {survey.status}.")
    else:
        progress(f"{spec.title_en}: {survey.status}.")


def _choose_comments(survey: Survey) -> None:
    """Choose a few comments for the report, as HR would; only where HR may see them."""
    if not monitoring.comments_visible(survey, store.response_count(survey)):
        return
    chosen: dict[str, str] = {}
    for group in publication.comment_groups(survey, "sv"):
        # By text, so the same comments are chosen on every database.
        for comment in sorted(group.comments, key=lambda c: c.text):
            chosen.setdefault(comment.text, comment.id)
    ids = [chosen[text] for text in sorted(chosen)[:CHOSEN_COMMENTS]]
    if ids:
        lifecycle.select_comments(survey, ids, actor=None)


def _demo_admin() -> DemoAccount:
    """The demo administrator with a new generated password (created if missing)."""
    user = store.get_user_by_email(DEMO_EMAIL)
    if user is None:
        user, password = accounts.create_account(DEMO_EMAIL, "admin", None, actor=None)
        return DemoAccount(user.email, _generated(password), created=True)
    # Someone may have disabled or re-roled the demo account; it is ours to restore.
    user = accounts.set_disabled(user, False, actor=None)
    user = accounts.change_role(user, "admin", actor=None)
    user, password = accounts.reset_password(user, None, actor=None)
    return DemoAccount(user.email, _generated(password), created=False)


def _generated(password: str | None) -> str:
    """The password the accounts service generated (it always does when given none)."""
    if password is None:
        raise RuntimeError("no password was generated for the demo administrator")
    return password
