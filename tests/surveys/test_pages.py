"""The survey form in pages: which sections are pages, moving between them, what is carried."""

from __future__ import annotations

import pytest

from surveys import pages
from surveys.answers import FieldError
from surveys.definition import load_template

STAFF = load_template("staff_threats")
EXIT = load_template("exit")
NEVER = {item.key: "never" for item in STAFF.question("exp").items}


def test_an_unexposed_respondent_gets_no_follow_up_pages():
    assert pages.page_keys(STAFF, {}) == ["experiences", "safety", "background", "summary"]
    assert pages.page_keys(STAFF, NEVER) == ["experiences", "safety", "background", "summary"]


def test_an_exposed_respondent_gets_them_in_order():
    exposed = NEVER | {"exp_online": "more5"}
    assert pages.page_keys(STAFF, exposed) == [
        "experiences",
        "incidents",
        "followup",
        "safety",
        "background",
        "summary",
    ]
    # "Prefer not to say" is no exposure.
    assert "incidents" not in pages.page_keys(STAFF, NEVER | {"exp_threats": "na"})


def test_next_and_back_follow_the_pages_for_the_answers_given():
    exposed = NEVER | {"exp_threats": "once"}
    assert pages.next_page(STAFF, exposed, "experiences") == "incidents"
    assert pages.next_page(STAFF, NEVER, "experiences") == "safety"
    assert pages.previous_page(STAFF, exposed, "safety") == "followup"
    assert pages.previous_page(STAFF, NEVER, "safety") == "experiences"
    assert pages.previous_page(STAFF, NEVER, "experiences") == "experiences"
    assert pages.next_page(STAFF, NEVER, "background") == "summary"
    assert pages.next_page(STAFF, NEVER, "summary") == "summary"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("followup", "experiences"),  # vanished: back to the page before it
        ("incidents", "experiences"),
        ("nonsense", "experiences"),
        ("", "experiences"),
        ("background", "background"),
    ],
)
def test_a_page_that_does_not_apply_falls_back_to_the_one_before(requested, expected):
    assert pages.current_page(STAFF, NEVER, requested) == expected


def test_the_answers_of_other_pages_are_carried_and_this_pages_are_not():
    values = NEVER | {"exp_threats": "once", "where": ["office", "phone"], "suggestions": "x"}
    carried = pages.carried(STAFF, values, "incidents")
    assert ("exp_threats", "once") in carried
    assert ("suggestions", "x") in carried
    assert not any(name == "where" for name, _ in carried)
    assert ("where", "office") in pages.carried(STAFF, values, "safety")
    assert ("where", "phone") in pages.carried(STAFF, values, "safety")


def test_errors_belong_to_their_page():
    errors = [FieldError("exp_threats", "x"), FieldError("role", "y")]
    assert pages.errors_on(STAFF, "experiences", errors) == (errors[0],)
    assert pages.errors_on(STAFF, "background", errors) == (errors[1],)
    assert pages.first_page_with_error(STAFF, NEVER, errors[1:]) == "background"


def test_the_summary_lists_visible_questions_with_their_answer_labels():
    values = NEVER | {"worry": "often", "suggestions": "Fler larm", "role": "manager"}
    summary = pages.summary(STAFF, values)
    assert [s.key for s in summary] == ["experiences", "safety", "background"]
    shown = {line.item.key: line.answers for s in summary for line in s.answers}
    assert shown["worry"][0].sv == "Ofta"
    assert shown["suggestions"] == ("Fler larm",)
    assert shown["years"] == ()
    assert "aim" not in shown


def test_the_exposure_section_is_where_other_questions_depend():
    assert pages.exposure_section(STAFF) == "experiences"
    assert pages.exposure_section(EXIT) == next(
        s.key for s in EXIT.sections if any(q.key == "exposed" for q in s.questions)
    )
