"""``flask --app app demo``: the demo administrator, the demo surveys, the printed addresses,
and a second run that creates nothing twice."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portal import store
from portal.extensions import db
from portal.services import accounts, demo, lifecycle
from portal.store.models import AuditEntry, Response, Survey, User
from surveys.periods import half_year
from tests.factories import enrol_through_pages, login, make_app, make_survey, make_user, post_form

pytestmark = pytest.mark.slow  # publishing three reports takes several seconds each

BASE_URL = "https://varna.example.se"
OTHER_ADMIN = "hr.chef@kommun.se"
STAFF_2025 = "Demo – Hot och otillåten påverkan 2025"
STAFF_2026 = "Demo – Hot och otillåten påverkan 2026"
EXIT = "Demo – Avslutningsenkät"
TRY_IT = "Demo – Svara själv: hot och otillåten påverkan"


class Demo:
    """The app the demo ran on, what it printed, and state that is not the demo's."""

    def __init__(self, app, output: str, other_survey: Survey, closed_try_it: Survey):
        self.app = app
        self.output = output
        self.other_survey = other_survey
        self.closed_try_it = closed_try_it

    @property
    def password(self) -> str:
        return printed_password(self.output)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """One database with someone else's account and survey, and a demo survey to answer
    that someone closed; then ``demo`` run once."""
    app = make_app(tmp_path_factory.mktemp("demo"), TESTING=True, BASE_URL=BASE_URL + "/")
    make_user(app, OTHER_ADMIN, "admin")
    other_survey, _ = make_survey(app, status="open")
    closed_try_it, _ = make_survey(app, status="closed")
    with app.app_context(), db.connection_context():
        Survey.update(title_sv=TRY_IT).where(Survey.id == closed_try_it.id).execute()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return Demo(app, result.output, other_survey, closed_try_it)


def printed_password(output: str) -> str:
    return re.search(r"password: (\S+)", output).group(1)


def printed_paths(output: str, kind: str) -> list[str]:
    """The paths of the printed addresses of ``kind`` ("board" or "s"), from BASE_URL."""
    return re.findall(rf"{re.escape(BASE_URL)}(/{kind}/[A-Za-z0-9_-]+)$", output, re.M)


def demo_surveys(app) -> dict[str, list[Survey]]:
    """Every survey by Swedish title, oldest first."""
    with app.app_context(), db.connection_context():
        found: dict[str, list[Survey]] = {}
        for survey in Survey.select().order_by(Survey.id):
            found.setdefault(survey.title_sv, []).append(survey)
        return found


def response_counts(app) -> dict[int, int]:
    with app.app_context(), db.connection_context():
        return store.response_counts()


def test_demo_admin_logs_in_with_the_printed_password(ran):
    client = ran.app.test_client()
    response = login(client, demo.DEMO_EMAIL, ran.password)
    # An administrator sets up a second factor first, then replaces the generated password.
    assert response.headers["Location"] == "/admin/login/enrol"
    response, _, codes = enrol_through_pages(client)
    assert response.status_code == 200
    assert len(codes) == 10
    assert client.get("/admin/users").headers["Location"] == "/admin/password"
    new = "a demo passphrase of my own"
    data = {"current_password": ran.password, "new_password": new, "confirm_password": new}
    assert post_form(client, "/admin/password", data).status_code == 302
    assert client.get("/admin/users").status_code == 200  # role admin
    assert f"Log in at {BASE_URL}/admin/login" in ran.output
    assert len(ran.password) >= 20


def test_published_surveys_with_synthetic_responses(ran):
    surveys = demo_surveys(ran.app)
    counts = response_counts(ran.app)
    for title, template, access, responses in (
        (STAFF_2025, "staff_threats", "codes", 300),
        (STAFF_2026, "staff_threats", "codes", 400),
        (EXIT, "exit", "codes", 150),
    ):
        [survey] = surveys[title]
        assert (survey.template, survey.access, survey.min_group) == (template, access, 5)
        assert survey.status == "published"
        assert counts[survey.id] == responses
    with ran.app.app_context(), db.connection_context():
        current, earlier = surveys[STAFF_2026][0], surveys[STAFF_2025][0]
        assert store.previous_published(current).id == earlier.id
        assert store.report_snapshot(current, "sv")
        assert store.report_snapshot(current, "en")
        assert len(store.selected_comments(current)) == demo.CHOSEN_COMMENTS
        assert earlier.closes_on.year == 2025
        assert current.closes_on.year == 2026


def test_exit_responses_are_spread_over_the_half_years_it_ran(ran):
    """Twelve months of leavers, stored by reporting half-year only (never the month)."""
    [survey] = demo_surveys(ran.app)[EXIT]
    with ran.app.app_context(), db.connection_context():
        periods = {r.period for r in Response.select().where(Response.survey == survey.id)}
    first = half_year(survey.opens_on.strftime("%Y-%m"))
    last = half_year(survey.closes_on.strftime("%Y-%m"))
    assert len(periods) >= 2
    assert all(first <= period <= last and "-H" in period for period in periods)


def test_open_survey_to_answer_and_the_others_untouched(ran):
    surveys = demo_surveys(ran.app)
    closed, opened = surveys[TRY_IT]
    assert closed.id == ran.closed_try_it.id
    assert closed.status == "closed"
    assert (opened.status, opened.access, opened.template) == ("open", "link", "staff_threats")
    assert response_counts(ran.app).get(opened.id, 0) == 0
    [other] = surveys["Testenkät"]
    assert other.status == "open"
    assert other.definition_json == ran.other_survey.definition_json


def test_printed_addresses_work(ran):
    surveys = demo_surveys(ran.app)
    published = {s[0].slug for t, s in surveys.items() if t in (STAFF_2025, STAFF_2026, EXIT)}
    board_paths = printed_paths(ran.output, "board")
    assert {path.rsplit("/", 1)[1] for path in board_paths} == published
    survey_paths = printed_paths(ran.output, "s")
    assert survey_paths == [f"/s/{surveys[TRY_IT][1].slug}"]

    respondent = ran.app.test_client()
    assert respondent.get(survey_paths[0]).status_code == 200
    admin = ran.app.test_client()
    assert login(admin, OTHER_ADMIN).status_code == 302
    for path in board_paths:
        assert admin.get(path).status_code == 200, path
    current = admin.get(f"/board/{surveys[STAFF_2026][0].slug}").get_data(as_text=True)
    assert 'class="earlier"' in current
    assert "2025" in current


def test_second_run_creates_nothing_and_resets_the_password(ran):
    app = ran.app
    before = ran.password
    with app.app_context(), db.connection_context():
        # Someone made the demo account a board member: the demo makes it an admin again.
        accounts.change_role(store.get_user_by_email(demo.DEMO_EMAIL), "board", actor=None)
        other_hash = store.get_user_by_email(OTHER_ADMIN).password_hash
        users, surveys = User.select().count(), Survey.select().count()
    counts = response_counts(app)

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "password was reset" in result.output
    assert "adding" not in result.output
    assert "publishing" not in result.output
    ran.output = result.output
    after = printed_password(result.output)
    assert after != before

    with app.app_context(), db.connection_context():
        assert (User.select().count(), Survey.select().count()) == (users, surveys)
        assert store.get_user_by_email(OTHER_ADMIN).password_hash == other_hash
        assert store.get_user_by_email(demo.DEMO_EMAIL).role == "admin"
        assert AuditEntry.select().where(AuditEntry.action == "password_reset").count() == 1
    assert response_counts(app) == counts
    assert login(app.test_client(), demo.DEMO_EMAIL, before).status_code == 401
    assert login(app.test_client(), demo.DEMO_EMAIL, after).status_code == 302


def test_a_half_done_demo_survey_is_completed_not_duplicated(tmp_path, monkeypatch):
    """A run that stopped right after creating a survey: the next run opens that one."""
    app = make_app(tmp_path, TESTING=True)
    today = dt.date.today()
    spec = next(s for s in demo.demo_surveys(today) if s.status == "open")
    monkeypatch.setattr(demo, "demo_surveys", lambda _today: (spec,))
    with app.app_context(), db.connection_context():
        settings = lifecycle.SurveySettings(spec.title_sv, spec.title_en, spec.access)
        draft = lifecycle.create_survey(spec.template, settings, actor=None, today=today)
        lines: list[str] = []
        result = demo.set_up_demo(today, progress=lines.append)
        assert [s.id for s in result.open()] == [draft.id]
        assert Survey.get_by_id(draft.id).status == "open"
        assert Survey.select().count() == 1
    (key_line, done) = lines
    assert key_line.startswith(f"{spec.title_en}: survey key ")
    assert done == f"{spec.title_en}: open."
