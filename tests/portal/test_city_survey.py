"""A city-wide survey from creation to the published city and district views (issue 22).

One protected report per survey: the city board reads all of it; each district's board and
HR read the slice of that same snapshot for their district, never a report of their own.
"""

from __future__ import annotations

import json
import re

from portal import store
from portal.extensions import db
from portal.reports import slices
from portal.store.models import Answer, Survey
from surveys.definition import unit_districts
from tests.factories import (
    complete_answers,
    csrf_token,
    logged_in_as,
    login,
    open_form_for,
    post_form,
    submit,
)
from tests.portal.board_fixtures import CURRENT_DAY, publish
from tests.portal.test_org_scope import account_at, make_tree


def create_city_survey(app, client, tree) -> Survey:
    response = post_form(
        client,
        "/admin/surveys/new",
        {
            "template": "staff_threats",
            "node": str(tree["root"]),
            "city_wide": "y",
            "title_sv": "Hot och våld i staden 2026",
            "title_en": "Threats and violence in the city 2026",
            "access": "codes",
            "min_group": "5",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        return Survey.select().order_by(Survey.id.desc()).get()


def answer_as(app, survey: Survey, times: int, district: str, unit: str, **overrides) -> None:
    client = app.test_client()
    for _ in range(times):
        hidden = open_form_for(app, client, survey)
        form = complete_answers(survey.definition(), district=district, unit=unit, **overrides)
        result = submit(client, survey.slug, form, hidden)
        assert result.status_code == 303, result.get_data(as_text=True)


def test_a_city_wide_survey_from_creation_to_the_city_and_district_views(app):
    tree = make_tree(app)
    n1, n2, s1 = (f"n{tree[k]}" for k in ("n1", "n2", "s1"))
    north, south = f"n{tree['north']}", f"n{tree['south']}"
    city_hr = app.test_client()
    account_at(app, "hr.city@example.se", "hr", tree["root"])
    login(city_hr, "hr.city@example.se")
    survey = create_city_survey(app, city_hr, tree)

    # The definition: a district question before the unit question, units with portal-unique
    # keys, each naming its district (the mapping the report builder reads).
    definition = survey.definition()
    keys = [q.key for q in definition.dimensions()]
    assert keys.index("district") == keys.index("unit") - 1
    assert unit_districts(definition) == {n1: north, n2: north, s1: south}
    district_question = definition.question("district")
    assert [o.key for o in district_question.options] == [north, south, "na"]
    labels = {o.key: o.label.sv for o in definition.question("unit").options}
    assert labels[n1] == "Mottagningen Norr (Norr)"
    assert survey.node_id == tree["root"]

    # The respondent's form offers both; a unit of another district is refused, nothing stored.
    with app.app_context(), db.connection_context():
        store.set_status(survey, "open")
        survey = Survey.get_by_id(survey.id)
    staff = app.test_client()
    hidden = open_form_for(app, staff, survey)
    preview = city_hr.get(f"/admin/surveys/{survey.slug}/preview").get_data(as_text=True)
    assert "I vilken stadsdel eller förvaltning arbetar du?" in preview
    assert preview.index('name="district"') < preview.index('name="unit"')
    wrong = complete_answers(survey.definition(), district=north, unit=s1)
    response = submit(staff, survey.slug, wrong, hidden)
    assert response.status_code == 400
    assert "Enheten du valde finns inte i stadsdelen du valde" in response.get_data(as_text=True)

    answer_as(app, survey, 6, north, n1, exp_threats="once")
    answer_as(app, survey, 6, north, n2)
    answer_as(app, survey, 6, south, s1, exp_threats="2to5")
    answer_as(app, survey, 2, south, "na")
    survey = publish(app, survey, CURRENT_DAY)
    with app.app_context(), db.connection_context():
        # The district is stored on every answer row, as role and unit are.
        assert {a.district for a in Answer.select().where(Answer.survey == survey.id)} == {
            north,
            south,
        }
        snapshot = json.loads(store.report_snapshot(survey, "sv"))

    # The city: the whole report, every unit, the district question's own table.
    city_board = app.test_client()
    account_at(app, "board.city@example.se", "board", tree["root"])
    login(city_board, "board.city@example.se")
    city = city_board.get(f"/board/{survey.slug}?by=unit").get_data(as_text=True)
    for name in (
        "Mottagningen Norr (Norr)",
        "Familjeenheten Norr (Norr)",
        "Mottagningen Söder (Söder)",
    ):
        assert name in city
    assert "Din del av den stadsövergripande rapporten" not in city

    # The city report is broken down by district: a table of its own, first after all staff.
    assert list(snapshot["report"]["breakdowns"])[:2] == ["all", "district"]
    assert snapshot["report"]["breakdowns"]["district"] == "Stadsdel"
    threatened = next(t for t in snapshot["report"]["indicators"] if t["key"] == "threatened")
    by_district = {r["group"]: r for r in threatened["breakdowns"]["district"]}
    assert list(by_district) == [north, south]
    assert (by_district[north]["label"], by_district[north]["n"]) == ("Norr", 12)
    assert (by_district[south]["label"], by_district[south]["n"]) == ("Söder", 8)
    assert by_district[south]["options"][0]["percent"] == 75  # 6 of South's 8
    # North's 6 of 12 is hidden: its units add up to it, and with one unit's share shown
    # as "<20 %" and the other's not exactly (answers the same for everyone in a unit
    # leave its band ">80 %" no witness, so it is "x"), North's exact count would give
    # both units away ((almost) all 6 of one, none of the other). The units' nesting in
    # their district (Report.nesting) is what makes the engine see that.
    unit_cells = {r["group"]: r["options"][0] for r in threatened["breakdowns"]["unit"]}
    assert unit_cells[n1]["display"] == "x"
    assert unit_cells[n2]["display"] == "<20\xa0%"
    assert by_district[north]["options"][0]["display"] == "x"
    # The units of each district lie in it: the respondents of its units add up to it.
    units = {r["group"]: r["n"] for r in threatened["breakdowns"]["unit"]}
    assert units[n1] + units[n2] == by_district[north]["n"]
    page = city_board.get(f"/board/{survey.slug}?by=district").get_data(as_text=True)
    assert "Norr" in page
    assert "Söder" in page
    # The summary's first heat map puts the districts side by side.
    with app.test_request_context():
        from portal.reports import board_report

        summary = board_report.build(snapshot, "sv")
    assert summary.heatmaps[0].breakdown == "district"
    assert [name for _key, name, _n in summary.heatmaps[0].groups] == ["Norr", "Söder"]
    assert [n for _key, _name, n in summary.heatmaps[0].groups] == ["12", "8"]
    front = city_board.get(f"/board/{survey.slug}").get_data(as_text=True)
    heat = front[front.index('class="data-table heatmap') :]
    assert heat.index("Norr") < heat.index("Söder") < heat.index("Mottagningen Norr (Norr)")
    # Every file and the HR preview have the district breakdown too.
    csv_text = city_board.get(f"/board/{survey.slug}.csv").get_data().decode("utf-8-sig")
    assert "Stadsdel" in csv_text
    assert "Söder" in csv_text
    for suffix in (".xlsx", ".docx?by=district"):
        assert city_board.get(f"/board/{survey.slug}{suffix}").status_code == 200, suffix
    preview = city_hr.get(f"/admin/surveys/{survey.slug}/results?by=district")
    assert preview.status_code == 200
    assert "Söder" in preview.get_data(as_text=True)
    exported = app.test_cli_runner().invoke(args=["report", survey.slug, "--by", "district"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["breakdowns"] == {"district": "Stadsdel"}

    # North's board: only North's units, its respondents as the city report published them.
    north_board = app.test_client()
    account_at(app, "board.north@example.se", "board", tree["north"])
    login(north_board, "board.north@example.se")
    index = north_board.get("/board/").get_data(as_text=True)
    assert f"/board/{survey.slug}" in index
    view = north_board.get(f"/board/{survey.slug}")
    assert view.status_code == 200
    html = view.get_data(as_text=True)
    assert "Din del av den stadsövergripande rapporten" in html
    assert "<dd>Norr</dd>" in html
    assert "Mottagningen Norr (Norr)" in html
    assert "Familjeenheten Norr (Norr)" in html
    assert "Söder" not in html
    assert "<dd>12</dd>" in html  # North's respondents, from the city report's own table
    # Its by-district table is North's row of the city's table, and no other district's.
    by_district_page = north_board.get(f"/board/{survey.slug}?by=district")
    assert by_district_page.status_code == 200
    assert "Norr" in by_district_page.get_data(as_text=True)
    assert "Söder" not in by_district_page.get_data(as_text=True)
    for suffix in (".csv", ".xlsx", ".docx?by=unit"):
        download = north_board.get(f"/board/{survey.slug}{suffix}")
        assert download.status_code == 200, suffix
        if suffix == ".csv":
            text = download.get_data().decode("utf-8-sig")
            assert "Mottagningen Norr" in text
            assert "Söder" not in text
    # The slice is the city's snapshot cut down, never a report of its own: every figure it
    # shows is the city report's figure for the same group.
    sliced = slices.district_slice(snapshot, {north, f"n{tree['n1']}", f"n{tree['n2']}"}, "Norr")
    for table in sliced["report"]["indicators"] + sliced["report"]["questions"]:
        original = next(
            t
            for t in snapshot["report"]["indicators"] + snapshot["report"]["questions"]
            if t["key"] == table["key"]
        )
        for row in table["breakdowns"].get("unit", ()):
            assert row in original["breakdowns"]["unit"]
        assert table["breakdowns"]["district"] == [
            r for r in original["breakdowns"]["district"] if r["group"] == north
        ]
        assert table["breakdowns"]["all"] == [
            {**r, "group": "all"} for r in original["breakdowns"]["district"] if r["group"] == north
        ]
    # Nor can North's HR run the city's survey: its administration pages are above its node.
    north_hr = app.test_client()
    account_at(app, "hr.north@example.se", "hr", tree["north"])
    login(north_hr, "hr.north@example.se")
    assert north_hr.get(f"/admin/surveys/{survey.slug}").status_code == 403
    assert north_hr.get(f"/admin/surveys/{survey.slug}/results").status_code == 403
    assert north_hr.get(f"/board/{survey.slug}").status_code == 200

    # A unit's account reads only its unit's rows.
    unit_board = app.test_client()
    account_at(app, "board.n2@example.se", "board", tree["n2"])
    login(unit_board, "board.n2@example.se")
    html = unit_board.get(f"/board/{survey.slug}").get_data(as_text=True)
    assert "Familjeenheten Norr (Norr)" in html
    assert "Mottagningen Norr (Norr)" not in html


def test_a_city_wide_survey_needs_districts_with_units(app, client):
    logged_in_as(app, client, "hr")
    with app.app_context(), db.connection_context():
        root = store.root_node().id
    response = post_form(
        client,
        "/admin/surveys/new",
        {
            "template": "staff_threats",
            "node": str(root),
            "city_wide": "y",
            "title_sv": "Stad",
            "access": "codes",
            "min_group": "5",
        },
    )
    assert response.status_code == 400
    assert "behöver stadsdelar med enheter" in response.get_data(as_text=True)
    with app.app_context(), db.connection_context():
        assert Survey.select().count() == 0


def test_a_district_hr_creates_surveys_only_at_or_below_its_node(app):
    tree = make_tree(app)
    account_at(app, "hr.north@example.se", "hr", tree["north"])
    client = app.test_client()
    login(client, "hr.north@example.se")
    page = client.get("/admin/surveys/new").get_data(as_text=True)
    assert "Söder" not in page
    base = {"template": "staff_threats", "title_sv": "T", "access": "codes", "min_group": "5"}
    refused = post_form(client, "/admin/surveys/new", {**base, "node": str(tree["south"])})
    assert refused.status_code == 400
    assert post_form(client, "/admin/surveys/new", base).status_code == 303
    with app.app_context(), db.connection_context():
        assert [s.node_id for s in Survey.select()] == [tree["north"]]


def test_the_slice_keeps_the_district_row_of_a_district_breakdown(app):
    """When the report has a district breakdown (the joint engine, issue 15), the district's
    row becomes the slice's all-staff row, and no other district's row is left."""
    row = lambda group, n: {"group": group, "label": group, "n": n, "options": []}  # noqa: E731
    data = {
        "report": {
            "respondents": 40,
            "breakdowns": {"all": "Alla", "district": "Stadsdel", "unit": "Enhet", "role": "Roll"},
            "indicators": [
                {
                    "key": "threatened",
                    "breakdowns": {
                        "all": [row("all", 40)],
                        "district": [row("n2", 25), row("n3", 15)],
                        "unit": [row("n4", 12), row("n5", 13), row("n6", 15)],
                        "role": [row("sw", 40)],
                    },
                }
            ],
            "questions": [],
        },
        "comments": [{"question": "q", "texts": ["secret"]}],
        "comparison": {"report": {}},
    }
    sliced = slices.district_slice(data, {"n2", "n4", "n5"}, "Norr")
    table = sliced["report"]["indicators"][0]["breakdowns"]
    assert table["all"] == [{**row("n2", 25), "group": "all"}]
    assert table["district"] == [row("n2", 25)]
    assert [r["group"] for r in table["unit"]] == ["n4", "n5"]
    assert "role" not in table
    assert "comments" not in sliced
    assert "comparison" not in sliced
    assert sliced["report"]["notes"] == []
    assert sliced["report"]["breakdowns"] == {
        "all": "Norr",
        "district": "Stadsdel",
        "unit": "Enhet",
    }


def test_the_slice_keeps_a_merged_group_of_its_own_units_and_no_merged_district():
    """Recoding merges small units only inside their district, so a merged group of North's
    units is North's to read; a district merged with another has no row in either slice."""
    row = lambda group, n: {"group": group, "label": group, "n": n, "options": []}  # noqa: E731
    data = {
        "report": {
            "breakdowns": {"all": "Alla", "district": "Stadsdel", "unit": "Enhet"},
            "indicators": [
                {
                    "key": "threatened",
                    "breakdowns": {
                        "all": [row("all", 40)],
                        "district": [row("n2", 25), row("n3+n7", 15)],
                        "unit": [row("n4+n5", 12), row("n8", 13), row("n6+n9", 15)],
                    },
                }
            ],
            "questions": [],
        }
    }
    north = slices.district_slice(data, {"n2", "n4", "n5", "n8"}, "Norr")
    table = north["report"]["indicators"][0]["breakdowns"]
    assert [r["group"] for r in table["unit"]] == ["n4+n5", "n8"]
    assert [r["group"] for r in table["district"]] == ["n2"]
    south = slices.district_slice(data, {"n3", "n6", "n9"}, "Söder")
    table = south["report"]["indicators"][0]["breakdowns"]
    assert [r["group"] for r in table["unit"]] == ["n6+n9"]
    assert "district" not in table
    assert "all" not in table  # no district row of its own: no district summary
    # A merged group of units reaching into another district is never in the slice.
    partial = slices.district_slice(data, {"n3", "n6"}, "Söder")
    assert partial["report"]["indicators"] == []


def _checked_district(html: str) -> str | None:
    found = re.findall(r'<input[^>]*name="district"[^>]*>', html)
    checked = [tag for tag in found if "checked" in tag]
    if not checked:
        return None
    return re.search(r'value="([^"]+)"', checked[0]).group(1)


def test_a_districts_codes_and_link_open_the_form_with_the_district_chosen(app):
    tree = make_tree(app)
    north, south = f"n{tree['north']}", f"n{tree['south']}"
    hr = app.test_client()
    account_at(app, "hr.city@example.se", "hr", tree["root"])
    login(hr, "hr.city@example.se")
    survey = create_city_survey(app, hr, tree)
    detail = hr.get(f"/admin/surveys/{survey.slug}").get_data(as_text=True)
    assert f'<option value="{south}">Söder</option>' in detail
    sheet = post_form(
        hr,
        f"/admin/surveys/{survey.slug}/codes",
        {"count": "2", "district": south},
        page=f"/admin/surveys/{survey.slug}",
    )
    assert sheet.status_code == 200
    codes = re.findall(r'<p class="slip-code">([^<]+)</p>', sheet.get_data(as_text=True))
    assert len(codes) == 2
    refused = post_form(
        hr,
        f"/admin/surveys/{survey.slug}/codes",
        {"count": "2", "district": "n999999"},
        page=f"/admin/surveys/{survey.slug}",
    )
    assert refused.status_code == 409
    with app.app_context(), db.connection_context():
        store.set_status(survey, "open")
    staff = app.test_client()
    page = staff.get(f"/s/{survey.slug}").get_data(as_text=True)
    form = staff.post(
        f"/s/{survey.slug}",
        data={"csrf_token": csrf_token(page), "code": codes[0], "action": "code"},
    )
    assert _checked_district(form.get_data(as_text=True)) == south
    # The same code through the front page's code box.
    other = app.test_client()
    front = other.get("/kod").get_data(as_text=True)
    form = other.post("/kod", data={"csrf_token": csrf_token(front), "code": codes[1]})
    assert _checked_district(form.get_data(as_text=True)) == south
    # A code without a district opens the form with nothing chosen.
    plain = app.test_client()
    hidden = open_form_for(app, plain, survey)
    assert hidden
    assert _checked_district(plain.get(f"/s/{survey.slug}").get_data(as_text=True)) is None

    # Link mode: the district's own address, and a forged district is ignored.
    with app.app_context(), db.connection_context():
        Survey.update(access="link").where(Survey.id == survey.id).execute()
    linked = app.test_client().get(f"/s/{survey.slug}?district={north}")
    assert _checked_district(linked.get_data(as_text=True)) == north
    forged = app.test_client().get(f"/s/{survey.slug}?district=role")
    assert forged.status_code == 200
    assert _checked_district(forged.get_data(as_text=True)) is None


def _indicator_row(group: str, label: str, n: int | None, count: int | None, percent: int | None):
    option = {"key": "threatened", "label": "Hotade", "count": count, "percent": percent}
    return {"group": group, "label": label, "n": n, "options": [option]}


def test_the_city_report_shows_districts_side_by_side_in_the_heat_map(app):
    """Given a report with a district breakdown (what the joint engine publishes), the
    summary's first heat map has one column per district; a district's slice has its own."""
    from portal.reports import board_report

    data = {
        "report": {
            "survey": {"slug": "s", "title": "Stad", "min_group": 5},
            "respondents": 30,
            "breakdowns": {"all": "Alla", "district": "Stadsdel", "unit": "Enhet"},
            "indicators": [
                {
                    "key": "threatened",
                    "label": "Hotade",
                    "breakdowns": {
                        "all": [_indicator_row("all", "Alla", 30, 9, 30)],
                        "district": [
                            _indicator_row("n2", "Norr", 18, 6, 33),
                            _indicator_row("n3", "Söder", 12, None, None),
                        ],
                        "unit": [
                            _indicator_row("n4", "Enhet 1 (Norr)", 10, 4, 40),
                            _indicator_row("n5", "Enhet 2 (Norr)", 8, None, None),
                            _indicator_row("n6", "Enhet 3 (Söder)", 12, None, None),
                        ],
                    },
                }
            ],
            "questions": [],
        }
    }
    with app.test_request_context():
        city = board_report.build(data, "sv")
        north = board_report.build(slices.district_slice(data, {"n2", "n4", "n5"}, "Norr"), "sv")
    assert [m.breakdown for m in city.heatmaps] == ["district", "unit"]
    assert [name for _key, name, _n in city.heatmaps[0].groups] == ["Norr", "Söder"]
    assert [c.text for c in city.heatmaps[0].rows[0][2]] == ["33\xa0%", "x"]
    # North's slice: its district row is its summary, its units its heat map; no Söder.
    assert north.scope == "Norr"
    assert north.headlines[0].cell.text == "33\xa0%"
    assert [name for _key, name, _n in north.heatmaps[-1].groups] == [
        "Enhet 1 (Norr)",
        "Enhet 2 (Norr)",
    ]
    assert north.respondents_text == "x"  # the district question is not in this report


def test_a_link_mode_city_survey_gives_a_district_an_empty_slice_not_an_error(app):
    """Link mode publishes all respondents together only (the rule against stuffing), so a
    district has no rows of its own: its page says so by showing nothing, not a 500."""
    tree = make_tree(app)
    hr = app.test_client()
    account_at(app, "hr.city@example.se", "hr", tree["root"])
    login(hr, "hr.city@example.se")
    survey = create_city_survey(app, hr, tree)
    with app.app_context(), db.connection_context():
        Survey.update(access="link").where(Survey.id == survey.id).execute()
        store.set_status(survey, "open")
        survey = Survey.get_by_id(survey.id)
    answer_as(app, survey, 6, f"n{tree['north']}", f"n{tree['n1']}")
    survey = publish(app, survey, CURRENT_DAY)
    board = app.test_client()
    account_at(app, "board.north@example.se", "board", tree["north"])
    login(board, "board.north@example.se")
    for suffix in ("", ".csv", ".xlsx", ".docx"):
        response = board.get(f"/board/{survey.slug}{suffix}")
        assert response.status_code == 200, suffix
    html = board.get(f"/board/{survey.slug}").get_data(as_text=True)
    assert "Mottagningen Norr" not in html
