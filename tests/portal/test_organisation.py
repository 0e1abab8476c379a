"""The organisation tree, its import, accounts' nodes and the organisation's pages (issue 22)."""

from __future__ import annotations

import io
import sqlite3

import pytest

from portal import store
from portal.extensions import db
from portal.services import organisation
from portal.store import migrations
from portal.store.models import AuditEntry, OrgNode, Survey, User
from tests.factories import (
    csrf_token,
    logged_in_as,
    login,
    make_app,
    make_survey,
    make_user,
    post_form,
)
from tests.portal.test_org_scope import account_at, make_tree

ORG_PAGES = [
    ("GET", "/admin/organisation"),
    ("POST", "/admin/organisation/nodes"),
    ("GET", "/admin/organisation/nodes/{id}"),
    ("POST", "/admin/organisation/nodes/{id}"),
    ("POST", "/admin/organisation/nodes/{id}/delete"),
    ("GET", "/admin/organisation/import"),
    ("POST", "/admin/organisation/import"),
    ("GET", "/admin/organisation/pages"),
    ("POST", "/admin/organisation/pages"),
    ("POST", "/admin/users/{user}/node"),
]


def nodes(app) -> list[tuple[str, str, str | None]]:
    with app.app_context(), db.connection_context():
        tree = organisation.load_tree()
        return [
            (n.kind, n.name_sv, tree.get(n.parent_id).name_sv if n.parent_id else None)
            for n, _ in tree.listing()
        ]


@pytest.mark.parametrize("role", ["hr", "board"])
@pytest.mark.parametrize(("method", "path"), ORG_PAGES)
def test_organisation_pages_are_for_administrators_only(app, client, role, method, path):
    tree = make_tree(app)
    target = make_user(app, "target@example.se", "hr")
    logged_in_as(app, client, role)
    path = path.format(id=tree["north"], user=target.id)
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    data = {"csrf_token": token, "name_sv": "Kapad", "node": str(tree["south"])}
    response = client.open(path, method=method, data=data)
    assert response.status_code == 403
    assert ("district", "Norr", "Organisationen") in nodes(app)
    with app.app_context(), db.connection_context():
        assert User.get_by_id(target.id).node_id == tree["root"]


def test_administrator_builds_the_tree(app, client):
    logged_in_as(app, client, "admin")
    root = nodes(app)[0]
    assert root == ("organisation", "Organisationen", None)
    with app.app_context(), db.connection_context():
        root_id = store.root_node().id
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Organisationen" in page
    response = post_form(
        client,
        "/admin/organisation/nodes",
        {"parent": str(root_id), "kind": "district", "name_sv": "Rinkeby-Kista", "name_en": ""},
        page="/admin/organisation",
    )
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        district = OrgNode.get(OrgNode.name_sv == "Rinkeby-Kista")
    for name in ("Mottagningen", "<script>alert(1)</script>"):
        response = post_form(
            client,
            "/admin/organisation/nodes",
            {"parent": str(district.id), "kind": "unit", "name_sv": name},
            page="/admin/organisation",
        )
        assert response.status_code == 303
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    # A district under a district, a twin name and an empty name are refused with a message.
    for data, message in (
        ({"parent": str(district.id), "kind": "district", "name_sv": "X"}, "direkt under"),
        ({"parent": str(district.id), "kind": "unit", "name_sv": "mottagningen"}, "redan"),
        ({"parent": str(district.id), "kind": "unit", "name_sv": " "}, "svenskt namn"),
        ({"parent": "99999", "kind": "unit", "name_sv": "Y"}, "Välj en av"),
    ):
        response = post_form(client, "/admin/organisation/nodes", data, page="/admin/organisation")
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert len(nodes(app)) == 4
    # Rename, then remove a unit; the root cannot be removed.
    response = post_form(
        client,
        f"/admin/organisation/nodes/{root_id}",
        {"name_sv": "Exempelstad", "name_en": "Example City"},
    )
    assert response.status_code == 303
    assert nodes(app)[0][1] == "Exempelstad"
    with app.app_context(), db.connection_context():
        unit = OrgNode.get(OrgNode.name_sv == "Mottagningen")
    token = csrf_token(client.get("/admin/organisation").get_data(as_text=True))
    assert (
        client.post(
            f"/admin/organisation/nodes/{root_id}/delete", data={"csrf_token": token}
        ).status_code
        == 409
    )
    assert (
        client.post(
            f"/admin/organisation/nodes/{unit.id}/delete", data={"csrf_token": token}
        ).status_code
        == 303
    )
    with app.app_context(), db.connection_context():
        actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions.count("org_node_added") == 3
    assert "org_node_renamed" in actions
    assert "org_node_removed" in actions


def test_a_part_with_a_survey_or_account_cannot_be_removed(app, client):
    tree = make_tree(app)
    logged_in_as(app, client, "admin")
    account_at(app, "hr.s1@example.se", "hr", tree["s1"])
    survey, _ = make_survey(app)
    with app.app_context(), db.connection_context():
        store.set_survey_node(survey, tree["n1"])
    token = csrf_token(client.get("/admin/organisation").get_data(as_text=True))
    for key in ("s1", "n1", "north"):
        response = client.post(
            f"/admin/organisation/nodes/{tree[key]}/delete", data={"csrf_token": token}
        )
        assert response.status_code == 409, key
        assert "kan inte tas bort" in response.get_data(as_text=True)
    assert len(nodes(app)) == 6


CSV = (
    "typ;namn;namn_en;förvaltning\n"
    "förvaltning;Rinkeby-Kista;;\n"
    "enhet;Mottagningen;Intake;Rinkeby-Kista\n"
    "enhet;Familjeenheten;;Rinkeby-Kista\n"
    "stadsdel;Spånga-Tensta;Spånga-Tensta district;\n"
    "enhet;Mottagningen;Intake;Spånga-Tensta\n"
    "enhet;Stadens HR;;\n"
)


def _upload(client, name: str, raw: bytes):
    token = csrf_token(client.get("/admin/organisation/import").get_data(as_text=True))
    return client.post(
        "/admin/organisation/import",
        data={"csrf_token": token, "file": (io.BytesIO(raw), name)},
        content_type="multipart/form-data",
    )


def test_the_tree_is_imported_from_csv_and_again_without_duplicates(app, client):
    logged_in_as(app, client, "admin")
    assert _upload(client, "org.csv", CSV.encode("cp1252")).status_code == 303
    expected = [
        ("organisation", "Organisationen", None),
        ("district", "Rinkeby-Kista", "Organisationen"),
        ("unit", "Mottagningen", "Rinkeby-Kista"),
        ("unit", "Familjeenheten", "Rinkeby-Kista"),
        ("district", "Spånga-Tensta", "Organisationen"),
        ("unit", "Mottagningen", "Spånga-Tensta"),
        ("unit", "Stadens HR", "Organisationen"),
    ]
    assert nodes(app) == expected
    assert _upload(client, "org.csv", CSV.encode("utf-8-sig")).status_code == 303
    assert nodes(app) == expected


def test_the_tree_is_imported_from_xlsx(app, client):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in (
        ("type", "name_sv", "name_en", "district"),
        ("district", "Norr", "North", None),
        ("unit", "Enhet 1", None, "Norr"),
    ):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    logged_in_as(app, client, "admin")
    assert _upload(client, "org.xlsx", buffer.getvalue()).status_code == 303
    assert nodes(app)[1:] == [("district", "Norr", "Organisationen"), ("unit", "Enhet 1", "Norr")]


def test_a_bad_tree_file_imports_nothing_and_lists_every_problem(app, client):
    logged_in_as(app, client, "admin")
    bad = (
        "type,name_sv,district\n"
        "district,Norr,\n"
        "unit,Enhet,Söder\n"
        "team,Lag,\n"
        "unit,,Norr\n"
        "district,Norr,\n"
    )
    response = _upload(client, "org.csv", bad.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Rad 3:" in page
    assert "finns inte med i filen" in page
    assert "Rad 4:" in page
    assert "Rad 5:" in page
    assert "Rad 6:" in page
    assert "rad 2" in page
    assert len(nodes(app)) == 1
    assert _upload(client, "org.pdf", b"%PDF").status_code == 400
    assert _upload(client, "org.xlsx", b"not a workbook").status_code == 400


def test_accounts_are_created_at_a_node_and_moved(app, client):
    tree = make_tree(app)
    logged_in_as(app, client, "admin")
    response = post_form(
        client,
        "/admin/users/new",
        {
            "email": "hr.south@example.se",
            "role": "hr",
            "node": str(tree["south"]),
            "password_choice": "generate",
        },
    )
    assert response.status_code == 200
    with app.app_context(), db.connection_context():
        user = store.get_user_by_email("hr.south@example.se")
    assert user.node_id == tree["south"]
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Organisationen › Söder" in listing
    response = post_form(
        client,
        f"/admin/users/{user.id}/node",
        {"node": str(tree["n1"])},
        page=f"/admin/users/{user.id}",
    )
    assert response.status_code == 302
    with app.app_context(), db.connection_context():
        assert store.get_user(user.id).node_id == tree["n1"]
        assert AuditEntry.select().where(AuditEntry.action == "account_node_changed").count() == 1
    bad = post_form(
        client, f"/admin/users/{user.id}/node", {"node": "999999"}, page=f"/admin/users/{user.id}"
    )
    assert bad.status_code == 400


def test_a_moved_account_sees_its_new_scope_at_its_next_request(app):
    tree = make_tree(app)
    survey, _ = make_survey(app, status="draft")
    with app.app_context(), db.connection_context():
        store.set_survey_node(survey, tree["s1"])
    user = account_at(app, "hr.moving@example.se", "hr", tree["north"])
    client = app.test_client()
    login(client, "hr.moving@example.se")
    assert client.get(f"/admin/surveys/{survey.slug}").status_code == 403
    with app.app_context(), db.connection_context():
        store.set_user_node(user.id, tree["south"])
    assert client.get(f"/admin/surveys/{survey.slug}").status_code == 200


# -- the organisation's own pages ----------------------------------------------------------------


def test_privacy_page_shows_the_controller_dpo_and_retention_decision(app, client):
    logged_in_as(app, client, "admin")
    page = client.get("/privacy").get_data(as_text=True)
    assert "Gallringsbeslut" in page
    assert "lagringstid som HR anger" in page
    response = post_form(
        client,
        "/admin/organisation/pages",
        {
            "logo_text": "Exempelstad",
            "controller": "Socialnämnden i Exempelstad\nsocialnamnden@exempelstad.se",
            "dpo": "Dataskyddsombudet, dso@exempelstad.se",
            "retention": "Gallringsbeslut SN 2026/12: rådata gallras 12 månader efter publicering.",
            "a11y_level": "partial",
        },
    )
    assert response.status_code == 303
    page = client.get("/privacy").get_data(as_text=True)
    assert "Socialnämnden i Exempelstad<br>socialnamnden@exempelstad.se" in page
    assert "dso@exempelstad.se" in page
    assert "SN 2026/12" in page
    # The logo text is in the header of every page, the admin's and the respondent's.
    assert 'class="brand-org">Exempelstad' in client.get("/").get_data(as_text=True)
    assert 'class="brand-org">Exempelstad' in client.get("/admin/").get_data(as_text=True)


def test_organisation_pages_refuse_overlong_text_and_unknown_levels(app, client):
    logged_in_as(app, client, "admin")
    response = post_form(
        client, "/admin/organisation/pages", {"controller": "x" * 4001, "a11y_level": "partial"}
    )
    assert response.status_code == 400
    assert 'id="controller-error"' in response.get_data(as_text=True)
    response = post_form(client, "/admin/organisation/pages", {"a11y_level": "perfect"})
    assert response.status_code == 400
    with app.app_context(), db.connection_context():
        assert store.org_profile().controller == ""


def test_accessibility_statement_follows_diggs_model_with_honest_defaults(app, client):
    page = client.get("/accessibility").get_data(as_text=True)
    assert "Tillgänglighet för Värna" in page
    assert "Organisationen ansvarar för den här webbplatsen" in page
    # The tests verify automated WCAG 2.1 A/AA checks only: partially compliant, said so.
    assert "delvis förenlig med lagen om tillgänglighet till digital offentlig service" in page
    assert "axe-core" in page
    assert "320 pixlar" in page
    assert "skärmläsare" in page
    assert 'href="https://www.digg.se/tdosanmalan"' in page
    assert "Inte bedömd av organisationen än" in page
    english = client.get("/accessibility?lang=en").get_data(as_text=True)
    assert "partially compliant" in english
    assert "Report to Digg" in english


def test_accessibility_statement_shows_what_the_administrator_entered(app, client):
    logged_in_as(app, client, "admin")
    response = post_form(
        client,
        "/admin/organisation/pages",
        {
            "service_name": "Värna i Exempelstad",
            "a11y_level": "full",
            "a11y_problems": "Inget känt.",
            "a11y_method": "Granskad av Funka med skärmläsare.",
            "a11y_assessed_on": "2026-05-04",
            "a11y_updated_on": "2026-05-20",
            "a11y_feedback": "tillganglighet@exempelstad.se, svar inom fem arbetsdagar",
        },
    )
    assert response.status_code == 303
    page = client.get("/accessibility").get_data(as_text=True)
    assert "Tillgänglighet för Värna i Exempelstad" in page
    assert "helt förenlig" in page
    assert "Granskad av Funka" in page
    assert "axe-core" not in page
    assert "tillganglighet@exempelstad.se" in page
    assert "4 maj 2026" in page
    assert "20 maj 2026" in page


@pytest.mark.parametrize(
    "path", ["/", "/privacy", "/kod", "/accessibility", "/admin/login", "/no-such-page"]
)
def test_every_page_links_the_accessibility_statement_in_its_footer(client, path):
    page = client.get(path).get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">') :]
    assert 'href="/accessibility"' in footer


def test_support_contacts_are_inherited_from_the_organisation(app, client):
    survey, _ = make_survey(app)
    own, _ = make_survey(app)
    with app.app_context(), db.connection_context():
        Survey.update(support_contacts="Skyddsombudet Kim, 08-123 45").where(
            Survey.id == own.id
        ).execute()
    default = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    assert "Brottsofferjouren" in default
    admin = app.test_client()
    logged_in_as(app, admin, "admin")
    post_form(
        admin,
        "/admin/organisation/pages",
        {"support_contacts": "Företagshälsovården Avonova, 010-123 00 00", "a11y_level": "partial"},
    )
    inherited = app.test_client().get(f"/s/{survey.slug}").get_data(as_text=True)
    assert "Avonova" in inherited
    assert "Brottsofferjouren" not in inherited
    theirs = app.test_client().get(f"/s/{own.slug}").get_data(as_text=True)
    assert "Skyddsombudet Kim" in theirs
    assert "Avonova" not in theirs


# -- the migration ---------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_version_10_database_becomes_one_root_with_everything_under_it(tmp_path):
    path = tmp_path / "varna.sqlite3"
    app = make_app(tmp_path)
    make_user(app, "kim@example.se", "hr")
    make_user(app, "board@example.se", "board")
    first, _ = make_survey(app, status="closed")
    second, _ = make_survey(app, status="draft")
    # Back to version 10: no tree, no node columns, no district on answers.
    old = sqlite3.connect(path)
    old.execute('DROP INDEX IF EXISTS "survey_node_id"')
    # Version 12's covering index ends with the district: back to version 10's.
    old.execute('DROP INDEX "answer_survey_id_question_value_role_unit_years_period_district"')
    old.execute(
        'CREATE INDEX "answer_survey_id_question_value_role_unit_years_period" ON "answer" '
        '("survey_id", "question", "value", "role", "unit", "years", "period")'
    )
    for table, column in (
        ("survey", "node_id"),
        ("admin_user", "node_id"),
        ("answer", "district"),
        ("access_code", "district"),
    ):
        old.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    old.execute('DROP TABLE "org_node"')
    old.execute('DROP TABLE IF EXISTS "org_profile"')
    old.execute("UPDATE schema_version SET version = 10")
    old.commit()
    old.close()

    app = make_app(tmp_path)
    with app.app_context(), db.connection_context():
        assert migrations.current_version() == migrations.latest_version() >= 11
        roots = list(OrgNode.select())
        assert [(r.kind, r.parent_id, r.name_sv) for r in roots] == [
            ("organisation", None, "Organisationen")
        ]
        assert {s.node_id for s in Survey.select()} == {roots[0].id}
        assert {u.node_id for u in User.select()} == {roots[0].id}
        assert {c.name for c in db.get_columns("answer")} >= {"district", "role", "unit"}
        assert "district" in {c.name for c in db.get_columns("access_code")}
        assert Survey.get_by_id(first.id).status == "closed"
        assert Survey.get_by_id(second.id).status == "draft"
    # The HR account still sees both surveys, as it did before the tree.
    client = app.test_client()
    login(client, "kim@example.se")
    listing = client.get("/admin/surveys?archived=1").get_data(as_text=True)
    assert first.slug in listing
    assert second.slug in listing
    assert client.get(f"/admin/surveys/{first.slug}").status_code == 200
