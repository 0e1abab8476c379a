"""HR's customisation of a template: validation paths and the definition it produces."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from surveys import indicators
from surveys.customise import (
    MAX_LOCAL_QUESTIONS,
    Customisation,
    CustomisationError,
    LocalQuestion,
    Role,
    apply,
    next_local_key,
    raw_texts,
    template_roles,
    why_fixed,
    with_role_keys,
    wording_changed,
)
from surveys.definition import DefinitionError, Text, from_data, load_template


@pytest.fixture(scope="module")
def staff():
    return load_template("staff_threats")


def _errors(template, custom) -> dict:
    with pytest.raises(CustomisationError) as caught:
        apply(template, custom)
    return caught.value.errors


def test_no_customisation_is_the_template(staff):
    assert apply(staff, Customisation()).to_data() == staff.to_data()


def test_switching_off_an_optional_question_removes_it(staff):
    result = apply(staff, Customisation(switched_off=("decision", "worry")))
    assert result.question("decision") is None
    assert result.question("worry") is None
    assert result.switched_off == ("decision", "worry")
    assert result.question("aim") is not None


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("police", "Other questions are shown depending on the answer to this one."),
        ("exp", "Other questions are shown depending on the answer to this one."),
        ("role", "The reports are broken down by this question, so it is always asked."),
        ("years", "The reports are broken down by this question, so it is always asked."),
        ("aim", "The template asks this question in every survey."),
    ],
)
def test_a_question_others_need_cannot_be_switched_off(staff, key, reason):
    assert why_fixed(staff, staff.question(key)) == reason
    assert _errors(staff, Customisation(switched_off=(key,))) == {f"off.{key}": (reason, {})}


def test_the_template_cannot_mark_a_question_optional_that_another_depends_on(staff):
    data = staff.to_data()
    police = next(q for s in data["sections"] for q in s["questions"] if q["key"] == "police")
    police["optional"] = True
    with pytest.raises(DefinitionError, match="police_by"):
        from_data(data)


def test_the_template_cannot_mark_a_dimension_optional(staff):
    data = staff.to_data()
    role = next(q for s in data["sections"] for q in s["questions"] if q["key"] == "role")
    role["optional"] = True
    with pytest.raises(DefinitionError, match="dimension question cannot be optional"):
        from_data(data)


def test_indicators_of_a_switched_off_question_are_left_out_with_their_reason(staff):
    full = {i.key for i in indicators.indicators(staff)}
    result = apply(staff, Customisation(switched_off=("decision", "leave")))
    kept = {i.key for i in indicators.indicators(result)}
    left = {i.key for i in indicators.left_out(result)}
    assert (
        left
        == full - kept
        == {
            "decision_affected",
            "considered_leaving",
            "considered_leaving_workplace",
        }
    )
    assert indicators.left_out(staff) == ()


def test_wording_is_changed_and_keys_stay(staff):
    custom = Customisation(
        texts={
            "aim": Text("Var syftet att påverka?", "Was the aim to influence?"),
            "aim.option.all": Text("Alltid", "Always"),
            "exp.row.threats": Text("Hot", "Threats"),
            "routines.option.5": Text("5 – Helt", "5 – Fully"),
        }
    )
    result = apply(staff, custom)
    aim = result.question("aim")
    assert aim.text.en == "Was the aim to influence?"
    assert aim.option("all").label.sv == "Alltid"
    assert [o.key for o in aim.options] == [o.key for o in staff.question("aim").options]
    assert result.item("exp_threats").row.label.en == "Threats"
    # The shared scale is copied for the edited question only.
    assert result.question("routines").option("5").label.en == "5 – Fully"
    # Option labels are not the question's wording; the trend notes question and row changes.
    assert wording_changed(staff, result) == ("exp_threats", "aim")


@pytest.mark.parametrize(
    ("texts", "field", "message"),
    [
        ({"aim": Text("", "x")}, "aim.sv", "Enter the text in both languages."),
        ({"aim": Text("x" * 501, "x")}, "aim.sv", "At most %(max)d characters."),
        ({"nope": Text("a", "b")}, "nope", "There is no such text in the template."),
        (
            {"years.option.lt2": Text("a", "b")},
            "years.option.lt2",
            "There is no such text in the template.",
        ),
        (
            {"aim": Text("Om {kia}", "x")},
            "aim.sv",
            "Unknown placeholder {%(name)s}: only {incident_system} can be used.",
        ),
    ],
)
def test_bad_wording_is_refused_beside_its_field(staff, texts, field, message):
    errors = _errors(staff, Customisation(texts=texts))
    assert errors[field][0] == message


def test_the_incident_system_is_renamed_in_one_place(staff):
    result = apply(staff, Customisation(variables={"incident_system": Text("KIA", "KIA")}))
    assert "KIA" in result.question("ia").text.sv
    assert "KIA" in result.question("ia_feedback").text.en
    assert "IA" not in result.question("ia").text.sv.replace("KIA", "")
    # Frozen with the variable: a reload gives the same texts.
    assert from_data(result.to_data()).question("ia").text == result.question("ia").text


def test_a_variable_with_braces_is_refused(staff):
    errors = _errors(staff, Customisation(variables={"incident_system": Text("{x}", "x")}))
    assert "variable.incident_system" in errors


def test_roles_are_renamed_reordered_and_added_with_stable_keys(staff):
    roles = (
        Role("ss_adults", "Socialsekreterare vuxna", "Social worker, adults", 12),
        Role("ss_children", "Socialsekreterare barn", ""),
        Role(None, "Familjebehandlare", "Family therapist", 4),
    )
    custom = with_role_keys(staff, Customisation(roles=roles))
    assert [r.key for r in custom.roles] == ["ss_adults", "ss_children", "r1"]
    result = apply(staff, custom)
    options = result.question("role").options
    assert [o.key for o in options] == ["ss_adults", "ss_children", "r1", "na"]
    assert options[1].label.en == "Socialsekreterare barn"
    assert options[-1].prefer_not
    # The next new role gets the next free key, never one in use.
    again = with_role_keys(staff, Customisation(roles=(*custom.roles, Role(None, "Chef"))))
    assert again.roles[-1].key == "r2"


@pytest.mark.parametrize(
    "roles",
    [
        (Role(None, "Chef"), Role(None, "chef")),
        (Role("na", "Vill inte"),),
        (Role(None, "A", invited=0),),
        (Role(None, ""),),
    ],
)
def test_bad_roles_are_refused(staff, roles):
    assert "roles" in _errors(staff, with_role_keys(staff, Customisation(roles=roles)))


def test_template_roles(staff):
    assert [r.key for r in template_roles(staff)][:2] == ["ss_children", "ss_adults"]


def _local(key="local_1", qtype="single", options=("Ja|Yes", "Nej|No"), section="safety"):
    return LocalQuestion(
        key=key,
        section=section,
        type=qtype,
        text=Text("Lokal fråga?", "Local question?"),
        note=Text("En <b>not</b>", "A <b>note</b>"),
        options=tuple(Text(*o.split("|")) for o in options),
    )


@pytest.mark.parametrize("qtype", ["single", "multiple", "agreement", "yesno", "text"])
def test_local_questions_are_ordinary_items_at_the_end_of_their_section(staff, qtype):
    options = ("Ja|Yes", "Nej|No") if qtype in ("single", "multiple") else ()
    result = apply(staff, Customisation(local=(_local(qtype=qtype, options=options),)))
    section = next(s for s in result.sections if s.key == "safety")
    question = section.questions[-1]
    assert question.key == "local_1"
    assert question.note.en == "A <b>note</b>"
    assert result.item("local_1") is not None
    if qtype in ("single", "multiple", "agreement", "yesno"):
        assert question.options
    if qtype in ("single", "multiple", "yesno"):
        assert question.options[-1].prefer_not


@pytest.mark.parametrize(
    ("local", "field"),
    [
        (_local(options=("Ja|Yes",)), "local.local_1.options"),
        (_local(options=("Ja|Yes", "Ja|No")), "local.local_1.options"),
        (_local(options=("Ja|", "Nej|No")), "local.local_1.options"),
        (_local(qtype="text"), "local.local_1.options"),
        (_local(qtype="number"), "local.local_1.type"),
        (_local(section="nowhere"), "local.local_1.section"),
        (_local(key="exp"), "local.exp"),
    ],
)
def test_bad_local_questions_are_refused(staff, local, field):
    assert field in _errors(staff, Customisation(local=(local,)))


def _keyed(qtype: str, key_options: tuple[int, ...], options=("Ja|Yes", "Nej|No", "Vet ej|DK")):
    local = _local(qtype=qtype, options=options if qtype in ("single", "multiple") else ())
    return replace(local, key_options=key_options)


@pytest.mark.parametrize(
    ("qtype", "key_options", "values", "label"),
    [
        ("single", (1,), ["o1"], ("Ja", "Yes")),
        ("single", (1, 3), ["o1", "o3"], ("Ja eller Vet ej", "Yes or DK")),
        ("multiple", (2,), ["o2"], ("Nej", "No")),
    ],
)
def test_hr_chooses_the_options_of_a_local_questions_key_figure(
    staff, qtype, key_options, values, label
):
    custom = Customisation(local=(_keyed(qtype, key_options),))
    figure = apply(staff, custom).question("local_1").key_figure  # no CustomisationError
    assert list(figure.values) == values
    assert (figure.label.sv, figure.label.en) == label
    assert Customisation.from_data(custom.to_data()) == custom


def test_without_a_choice_hr_s_own_options_are_for_all_staff_only(staff):
    for qtype in ("single", "multiple"):
        custom = Customisation(local=(_keyed(qtype, ()),))
        assert apply(staff, custom).question("local_1").key_figure is None


@pytest.mark.parametrize(
    ("qtype", "key_options", "message"),
    [
        ("single", (0,), "between 1 and 3"),
        ("single", (4,), "between 1 and 3"),
        ("single", (1, 1), "between 1 and 3"),
        ("single", (1, 2, 3), "always counts everyone"),
        ("multiple", (1, 2), "one option"),
        ("agreement", (1,), "Only a single or multiple choice"),
        ("yesno", (1,), "Only a single or multiple choice"),
    ],
)
def test_bad_key_options_are_refused_with_the_reason(staff, qtype, key_options, message):
    errors = _errors(staff, Customisation(local=(_keyed(qtype, key_options),)))
    msgid, params = errors["local.local_1.key_options"]
    assert message in msgid % params


def test_a_duplicated_local_key_is_refused(staff):
    errors = _errors(staff, Customisation(local=(_local(), _local())))
    assert errors["local"][0] == "A local question is listed twice."


def test_a_duplicated_key_in_a_template_is_refused(staff):
    data = staff.to_data()
    questions = data["sections"][-1]["questions"]
    questions.append(copy.deepcopy(questions[-1]))
    with pytest.raises(DefinitionError, match="used twice"):
        from_data(data)


def test_at_most_a_few_local_questions(staff):
    local = tuple(_local(key=f"local_{i}") for i in range(1, MAX_LOCAL_QUESTIONS + 2))
    assert "local" in _errors(staff, Customisation(local=local))


def test_next_local_key():
    assert next_local_key(Customisation()) == "local_1"
    assert next_local_key(Customisation(local=(_local(key="local_3"),))) == "local_4"


def test_customisation_round_trips_as_data(staff):
    custom = with_role_keys(
        staff,
        Customisation(
            switched_off=("worry",),
            texts={"aim": Text("a", "b")},
            variables={"incident_system": Text("KIA", "KIA")},
            intro=Text("<p>Hej</p>", "<p>Hi</p>"),
            roles=(Role(None, "A", "A", 3),),
            local=(_local(),),
        ),
    )
    assert Customisation.from_data(custom.to_data()) == custom
    assert apply(staff, Customisation.from_data(custom.to_data())).intro.en == "<p>Hi</p>"


def test_raw_texts_keep_the_variable_unexpanded(staff):
    texts = raw_texts(staff)
    assert "{incident_system}" in texts["ia"].sv
    assert "role" not in texts
    assert "unit" not in texts
    # Years in the profession stays as it is: its groups make surveys comparable.
    assert not [name for name in texts if name.startswith("years")]
    assert "exp.row.threats" in texts


def test_exit_template_customises_too():
    exit_ = load_template("exit")
    local = (_local(section="workplace"),)
    result = apply(exit_, Customisation(switched_off=("recommend",), local=local))
    assert result.question("recommend") is None
    assert result.question("local_1") is not None
