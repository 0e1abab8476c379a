"""The results report: counts in, a disclosure-controlled report out.

``build`` takes the counts of a closed survey (plain data: see ``Counts``;
``portal.store.result_counts`` computes them with grouped queries) and gives
a ``Report``: survey metadata, the number of respondents, the headline
indicators by every breakdown ("all", for a city-wide survey "district",
"role", "unit", "years", and for the exit questionnaire "period": half-years
pooled until they reach k, see ``surveys.periods``), every item's full
distribution for all respondents, and by every breakdown each item's key
figure (``definition.KeyFigure``, declared in the template: the share who
chose its key options, with its n). The full distribution is not published
by group (rule IL3: the table set readers use, fewer figures to hide).
Groups below k are merged into named groups (``recode``). In a city-wide
survey every unit lies in one district (``surveys.definition.unit_districts``):
small units are merged only with units of the same district, and
``Report.nesting`` tells the disclosure engine which district each published
unit group lies in. Every published
number has passed disclosure control as one system (``surveys.linked``, with
the rules of ``surveys.disclosure``); suppressed numbers are not in the report
at all (only their reason, kept for the audit and the tests, never exported).

Standard library only. Labels are the definition's bilingual texts; the
report's own strings are marked with ``N_`` and translated by the renderers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from surveys import N_, linked
from surveys import indicators as indicators_module
from surveys.definition import (
    PREFER_NOT,
    Definition,
    Item,
    Option,
    Question,
    Text,
    unit_districts,
)
from surveys.disclosure import band_of, percent
from surveys.indicators import (
    Counts,
    Indicator,
    flags_and_combinations,
    indicators,
    multiple_items,
)
from surveys.periods import Periods, reporting_periods

ALL = "all"
PERIOD = "period"
DISTRICT = "district"
UNIT = "unit"
# The cell key of a question's key figure in its table of ``Report.key_figures``.
KEY_FIGURE = "key_figure"
# The parts of a ``Report`` (and of its JSON) that are lists of tables: the headline
# indicators, every question's full distribution (all staff), every key figure (by group).
TABLE_PARTS = ("indicators", "questions", "key_figures")
# The position of each breakdown's value in a group (role, unit, years, period, district)
# of the counts (``surveys.indicators.Counts``), in the order the report lists breakdowns.
_DIMENSION_INDEX = {DISTRICT: 4, "role": 0, UNIT: 1, "years": 2, PERIOD: 3}
BREAKDOWNS = (ALL, *_DIMENSION_INDEX)
# The breakdown values stored per group: the width of a group in the counts' rows.
GROUP_WIDTH = len(_DIMENSION_INDEX)
_HIT = "hit"


@dataclass(frozen=True)
class SurveyMeta:
    """What the report says about the survey itself."""

    slug: str
    title: Text
    kind: str
    min_group: int
    status: str
    template: str = ""
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None


@dataclass(frozen=True)
class Value:
    """One published cell: an exact count and percentage, a band, or nothing (suppressed).

    ``reason`` (a ``disclosure.Reason`` or None) is internal: for the audit and
    the tests, never exported or shown.
    """

    key: str
    label: Text | str  # a definition text, or a msgid (indicators) translated when shown
    count: int | None
    percent: int | None
    band: tuple[str, int] | None = None
    reason: str | None = None

    @property
    def suppressed(self) -> bool:
        """Hidden ("x"): neither an exact figure nor a band is published."""
        return self.count is None and self.band is None


@dataclass(frozen=True)
class GroupRow:
    """One group of a breakdown: its base n and its cells.

    ``n`` is None when the group is below k (shown "<k"). ``prefer_not`` is the
    published count of "prefer not to say", or None when hidden or not offered.
    """

    key: str
    label: Text | str
    n: int | None
    cells: tuple[Value, ...]
    prefer_not: int | None = None
    reason: str | None = None

    @property
    def suppressed(self) -> bool:
        """The whole group is below k: no percentage at all."""
        return self.n is None


@dataclass(frozen=True)
class Table:
    """An item or an indicator with one list of groups per breakdown."""

    key: str
    label: Text | str  # a definition text, or a msgid (indicators) translated when shown
    kind: str  # "single", "multiple" or "indicator"
    base_note: str
    k_ext: int
    breakdowns: Mapping[str, tuple[GroupRow, ...]]
    condition: Text | None = None
    section: str = ""
    ranked: bool = False  # options listed by their published share, largest first
    # A matrix row's key figure: the matrix question's text and the row's own label, so that
    # a table of key figures can list the rows under their question.
    question: Text | None = None
    row_label: Text | None = None

    def has_suppressions(self, breakdown: str) -> bool:
        """Whether any figure of ``breakdown`` is hidden or banded."""
        return any(
            row.suppressed or any(c.suppressed or c.band for c in row.cells)
            for row in self.breakdowns.get(breakdown, ())
        )


@dataclass(frozen=True)
class Note:
    """A method note: a msgid with parameters, translated by the renderer."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """The whole disclosure-controlled report of one survey."""

    survey: SurveyMeta
    respondents: int
    invited: int | None
    response_rate: int | None
    indicators: tuple[Table, ...]
    questions: tuple[Table, ...]
    notes: tuple[Note, ...]
    breakdowns: tuple[str, ...]
    k: int = 5
    # The published group of each stored breakdown value (merged small groups; values
    # absent, such as "prefer not to say", are not published as a group).
    groups_of: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # A city-wide survey: {"unit": {published unit group: published district group}}, the
    # district each unit group lies in (recoding never merges units of two districts).
    # Empty for every other survey.
    nesting: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # By group, each question's key figure (``definition.KeyFigure``): one table per item,
    # with every breakdown; ``questions`` hold the full distributions, for all staff only.
    key_figures: tuple[Table, ...] = ()
    # What disclosure control decided, as plain data to keep with the counts (see build).
    protection: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


BREAKDOWN_LABELS = {
    ALL: N_("All respondents"),
    DISTRICT: N_("District"),
    "role": N_("Role"),
    "unit": N_("Unit"),
    "years": N_("Years in the profession"),
    PERIOD: N_("Period"),
}


def build(
    definition: Definition,
    counts: Counts,
    *,
    k: int,
    survey_meta: SurveyMeta | Mapping[str, Any],
    invited: int | None = None,
    protection: Mapping[str, Any] | None = None,
    by_group: bool = True,
) -> Report:
    """Build the disclosure-controlled report of a closed survey from its counts.

    ``protection`` is ``Report.protection`` of an earlier build from the same counts
    (stored with them): given, the report publishes as it says instead of running
    disclosure control again.

    ``by_group`` False publishes all respondents together only (a link-mode survey,
    whose ``counts`` then carry no groups): no breakdown, and not the breakdown
    questions' own tables either (how many answered per role, unit or years)."""
    meta = survey_meta if isinstance(survey_meta, SurveyMeta) else _meta(survey_meta)
    marginals = _Marginals(definition, counts, k, by_group=by_group)
    breakdowns = (ALL, *marginals.dimensions)
    indicator_list = indicators(definition)
    derived_by_item: dict[str, list[Indicator]] = defaultdict(list)
    for indicator in indicator_list:
        if indicator.derived:
            derived_by_item[indicator.source or ""].append(indicator)

    system = linked.derive(definition, marginals, breakdowns, k, nesting=marginals.nesting)
    if protection is None:
        system.protect()
    else:
        system.apply(protection)
    figures = _Figures(system, marginals, k)

    question_tables = []
    for item in _reported_items(definition):
        if item.question.dimension in marginals.left_out:
            continue
        derived = derived_by_item.get(item.key, [])
        k_ext = linked.k_ext_for(item.key, derived)
        options = tuple(key for key, _ in marginals.options(item))
        labels: dict[str, Text | str] = dict(marginals.options(item))
        prefer_not = (
            _prefer_not(marginals, item, k, k_ext)
            if item.question.option(PREFER_NOT) is not None
            else None
        )
        order = options
        if item.question.ranked:  # by the all-staff figures as published
            order = _ranked(figures.rows(item.key, options, ALL, labels)[0])
        # The full distribution for all staff; by group, the key figure (below).
        rows = {ALL: figures.rows(item.key, order, ALL, labels, prefer_not)}
        question_tables.append(
            Table(
                key=item.key,
                label=Text(item.label("sv"), item.label("en")),
                kind=item.kind,
                base_note=_base_note(item),
                k_ext=k_ext,
                breakdowns=rows,
                condition=_condition_text(definition, item),
                section=item.question.section,
                ranked=item.question.ranked,
            )
        )

    key_tables = []
    for item in _reported_items(definition):
        key_figure = item.key_figure
        total = (item.key, linked.KEY, ALL, ALL)
        if key_figure is None or (total not in system.figures and total not in system.same):
            continue  # reported for all staff only
        derived = derived_by_item.get(item.key, [])
        key_tables.append(
            Table(
                key=item.key,
                label=Text(item.label("sv"), item.label("en")),
                kind="key",
                base_note=_base_note(item),
                k_ext=linked.k_ext_for(item.key, derived),
                breakdowns={
                    b: figures.rows(
                        item.key,
                        (linked.KEY,),
                        b,
                        {linked.KEY: key_figure.label},
                        names={linked.KEY: KEY_FIGURE},
                    )
                    for b in breakdowns
                },
                condition=_condition_text(definition, item),
                section=item.question.section,
                question=item.question.text if item.row is not None else None,
                row_label=item.row.label if item.row is not None else None,
            )
        )

    indicator_tables = []
    for indicator in indicator_list:
        source = definition.item(indicator.source or "") if indicator.derived else None
        k_ext = (
            linked.k_ext_for(source.key, derived_by_item.get(source.key, []))
            if source is not None
            else indicator.k_ext
        )
        indicator_tables.append(
            Table(
                key=indicator.key,
                label=indicator.label,
                kind="indicator",
                base_note=indicator.base_note,
                k_ext=k_ext,
                breakdowns={
                    b: figures.rows(
                        indicator.key, (indicator.key,), b, {indicator.key: indicator.label}
                    )
                    for b in breakdowns
                },
            )
        )

    rate = percent(counts.respondents, invited) if invited else None
    report_tables = (*indicator_tables, *question_tables, *key_tables)
    return Report(
        survey=meta,
        respondents=counts.respondents,
        invited=invited,
        response_rate=rate,
        indicators=tuple(indicator_tables),
        questions=tuple(question_tables),
        key_figures=tuple(key_tables),
        notes=_notes(k, report_tables, breakdowns, invited, marginals.periods)
        + _too_few_notes(marginals.too_few, k)
        + _left_out_notes(definition),
        breakdowns=breakdowns,
        k=k,
        groups_of=marginals.recoded,
        nesting=marginals.nesting,
        protection=system.protection(),
    )


def _ranked(total: GroupRow) -> tuple[str, ...]:
    """The options by their published share among all respondents, the largest first.

    Only what is published decides the order: exact figures by count, then
    ranges above them (">85 %") first and ranges below them ("<15 %") after,
    then hidden cells; ties keep the definition's order (the sort is stable).
    """

    def rank(cell: Value) -> tuple[int, int]:
        if cell.count is not None:
            return (1, -cell.count)
        if cell.band is not None:
            return (0, 0) if cell.band[0] == ">" else (2, 0)
        return (3, 0)

    return tuple(c.key for c in sorted(total.cells, key=rank))


def _meta(data: Mapping[str, Any]) -> SurveyMeta:
    title = data.get("title")
    if not isinstance(title, Text):
        title = Text(str(data.get("title_sv", "")), str(data.get("title_en", "")))
    return SurveyMeta(
        slug=str(data["slug"]),
        title=title,
        kind=str(data.get("kind", "")),
        min_group=int(data["min_group"]),
        status=str(data.get("status", "")),
        template=str(data.get("template", "")),
        opens_on=data.get("opens_on"),
        closes_on=data.get("closes_on"),
    )


def _reported_items(definition: Definition) -> tuple[Item, ...]:
    """Items with counted answers: choices (single, multiple, scale, matrix rows)."""
    return tuple(i for i in definition.items() if i.kind in ("single", "multiple"))


def _base_note(item: Item) -> str:
    if item.kind == "multiple":
        return N_(
            "Base: respondents who chose at least one option (“prefer not to say” excluded); "
            "several answers were possible, so percentages may add up to more than 100."
        )
    if item.question.condition is not None:
        return N_(
            "Base: of those who were shown the question, the respondents who answered it "
            "(“prefer not to say” excluded)."
        )
    return N_("Base: respondents who answered the question (“prefer not to say” excluded).")


def _condition_text(definition: Definition, item: Item) -> Text | None:
    """ "Shown when …" in both languages, for a conditional follow-up question."""
    condition = item.question.condition
    if condition is None:
        return None
    parent = definition.question(condition.question)
    if parent is None:
        return None
    labels = {
        lang: " / ".join(o.label.get(lang) for o in parent.options if o.key in condition.values)
        for lang in ("sv", "en")
    }
    return Text(
        f"{parent.text.sv} – {labels['sv']}",
        f"{parent.text.en} – {labels['en']}",
    )


# -- marginals ---------------------------------------------------------------------------


class _Marginals:
    """The cube summed per item and breakdown group: counts, not responses."""

    def __init__(
        self, definition: Definition, counts: Counts, k: int, by_group: bool = True
    ) -> None:
        self.definition = definition
        self.dimension_questions = {q.dimension: q for q in definition.dimensions()}
        self.periods = _periods(definition, counts, k)
        self.dimensions = tuple(
            d
            for d in _DIMENSION_INDEX
            if d in self.dimension_questions or (d == PERIOD and self.periods.periods)
        )
        # The published groups of each breakdown, small ones merged (global recoding);
        # in a city-wide survey, units only with units of their own district.
        self.recoded: dict[str, dict[str, str]] = {}
        self.group_list: dict[str, tuple[tuple[str, Text | str], ...]] = {}
        people = _people(counts)
        districts = unit_districts(definition) if DISTRICT in self.dimensions else {}
        # A breakdown merged into one group says nothing (everyone is in it): it is left
        # out, with its question's own table (``too_few``). Without groups (``by_group``
        # False) every breakdown is left out so.
        self.left_out: tuple[str, ...] = ()
        if not by_group:
            self.left_out = tuple(d for d in self.dimensions if d != PERIOD)
            self.dimensions = ()
        for d in self.dimensions:
            if d != PERIOD:
                self.recoded[d], self.group_list[d] = recode(
                    self.dimension_questions[d],
                    people[_DIMENSION_INDEX[d]],
                    k,
                    within=districts if d == UNIT else None,
                )
                if len(self.group_list[d]) < 2:
                    self.left_out += (d,)
        self.too_few = tuple(d for d in self.left_out if d in self.group_list)
        for d in self.too_few:
            del self.recoded[d], self.group_list[d]
        self.dimensions = tuple(d for d in self.dimensions if d not in self.left_out)
        # A city-wide survey: the published district of each published unit group (none
        # when either breakdown is left out).
        self.nesting: dict[str, dict[str, str]] = {}
        if districts and UNIT in self.dimensions and DISTRICT in self.dimensions:
            self.nesting[UNIT] = _nesting(
                districts, self.recoded[UNIT], self.recoded[DISTRICT], self.group_list[UNIT]
            )
        # (breakdown, position in the group, the report's group of each stored value or None)
        positions = tuple(
            (d, _DIMENSION_INDEX[d], self.periods.of_month if d == PERIOD else self.recoded[d])
            for d in self.dimensions
        )
        # values[item][breakdown][(group, value)] = count
        self.values: dict[str, dict[str, dict[tuple[str, str], int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )
        # A breakdown question's own table shows the published groups, not the stored
        # values: a group merged for being below k is never counted on its own.
        dimension_items = {
            q.key: self.recoded[d] for d, q in self.dimension_questions.items() if d in self.recoded
        }
        for item, value, *groups, count in counts.cube:
            if item in dimension_items:
                value = dimension_items[item].get(value, PREFER_NOT)
            by_breakdown = self.values[item]
            by_breakdown[ALL][(ALL, value)] += count
            for dimension, position, regroup in positions:
                group = groups[position]
                if regroup is not None and group is not None:
                    group = regroup.get(group)
                if group is not None:
                    by_breakdown[dimension][(group, value)] += count
        # combos[number][breakdown][group] = sum
        self.combos: dict[int, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )
        width = GROUP_WIDTH
        for row in counts.flag_sums:
            stored = row[:width]
            for number, total in enumerate(row[width + 1 :]):
                self.combos[number][ALL][ALL] += int(total or 0)
                for dimension, position, regroup in positions:
                    group = stored[position]
                    if regroup is not None:
                        group = regroup.get(group)
                    if group is not None:
                        self.combos[number][dimension][group] += int(total or 0)
        self.flags, self.combinations = flags_and_combinations(definition)
        if tuple(counts.combinations) != self.combinations:
            raise ValueError("the counts were computed for another definition")
        self.multiple = multiple_items(definition)

    def groups(self, breakdown: str) -> tuple[tuple[str, Text | str], ...]:
        """The groups of a breakdown, in the definition's order (every declared option)."""
        if breakdown == ALL:
            return ((ALL, BREAKDOWN_LABELS[ALL]),)
        if breakdown == PERIOD:
            return tuple((p.key, p.label) for p in self.periods.periods)
        return self.group_list[breakdown]

    def options(self, item: Item) -> tuple[tuple[str, Text | str], ...]:
        """The options an item's table shows (a breakdown question: its published groups)."""
        dimension = item.question.dimension
        if dimension in self.group_list:
            return self.group_list[dimension]
        return tuple((o.key, o.label) for o in item.options if not o.prefer_not)

    def combo(self, number: int, breakdown: str) -> Mapping[str, int]:
        return self.combos[number][breakdown]

    def item_base(self, item: Item, breakdown: str) -> dict[str, int]:
        """n per group: answered other than "na" (distinct respondents for multiple choice)."""
        if item.kind == "multiple":
            number = self.multiple.index(item.key)
            return dict(self.combo(number, breakdown))
        base: dict[str, int] = defaultdict(int)
        for (group, value), count in self.values[item.key][breakdown].items():
            if value != PREFER_NOT:
                base[group] += count
        return base


def _people(counts: Counts) -> dict[int, dict[str, int]]:
    """Respondents per stored value of each breakdown position."""
    width = GROUP_WIDTH
    people: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts.flag_sums:
        for position in range(width):
            if row[position] is not None:
                people[position][row[position]] += int(row[width] or 0)
    return people


def recode(
    question: Question,
    people: Mapping[str, int],
    k: int,
    within: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], tuple[tuple[str, Text | str], ...]]:
    """Global recoding (IL3): the groups a breakdown publishes.

    Groups with fewer than k respondents are merged, the two smallest at a
    time, until none is left below k (or only one group has respondents); a
    merged group is labelled with the groups it contains. "Prefer not to say"
    is not published as a group: it joins the respondents with no value.

    ``within`` ({option: block}, the units' districts of a city-wide survey) keeps
    merging inside each block: two options of different blocks never share a group,
    so a block whose options together stay below k publishes one group below k
    (suppressed as usual) rather than borrowing respondents from another block.
    Options absent from ``within`` form a block of their own.

    Returns each stored value's group (values absent: unpublished) and the groups,
    in the order of their first option.
    """
    options = [o for o in question.options if not o.prefer_not]
    blocks: dict[str | None, list[Option]] = {}
    for option in options:
        blocks.setdefault((within or {}).get(option.key), []).append(option)
    groups = [g for block in blocks.values() for g in _merged(block, people, k)]
    groups.sort(key=lambda g: options.index(g[0]))
    mapping: dict[str, str] = {}
    published: list[tuple[str, Text | str]] = []
    for group in groups:
        key = "+".join(o.key for o in group)
        mapping.update({o.key: key for o in group})
        published.append((key, group[0].label if len(group) == 1 else _joined(group)))
    return mapping, tuple(published)


def _merged(options: Sequence[Option], people: Mapping[str, int], k: int) -> list[list[Option]]:
    """``options`` in groups: the two smallest merged at a time while one is below k."""
    order = list(options)
    groups = [[o] for o in order]

    def size(group: list[Option]) -> int:
        return sum(people.get(o.key, 0) for o in group)

    while True:
        nonempty = [g for g in groups if size(g) > 0]
        if len(nonempty) < 2 or all(size(g) >= k for g in nonempty):
            break
        first, second = sorted(nonempty, key=lambda g: (size(g), order.index(g[0])))[:2]
        keep, drop = sorted((first, second), key=lambda g: order.index(g[0]))
        keep.extend(drop)
        groups.remove(drop)
    for group in groups:
        group.sort(key=order.index)
    return groups


def _nesting(
    districts: Mapping[str, str],
    units: Mapping[str, str],
    district_groups: Mapping[str, str],
    unit_groups: Sequence[tuple[str, Text | str]],
) -> dict[str, str]:
    """{published unit group: published district group} of a city-wide survey.

    Recoding keeps a unit group inside one district, so each has exactly one; the
    district's own group may be a merge of small districts.
    """
    result: dict[str, str] = {}
    for key, _label in unit_groups:
        members = [unit for unit, group in units.items() if group == key]
        found = {district_groups.get(districts.get(unit, "")) for unit in members}
        if len(found) != 1 or None in found:
            raise ValueError(f"the unit group {key!r} does not lie in one published district")
        result[key] = found.pop()  # type: ignore[assignment]
    return result


def _joined(group: Sequence[Option]) -> Text:
    """The label of a merged group: its members' names ("A, B och C"). Where a name has
    the conjunction in it ("Barn och unga"), the last one is "samt" ("as well as"), so
    that the reader can tell where one member ends."""

    def join(names: list[str], word: str, instead: str) -> str:
        if any(f" {word} " in name for name in names):
            word = instead
        return f"{', '.join(names[:-1])} {word} {names[-1]}"

    return Text(
        join([o.label.sv for o in group], "och", "samt"),
        join([o.label.en for o in group], "and", "as well as"),
    )


def _periods(definition: Definition, counts: Counts, k: int) -> Periods:
    """The exit questionnaire's reporting periods, from its respondents per month."""
    if definition.kind != "exit":
        return Periods((), {})
    width = GROUP_WIDTH
    by_month: dict[str, int] = defaultdict(int)
    for row in counts.flag_sums:
        month = row[_DIMENSION_INDEX[PERIOD]]
        if month is not None:
            by_month[month] += int(row[width] or 0)
    return reporting_periods(by_month, k)


# -- protection ----------------------------------------------------------------------------


def _reason(reason: Any) -> str | None:
    return None if reason is None else str(reason)


def _band(band: Any) -> tuple[str, int] | None:
    """A band as (sign, bound): from a pair such as ("<", 15) or a text such as "<15"."""
    if not band:
        return None
    if isinstance(band, str):
        return (band[0], int(band[1:].strip().rstrip("%").strip()))
    sign, bound = band
    return (str(sign), int(bound))


def _prefer_not(marginals: _Marginals, item: Item, k: int, k_ext: int) -> int | None:
    """The total count of "prefer not to say", when it passes P1 and P2 (else None).

    Only the total is published: per group it would be one more small count.
    """
    values = marginals.values[item.key][ALL]
    na = values.get((ALL, PREFER_NOT), 0)
    shown = sum(count for (_, _value), count in values.items())
    if item.kind == "multiple":
        shown = marginals.item_base(item, ALL).get(ALL, 0) + na
    if shown < k or band_of(na, shown, k_ext) is not None:
        return None
    return na


class _Figures:
    """The report's rows, read from the protected system (``surveys.linked``)."""

    def __init__(self, system: linked.System, marginals: _Marginals, k: int) -> None:
        self.system = system
        self.marginals = marginals
        self.k = k

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        breakdown: str,
        labels: Mapping[str, Text | str],
        prefer_not: int | None = None,
        names: Mapping[str, str] | None = None,
    ) -> tuple[GroupRow, ...]:
        """The groups of ``breakdown`` with the figures of ``columns`` of ``table`` (a
        column's cell named as in ``names``, else by the column)."""
        names = names or {}
        result = []
        for key, label in self.marginals.groups(breakdown):
            figures = [self.system.figure_of((table, c, breakdown, key)) for c in columns]
            size = figures[0].n if figures else 0
            # Hidden whole, n included, so that a smaller group's n stays unknown.
            whole = any(
                (t, breakdown, key) in self.system.n_hidden
                for t in {table, *(f.key[0] for f in figures)}
            )
            small = size < self.k or whole
            result.append(
                GroupRow(
                    key,
                    label,
                    None if small else size,
                    tuple(
                        _figure_value(names.get(c, c), labels[c], f)
                        for c, f in zip(columns, figures, strict=True)
                    ),
                    prefer_not,
                    _reason("secondary" if whole and size >= self.k else "primary")
                    if small
                    else None,
                )
            )
        return tuple(result)


def _figure_value(key: str, label: Text | str, figure: linked.Figure) -> Value:
    """A published cell: exact, a band, or hidden ("x")."""
    if figure.exact:
        return Value(key, label, figure.value, percent(figure.value, figure.n))
    band = (figure.band.sign, figure.band.bound) if figure.band is not None else None
    return Value(key, label, None, None, band, _reason(figure.state))


# -- notes ---------------------------------------------------------------------------------


def _notes(
    k: int,
    tables: Sequence[Table],
    breakdowns: Sequence[str],
    invited: int | None,
    periods: Periods,
) -> tuple[Note, ...]:
    notes = [
        Note(
            N_(
                "Results are shown only for groups of at least %(k)d respondents; the size of "
                "a smaller group is shown as “<%(k)d”."
            ),
            {"k": k},
        ),
        Note(
            N_(
                "“x” means that a figure is not shown, to protect the anonymity of the "
                "respondents: both figures for small groups and figures from which a small "
                "group could be worked out are hidden, and look the same."
            )
        ),
        Note(
            N_(
                "A percentage that would reveal that (almost) everyone or no one in a group "
                "gave an answer is shown as a range, such as “<15 %” or “>85 %”; the smaller "
                "the group, the wider the range (for physical violence, wider still)."
            )
        ),
        Note(
            N_(
                "Percentages are of the respondents who were shown the question and answered "
                "it; “prefer not to say” is excluded and counted separately. Percentages are "
                "rounded to whole numbers, so they need not add up to 100."
            )
        ),
    ]
    if invited:
        notes.append(Note(N_("%(invited)d people were invited to answer."), {"invited": invited}))
    if PERIOD in breakdowns:
        notes.append(
            Note(
                N_(
                    "By period, results are reported per half-year. A half-year with fewer "
                    "than %(k)d respondents is pooled with the next one, and the pooled "
                    "period is labelled as such."
                ),
                {"k": k},
            )
        )
    if periods.pending is not None:
        notes.append(
            Note(
                N_(
                    "The latest period, %(period)s, has fewer than %(k)d respondents so far: "
                    "its figures are not shown until it can be pooled with the next half-year."
                ),
                {"period": periods.pending.span, "k": k},
            )
        )
    ranked = tuple(t.label for t in tables if t.ranked)
    if ranked:
        notes.append(
            Note(
                N_(
                    "The answers to these questions are listed by their share of all "
                    "respondents, the largest first, with hidden figures last: %(list)s."
                ),
                {"list": ranked},
            )
        )
    hidden = [b for b in breakdowns if any(t.has_suppressions(b) for t in tables)]
    if hidden:
        notes.append(
            Note(
                N_("Some figures are hidden or shown as a range in these breakdowns: %(list)s."),
                {"list": tuple(BREAKDOWN_LABELS[b] for b in hidden)},
            )
        )
    return tuple(notes)


def _too_few_notes(left_out: Sequence[str], k: int) -> tuple[Note, ...]:
    if not left_out:
        return ()
    return (
        Note(
            N_(
                "Not broken down by %(list)s: too few respondents to form two groups of at "
                "least %(k)d."
            ),
            {"list": tuple(BREAKDOWN_LABELS[b] for b in left_out), "k": k},
        ),
    )


def _left_out_notes(definition: Definition) -> tuple[Note, ...]:
    """Indicators missing because HR switched off a question they need (issue 20)."""
    left = indicators_module.left_out(definition)
    if not left:
        return ()
    return (Note(indicators_module.LEFT_OUT_NOTE, {"indicators": tuple(i.label for i in left)}),)
