"""HR's customisation of a template for one survey, applied to a definition.

A customisation is plain data kept with a draft survey: the roles offered in
the role question, the optional questions switched off, new wording for any
question, option or matrix row (keys never change), the template variables
(the name of the incident system), the introduction, and a few local
questions added at the end of a chosen section. ``apply`` turns a template
definition and a customisation into the survey's definition, through the same
validation as a TOML template (``surveys.definition.from_data``): a
customised survey can never hold a definition the loader would refuse.

Problems are reported as ``CustomisationError`` with one (msgid, params) per
form field, so the page can show each message beside its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from surveys import N_
from surveys.definition import (
    KEY_PATTERN,
    PREFER_NOT,
    VARIABLE_PATTERN,
    Definition,
    DefinitionError,
    Question,
    Text,
    from_data,
)

MAX_LOCAL_QUESTIONS = 5
MAX_OPTIONS = 15
MAX_ROLES = 40
MAX_QUESTION_TEXT = 500
MAX_OPTION_TEXT = 200
MAX_NOTE = 2000
MAX_INTRO = 6000
LOCAL_PREFIX = "local_"
# The types HR can choose for a local question, and the definition type each becomes.
LOCAL_TYPES = {
    "single": "single",
    "multiple": "multiple",
    "agreement": "scale",
    "yesno": "yesno",
    "text": "text",
}
_AGREEMENT = (
    ("1", "1 – Instämmer inte alls", "1 – Strongly disagree"),
    ("2", "2", "2"),
    ("3", "3", "3"),
    ("4", "4", "4"),
    ("5", "5 – Instämmer helt", "5 – Strongly agree"),
    ("dk", "Vet ej", "Don't know"),
)
_PREFER_NOT = {"key": PREFER_NOT, "sv": "Vill inte uppge", "en": "Prefer not to say"}
# What reports publish of a local question by group (``definition.KeyFigure``): agreement,
# as for the template's agreement scales; a yes/no question's "yes" by default; for HR's
# own single and multiple choice options, the ones HR chose (``key_options``), since only
# HR knows what they mean; without a choice, all staff only.
_AGREEMENT_KEY_FIGURE = {"values": ["4", "5"], "sv": "Instämmer (4–5)", "en": "Agree (4–5)"}
_ROLE_KEY = re.compile(r"^r(\d+)$")

Errors = dict[str, tuple[str, dict[str, Any]]]


class CustomisationError(ValueError):
    """The customisation is invalid; ``errors`` maps a field name to its (msgid, params)."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{k}: {m % p if p else m}" for k, (m, p) in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Role:
    """One role as HR lists it; ``key`` is None for a role added now."""

    key: str | None
    sv: str
    en: str = ""
    invited: int | None = None


@dataclass(frozen=True)
class LocalQuestion:
    """A question HR adds at the end of a section."""

    key: str
    section: str
    type: str
    text: Text
    note: Text | None = None
    options: tuple[Text, ...] = ()
    # The options (numbered from 1) whose share is the question's key figure by group
    # (``definition.KeyFigure``); none: the question is reported for all staff only.
    key_options: tuple[int, ...] = ()


@dataclass(frozen=True)
class Customisation:
    """Everything HR changed in the template for one survey (empty: the template as it is).

    ``texts`` maps a text's field name to its new wording: ``aim`` (the
    question), ``aim.help``, ``aim.option.all``, ``exp.row.threats``.
    """

    switched_off: tuple[str, ...] = ()
    texts: Mapping[str, Text] = field(default_factory=dict)
    variables: Mapping[str, Text] = field(default_factory=dict)
    intro: Text | None = None
    roles: tuple[Role, ...] = ()
    local: tuple[LocalQuestion, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "switched_off": list(self.switched_off),
            "texts": {k: _text_data(v) for k, v in self.texts.items()},
            "variables": {k: _text_data(v) for k, v in self.variables.items()},
            "intro": _text_data(self.intro) if self.intro else None,
            "roles": [
                {"key": r.key, "sv": r.sv, "en": r.en, "invited": r.invited} for r in self.roles
            ],
            "local": [
                {
                    "key": q.key,
                    "section": q.section,
                    "type": q.type,
                    "text": _text_data(q.text),
                    "note": _text_data(q.note) if q.note else None,
                    "options": [_text_data(o) for o in q.options],
                    "key_options": list(q.key_options),
                }
                for q in self.local
            ],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Customisation:
        """Read what ``to_data`` wrote (None or an empty table: no customisation)."""
        if not data:
            return cls()
        return cls(
            switched_off=tuple(data.get("switched_off", ())),
            texts={k: _text(v) for k, v in data.get("texts", {}).items()},
            variables={k: _text(v) for k, v in data.get("variables", {}).items()},
            intro=_text(data["intro"]) if data.get("intro") else None,
            roles=tuple(
                Role(r.get("key"), r.get("sv", ""), r.get("en", ""), r.get("invited"))
                for r in data.get("roles", ())
            ),
            local=tuple(
                LocalQuestion(
                    key=q["key"],
                    section=q["section"],
                    type=q["type"],
                    text=_text(q["text"]),
                    note=_text(q["note"]) if q.get("note") else None,
                    options=tuple(_text(o) for o in q.get("options", ())),
                    key_options=tuple(int(i) for i in q.get("key_options", ())),
                )
                for q in data.get("local", ())
            ),
        )


def _text_data(text: Text) -> dict[str, str]:
    return {"sv": text.sv, "en": text.en}


def _text(value: Mapping[str, str]) -> Text:
    return Text(str(value.get("sv", "")), str(value.get("en", "")))


# -- what HR may change ---------------------------------------------------------------------


WHY_DIMENSION = N_("The reports are broken down by this question, so it is always asked.")
WHY_DEPENDED_ON = N_("Other questions are shown depending on the answer to this one.")
WHY_FIXED = N_("The template asks this question in every survey.")


def why_fixed(template: Definition, question: Question) -> str | None:
    """The msgid explaining why ``question`` cannot be switched off, or None if it can."""
    if question.dimension:
        return WHY_DIMENSION
    if template.dependents(question.key):
        return WHY_DEPENDED_ON
    if not question.optional:
        return WHY_FIXED
    return None


def raw_texts(template: Definition) -> dict[str, Text]:
    """Every editable text of the template by field name, as written (variables unexpanded)."""
    data = template.to_data()
    scales = data.get("scales", {})
    texts: dict[str, Text] = {}
    for section in data["sections"]:
        for q in section["questions"]:
            key = q["key"]
            if q.get("dimension"):
                # Roles and units are edited as lists; years in the profession is fixed.
                continue
            texts[key] = _text(q["text"])
            if "help" in q:
                texts[f"{key}.help"] = _text(q["help"])
            options = scales[q["scale"]]["options"] if "scale" in q else q.get("options", [])
            for o in options:
                texts[f"{key}.option.{o['key']}"] = _text(o)
            for r in q.get("rows", []):
                texts[f"{key}.row.{r['key']}"] = _text(r)
    return texts


def role_question(definition: Definition) -> Question | None:
    """The question that declares the role dimension, if any."""
    return next((q for q in definition.dimensions() if q.dimension == "role"), None)


def template_roles(definition: Definition) -> tuple[Role, ...]:
    """The roles of ``definition``'s role question (without "prefer not to say")."""
    question = role_question(definition)
    if question is None:
        return ()
    return tuple(Role(o.key, o.label.sv, o.label.en) for o in question.options if not o.prefer_not)


def with_role_keys(template: Definition, custom: Customisation) -> Customisation:
    """Give every role added now a key (``r1``, ``r2`` …) that no other role has.

    Keys are what answers store, so a role keeps its key while it is renamed
    or moved, and the trend comparison still finds it in the next survey.
    """
    used = {r.key for r in custom.roles if r.key} | {r.key for r in template_roles(template)}
    numbers = [int(m.group(1)) for k in used if k and (m := _ROLE_KEY.match(k))]
    following = max(numbers, default=0) + 1
    roles = []
    for role in custom.roles:
        if role.key is None and role.sv.strip():
            role = replace(role, key=f"r{following}")
            following += 1
        roles.append(role)
    return replace(custom, roles=tuple(roles))


def next_local_key(custom: Customisation) -> str:
    """The key for a new local question: ``local_<n>`` with n above every earlier one."""
    numbers = [int(q.key[len(LOCAL_PREFIX) :]) for q in custom.local]
    return f"{LOCAL_PREFIX}{max(numbers, default=0) + 1}"


# -- validation and application --------------------------------------------------------------


def check(template: Definition, custom: Customisation) -> None:
    """Raise CustomisationError naming each invalid field of ``custom``."""
    errors: Errors = {}
    variable_names = set(template.variables) | set(custom.variables)
    for key in custom.switched_off:
        question = template.question(key)
        if question is None:
            errors["switched_off"] = (N_("The question %(key)s does not exist."), {"key": key})
            continue
        reason = why_fixed(template, question)
        if reason is not None:
            errors[f"off.{key}"] = (reason, {})
    editable = raw_texts(template)
    for name, text in custom.texts.items():
        if name not in editable:
            errors[name] = (N_("There is no such text in the template."), {})
            continue
        limit = MAX_QUESTION_TEXT if "." not in name or name.endswith(".help") else MAX_OPTION_TEXT
        _check_text(errors, name, text, limit, variable_names)
    for name, text in custom.variables.items():
        if name not in template.variables:
            errors[f"variable.{name}"] = (N_("There is no such text in the template."), {})
        elif "{" in text.sv + text.en or "}" in text.sv + text.en:
            errors[f"variable.{name}"] = (N_("Braces { } cannot be used here."), {})
        else:
            _check_text(errors, f"variable.{name}", text, 60, set())
    if custom.intro is not None:
        _check_text(errors, "intro", custom.intro, MAX_INTRO, variable_names)
    _check_roles(errors, template, custom.roles)
    _check_local(errors, template, custom, variable_names)
    if errors:
        raise CustomisationError(errors)


def _check_text(errors: Errors, name: str, text: Text, limit: int, variables: set[str]) -> None:
    for lang, value in (("sv", text.sv), ("en", text.en)):
        if not value.strip():
            errors[f"{name}.{lang}"] = (N_("Enter the text in both languages."), {})
        elif len(value) > limit:
            errors[f"{name}.{lang}"] = (N_("At most %(max)d characters."), {"max": limit})
        else:
            unknown = sorted({m.group(1) for m in VARIABLE_PATTERN.finditer(value)} - variables)
            if unknown:
                errors[f"{name}.{lang}"] = (
                    N_("Unknown placeholder {%(name)s}: only {incident_system} can be used."),
                    {"name": unknown[0]},
                )


def _check_roles(errors: Errors, template: Definition, roles: Sequence[Role]) -> None:
    if not roles:
        return
    if role_question(template) is None:
        errors["roles"] = (N_("This template has no role question."), {})
        return
    named = [r for r in roles if r.sv.strip()]
    if not named:
        errors["roles"] = (N_("List at least one role."), {})
    if len(named) > MAX_ROLES:
        errors["roles"] = (N_("At most %(max)d roles."), {"max": MAX_ROLES})
    for lang in ("sv", "en"):
        names = [(r.en.strip() or r.sv.strip()) if lang == "en" else r.sv.strip() for r in named]
        if len({n.casefold() for n in names}) != len(names):
            errors["roles"] = (N_("Each role may be listed only once."), {})
    keys = [r.key for r in named if r.key]
    if len(set(keys)) != len(keys) or any(
        k == PREFER_NOT or not KEY_PATTERN.match(k) for k in keys
    ):
        errors["roles"] = (N_("Each role may be listed only once."), {})
    for role in named:
        if len(role.sv) > MAX_OPTION_TEXT or len(role.en) > MAX_OPTION_TEXT:
            errors["roles"] = (N_("At most %(max)d characters."), {"max": MAX_OPTION_TEXT})
        if role.invited is not None and not 1 <= role.invited <= 1_000_000:
            errors["roles"] = (N_("The number invited must be a positive whole number."), {})


def _check_local(
    errors: Errors, template: Definition, custom: Customisation, variables: set[str]
) -> None:
    if len(custom.local) > MAX_LOCAL_QUESTIONS:
        errors["local"] = (
            N_("At most %(max)d local questions can be added."),
            {"max": MAX_LOCAL_QUESTIONS},
        )
    sections = {s.key for s in template.sections}
    keys = [q.key for q in custom.local]
    if len(set(keys)) != len(keys):
        errors["local"] = (N_("A local question is listed twice."), {})
    for q in custom.local:
        name = f"local.{q.key}"
        if not q.key.startswith(LOCAL_PREFIX) or not q.key[len(LOCAL_PREFIX) :].isdigit():
            errors[name] = (N_("A local question is listed twice."), {})
        if q.section not in sections:
            errors[f"{name}.section"] = (N_("Choose one of the sections."), {})
        if q.type not in LOCAL_TYPES:
            errors[f"{name}.type"] = (N_("Choose one of the question types."), {})
        _check_text(errors, f"{name}.text", q.text, MAX_QUESTION_TEXT, variables)
        if q.note is not None:
            _check_text(errors, f"{name}.note", q.note, MAX_NOTE, variables)
        if q.type in ("single", "multiple"):
            if not 2 <= len(q.options) <= MAX_OPTIONS:
                errors[f"{name}.options"] = (
                    N_("Give between %(min)d and %(max)d options, one per line."),
                    {"min": 2, "max": MAX_OPTIONS},
                )
            for lang in ("sv", "en"):
                labels = [o.get(lang).strip().casefold() for o in q.options]
                if any(not label for label in labels):
                    errors[f"{name}.options"] = (
                        N_("Give every option in both languages, one per line, in the same order."),
                        {},
                    )
                elif len(set(labels)) != len(labels):
                    errors[f"{name}.options"] = (N_("An option is listed twice."), {})
                elif any(len(label) > MAX_OPTION_TEXT for label in labels):
                    errors[f"{name}.options"] = (
                        N_("At most %(max)d characters."),
                        {"max": MAX_OPTION_TEXT},
                    )
        elif q.options:
            errors[f"{name}.options"] = (N_("This type of question has no options to list."), {})
        if q.key_options:
            _check_key_options(errors, name, q)


def _check_key_options(errors: Errors, name: str, q: LocalQuestion) -> None:
    """The options HR chose for a local question's key figure by group."""
    chosen = q.key_options
    if q.type not in ("single", "multiple"):
        errors[f"{name}.key_options"] = (
            N_("Only a single or multiple choice question takes a key figure from its options."),
            {},
        )
    elif len(set(chosen)) != len(chosen) or any(not 1 <= i <= len(q.options) for i in chosen):
        errors[f"{name}.key_options"] = (
            N_(
                "Give the numbers of the options that count, between 1 and %(max)d, "
                "separated by commas."
            ),
            {"max": len(q.options)},
        )
    elif q.type == "single" and len(chosen) == len(q.options):
        errors[f"{name}.key_options"] = (
            N_(
                "Leave out at least one option: a key figure of every option always counts "
                "everyone."
            ),
            {},
        )
    elif q.type == "multiple" and len(chosen) > 1:
        errors[f"{name}.key_options"] = (
            N_(
                "Give one option for a multiple choice question: the share who chose any of "
                "several cannot be worked out from the published counts."
            ),
            {},
        )


def apply(template: Definition, custom: Customisation) -> Definition:
    """The survey's definition: ``template`` with ``custom`` applied, validated like a template.

    Raises CustomisationError when ``custom`` does not fit the template, or
    when the result would not pass the template validation.
    """
    check(template, custom)
    data = template.to_data()
    if custom.variables:
        data["variables"] = {
            **data.get("variables", {}),
            **{k: _text_data(v) for k, v in custom.variables.items()},
        }
    if custom.intro is not None:
        data["intro"] = _text_data(custom.intro)
    off = set(custom.switched_off)
    scales = data.get("scales", {})
    for section in data["sections"]:
        questions = []
        for q in section["questions"]:
            if q["key"] in off:
                continue
            _apply_texts(q, custom.texts, scales)
            if q.get("dimension") == "role" and any(r.sv.strip() for r in custom.roles):
                q.pop("scale", None)
                q["options"] = [
                    {"key": r.key, "sv": r.sv.strip(), "en": r.en.strip() or r.sv.strip()}
                    for r in custom.roles
                    if r.sv.strip()
                ] + [_PREFER_NOT]
            questions.append(q)
        questions.extend(_local_data(q) for q in custom.local if q.section == section["key"])
        section["questions"] = questions
    data["sections"] = [s for s in data["sections"] if s["questions"]]
    if off:
        data["switched_off"] = sorted(off | set(template.switched_off))
    try:
        return from_data(data, source=template.key)
    except DefinitionError as exc:
        where = exc.where or "definition"
        field_name = f"local.{where}.text" if where.startswith(LOCAL_PREFIX) else where
        raise CustomisationError(
            {
                field_name: (
                    N_("This does not pass the template check: %(problem)s"),
                    {"problem": exc.problem},
                )
            }
        ) from None


def _apply_texts(q: dict[str, Any], texts: Mapping[str, Text], scales: Mapping[str, Any]) -> None:
    key = q["key"]
    if key in texts:
        q["text"] = _text_data(texts[key])
    if f"{key}.help" in texts:
        q["help"] = _text_data(texts[f"{key}.help"])
    if any(name.startswith(f"{key}.option.") for name in texts):
        if "scale" in q:
            # The scale is shared with other questions: this question gets its own copy.
            q["options"] = [dict(o) for o in scales[q.pop("scale")]["options"]]
        for o in q["options"]:
            text = texts.get(f"{key}.option.{o['key']}")
            if text is not None:
                o.update(_text_data(text))
    for r in q.get("rows", []):
        text = texts.get(f"{key}.row.{r['key']}")
        if text is not None:
            r.update(_text_data(text))


def _local_data(q: LocalQuestion) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": q.key,
        "type": LOCAL_TYPES.get(q.type, q.type),
        "text": _text_data(q.text),
    }
    if q.note is not None:
        data["note"] = _text_data(q.note)
    if q.type in ("single", "multiple"):
        options = [
            {"key": f"o{i}", "sv": o.sv.strip(), "en": o.en.strip()}
            for i, o in enumerate(q.options, 1)
        ]
        prefer_not = dict(_PREFER_NOT, exclusive=True) if q.type == "multiple" else _PREFER_NOT
        data["options"] = [*options, prefer_not]
        if q.key_options:
            chosen = [options[i - 1] for i in q.key_options]
            data["key_figure"] = {
                "values": [o["key"] for o in chosen],
                "sv": " eller ".join(o["sv"] for o in chosen),
                "en": " or ".join(o["en"] for o in chosen),
            }
    elif q.type == "agreement":
        data["options"] = [{"key": k, "sv": sv, "en": en} for k, sv, en in _AGREEMENT]
        data["key_figure"] = dict(_AGREEMENT_KEY_FIGURE)
    elif q.type == "yesno":
        data["prefer_not"] = True
    return data


def is_local(key: str) -> bool:
    """Whether the question or item ``key`` was added by HR for this survey."""
    return key.startswith(LOCAL_PREFIX)


def wording_changed(earlier: Definition, later: Definition) -> tuple[str, ...]:
    """The item keys in both definitions whose question or row wording differs.

    The trend comparison matches items by key; these are the ones where the
    figures may not be comparable because the question was asked differently.
    """
    changed = []
    for item in later.items():
        before = earlier.item(item.key)
        if before is None:
            continue
        if any(before.label(lang) != item.label(lang) for lang in ("sv", "en")):
            changed.append(item.key)
    return tuple(changed)
