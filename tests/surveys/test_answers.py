"""Validating submitted forms against a definition."""

from __future__ import annotations

import pytest

from surveys.answers import (
    CHOOSE_IN_ROWS,
    CHOOSE_ONE,
    FieldError,
    InvalidAnswers,
    error_summary,
    raw_values,
    validate,
)
from surveys.definition import load_template
from tests.factories import complete_answers

STAFF = load_template("staff_threats")
EXIT = load_template("exit")
# The rows of the "how often have you experienced …" matrix (listed in test_definition).
EXP_KEYS = [item.key for item in STAFF.question("exp").items]


def form(**values):
    """A form as the web layer passes it: every value a list of strings."""
    return {k: v if isinstance(v, list) else [v] for k, v in values.items()}


def errors_of(definition, data):
    with pytest.raises(InvalidAnswers) as info:
        validate(definition, data)
    return {e.item: e for e in info.value.errors}


def test_complete_answers_validate():
    answers = validate(STAFF, form(**complete_answers(STAFF)))
    assert answers.choices["exp_threats"] == ("never",)
    assert answers.choices["role"] == ("ss_children",)
    # Nobody was exposed, so no follow-up question is stored.
    assert "aim" not in answers.choices
    assert answers.dimension_values(STAFF) == {
        "role": "ss_children",
        "unit": "children",
        "years": "lt2",
    }


def test_required_items_are_reported_in_page_order():
    errors = errors_of(STAFF, {})
    keys = list(errors)
    assert len(EXP_KEYS) == 8
    assert keys[:8] == EXP_KEYS
    assert {"role", "unit", "years"} <= set(keys)
    assert errors["role"].message == "Choose one of the options."


def test_error_summary_names_a_matrix_once_for_its_unanswered_rows():
    with pytest.raises(InvalidAnswers) as info:
        validate(STAFF, {})
    lines = error_summary(STAFF, info.value.errors)
    assert [line.item for line in lines] == ["exp_harassment", "role", "unit", "years"]
    matrix = lines[0]
    assert matrix.label == STAFF.question("exp").text
    assert matrix.error.message == CHOOSE_IN_ROWS
    assert [key for key, _ in matrix.rows] == EXP_KEYS
    assert matrix.rows[1][1] == STAFF.item("exp_threats").row.label
    assert lines[1].label.en == STAFF.item("role").label("en")
    assert lines[1].error.message == CHOOSE_ONE


def test_error_summary_keeps_a_single_row_and_other_errors_as_they_are():
    data = form(**complete_answers(STAFF))
    del data["exp_violence"]
    data["exp_damage"] = ["nonsense"]
    data["exp_online"] = []
    with pytest.raises(InvalidAnswers) as info:
        validate(STAFF, data)
    lines = error_summary(STAFF, info.value.errors)
    assert [line.item for line in lines] == ["exp_violence", "exp_damage", "exp_online"]
    violence = STAFF.item("exp_violence")
    assert lines[0].label.sv == violence.label("sv")
    assert lines[0].error == FieldError("exp_violence", CHOOSE_ONE)
    # A different problem between two unanswered rows keeps them apart.
    assert lines[1].error.message != CHOOSE_ONE
    assert lines[2].error == FieldError("exp_online", CHOOSE_ONE)
    assert all(line.rows == () for line in lines)


def test_prefer_not_to_say_satisfies_a_required_question():
    answers = validate(STAFF, form(**complete_answers(STAFF, role="na")))
    assert answers.choices["role"] == ("na",)
    assert answers.dimension_values(STAFF)["role"] == "na"


def test_unknown_option_is_an_error():
    errors = errors_of(STAFF, form(**complete_answers(STAFF, worry="sometimes'; DROP TABLE")))
    assert "not one of the options" in errors["worry"].message


def test_two_values_for_a_single_choice_is_an_error():
    errors = errors_of(STAFF, form(**complete_answers(STAFF, worry=["never", "often"])))
    assert errors["worry"].message == "Choose only one option."


def test_condition_met_shows_follow_up_questions():
    data = complete_answers(
        STAFF, exp_threats="once", aim="some", police="some", police_by=["me", "employer"]
    )
    answers = validate(STAFF, form(**data))
    assert answers.choices["aim"] == ("some",)
    assert answers.choices["police_by"] == ("me", "employer")


def test_answers_to_hidden_questions_are_dropped():
    # Without JavaScript the follow-ups are on the page; unexposed answers are ignored.
    data = complete_answers(STAFF, aim="all", police="all", police_by=["me"])
    answers = validate(STAFF, form(**data))
    assert "aim" not in answers.choices
    assert "police_by" not in answers.choices


def test_chained_condition_hidden_when_its_parent_is_hidden():
    data = complete_answers(STAFF, exp_threats="once", police="none", police_by=["me"])
    answers = validate(STAFF, form(**data))
    assert answers.choices["police"] == ("none",)
    assert "police_by" not in answers.choices


def test_multiple_choice_keeps_definition_order_and_refuses_duplicates():
    data = complete_answers(STAFF, exp_threats="2to5", where=["phone", "office"])
    assert validate(STAFF, form(**data)).choices["where"] == ("office", "phone")
    errors = errors_of(
        STAFF, form(**complete_answers(STAFF, exp_threats="once", where=["phone", "phone"]))
    )
    assert "twice" in errors["where"].message


def test_exclusive_option_cannot_be_combined():
    data = complete_answers(STAFF, exp_threats="once", support=["none", "manager"])
    errors = errors_of(STAFF, form(**data))
    assert "cannot be combined" in errors["support"].message
    assert errors["support"].params["option"].get("sv") == "Inget stöd"


def test_max_choices():
    data = complete_answers(EXIT, reasons=["pay", "workload", "stress", "hours"])
    errors = errors_of(EXIT, form(**data))
    assert errors["reasons"].params == {"max": 3}
    ok = validate(EXIT, form(**complete_answers(EXIT, reasons=["pay", "workload", "stress"])))
    assert ok.choices["reasons"] == ("pay", "workload", "stress")


def test_free_text_is_cleaned_and_redacted():
    data = complete_answers(STAFF, suggestions="  Ring mig på 070-123 45 67\r\n<b>tack</b> ")
    answers = validate(STAFF, form(**data))
    text = answers.texts["suggestions"]
    assert "070" not in text
    assert "[telefonnummer]" in text
    assert "<b>tack</b>" in text  # stored as typed; escaped on output


def test_oversized_text_is_refused_with_its_length():
    data = complete_answers(STAFF, suggestions="a" * 2001)
    errors = errors_of(STAFF, form(**data))
    assert errors["suggestions"].params == {"length": 2001, "max": 2000}


def test_blank_text_is_no_answer():
    answers = validate(STAFF, form(**complete_answers(STAFF, suggestions="   \n ")))
    assert "suggestions" not in answers.texts


def test_raw_values_keep_what_was_typed():
    data = form(**complete_answers(STAFF, suggestions="x" * 3000, where=["phone"]))
    data["unknown_field"] = ["boo"]
    values = raw_values(data, STAFF)
    assert values["suggestions"] == "x" * 3000
    assert values["where"] == ["phone"]
    assert "unknown_field" not in values


def test_unknown_fields_are_ignored():
    data = form(**complete_answers(STAFF), csrf_token="t", form_token="f", evil="x")
    assert validate(STAFF, data).choices["exp_threats"] == ("never",)


def test_non_string_values_are_ignored():
    data = form(**complete_answers(STAFF))
    data["worry"] = [None]  # type: ignore[list-item]
    assert "worry" not in validate(STAFF, data).choices


@pytest.fixture
def numbers_definition(tmp_path):
    from surveys.definition import load_file
    from tests.surveys.test_definition import MINIMAL, write

    return load_file(write(tmp_path, MINIMAL))


BASE = {"exp_threats": ["never"], "exp_violence": ["never"], "role": ["manager"]}


@pytest.mark.parametrize(("typed", "value"), [("42", 42), (" 18 ", 18), ("7\u00a00", 70)])
def test_numbers(numbers_definition, typed, value):
    answers = validate(numbers_definition, {**BASE, "age": [typed]})
    assert answers.numbers["age"] == value


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("17", "from %(min)d to %(max)d"),
        ("71", "from %(min)d to %(max)d"),
        ("4.5", "whole number"),
        ("tjugo", "whole number"),
        ("9" * 40, "whole number"),
    ],
)
def test_bad_numbers(numbers_definition, typed, message):
    errors = errors_of(numbers_definition, {**BASE, "age": [typed]})
    assert message in errors["age"].message
