"""The headline indicators of the question bank, and the counts a report needs.

An indicator is a share of respondents: ``hit`` among ``base``. Those that
follow from one item (``threatened`` is ``exp_threats`` in once, 2–5 or more
than 5 times) are *derived* columns of that item's table, so that the item and
the indicator are protected together. Those that span several items
(``unauthorized_influence``: any ``exp_*`` exposed *and* ``aim`` yes) are
computed per response in the database, from *flags*: a flag holds for a
response when one of its items was answered with one of its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from surveys import N_
from surveys.definition import PREFER_NOT, Definition

EXPOSED_VALUES = ("once", "2to5", "more5")
# Items whose every published figure gets the wider all-or-nothing margin (k_ext = 2).
VIOLENCE_ITEMS = frozenset({"exp_violence", "exposed_violence"})


@dataclass(frozen=True)
class Flag:
    """Holds for a response when any ``(items, values)`` pair matches one of its answers."""

    terms: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]

    @property
    def items(self) -> tuple[str, ...]:
        """Every item the flag looks at."""
        return tuple(item for items, _ in self.terms for item in items)


def flag(items: Sequence[str], values: Sequence[str]) -> Flag:
    """A flag with one term: any of ``items`` answered with any of ``values``."""
    return Flag(((tuple(items), tuple(values)),))


@dataclass(frozen=True)
class Indicator:
    """A headline indicator: the share of ``base`` respondents for whom ``hit`` holds.

    ``source``/``values``: the indicator is the sum of some options of one item
    (a derived column of that item's table, base = the item's base).
    Otherwise ``base`` and ``hit`` are flags that must all hold (``hit`` is
    counted among the base only).
    """

    key: str
    label: str
    base_note: str
    k_ext: int = 1
    source: str | None = None
    values: tuple[str, ...] = ()
    base: tuple[Flag, ...] = ()
    hit: tuple[Flag, ...] = ()

    @property
    def derived(self) -> bool:
        """Whether this is a derived column of one item's table."""
        return self.source is not None

    @property
    def items(self) -> tuple[str, ...]:
        """Every item the indicator depends on."""
        if self.source is not None:
            return (self.source,)
        return tuple(i for f in (*self.base, *self.hit) for i in f.items)


def _answered(definition: Definition, key: str) -> Flag:
    """The item was answered with something other than "prefer not to say"."""
    item = definition.item(key)
    values = tuple(o.key for o in item.options if not o.prefer_not) if item else ()
    return flag([key], values)


def _options_except(definition: Definition, key: str, *excluded: str) -> tuple[str, ...]:
    item = definition.item(key)
    return tuple(o.key for o in item.options if o.key not in excluded) if item else ()


def _exp_items(definition: Definition) -> tuple[str, ...]:
    question = definition.question("exp")
    return tuple(i.key for i in question.items) if question else ()


def indicators(definition: Definition) -> tuple[Indicator, ...]:
    """The headline indicators the definition supports, in the question bank's order."""
    return tuple(i for i in _candidates(definition) if _supported(definition, i))


LEFT_OUT_NOTE = N_(
    "Left out because HR switched off a question it depends on in this survey: %(indicators)s."
)


def left_out(definition: Definition) -> tuple[Indicator, ...]:
    """The indicators left out because they depend on a question HR switched off.

    A report lists them in a note (``LEFT_OUT_NOTE``) so that a missing figure
    is never mistaken for an omission.
    """
    off = definition.switched_off
    if not off:
        return ()

    def needs_off(indicator: Indicator) -> bool:
        return any(i == k or i.startswith(f"{k}_") for i in indicator.items for k in off)

    return tuple(
        i for i in _candidates(definition) if not _supported(definition, i) and needs_off(i)
    )


def _candidates(definition: Definition) -> list[Indicator]:
    exp = _exp_items(definition)
    exposed = flag(exp, EXPOSED_VALUES)
    exp_answered = flag(exp, ("never", *EXPOSED_VALUES))
    of_item = N_("Base: respondents who answered the question (“prefer not to say” excluded).")
    of_exposed = N_(
        "Base: respondents exposed to at least one kind of incident who answered the question."
    )
    of_exp = N_("Base: respondents who answered at least one row of the experiences question.")
    candidates: list[Indicator] = [
        Indicator(
            "threatened",
            N_("Threatened in the last 12 months"),
            of_item,
            source="exp_threats",
            values=EXPOSED_VALUES,
        ),
        Indicator(
            "violence",
            N_("Exposed to physical violence in the last 12 months"),
            of_item,
            k_ext=2,
            source="exp_violence",
            values=EXPOSED_VALUES,
        ),
    ]
    if exp:
        candidates += [
            Indicator(
                "unauthorized_influence",
                N_("Exposed to unauthorized influence (perceived aim to influence a decision)"),
                of_exp,
                base=(exp_answered,),
                hit=(exposed, flag(["aim"], ("all", "some"))),
            ),
            Indicator(
                "repeated",
                N_("Exposed repeatedly (2 times or more) to at least one kind of incident"),
                of_exp,
                base=(exp_answered,),
                hit=(flag(exp, ("2to5", "more5")),),
            ),
            Indicator(
                "outside_work",
                N_("Of the exposed: it happened outside work, online or against family"),
                of_exposed,
                base=(exposed, _answered(definition, "where")),
                hit=(flag(["where"], ("home", "family", "social")),),
            ),
        ]
    candidates += [
        Indicator(
            "ia_reporting",
            N_("Of the exposed: reported all or most incidents in IA"),
            of_exposed,
            source="ia",
            values=("all", "most"),
        ),
        Indicator(
            "police_reporting",
            N_("Of the exposed: incidents reported to the police"),
            of_exposed,
            source="police",
            values=("all", "some"),
        ),
        Indicator(
            "support_received",
            N_("Of the exposed: received some support"),
            of_exposed,
            base=(_answered(definition, "support"),),
            hit=(flag(["support"], _options_except(definition, "support", "none", PREFER_NOT)),),
        ),
        Indicator(
            "ia_feedback_received",
            N_("Of those who reported in IA: received feedback"),
            N_("Base: exposed respondents who reported in IA and answered the question."),
            base=(flag(["ia_feedback"], ("yes", "no", "dk")),),
            hit=(flag(["ia_feedback"], ("yes",)),),
        ),
        Indicator(
            "decision_affected",
            N_("Of the exposed: threats or pressure affected a decision"),
            of_exposed,
            source="decision",
            values=("yes",),
        ),
        Indicator(
            "considered_leaving",
            N_("Considered leaving the profession because of threats, violence or pressure"),
            of_item,
            source="leave_profession",
            values=("sometimes", "often"),
        ),
        Indicator(
            "considered_leaving_workplace",
            N_("Considered leaving the workplace because of threats, violence or pressure"),
            of_item,
            source="leave_workplace",
            values=("sometimes", "often"),
        ),
        Indicator(
            "routines_known",
            N_("Know the procedures for threats and violence (4 or 5 of 5)"),
            N_("Base: respondents who answered the question (“don't know” included)."),
            source="routines_know",
            values=("4", "5"),
        ),
        Indicator(
            "trained",
            N_("Trained on threats, violence and unauthorized influence (4 or 5 of 5)"),
            N_("Base: respondents who answered the question (“don't know” included)."),
            source="routines_trained",
            values=("4", "5"),
        ),
    ]
    if definition.kind == "exit":
        candidates.append(
            Indicator(
                "exit_threat_reason",
                N_("Left partly because of threats, violence or concern for safety"),
                N_("Base: all respondents."),
                base=(_respondent(definition),) if definition.dimensions() else (),
                hit=(
                    Flag(
                        (
                            (("main_reason", "reasons"), ("threats", "safety")),
                            (("threat_role",), ("large", "decisive")),
                        )
                    ),
                ),
            )
        )
        candidates.append(
            Indicator(
                "threats_named",
                N_("Named threats, violence or unauthorized influence among their reasons"),
                N_("Base: all respondents. Main reason or one of the other reasons."),
                base=(_respondent(definition),) if definition.dimensions() else (),
                hit=(flag(("main_reason", "reasons"), ("threats",)),),
            )
        )
    return candidates


def _respondent(definition: Definition) -> Flag:
    """Holds for every response: the first breakdown question is required."""
    question = definition.dimensions()[0]
    return flag([question.key], tuple(o.key for o in question.options))


def _supported(definition: Definition, indicator: Indicator) -> bool:
    """Every item exists, and every value is an option of its item."""
    if indicator.derived:
        item = definition.item(indicator.source or "")
        return item is not None and all(item.question.option(v) for v in indicator.values)
    flags = (*indicator.base, *indicator.hit)
    return bool(indicator.hit) and all(
        items and values and all(definition.item(i) for i in items)
        for f in flags
        for items, values in f.terms
    )


def flags_and_combinations(
    definition: Definition,
) -> tuple[tuple[Flag, ...], tuple[tuple[int, ...], ...]]:
    """The distinct per-response flags to compute, and the products (AND) to sum per group.

    The combinations are, in order: for every multiple-choice item, its base
    (answered other than "na"); then for every multi-item indicator, its base
    and its hit (base AND hit).
    """
    flags: list[Flag] = []

    def index(f: Flag) -> int:
        if f not in flags:
            flags.append(f)
        return flags.index(f)

    combos: list[tuple[int, ...]] = []
    for item in multiple_items(definition):
        combos.append((index(_answered(definition, item)),))
    for indicator in indicators(definition):
        if indicator.derived:
            continue
        base = tuple(index(f) for f in indicator.base)
        combos.append(base)
        combos.append(base + tuple(index(f) for f in indicator.hit))
    return tuple(flags), tuple(combos)


def multiple_items(definition: Definition) -> tuple[str, ...]:
    """The multiple-choice items, whose base must be counted per response."""
    return tuple(i.key for i in definition.items() if i.kind == "multiple")


@dataclass(frozen=True)
class Counts:
    """The counts of one survey, as the database gives them (no response, only counts).

    A group is (role, unit, years, period, district): the breakdown values stored on
    every answer row (period: an exit response's half-year; district: the district
    chosen in a city-wide survey; None where a survey has no such value).
    ``cube``: (item, value, role, unit, years, period, district, count) for every
    answered value. ``combinations``: per-response conditions, each a tuple of flag
    numbers (see ``surveys.indicators.flags_and_combinations``); ``flag_sums``: rows
    (role, unit, years, period, district, respondents, sum of each combination).
    """

    respondents: int
    cube: Sequence[tuple[str, str, str | None, str | None, str | None, str | None, str | None, int]]
    combinations: Sequence[tuple[int, ...]] = ()
    flag_sums: Sequence[tuple[Any, ...]] = ()
