"""Loading and validating survey definitions."""

from __future__ import annotations

import json
import textwrap

import pytest

from surveys.definition import (
    DefinitionError,
    available_templates,
    from_data,
    iter_visible,
    load_file,
    load_template,
    with_units,
)

MINIMAL = """
key = "mini"
kind = "staff"
version = 1
title = { sv = "Enkät", en = "Survey" }
intro = { sv = "Hej.", en = "Hello." }

[scales.F]
options = [
  { key = "never", sv = "Aldrig", en = "Never" },
  { key = "once", sv = "En gång", en = "Once" },
  { key = "na", sv = "Vill inte uppge", en = "Prefer not to say" },
]

[[sections]]
key = "main"
title = { sv = "Frågor", en = "Questions" }

[[sections.questions]]
key = "exp"
type = "matrix"
scale = "F"
required = true
text = { sv = "Hur ofta?", en = "How often?" }
rows = [
  { key = "threats", sv = "Hot", en = "Threats" },
  { key = "violence", sv = "Våld", en = "Violence" },
]

[[sections.questions]]
key = "police"
type = "single"
text = { sv = "Polis?", en = "Police?" }
options = [
  { key = "all", sv = "Alla", en = "All" },
  { key = "none", sv = "Inga", en = "None" },
]
show_if = { question = "exp", values = ["once"] }

[[sections.questions]]
key = "police_by"
type = "multiple"
text = { sv = "Vem?", en = "Who?" }
options = [
  { key = "me", sv = "Jag", en = "Me" },
  { key = "nobody", sv = "Ingen", en = "Nobody", exclusive = true },
]
show_if = { question = "police", values = ["all"] }

[[sections.questions]]
key = "age"
type = "number"
min = 18
max = 70
text = { sv = "Ålder", en = "Age" }

[[sections.questions]]
key = "comment"
type = "text"
max_length = 100
text = { sv = "Kommentar", en = "Comment" }

[[sections.questions]]
key = "role"
type = "single"
dimension = "role"
required = true
text = { sv = "Roll", en = "Role" }
options = [
  { key = "manager", sv = "Chef", en = "Manager" },
  { key = "na", sv = "Vill inte uppge", en = "Prefer not to say" },
]
"""


def write(tmp_path, text: str, name: str = "mini"):
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_minimal_definition_loads(tmp_path):
    definition = load_file(write(tmp_path, MINIMAL))
    assert definition.key == "mini"
    assert [i.key for i in definition.items()] == [
        "exp_threats",
        "exp_violence",
        "police",
        "police_by",
        "age",
        "comment",
        "role",
    ]
    assert definition.item("exp_threats").kind == "single"
    assert definition.item("police_by").kind == "multiple"
    assert definition.item("police_by").options[1].exclusive
    assert [q.key for q in definition.dimensions()] == ["role"]
    assert definition.title.get("en") == "Survey"
    assert definition.item("exp_violence").label("sv") == "Hur ofta? – Våld"


def test_frozen_data_round_trips_through_json(tmp_path):
    definition = load_file(write(tmp_path, MINIMAL))
    again = from_data(json.loads(json.dumps(definition.to_data())))
    assert again == definition


@pytest.mark.parametrize("name", ["staff_threats", "exit"])
def test_shipped_templates_load(name):
    definition = load_template(name)
    assert definition.key == name
    assert {q.dimension for q in definition.dimensions()} == {"role", "unit", "years"}
    for question in definition.dimensions():
        assert question.required
        assert question.option("na") is not None


def test_shipped_templates_are_listed():
    assert set(available_templates()) >= {"staff_threats", "exit"}


STAFF_ITEMS = [
    *(
        f"exp_{row}"
        for row in (
            "harassment",
            "threats",
            "violence",
            "damage",
            "online",
            "offers",
            "pressure",
            "selfharm",
        )
    ),
    "aim",
    "where",
    "who",
    "ia",
    "informed",
    "police",
    "police_by",
    "why_not",
    "support",
    "support_rating",
    "ia_feedback",
    "decision",
    "worry",
    "leave_workplace",
    "leave_profession",
    *(f"routines_{row}" for row in ("know", "trained", "alarm", "assessed", "serious")),
    "suggestions",
    "role",
    "unit",
    "years",
    "tenure",
    "authority",
]
EXIT_ITEMS = [
    "ending",
    "next",
    "main_reason",
    "reasons",
    "threat_role",
    *(f"exposed_{row}" for row in ("threats", "violence", "pressure", "family")),
    "exit_ia",
    "support_enough",
    "retention",
    "stay",
    "recommend",
    "return",
    "role",
    "unit",
    "years",
    "tenure",
]


@pytest.mark.parametrize(("name", "keys"), [("staff_threats", STAFF_ITEMS), ("exit", EXIT_ITEMS)])
def test_templates_have_the_question_bank_keys(name, keys):
    assert sorted(i.key for i in load_template(name).items()) == sorted(keys)


def test_staff_template_conditions_follow_the_question_bank():
    definition = load_template("staff_threats")
    exposed = {"once", "2to5", "more5"}
    for key in (
        "aim",
        "where",
        "who",
        "ia",
        "informed",
        "police",
        "support",
        "support_rating",
        "ia_feedback",
        "decision",
    ):
        condition = definition.question(key).condition
        assert condition.question == "exp"
        assert set(condition.values) == exposed
    assert definition.question("police_by").condition.question == "police"
    assert set(definition.question("police_by").condition.values) == {"all", "some"}
    assert set(definition.question("why_not").condition.values) == {"some", "none"}
    assert definition.question("worry").condition is None
    assert definition.question("reasons") is None
    assert load_template("exit").question("reasons").max_choices == 3


def test_conditions_chain(tmp_path):
    definition = load_file(write(tmp_path, MINIMAL))

    def visible(answers):
        return [q.key for q in iter_visible(definition, answers)]

    assert "police" not in visible({"exp_threats": ("never",)})
    assert "police" in visible({"exp_violence": ("once",)})
    assert "police_by" in visible({"exp_threats": ("once",), "police": ("all",)})
    # police_by depends on police, which is hidden: hidden too, whatever was sent.
    assert "police_by" not in visible({"exp_threats": ("never",), "police": ("all",)})


def test_with_units_replaces_the_unit_options():
    definition = with_units(load_template("staff_threats"), ["Norr", "Söder", " "])
    unit = definition.question("unit")
    assert [o.key for o in unit.options] == ["u1", "u2", "na"]
    assert unit.options[1].label.get("en") == "Söder"
    assert from_data(definition.to_data()) == definition


def test_with_units_refuses_duplicates():
    with pytest.raises(DefinitionError, match="twice"):
        with_units(load_template("staff_threats"), ["Norr", "norr"])


INVALID = [
    # (what to replace, replacement, expected message fragment, question named)
    ('kind = "staff"', 'kind = "weekly"', "kind must be one of", None),
    (
        'key = "police"\ntype = "single"',
        'key = "police"\ntype = "dropdown"',
        "type must be one of",
        "police",
    ),
    (
        'text = { sv = "Polis?", en = "Police?" }',
        'text = { sv = "Polis?" }',
        "no en text",
        "police",
    ),
    (
        '{ key = "none", sv = "Inga", en = "None" },',
        '{ key = "all", sv = "Inga", en = "None" },',
        "repeats the key",
        "police",
    ),
    (
        'show_if = { question = "exp", values = ["once"] }',
        'show_if = { question = "exp", values = ["sometimes"] }',
        "not options of",
        "police",
    ),
    (
        'show_if = { question = "police", values = ["all"] }',
        'show_if = { question = "role", values = ["manager"] }',
        "not an earlier question",
        "police_by",
    ),
    ("min = 18\nmax = 70", "min = 18", "needs min and max", "age"),
    ("min = 18\nmax = 70", "min = 80\nmax = 70", "min is greater than max", "age"),
    ("max_length = 100", "max_length = 0", "max_length must be between", "comment"),
    (
        '{ key = "manager", sv = "Chef", en = "Manager" },\n'
        '  { key = "na", sv = "Vill inte uppge", en = "Prefer not to say" },',
        '{ key = "manager", sv = "Chef", en = "Manager" },',
        "must offer 'na'",
        "role",
    ),
    ('dimension = "role"\nrequired = true', 'dimension = "role"', "must be required", "role"),
    ('dimension = "role"', 'dimension = "age"', "dimension must be one of", "role"),
    ('scale = "F"\nrequired = true', 'scale = "G"\nrequired = true', "unknown scale", "exp"),
    ('key = "comment"', 'key = "police"', "used twice", "police"),
    (
        'key = "comment"',
        'key = "exp_threats"',
        "item key 'exp_threats' is used twice",
        "exp_threats",
    ),
    (
        'key = "age"\ntype = "number"',
        'key = "age"\ntype = "number"\ncolour = "red"',
        "unknown setting",
        "age",
    ),
    ('key = "comment"', 'key = "Com ment"', "lower-case", None),
    (
        '{ key = "nobody", sv = "Ingen", en = "Nobody", exclusive = true }',
        '{ key = "nobody", sv = "Ingen", en = "Nobody", exclusive = "yes" }',
        "true or false",
        "police_by",
    ),
]


KF = 'show_if = { question = "exp", values = ["once"] }'
KF_BY = 'show_if = { question = "police", values = ["all"] }'
INVALID += [
    (
        KF,
        KF + '\nkey_figure = { values = ["all", "none"], sv = "A", en = "A" }',
        "says nothing",
        "police",
    ),
    (KF, KF + '\nkey_figure = { values = ["some"], sv = "A", en = "A" }', "not options", "police"),
    (KF, KF + '\nkey_figure = { values = [], sv = "A", en = "A" }', "non-empty list", "police"),
    (KF, KF + '\nkey_figure = { values = ["all"], sv = "A" }', "no en text", "police"),
    (KF, KF + "\nkey_figure = true", "must be false or a table", "police"),
    (
        KF_BY,
        KF_BY + '\nkey_figure = { values = ["nobody"], sv = "A", en = "A" }',
        "exclusive",
        "police_by",
    ),
    (
        'dimension = "role"',
        'dimension = "role"\nkey_figure = { values = ["manager"], sv = "A", en = "A" }',
        "not a dimension",
        "role",
    ),
    (
        "max_length = 100",
        "max_length = 100\nkey_figure = false",
        "only a choice question",
        "comment",
    ),
]


@pytest.mark.parametrize(("old", "new", "message", "question"), INVALID)
def test_invalid_definitions_name_file_question_and_problem(tmp_path, old, new, message, question):
    text = textwrap.dedent(MINIMAL)
    assert old in text, old
    with pytest.raises(DefinitionError) as info:
        load_file(write(tmp_path, text.replace(old, new, 1)))
    error = info.value
    assert message in str(error)
    assert "mini.toml" in str(error)
    if question:
        assert f"question '{question}'" in str(error)


def test_invalid_toml_syntax(tmp_path):
    with pytest.raises(DefinitionError, match=r"mini\.toml: not valid TOML"):
        load_file(write(tmp_path, 'key = "mini'))


def test_key_must_match_file_name(tmp_path):
    with pytest.raises(DefinitionError, match="does not match the file name"):
        load_file(write(tmp_path, MINIMAL, name="other"))


def test_missing_file(tmp_path):
    with pytest.raises(DefinitionError, match="file not found"):
        load_file(tmp_path / "nothing.toml")


def test_unknown_template_name():
    with pytest.raises(DefinitionError):
        load_template("../etc/passwd")


def test_survey_without_sections(tmp_path):
    text = textwrap.dedent(MINIMAL)
    head = text[: text.index("[scales.F]")]
    with pytest.raises(DefinitionError, match="at least one"):
        load_file(write(tmp_path, head))


def test_key_figures_are_declared_per_question_with_a_default_for_yes_no(tmp_path):
    """What reports publish by group (IL3): a question's declared key options, shared by
    the rows of a matrix; ``false`` or no declaration: all staff only; a yes/no question
    without one: "yes". A multiple-choice key figure is one option, or every option but
    the exclusive ones (n less "nobody")."""
    text = textwrap.dedent(MINIMAL).replace(
        'text = { sv = "Hur ofta?", en = "How often?" }',
        'text = { sv = "Hur ofta?", en = "How often?" }\n'
        'key_figure = { values = ["once"], sv = "Minst en gång", en = "At least once" }',
    )
    text = text.replace(
        'show_if = { question = "police", values = ["all"] }',
        'show_if = { question = "police", values = ["all"] }\n'
        'key_figure = { values = ["me"], sv = "Jag", en = "Me" }',
    )
    text += textwrap.dedent("""
        [[sections.questions]]
        key = "alarm"
        type = "yesno"
        text = { sv = "Larm?", en = "Alarm?" }
    """)
    definition = load_file(write(tmp_path, text))
    for key in ("exp_threats", "exp_violence"):
        figure = definition.item(key).key_figure
        assert figure.values == ("once",)
        assert figure.label.sv == "Minst en gång"
    assert definition.item("police_by").key_figure.values == ("me",)
    assert definition.item("police").key_figure is None
    assert definition.item("alarm").key_figure.values == ("yes",)
    assert from_data(json.loads(json.dumps(definition.to_data()))) == definition
    off = load_file(
        write(
            tmp_path,
            text.replace(
                'text = { sv = "Larm?", en = "Alarm?" }',
                'text = { sv = "Larm?", en = "Alarm?" }\nkey_figure = false',
            ),
        )
    )
    assert off.item("alarm").key_figure is None


def test_every_choice_item_of_the_shipped_templates_has_a_decided_key_figure():
    """Each single and multiple choice question of both templates either declares its key
    figure or says ``key_figure = false`` (reported for all staff only): none is left to
    the default by accident. Dimension questions have none."""
    import tomllib

    from surveys.definition import TEMPLATE_DIR

    for name in ("staff_threats", "exit"):
        data = tomllib.loads((TEMPLATE_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        for section in data["sections"]:
            for question in section["questions"]:
                if question["type"] in ("number", "text") or "dimension" in question:
                    assert "key_figure" not in question, question["key"]
                else:
                    assert "key_figure" in question, (name, question["key"])


def test_a_definition_frozen_before_key_figures_takes_them_from_its_template():
    """A survey stored before templates declared key figures is reported by group as a new
    one: each question that still matches the template (type and options) takes the
    template's key figure; a changed one falls back to the default."""
    template = load_template("staff_threats")
    data = template.to_data()
    for section in data["sections"]:
        for question in section["questions"]:
            question.pop("key_figure", None)
            if question["key"] == "worry":
                question["options"] = question["options"][:-2] + question["options"][-1:]
    old = from_data(json.loads(json.dumps(data)))
    assert old.item("exp_threats").key_figure == template.item("exp_threats").key_figure
    assert old.item("support").key_figure == template.item("support").key_figure
    assert old.item("where").key_figure is None
    assert old.item("worry").key_figure is None  # its options differ from the template's
    assert template.item("worry").key_figure is not None
    # A definition that declares any key figure is taken as it is.
    data["sections"][0]["questions"][0]["key_figure"] = False
    assert from_data(data).item("aim").key_figure is None
