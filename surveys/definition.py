"""Survey definitions: frozen dataclasses, loaded and validated from TOML.

The format is described in ``surveys/templates/FORMAT.md``. A definition is
loaded from a template file, or from the plain data frozen into a survey
(``Definition.to_data()`` → JSON → ``from_data()``), through the same
validation, so a stored survey can never hold a definition the loader would
refuse.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES = ("sv", "en")
KINDS = ("staff", "exit")
# "district": the district a respondent of a city-wide survey works in; each option of
# its unit question then names its district in ``parent`` (see ``Option.parent``).
DIMENSIONS = ("role", "unit", "years", "district")
QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "number", "text", "matrix")
CHOICE_TYPES = ("single", "multiple", "scale", "yesno", "matrix")
PREFER_NOT = "na"
DEFAULT_TEXT_LENGTH = 2000
MAX_TEXT_LENGTH = 10000
NUMBER_LIMIT = 10**9

_KEY = re.compile(r"^[a-z0-9][a-z0-9_]*$")
# A template variable in a text: ``{incident_system}`` (see ``variables`` in FORMAT.md).
_VARIABLE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
MAX_VARIABLE_LENGTH = 60
KEY_PATTERN = _KEY
VARIABLE_PATTERN = _VARIABLE


class DefinitionError(ValueError):
    """A survey definition is invalid; the message names the file, question and problem."""

    def __init__(self, source: str, where: str | None, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        location = f"{source}, question '{where}'" if where else source
        super().__init__(f"{location}: {problem}")


@dataclass(frozen=True)
class Text:
    """A text in every supported language."""

    sv: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in ``lang``, falling back to Swedish."""
        return self.en if lang == "en" else self.sv


@dataclass(frozen=True)
class Option:
    """One answer option (or one matrix row)."""

    key: str
    label: Text
    exclusive: bool = False
    # In a city-wide survey: the key of the district option a unit option belongs to.
    parent: str | None = None

    @property
    def prefer_not(self) -> bool:
        """Whether this is the "prefer not to say" option, excluded from percentage bases."""
        return self.key == PREFER_NOT


@dataclass(frozen=True)
class KeyFigure:
    """What a report publishes of an item by group (role, unit, …): the respondents who
    chose one of ``values``, of the item's n. The full distribution is for all staff.

    Declared per question (``key_figure`` in a template; a matrix's rows share it).
    For a multiple-choice item, ``values`` is one option, or every option except the
    exclusive ones ("someone was told": n less "no one"), since a respondent may
    choose several and only these are sums of the published counts.
    """

    values: tuple[str, ...]
    label: Text


# The key figure of a yes/no question without a declaration: "yes".
YES_KEY_FIGURE = KeyFigure(("yes",), Text("Ja", "Yes"))


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier answer is one of ``values``."""

    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One question as written in the definition (a matrix is one question)."""

    key: str
    type: str
    text: Text
    section: str
    help: Text | None = None
    required: bool = False
    options: tuple[Option, ...] = ()
    rows: tuple[Option, ...] = ()
    condition: Condition | None = None
    dimension: str | None = None
    max_choices: int | None = None
    min: int | None = None
    max: int | None = None
    max_length: int = DEFAULT_TEXT_LENGTH
    low: Text | None = None
    high: Text | None = None
    # Reports list the options by their share, largest first (reasons for leaving).
    ranked: bool = False
    # HR may switch the question off in a draft (never a dimension or a question others need).
    optional: bool = False
    # A formatted note under the question (paragraphs, bold, lists, links), sanitised on output.
    note: Text | None = None
    # What reports publish by group (None: the question is reported for all staff only).
    key_figure: KeyFigure | None = None

    def option(self, key: str) -> Option | None:
        """Return the option with ``key``, or None."""
        return next((o for o in self.options if o.key == key), None)

    # Cached: conditions are evaluated for every submission (and 100 000 demo ones).
    @cached_property
    def items(self) -> tuple[Item, ...]:
        """The answerable items of this question: one per matrix row, else the question itself."""
        if self.type == "matrix":
            return tuple(Item(f"{self.key}_{row.key}", self, row) for row in self.rows)
        return (Item(self.key, self, None),)


@dataclass(frozen=True)
class Item:
    """One answerable key: a question, or one row of a matrix (``exp_threats``)."""

    key: str
    question: Question
    row: Option | None = None

    @property
    def kind(self) -> str:
        """How the answer is stored: ``single``, ``multiple``, ``number`` or ``text``."""
        if self.question.type in ("single", "scale", "yesno", "matrix"):
            return "single"
        return self.question.type

    @property
    def options(self) -> tuple[Option, ...]:
        """The options of the item (empty for number and text)."""
        return self.question.options

    @property
    def key_figure(self) -> KeyFigure | None:
        """What reports publish of the item by group; None: for all staff only."""
        return self.question.key_figure

    def label(self, lang: str) -> str:
        """The item's text: the question, followed by the matrix row when there is one."""
        text = self.question.text.get(lang)
        return f"{text} – {self.row.label.get(lang)}" if self.row else text


@dataclass(frozen=True)
class Section:
    """A heading and the questions under it."""

    key: str
    title: Text
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Definition:
    """A whole survey definition."""

    key: str
    kind: str
    version: int
    title: Text
    intro: Text
    sections: tuple[Section, ...]
    data: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)
    # Template variables substituted in every text (``incident_system`` → "IA").
    variables: Mapping[str, Text] = field(compare=False, default_factory=dict)
    # The template's optional questions that HR switched off for this survey.
    switched_off: tuple[str, ...] = ()

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question in page order."""
        return tuple(q for s in self.sections for q in s.questions)

    @cached_property
    def _by_key(self) -> dict[str, Question]:
        return {q.key: q for q in self.questions}

    def items(self) -> tuple[Item, ...]:
        """Every answerable item in page order (matrix rows expanded)."""
        return tuple(item for q in self.questions for item in q.items)

    def item(self, key: str) -> Item | None:
        """Return the item with ``key``, or None."""
        return next((i for i in self.items() if i.key == key), None)

    def question(self, key: str) -> Question | None:
        """Return the question with ``key``, or None."""
        return self._by_key.get(key) if isinstance(key, str) else None

    def dependents(self, key: str) -> tuple[Question, ...]:
        """The questions whose condition refers to the question ``key``."""
        return tuple(q for q in self.questions if q.condition and q.condition.question == key)

    def dimensions(self) -> tuple[Question, ...]:
        """The breakdown questions (role, unit, years) in page order."""
        return tuple(q for q in self.questions if q.dimension)

    def to_data(self) -> dict[str, Any]:
        """The plain data this definition was loaded from, to be frozen as JSON."""
        data: dict[str, Any] = _thaw(self.data)
        return data


def load_template(name: str) -> Definition:
    """Load a template shipped in ``surveys/templates/`` by its key."""
    if not _KEY.match(name):
        raise DefinitionError(f"{name}.toml", None, "not a valid template name")
    return load_file(TEMPLATE_DIR / f"{name}.toml")


def available_templates() -> tuple[str, ...]:
    """The keys of the shipped templates."""
    # Files such as "staff_threats.references.toml" beside a template are its data, not templates.
    return tuple(sorted(p.stem for p in TEMPLATE_DIR.glob("*.toml") if "." not in p.stem))


def load_file(path: Path) -> Definition:
    """Load and validate a TOML definition file."""
    source = Path(path).name
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DefinitionError(source, None, "file not found") from None
    return load_bytes(raw, source)


def load_bytes(raw: bytes, source: str) -> Definition:
    """Load and validate the TOML text of a file named ``source`` (an upload, or a file).

    The messages are the same wherever the file comes from: the CLI, the
    tests and the administrator's upload page show the same words.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DefinitionError(source, None, "the file is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(source, None, f"not valid TOML ({exc})") from None
    definition = from_data(data, source=source)
    if definition.key != Path(source).stem:
        raise DefinitionError(source, None, f"key '{definition.key}' does not match the file name")
    return definition


def from_data(data: Mapping[str, Any], source: str = "definition") -> Definition:
    """Validate plain data (parsed TOML or frozen JSON) and build a Definition."""
    return _Loader(source).definition(data)


def with_units(definition: Definition, units: Sequence[str]) -> Definition:
    """Return the definition with the unit question's options replaced by ``units``.

    Unit names are the same in both languages; option keys are ``u1``, ``u2`` …
    in the order given, followed by "prefer not to say" taken from the template.
    """
    return with_unit_names(definition, [(u, u) for u in units])


def with_unit_names(definition: Definition, units: Sequence[tuple[str, str]]) -> Definition:
    """Like ``with_units``, with a Swedish and an English name for each unit.

    An empty English name falls back to the Swedish one. An empty list leaves
    the definition unchanged.
    """
    names = [(sv.strip(), (en or sv).strip() or sv.strip()) for sv, en in units if sv.strip()]
    if not names:
        return definition
    for lang in (0, 1):
        if len({n[lang].casefold() for n in names}) != len(names):
            raise DefinitionError(definition.key, "unit", "a unit is listed twice")
    data = definition.to_data()
    for section in data["sections"]:
        for question in section["questions"]:
            if question.get("dimension") != "unit":
                continue
            prefer_not = [o for o in _options_data(data, question) if o["key"] == PREFER_NOT]
            question.pop("scale", None)
            question["options"] = [
                {"key": f"u{i}", "sv": sv, "en": en} for i, (sv, en) in enumerate(names, 1)
            ] + prefer_not
    return from_data(data, source=definition.key)


DISTRICT_QUESTION = "district"


def with_districts(
    definition: Definition,
    districts: Sequence[tuple[str, str, str]],
    units: Sequence[tuple[str, str, str, str]],
) -> Definition:
    """A city-wide version of ``definition``: respondents choose a district, then a unit.

    ``districts`` are (key, Swedish name, English name); ``units`` are (key, Swedish
    name, English name, district key). The keys are the organisation tree's portal-unique
    node keys, so a unit has the same key in every survey. A district question (dimension
    "district") is put right before the unit question, and each unit option records its
    district in ``parent``: the unit → district mapping the report builder reads from
    the definition. Both questions keep "prefer not to say" from the unit question.
    """
    if not districts:
        raise DefinitionError(definition.key, "district", "a city-wide survey needs districts")
    data = definition.to_data()
    placed = False
    for section in data["sections"]:
        questions = section["questions"]
        for position, question in enumerate(questions):
            if question.get("dimension") != "unit":
                continue
            prefer_not = [o for o in _options_data(data, question) if o["key"] == PREFER_NOT]
            question.pop("scale", None)
            question["options"] = [
                {"key": key, "sv": sv, "en": en or sv, "parent": parent}
                for key, sv, en, parent in units
            ] + prefer_not
            district_question = {
                "key": DISTRICT_QUESTION,
                "type": "single",
                "dimension": "district",
                "required": True,
                "text": {
                    "sv": "I vilken stadsdel eller förvaltning arbetar du?",
                    "en": "Which district or administration do you work in?",
                },
                "options": [{"key": key, "sv": sv, "en": en or sv} for key, sv, en in districts]
                + prefer_not,
            }
            questions.insert(position, district_question)
            placed = True
            break
        if placed:
            break
    if not placed:
        raise DefinitionError(definition.key, "unit", "the template has no unit question")
    return from_data(data, source=definition.key)


def city_parts(
    definition: Definition,
) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str, str, str], ...]] | None:
    """The districts and units of a city-wide definition, as ``with_districts`` takes them;
    None for a definition without a district question."""
    by_dimension = {q.dimension: q for q in definition.dimensions()}
    district, unit = by_dimension.get("district"), by_dimension.get("unit")
    if district is None or unit is None:
        return None
    return (
        tuple((o.key, o.label.sv, o.label.en) for o in district.options if not o.prefer_not),
        tuple(
            (o.key, o.label.sv, o.label.en, o.parent or "")
            for o in unit.options
            if not o.prefer_not
        ),
    )


def unit_districts(definition: Definition) -> dict[str, str]:
    """The unit → district mapping of a city-wide definition: {unit key: district key}."""
    return {
        option.key: option.parent
        for question in definition.dimensions()
        if question.dimension == "unit"
        for option in question.options
        if option.parent is not None
    }


def _template_key_figures(
    key: str, data: Mapping[str, Any]
) -> dict[str, tuple[tuple[str, tuple[str, ...]], KeyFigure | None]]:
    """The key figures of the shipped template ``key``, for a definition frozen before
    templates declared them (no question of ``data`` has ``key_figure``): a question of
    the same type and options as the template's gets the template's key figure, so that
    a survey stored earlier is reported by group as a new one is. Empty otherwise."""
    sections = data.get("sections")
    if not isinstance(sections, list) or not (TEMPLATE_DIR / f"{key}.toml").is_file():
        return {}
    for section in sections:
        for question in section.get("questions", []) if isinstance(section, Mapping) else ():
            if isinstance(question, Mapping) and "key_figure" in question:
                return {}
    return dict(_shipped_key_figures(key))


@lru_cache(maxsize=16)
def _shipped_key_figures(
    key: str,
) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], KeyFigure | None]], ...]:
    """(question, ((type, option keys), key figure)) of a shipped template (read once)."""
    try:
        template = load_template(key)
    except DefinitionError:
        return ()
    return tuple(
        (q.key, ((q.type, tuple(o.key for o in q.options)), q.key_figure))
        for q in template.questions
    )


def _options_data(data: Mapping[str, Any], question: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "scale" in question:
        return list(data.get("scales", {})[question["scale"]]["options"])
    return list(question.get("options", []))


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    return value


class _Loader:
    """Validation with the location of every problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str | None, problem: str) -> DefinitionError:
        return DefinitionError(self.source, where, problem)

    def definition(self, data: Mapping[str, Any]) -> Definition:
        if not isinstance(data, Mapping):
            raise self.fail(None, "the definition must be a table")
        self.known(
            data,
            None,
            {
                "key",
                "kind",
                "version",
                "title",
                "intro",
                "variables",
                "switched_off",
                "scales",
                "sections",
            },
        )
        self.variables: dict[str, Text] = {}
        self.variables = self.parse_variables(data.get("variables", {}))
        key = self.key(data.get("key"), None, "key")
        self.inherited = _template_key_figures(key, data)
        kind = data.get("kind")
        if kind not in KINDS:
            raise self.fail(None, f"kind must be one of {', '.join(KINDS)}")
        version = data.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail(None, "version must be a positive whole number")
        title = self.text(data.get("title"), None, "title")
        intro = self.text(data.get("intro"), None, "intro")
        self.scales = self.parse_scales(data.get("scales", {}))
        sections_data = data.get("sections")
        if not isinstance(sections_data, list) or not sections_data:
            raise self.fail(None, "at least one [[sections]] is needed")
        self.seen_items: dict[str, Item] = {}
        self.seen_questions: dict[str, Question] = {}
        sections = []
        section_keys = set()
        for raw in sections_data:
            section = self.section(raw)
            if section.key in section_keys:
                raise self.fail(None, f"section '{section.key}' is defined twice")
            section_keys.add(section.key)
            sections.append(section)
        if not self.seen_questions:
            raise self.fail(None, "the survey has no questions")
        dims = [q.dimension for q in self.seen_questions.values() if q.dimension]
        for dim in set(dims):
            if dims.count(dim) > 1:
                raise self.fail(None, f"dimension '{dim}' is declared by more than one question")
        self.check_parents()
        switched_off = data.get("switched_off", [])
        if not isinstance(switched_off, list) or not all(
            isinstance(k, str) and _KEY.match(k) and k not in self.seen_questions
            for k in switched_off
        ):
            raise self.fail(None, "switched_off must list the keys of questions left out")
        for question in self.seen_questions.values():
            if question.condition and self.seen_questions[question.condition.question].optional:
                raise self.fail(
                    question.condition.question,
                    f"an optional question cannot be switched off while '{question.key}' "
                    "depends on it: remove optional",
                )
        return Definition(
            key,
            kind,
            version,
            title,
            intro,
            tuple(sections),
            _thaw(data),
            dict(self.variables),
            tuple(switched_off),
        )

    def parse_variables(self, data: Any) -> dict[str, Text]:
        if not isinstance(data, Mapping):
            raise self.fail(None, "variables must be a table")
        variables = {}
        for name, raw in data.items():
            if not isinstance(name, str) or not _KEY.match(name) or not name[0].isalpha():
                raise self.fail(None, f"variable name {name!r} must be lower-case letters")
            value = self.text(raw, f"variables.{name}", "the variable")
            for lang in LANGUAGES:
                if len(value.get(lang)) > MAX_VARIABLE_LENGTH or "{" in value.get(lang):
                    raise self.fail(
                        f"variables.{name}",
                        f"the variable must be at most {MAX_VARIABLE_LENGTH} characters, "
                        "without braces",
                    )
            variables[name] = value
        return variables

    def substitute(self, text: str, lang: str, where: str | None, name: str) -> str:
        def replace(match: re.Match[str]) -> str:
            variable = self.variables.get(match.group(1))
            if variable is None:
                raise self.fail(where, f"{name} uses the unknown variable {{{match.group(1)}}}")
            return variable.get(lang)

        return _VARIABLE.sub(replace, text)

    def known(self, data: Mapping[str, Any], where: str | None, allowed: set[str]) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(where, f"unknown setting(s): {', '.join(unknown)}")

    def key(self, value: Any, where: str | None, name: str) -> str:
        if not isinstance(value, str) or not _KEY.match(value):
            raise self.fail(
                where, f"{name} must be lower-case letters, digits and underscores, got {value!r}"
            )
        return value

    def text(self, value: Any, where: str | None, name: str) -> Text:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"{name} must be a table with sv and en")
        for lang in LANGUAGES:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                raise self.fail(where, f"{name} has no {lang} text")
        self.known(value, where, set(LANGUAGES))
        return Text(
            sv=self.substitute(value["sv"].strip(), "sv", where, name),
            en=self.substitute(value["en"].strip(), "en", where, name),
        )

    def options(self, values: Any, where: str, name: str) -> tuple[Option, ...]:
        if not isinstance(values, list) or not values:
            raise self.fail(where, f"{name} must be a non-empty list")
        result = []
        for raw in values:
            if not isinstance(raw, Mapping):
                raise self.fail(where, f"every entry of {name} must be a table")
            self.known(raw, where, {"key", "sv", "en", "exclusive", "parent"})
            key = self.key(raw.get("key"), where, f"a key in {name}")
            label = self.text({"sv": raw.get("sv"), "en": raw.get("en")}, where, f"{name} '{key}'")
            exclusive = raw.get("exclusive", False)
            if not isinstance(exclusive, bool):
                raise self.fail(where, f"exclusive of '{key}' must be true or false")
            parent = raw.get("parent")
            if parent is not None:
                parent = self.key(parent, where, f"the parent of '{key}'")
            result.append(Option(key, label, exclusive, parent))
        keys = [o.key for o in result]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise self.fail(where, f"{name} repeats the key(s) {', '.join(duplicates)}")
        return tuple(result)

    def check_parents(self) -> None:
        """Only unit options name a parent, and each names a district of the district question."""
        by_dimension = {q.dimension: q for q in self.seen_questions.values() if q.dimension}
        district = by_dimension.get("district")
        districts = {o.key for o in district.options if not o.prefer_not} if district else set()
        for question in self.seen_questions.values():
            for option in (*question.options, *question.rows):
                if option.parent is None:
                    continue
                if question.dimension != "unit":
                    raise self.fail(question.key, "only the unit question's options have a parent")
                if option.parent not in districts:
                    raise self.fail(
                        question.key,
                        f"the parent of '{option.key}' is not an option of the district question",
                    )
        unit = by_dimension.get("unit")
        if district is not None and unit is not None:
            orphans = [o.key for o in unit.options if not o.prefer_not and o.parent is None]
            if orphans:
                raise self.fail(unit.key, f"unit(s) {', '.join(orphans)} name no district")

    def parse_scales(self, data: Any) -> dict[str, tuple[Option, ...]]:
        if not isinstance(data, Mapping):
            raise self.fail(None, "scales must be a table")
        scales = {}
        for name, raw in data.items():
            if not isinstance(raw, Mapping):
                raise self.fail(None, f"scale '{name}' must be a table")
            self.known(raw, f"scales.{name}", {"options"})
            scales[name] = self.options(raw.get("options"), f"scales.{name}", "options")
        return scales

    def section(self, raw: Any) -> Section:
        if not isinstance(raw, Mapping):
            raise self.fail(None, "every [[sections]] entry must be a table")
        self.known(raw, None, {"key", "title", "questions"})
        key = self.key(raw.get("key"), None, "section key")
        title = self.text(raw.get("title"), f"section {key}", "title")
        questions = raw.get("questions")
        if not isinstance(questions, list) or not questions:
            raise self.fail(f"section {key}", "the section has no questions")
        return Section(key, title, tuple(self.question(q, key) for q in questions))

    def question(self, raw: Any, section: str) -> Question:
        if not isinstance(raw, Mapping):
            raise self.fail(f"section {section}", "every question must be a table")
        where = raw.get("key") if isinstance(raw.get("key"), str) else f"in section {section}"
        key = self.key(raw.get("key"), where, "key")
        if key in self.seen_questions:
            raise self.fail(key, "the key is used twice")
        self.known(
            raw,
            key,
            {
                "key",
                "type",
                "text",
                "help",
                "required",
                "options",
                "scale",
                "rows",
                "show_if",
                "dimension",
                "max_choices",
                "min",
                "max",
                "max_length",
                "low",
                "high",
                "prefer_not",
                "ranked",
                "optional",
                "note",
                "key_figure",
            },
        )
        qtype = raw.get("type")
        if qtype not in QUESTION_TYPES:
            raise self.fail(key, f"type must be one of {', '.join(QUESTION_TYPES)}, got {qtype!r}")
        text = self.text(raw.get("text"), key, "text")
        help_text = self.text(raw["help"], key, "help") if "help" in raw else None
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(key, "required must be true or false")
        options = self.question_options(raw, key, qtype)
        rows: tuple[Option, ...] = ()
        if qtype == "matrix":
            rows = self.options(raw.get("rows"), key, "rows")
        elif "rows" in raw:
            raise self.fail(key, "only a matrix has rows")
        condition = self.condition(raw.get("show_if"), key)
        ranked = raw.get("ranked", False)
        if not isinstance(ranked, bool):
            raise self.fail(key, "ranked must be true or false")
        if ranked and qtype not in ("single", "multiple"):
            raise self.fail(key, "only single and multiple choice questions can be ranked")
        optional = raw.get("optional", False)
        if not isinstance(optional, bool):
            raise self.fail(key, "optional must be true or false")
        dimension = raw.get("dimension")
        if optional and dimension is not None:
            raise self.fail(key, "a dimension question cannot be optional: the reports need it")
        if dimension is not None:
            if dimension not in DIMENSIONS:
                raise self.fail(key, f"dimension must be one of {', '.join(DIMENSIONS)}")
            if qtype != "single":
                raise self.fail(key, "a dimension question must be of type single")
            if not required:
                raise self.fail(key, "a dimension question must be required")
            if not any(o.prefer_not for o in options):
                raise self.fail(key, "a dimension question must offer 'na' (prefer not to say)")
            if condition is not None:
                raise self.fail(key, "a dimension question cannot be conditional")
        question = Question(
            key=key,
            type=qtype,
            text=text,
            section=section,
            help=help_text,
            required=required,
            options=options,
            rows=rows,
            condition=condition,
            dimension=dimension,
            max_choices=self.max_choices(raw, key, qtype, options),
            min=self.bound(raw, key, qtype, "min"),
            max=self.bound(raw, key, qtype, "max"),
            max_length=self.max_length(raw, key, qtype),
            low=self.text(raw["low"], key, "low") if "low" in raw else None,
            high=self.text(raw["high"], key, "high") if "high" in raw else None,
            ranked=ranked,
            optional=optional,
            note=self.text(raw["note"], key, "note") if "note" in raw else None,
        )
        question = replace(question, key_figure=self.key_figure(raw, question))
        if qtype == "number":
            if question.min is None or question.max is None:
                raise self.fail(key, "a number question needs min and max")
            if question.min > question.max:
                raise self.fail(key, "min is greater than max")
        if (question.low or question.high) and qtype != "scale":
            raise self.fail(key, "low and high texts belong to scale questions")
        for item in question.items:
            if item.key in self.seen_items:
                raise self.fail(key, f"the item key '{item.key}' is used twice")
            self.seen_items[item.key] = item
        self.seen_questions[key] = question
        return question

    def question_options(self, raw: Mapping[str, Any], key: str, qtype: str) -> tuple[Option, ...]:
        if qtype == "yesno":
            if "options" in raw or "scale" in raw:
                raise self.fail(key, "a yesno question has its options implied")
            prefer_not = raw.get("prefer_not", False)
            if not isinstance(prefer_not, bool):
                raise self.fail(key, "prefer_not must be true or false")
            yes_no = [Option("yes", Text("Ja", "Yes")), Option("no", Text("Nej", "No"))]
            if prefer_not:
                yes_no.append(Option(PREFER_NOT, Text("Vill inte uppge", "Prefer not to say")))
            return tuple(yes_no)
        if "prefer_not" in raw:
            raise self.fail(key, "prefer_not belongs to yesno questions; list 'na' as an option")
        if qtype not in CHOICE_TYPES:
            if "options" in raw or "scale" in raw:
                raise self.fail(key, f"a {qtype} question has no options")
            return ()
        if "options" in raw and "scale" in raw:
            raise self.fail(key, "give either options or scale, not both")
        if "scale" in raw:
            if raw["scale"] not in self.scales:
                raise self.fail(key, f"unknown scale {raw['scale']!r}")
            options = self.scales[raw["scale"]]
        else:
            options = self.options(raw.get("options"), key, "options")
        if qtype != "multiple" and any(o.exclusive for o in options):
            raise self.fail(key, "exclusive options belong to multiple-choice questions")
        return options

    def key_figure(self, raw: Mapping[str, Any], question: Question) -> KeyFigure | None:
        """The question's key figure (see ``KeyFigure``): declared, ``false`` for none, or
        by default "yes" of a yes/no question and none for any other."""
        key = question.key
        if "key_figure" not in raw:
            inherited = self.inherited.get(key)
            if inherited is not None and inherited[0] == (
                question.type,
                tuple(o.key for o in question.options),
            ):
                return inherited[1]
            return YES_KEY_FIGURE if question.type == "yesno" else None
        value = raw["key_figure"]
        if question.type not in CHOICE_TYPES or question.dimension is not None:
            raise self.fail(key, "only a choice question that is not a dimension has a key figure")
        if value is False:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, "key_figure must be false or a table with values, sv and en")
        self.known(value, key, {"values", "sv", "en"})
        values = value.get("values")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
            or len(set(values)) != len(values)
        ):
            raise self.fail(key, "key_figure values must be a non-empty list of option keys")
        options = [o for o in question.options if not o.prefer_not]
        unknown = [v for v in values if v not in {o.key for o in options}]
        if unknown:
            raise self.fail(key, f"key_figure values {unknown} are not options of the question")
        if question.type == "multiple":
            free = [o.key for o in options if not o.exclusive]
            if any(question.option(v).exclusive for v in values):  # type: ignore[union-attr]
                raise self.fail(key, "a key figure cannot count an exclusive option")
            if len(values) > 1 and (set(values) != set(free) or len(free) == len(options)):
                raise self.fail(
                    key,
                    "the key figure of a multiple-choice question is one option, or every "
                    "option but the exclusive ones (when there is one besides 'na')",
                )
        elif len(values) == len(options):
            raise self.fail(key, "a key figure of every option says nothing")
        label = self.text({"sv": value.get("sv"), "en": value.get("en")}, key, "key_figure")
        return KeyFigure(tuple(values), label)

    def condition(self, raw: Any, key: str) -> Condition | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise self.fail(key, "show_if must be a table with question and values")
        self.known(raw, key, {"question", "values"})
        target = raw.get("question")
        values = raw.get("values")
        if target not in self.seen_questions:
            raise self.fail(key, f"show_if refers to {target!r}, which is not an earlier question")
        parent = self.seen_questions[target]
        if parent.type not in CHOICE_TYPES:
            raise self.fail(key, f"show_if must refer to a choice question, not a {parent.type}")
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise self.fail(key, "show_if values must be a non-empty list of option keys")
        unknown = [v for v in values if parent.option(v) is None]
        if unknown:
            raise self.fail(key, f"show_if values {unknown} are not options of '{target}'")
        return Condition(target, tuple(values))

    def max_choices(
        self, raw: Mapping[str, Any], key: str, qtype: str, options: Sequence[Option]
    ) -> int | None:
        if "max_choices" not in raw:
            return None
        value = raw["max_choices"]
        if qtype != "multiple":
            raise self.fail(key, "max_choices belongs to multiple-choice questions")
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= len(options):
            raise self.fail(key, f"max_choices must be between 1 and {len(options)}")
        return value

    def bound(self, raw: Mapping[str, Any], key: str, qtype: str, name: str) -> int | None:
        if name not in raw:
            return None
        if qtype != "number":
            raise self.fail(key, f"{name} belongs to number questions")
        value = raw[name]
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > NUMBER_LIMIT:
            raise self.fail(key, f"{name} must be a whole number within ±{NUMBER_LIMIT}")
        return value

    def max_length(self, raw: Mapping[str, Any], key: str, qtype: str) -> int:
        if "max_length" not in raw:
            return DEFAULT_TEXT_LENGTH
        if qtype != "text":
            raise self.fail(key, "max_length belongs to text questions")
        value = raw["max_length"]
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= MAX_TEXT_LENGTH
        ):
            raise self.fail(key, f"max_length must be between 1 and {MAX_TEXT_LENGTH}")
        return value


def iter_visible(definition: Definition, answers: Mapping[str, Any]) -> Iterator[Question]:
    """Yield the questions whose conditions hold for ``answers`` (item key → value or list).

    A question is visible when it has no condition, or when its condition's
    question is itself visible and was answered with one of the values.
    """
    visible: set[str] = set()
    for question in definition.questions:
        if question.condition is None or _condition_met(
            definition, question.condition, answers, visible
        ):
            visible.add(question.key)
            yield question


def _condition_met(
    definition: Definition, condition: Condition, answers: Mapping[str, Any], visible: set[str]
) -> bool:
    if condition.question not in visible:
        return False
    parent = definition.question(condition.question)
    for item in parent.items if parent else ():
        value = answers.get(item.key)
        chosen = value if isinstance(value, list | tuple | set | frozenset) else [value]
        if any(v in condition.values for v in chosen):
            return True
    return False
