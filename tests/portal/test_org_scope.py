"""Scoped access (issue 22): an HR or board account sees only surveys at or below its node.

The safety net iterates the URL map, like ``test_admin_auth``: every administration and
board route that names a survey is requested by an account of another district, and
must answer 403 and change nothing, while the same route for a survey of the account's
own district is never refused for its scope.
"""

from __future__ import annotations

import pytest

from portal import store
from portal.extensions import db
from portal.services import organisation
from portal.store.models import AuditEntry, Survey
from tests.factories import csrf_token, login, make_survey, make_user, private_key
from tests.portal.board_fixtures import CURRENT_DAY, answer, publish

# Routes that name a survey but are public by design (the respondent's form, the public
# results page HR switches on), or are the administrators' own.
PUBLIC = {"respond.survey_page", "respond.survey_post", "respond.thanks", "board.public"}


def make_tree(app) -> dict[str, int]:
    """The root, districts North (units N1, N2) and South (unit S1)."""
    with app.app_context(), db.connection_context(), store.write_transaction():
        root = store.ensure_root_node()
        north = store.create_node(root, "district", "Norr", "North")
        south = store.create_node(root, "district", "Söder", "South")
        n1 = store.create_node(north, "unit", "Mottagningen Norr", "Intake North")
        n2 = store.create_node(north, "unit", "Familjeenheten Norr", "Families North")
        s1 = store.create_node(south, "unit", "Mottagningen Söder", "Intake South")
    return {
        "root": root.id,
        "north": north.id,
        "south": south.id,
        "n1": n1.id,
        "n2": n2.id,
        "s1": s1.id,
    }


def account_at(app, email: str, role: str, node_id: int):
    user = make_user(app, email, role)
    with app.app_context(), db.connection_context():
        store.set_user_node(user.id, node_id)
        return store.get_user(user.id)


def survey_at(app, node_id: int, status: str = "open", access: str = "codes") -> Survey:
    survey, _ = make_survey(app, access=access, status=status, codes=2 if access == "codes" else 0)
    with app.app_context(), db.connection_context():
        store.set_survey_node(survey, node_id)
        return Survey.get_by_id(survey.id)


def published_at(app, node_id: int) -> Survey:
    survey = survey_at(app, node_id)
    answer(app, survey, 5)
    return publish(app, survey, CURRENT_DAY)


def survey_routes(app):
    """Every administration and board rule with a ``slug`` argument (routes added later too)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "slug" in rule.arguments
        and rule.endpoint.split(".")[0] in ("admin", "board")
        and rule.endpoint not in PUBLIC
    ]


def _request(client, rule, slug: str, token: str):
    path = rule.build({"slug": slug})[1]
    responses = []
    for method in sorted(rule.methods & {"GET", "POST"}):
        data = {"csrf_token": token, "slug": slug, "count": "3", "public": "1", "comment": "x"}
        responses.append((method, path, client.open(path, method=method, data=data)))
    return responses


def _state(app, survey: Survey):
    with app.app_context(), db.connection_context():
        fresh = Survey.get_by_id(survey.id)
        return (
            fresh.status,
            fresh.public_results,
            fresh.purged_on,
            fresh.archived,
            store.code_counts(fresh),
            store.response_count(fresh),
            AuditEntry.select().where(AuditEntry.subject.contains(survey.slug)).count(),
        )


@pytest.mark.parametrize("status", ["draft", "open", "closed", "published"])
def test_hr_of_one_district_is_refused_every_survey_route_of_another(app, client, status):
    tree = make_tree(app)
    account_at(app, "hr.north@example.se", "hr", tree["north"])
    if status == "published":
        theirs, mine = published_at(app, tree["south"]), published_at(app, tree["n1"])
    else:
        theirs, mine = survey_at(app, tree["south"], status), survey_at(app, tree["n1"], status)
    login(client, "hr.north@example.se")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    before = _state(app, theirs)
    rules = survey_routes(app)
    assert len(rules) >= 20
    checked = 0
    for rule in rules:
        for method, path, response in _request(client, rule, theirs.slug, token):
            assert response.status_code == 403, (method, path, response.status_code)
            checked += 1
    assert _state(app, theirs) == before
    assert checked >= 25
    # The same routes for a survey of the account's own district are never refused
    # for their scope (they may be refused for the survey's state: 404, 409, 400).
    for rule in rules:
        for method, path, response in _request(client, rule, mine.slug, token):
            assert response.status_code != 403, (method, path)


@pytest.mark.parametrize("role", ["hr", "board"])
def test_a_district_account_sees_only_its_own_surveys_in_the_lists(app, client, role):
    tree = make_tree(app)
    account_at(app, f"{role}.north@example.se", role, tree["north"])
    north, south = published_at(app, tree["n2"]), published_at(app, tree["south"])
    with app.app_context(), db.connection_context():
        store.set_public_results(south, False)
    login(client, f"{role}.north@example.se")
    board = client.get("/board/").get_data(as_text=True)
    assert f"/board/{north.slug}" in board
    assert f"/board/{south.slug}" not in board
    if role == "hr":
        listing = client.get("/admin/surveys").get_data(as_text=True)
        assert f"/admin/surveys/{north.slug}" in listing
        assert f"/admin/surveys/{south.slug}" not in listing


def test_board_of_one_district_gets_403_for_every_route_of_another(app, client):
    """The URL map again, as a board account: every administration and board route of
    another district's published survey is 403; its own district's board pages are 200."""
    tree = make_tree(app)
    account_at(app, "board.north@example.se", "board", tree["north"])
    south = published_at(app, tree["s1"])
    north = published_at(app, tree["north"])
    login(client, "board.north@example.se")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    before = _state(app, south)
    checked = 0
    for rule in survey_routes(app):
        for method, path, response in _request(client, rule, south.slug, token):
            assert response.status_code == 403, (method, path, response.status_code)
            checked += 1
        if rule.endpoint.startswith("board."):
            for _method, path, response in _request(client, rule, north.slug, token):
                assert response.status_code == 200, path
    assert checked >= 25
    assert _state(app, south) == before
    for suffix in ("", ".csv", ".xlsx", ".docx", "?by=unit"):
        assert client.get(f"/board/{south.slug}{suffix}").status_code == 403, suffix
        assert client.get(f"/board/{north.slug}{suffix}").status_code == 200, suffix


def test_the_root_account_and_administrators_see_every_district(app):
    tree = make_tree(app)
    south = published_at(app, tree["s1"])
    for email, role, node in (
        ("hr.city@example.se", "hr", tree["root"]),
        ("board.city@example.se", "board", tree["root"]),
        ("admin.x@example.se", "admin", tree["north"]),
    ):
        account_at(app, email, role, node)
        client = app.test_client()
        login(client, email)
        assert client.get(f"/board/{south.slug}").status_code == 200, email
        if role != "board":
            assert client.get(f"/admin/surveys/{south.slug}").status_code == 200, email


def test_a_unit_account_sees_its_unit_but_not_its_district(app):
    tree = make_tree(app)
    at_district = published_at(app, tree["north"])
    at_unit = published_at(app, tree["n1"])
    account_at(app, "board.n1@example.se", "board", tree["n1"])
    client = app.test_client()
    login(client, "board.n1@example.se")
    assert client.get(f"/board/{at_unit.slug}").status_code == 200
    assert client.get(f"/board/{at_district.slug}").status_code == 403


def test_scope_rule_in_plain_functions(app):
    tree_ids = make_tree(app)
    with app.app_context(), db.connection_context():
        tree = organisation.load_tree()
        assert tree.is_at_or_below(tree_ids["n1"], tree_ids["north"])
        assert tree.is_at_or_below(tree_ids["n1"], tree_ids["root"])
        assert not tree.is_at_or_below(tree_ids["n1"], tree_ids["south"])
        assert not tree.is_at_or_below(tree_ids["north"], tree_ids["n1"])
        # A survey or account without a node (an old row) is read as the root's.
        assert tree.is_at_or_below(None, tree_ids["root"])
        assert not tree.is_at_or_below(None, tree_ids["north"])
        assert tree.path(tree_ids["n1"], "en") == "The organisation › North › Intake North"


def test_a_report_compares_only_with_earlier_surveys_of_the_same_part(app, client):
    """Another district's published report must not reach this one as its comparison."""
    tree = make_tree(app)
    south = published_at(app, tree["south"])
    north_before = published_at(app, tree["north"])
    north = survey_at(app, tree["north"], status="open")
    answer(app, north, 5)
    with app.app_context(), db.connection_context():
        store.set_status(north, "closed", private_key(north))
    account_at(app, "hr.north@example.se", "hr", tree["north"])
    login(client, "hr.north@example.se")
    page = client.get(f"/admin/surveys/{north.slug}/publish").get_data(as_text=True)
    assert north_before.slug in page
    assert south.slug not in page
    token = csrf_token(page)
    refused = client.post(
        f"/admin/surveys/{north.slug}/publish",
        data={"csrf_token": token, "compare_with": south.slug},
    )
    assert refused.status_code == 400
    with app.app_context(), db.connection_context():
        assert Survey.get_by_id(north.id).status == "closed"
        # Published after South's survey, yet its latest earlier survey is none of South's.
        assert store.previous_published(Survey.get_by_id(north_before.id)) is None
