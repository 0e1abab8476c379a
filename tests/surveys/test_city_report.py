"""A city-wide survey's report: the district breakdown, and units recoded inside their district.

Units are published in groups of at least k; a small unit is merged with another. In a
city-wide survey a merge across two districts would put a district's people into a group
that mostly belongs to another district: the district tables and the unit tables would then
no longer nest (the units of a district summing to the district), and a reader could subtract
one from the other. So units are merged only with units of their own district.
"""

from __future__ import annotations

import pytest

from surveys import linked
from surveys.answers import validate
from surveys.definition import load_template, unit_districts, with_districts
from surveys.report import ALL, BREAKDOWNS, DISTRICT, UNIT, Report, build, recode
from tests.factories import complete_answers, counts_from_answers

pytest.importorskip("surveys.disclosure")

STAFF = load_template("staff_threats")
CITY = with_districts(
    STAFF,
    [("d1", "Norr", "North"), ("d2", "Söder", "South"), ("d3", "Väster", "West")],
    [
        ("u1", "Mottagningen (Norr)", "Intake (North)", "d1"),
        ("u2", "Familjeenheten (Norr)", "Family unit (North)", "d1"),
        ("u3", "Mottagningen (Söder)", "Intake (South)", "d2"),
        ("u4", "Familjeenheten (Söder)", "Family unit (South)", "d2"),
        ("u5", "Mottagningen (Väster)", "Intake (West)", "d3"),
    ],
)
META = {"slug": "city", "title_sv": "Staden", "title_en": "The city", "min_group": 5}


def respondent(district: str, unit: str, **overrides):
    form = complete_answers(CITY, district=district, unit=unit, **overrides)
    return validate(CITY, {k: v if isinstance(v, list) else [v] for k, v in form.items()})


def people(sizes: dict[str, int], **overrides) -> list:
    """``sizes[unit]`` respondents in each unit, each in the unit's own district."""
    districts = unit_districts(CITY)
    return [respondent(districts[u], u, **overrides) for u, n in sizes.items() for _ in range(n)]


def report_of(responses, k: int = 5) -> Report:
    return build(CITY, counts_from_answers(CITY, responses), k=k, survey_meta=META)


def rows(report: Report, table: str, breakdown: str):
    tables = (*report.indicators, *report.questions, *report.key_figures)
    found = next(t for t in tables if t.key == table and breakdown in t.breakdowns)
    return {r.key: r for r in found.breakdowns[breakdown]}


# -- recode ----------------------------------------------------------------------------------


def test_recoding_never_merges_units_of_two_districts():
    """The two smallest units (u1 of North, u3 of South) would be merged by plain recoding;
    within their districts each joins its own district's other unit instead."""
    question = CITY.question("unit")
    sizes = {"u1": 2, "u2": 8, "u3": 3, "u4": 9, "u5": 7}
    # Without the districts the two smallest units, of two districts, are merged (the attack).
    plain, _ = recode(question, sizes, 5)
    assert plain["u1"] == plain["u3"] == "u1+u3"
    mapping, groups = recode(question, sizes, 5, within=unit_districts(CITY))
    assert mapping == {"u1": "u1+u2", "u2": "u1+u2", "u3": "u3+u4", "u4": "u3+u4", "u5": "u5"}
    assert [key for key, _ in groups] == ["u1+u2", "u3+u4", "u5"]
    assert dict(groups)["u1+u2"].sv == "Mottagningen (Norr) och Familjeenheten (Norr)"
    districts = unit_districts(CITY)
    for key, _ in groups:
        assert len({districts[u] for u in key.split("+")}) == 1


def test_a_district_whose_units_stay_below_k_together_keeps_its_small_group():
    """North's two units have 3 people together: they stay one group below k (suppressed),
    never topped up with people of South, whose units are each large enough."""
    question = CITY.question("unit")
    sizes = {"u1": 1, "u2": 2, "u3": 10, "u4": 10, "u5": 0}
    plain, _ = recode(question, sizes, 5)
    assert plain["u1"] == plain["u3"]  # plain recoding borrows South's people
    mapping, groups = recode(question, sizes, 5, within=unit_districts(CITY))
    assert mapping["u1"] == mapping["u2"] == "u1+u2"
    assert (mapping["u3"], mapping["u4"]) == ("u3", "u4")
    assert [key for key, _ in groups] == ["u1+u2", "u3", "u4", "u5"]


def test_recoding_inside_every_district_of_many_random_cities():
    """Whatever the sizes, no published unit group spans two districts, and a group below k
    is left only when its whole district is below k."""
    import random

    rng = random.Random(22)
    question = CITY.question("unit")
    districts = unit_districts(CITY)
    for _ in range(300):
        sizes = {u: rng.choice((0, 0, 1, 2, 3, 4, 5, 7, 12)) for u in districts}
        mapping, groups = recode(question, sizes, 5, within=districts)
        for key, _ in groups:
            members = key.split("+")
            assert len({districts[u] for u in members}) == 1, (sizes, key)
            size = sum(sizes[u] for u in members)
            district_size = sum(
                n for u, n in sizes.items() if districts[u] == districts[members[0]]
            )
            if 0 < size < 5:
                # Merging stops below k only at the district's one group with people.
                assert size == district_size, (sizes, key)
        assert set(mapping) == set(districts)


# -- the report --------------------------------------------------------------------------------


def test_a_city_report_is_broken_down_by_district_first():
    report = report_of(people({"u1": 6, "u2": 6, "u3": 7, "u4": 0, "u5": 8}, exp_threats="once"))
    assert BREAKDOWNS[:2] == (ALL, DISTRICT)
    assert report.breakdowns[:3] == (ALL, DISTRICT, "role")
    assert UNIT in report.breakdowns
    by_district = rows(report, "threatened", DISTRICT)
    assert list(by_district) == ["d1", "d2", "d3"]
    assert (by_district["d1"].n, by_district["d2"].n, by_district["d3"].n) == (12, 7, 8)
    assert by_district["d1"].label.sv == "Norr"
    assert report.groups_of[DISTRICT] == {"d1": "d1", "d2": "d2", "d3": "d3"}
    # The district question itself keeps its one all-respondents table.
    assert set(next(t for t in report.questions if t.key == "district").breakdowns) == {ALL}
    # Every unit group lies in one published district: the nesting the engine receives.
    assert report.nesting == {UNIT: {"u1": "d1", "u2": "d1", "u3": "d2", "u4": "d2", "u5": "d3"}}


def test_small_units_merge_inside_their_district_and_small_districts_merge_globally():
    """West (2 people) is below k: districts are recoded like any breakdown, so it is merged
    with the smallest other district; its unit stays its own group below k (suppressed),
    and the nesting names the merged district group."""
    report = report_of(people({"u1": 3, "u2": 9, "u3": 4, "u4": 6, "u5": 2}))
    by_district = rows(report, "exp_threats", DISTRICT)
    assert list(by_district) == ["d1", "d2+d3"]
    assert by_district["d2+d3"].n == 12
    by_unit = rows(report, "exp_threats", UNIT)
    assert list(by_unit) == ["u1+u2", "u3+u4", "u5"]
    assert by_unit["u5"].suppressed
    assert all(c.count is None and c.band is None for c in by_unit["u5"].cells)
    assert report.nesting == {UNIT: {"u1+u2": "d1", "u3+u4": "d2+d3", "u5": "d2+d3"}}


def test_the_report_passes_the_nesting_to_the_disclosure_engine(monkeypatch):
    seen = {}
    derive = linked.derive

    def spy(definition, marginals, breakdowns, k, **options):
        seen.update(options, breakdowns=tuple(breakdowns))
        return derive(definition, marginals, breakdowns, k, **options)

    monkeypatch.setattr(linked, "derive", spy)
    report = report_of(people({"u1": 6, "u2": 6, "u3": 7, "u4": 5, "u5": 8}))
    assert seen["nesting"] == report.nesting
    assert DISTRICT in seen["breakdowns"]


def test_a_survey_without_districts_has_no_district_breakdown_and_no_nesting():
    form = complete_answers(STAFF)
    answers = validate(STAFF, {k: [v] for k, v in form.items()})
    report = build(STAFF, counts_from_answers(STAFF, [answers] * 6), k=5, survey_meta=META)
    assert DISTRICT not in report.breakdowns
    assert report.nesting == {}
    assert DISTRICT not in report.groups_of


def test_a_unit_given_without_its_district_counts_in_the_unit_only():
    """ "Prefer not to say" for the district (allowed with any unit) leaves the respondent out
    of the district table, as "prefer not to say" does in every breakdown."""
    responses = people({"u1": 6, "u3": 6})
    responses += [respondent("na", "u1") for _ in range(2)]
    report = report_of(responses)
    assert rows(report, "exp_threats", DISTRICT)["d1"].n == 6
    assert rows(report, "exp_threats", UNIT)["u1"].n == 8
    assert rows(report, "exp_threats", ALL)[ALL].n == 14


def test_a_district_figure_that_would_give_its_units_away_is_hidden(monkeypatch):
    """North: 6 of 12 threatened, all 6 in one unit. The other unit's share is published as
    a range ("<20 %") and the first is not published exactly (these answers, the same for
    everyone in a unit, leave its band ">80 %" no witness, so it is hidden); North's exact
    6 would then say "(almost) all of one unit, none of the other". With the nesting the
    engine hides it; without, it would publish it (the attack)."""
    responses = people({"u1": 6}, exp_threats="once") + people({"u2": 6, "u5": 6})
    responses += people({"u3": 6}, exp_threats="2to5")
    counts = counts_from_answers(CITY, responses)
    report = build(CITY, counts, k=5, survey_meta=META)
    units = rows(report, "threatened", UNIT)
    assert units["u1"].cells[0].count is None
    assert units["u2"].cells[0].band == ("<", 20)
    north = rows(report, "threatened", DISTRICT)["d1"].cells[0]
    assert north.count is None
    assert north.band is None
    derive = linked.derive
    monkeypatch.setattr(
        linked, "derive", lambda d, m, b, k, nesting=None: derive(d, m, b, k, nesting=None)
    )
    blind = build(CITY, counts, k=5, survey_meta=META)
    assert rows(blind, "threatened", DISTRICT)["d1"].cells[0].count == 6


def test_districts_merged_into_one_group_leave_no_district_breakdown_and_no_nesting():
    """Every district but one below k: the districts merge into one group, which says
    nothing, so the district breakdown is left out, and with it the nesting; the units are
    still recoded inside their districts."""
    report = report_of(people({"u1": 6, "u2": 6, "u3": 2, "u5": 1}))
    assert DISTRICT not in report.breakdowns
    assert report.nesting == {}
    units = rows(report, "exp_threats", UNIT)
    assert list(units) == ["u1", "u2", "u3", "u4", "u5"]  # u3 and u5: alone in their district
    assert units["u3"].suppressed
    assert units["u5"].suppressed
