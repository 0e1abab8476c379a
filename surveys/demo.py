"""Plausible synthetic answers for demonstrations and benchmarks.

The answers are produced as form data (item key → list of submitted strings),
exactly what a browser would send, so that they go through the same
validation and storage as real submissions. They are skewed the way published
Swedish figures are: social workers for children and young people are the
most exposed, administrators the least; exposure drives the follow-up
questions, worry and thoughts of leaving. Conditions are followed: a question
is only answered when it would have been shown.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import random
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from surveys.answers import Answers, validate
from surveys.definition import PREFER_NOT, Definition, Item, Option, from_data, iter_visible

# How exposed each role is, relative to a social worker for children and young people.
ROLE_RISK = {
    "ss_children": 1.0,
    "intake": 0.85,
    "ss_adults": 0.8,
    "ss_finance": 0.7,
    "treatment": 0.6,
    "assessor": 0.5,
    "manager": 0.5,
    "other": 0.35,
    "admin": 0.15,
    "na": 0.6,
}
ROLE_WEIGHTS = {
    "ss_children": 20,
    "ss_adults": 12,
    "ss_finance": 14,
    "assessor": 12,
    "intake": 6,
    "treatment": 12,
    "manager": 7,
    "admin": 8,
    "other": 5,
    "na": 3,
}
# The unit most people in a role work in (default unit list of the templates).
ROLE_UNIT = {
    "ss_children": "children",
    "ss_adults": "adults",
    "ss_finance": "finance",
    "assessor": "elderly_disability",
    "intake": "children",
    "treatment": "adults",
}
UNIT_RISK = {
    "children": 1.15,
    "adults": 1.0,
    "finance": 0.9,
    "elderly_disability": 0.6,
    "other": 0.7,
}
# Share of staff exposed at least once in 12 months at the highest risk, per matrix row.
EXPOSURE = {
    "harassment": 0.6,
    "threats": 0.55,
    "violence": 0.1,
    "damage": 0.08,
    "online": 0.18,
    "offers": 0.05,
    "pressure": 0.25,
    "selfharm": 0.2,
    # exit questionnaire
    "family": 0.08,
}
EXPOSED_VALUES = ("once", "2to5", "more5")

SUGGESTIONS = (
    "Larm på alla mottagningsrum och tydliga rutiner för när det ska användas.",
    "Att vi alltid får vara två vid hembesök i ärenden där det finns hot.",
    "Skyddade personuppgifter för handläggare som standard.",
    "Bättre återkoppling efter att man har rapporterat i IA.",
    "Att chefen följer upp efter varje händelse, inte bara de allvarliga.",
    "Utbildning i hot och våld för alla nyanställda under första månaden.",
    "Att arbetsgivaren gör polisanmälan så att jag slipper stå som målsägande.",
    "Fler säkerhetssamordnare och snabbare kontakt med dem.",
    "Mindre ärendemängd så att man hinner förbereda svåra möten.",
    "Tydligare stöd när hot riktas mot familjen eller sker på fritiden.",
)
STAY = (
    "Lägre arbetsbelastning och färre ärenden per handläggare.",
    "Ett bättre stöd från chefen efter hotet mot mig.",
    "Högre lön och en tydligare karriärväg.",
    "Att säkerheten hade tagits på allvar tidigare.",
    "Mer flexibla arbetstider.",
)
TEXTS = {"suggestions": SUGGESTIONS, "stay": STAY}


def demo_forms(
    definition: Definition, count: int, seed: int | str | None = None
) -> Iterator[dict[str, list[str]]]:
    """Yield ``count`` plausible submitted forms for ``definition``, reproducible for a seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    for _ in range(count):
        yield _Respondent(definition, rng).form()


def demo_periods(
    count: int, today: dt.date, seed: int | str | None = None, months: int = 12
) -> Iterator[str]:
    """Yield ``count`` months (``YYYY-MM``) spread over the ``months`` up to ``today``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    choices = []
    year, month = today.year, today.month
    for _ in range(months):
        choices.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    for _ in range(count):
        yield rng.choice(choices)


class _Respondent:
    """One synthetic person: background first, then a risk that drives every answer."""

    def __init__(self, definition: Definition, rng: random.Random) -> None:
        self.definition = definition
        self.rng = rng
        self.values: dict[str, Any] = {}
        self.risk = 0.5
        self.exposures = 0
        self.repeated = False
        self.propensity = rng.lognormvariate(0, 0.5)
        self.main_reason = ""

    def form(self) -> dict[str, list[str]]:
        self.background()
        # Page order, with conditions evaluated on the answers given so far (as validate does).
        for question in iter_visible(self.definition, self.values):
            for item in question.items:
                if item.key in self.values or item.kind == "number":
                    continue
                value = self.answer(item)
                if value is not None:
                    self.values[item.key] = value
        form: dict[str, list[str]] = {}
        for key, value in self.values.items():
            form[key] = list(value) if isinstance(value, list | tuple) else [str(value)]
        return form

    # -- background ------------------------------------------------------------------

    def background(self) -> None:
        """Choose role, unit (and its district) and years first: they set the person's risk."""
        by_dimension = {q.dimension: q for q in self.definition.dimensions()}
        role = unit = None
        if "role" in by_dimension:
            question = by_dimension["role"]
            role = self.weighted(question.options, ROLE_WEIGHTS)
            self.values[question.key] = role
        if "unit" in by_dimension:
            question = by_dimension["unit"]
            keys = [o.key for o in question.options]
            usual = ROLE_UNIT.get(role or "")
            if usual in keys and self.rng.random() < 0.8:
                unit = usual
            elif self.rng.random() < 0.03 and PREFER_NOT in keys:
                unit = PREFER_NOT
            else:
                unit = self.rng.choice([k for k in keys if k != PREFER_NOT])
            self.values[question.key] = unit
        if "district" in by_dimension:
            # A city-wide survey: the district of the unit (a unit names it), else any.
            question = by_dimension["district"]
            units = by_dimension.get("unit")
            option = units.option(unit) if units is not None and unit else None
            district = option.parent if option is not None else None
            keys = [o.key for o in question.options if not o.prefer_not]
            self.values[question.key] = district or self.rng.choice(keys)
        if "years" in by_dimension:
            question = by_dimension["years"]
            weights = {"lt2": 20, "2to5": 30, "6to10": 22, "gt10": 25, PREFER_NOT: 3}
            self.values[question.key] = self.weighted(question.options, weights)
        self.risk = ROLE_RISK.get(role or "", 0.5) * UNIT_RISK.get(unit or "", 0.9)
        if self.values.get("years") == "lt2":
            self.risk *= 1.1

    # -- answers ---------------------------------------------------------------------

    def answer(self, item: Item) -> Any:
        """The answer to one item, or None to leave it unanswered."""
        required = item.question.required
        if not required and self.rng.random() < 0.03:
            return None
        if item.kind == "text":
            texts = TEXTS.get(item.key)
            return self.rng.choice(texts) if texts and self.rng.random() < 0.12 else None
        if item.question.key == "exp":
            return self.frequency(item)
        if item.question.key == "exposed":
            return self.yes_no_exposed(item)
        special = getattr(self, f"answer_{item.question.key}", None)
        if special is not None:
            value = special(item)
            if value is not None:
                return value
        if item.kind == "multiple":
            return self.some_of(item.options)
        return self.any_of(item.options)

    def frequency(self, item: Item) -> str:
        if self.rng.random() < 0.02:
            return PREFER_NOT
        row = item.row.key if item.row else ""
        chance = min(0.95, EXPOSURE.get(row, 0.1) * self.risk * self.propensity)
        if self.rng.random() >= chance:
            return "never"
        self.exposures += 1
        value = self.rng.choices(EXPOSED_VALUES, weights=(45, 40, 15))[0]
        self.repeated = self.repeated or value != "once"
        return value

    def yes_no_exposed(self, item: Item) -> str:
        if self.rng.random() < 0.03:
            return PREFER_NOT
        row = item.row.key if item.row else ""
        chance = min(0.95, EXPOSURE.get(row, 0.2) * self.risk * self.propensity)
        if self.rng.random() < chance:
            self.exposures += 1
            return "yes"
        return "no"

    def answer_aim(self, item: Item) -> str:
        return self.pick(item, {"all": 15, "some": 40, "no": 25, "dk": 17, "na": 3})

    def answer_ia(self, item: Item) -> str:
        return self.pick(item, {"all": 25, "most": 20, "some": 25, "none": 22, "dk": 5, "na": 3})

    def answer_police(self, item: Item) -> str:
        heavy = 2 if self.repeated else 1
        return self.pick(item, {"all": 5 * heavy, "some": 12 * heavy, "none": 70, "dk": 8, "na": 3})

    def answer_where(self, item: Item) -> list[str]:
        weights = {"office": 50, "field": 30, "phone": 55, "message": 35, "social": 12}
        weights.update({"home": 10, "family": 6, "other": 5})
        return self.several(item, weights, max_count=3)

    def answer_who(self, item: Item) -> list[str]:
        weights = {"client": 70, "relative": 35, "representative": 6, "unknown": 12}
        weights.update({"colleague": 3, "other": 3})
        return self.several(item, weights, max_count=2)

    def answer_informed(self, item: Item) -> list[str]:
        if self.rng.random() < 0.15:
            return ["noone"]
        weights = {"manager": 80, "security": 12, "safety_rep": 10, "police": 8}
        return self.several(item, weights, max_count=2)

    def answer_support(self, item: Item) -> list[str]:
        if self.rng.random() < 0.25:
            return ["none"]
        weights = {"manager": 60, "colleagues": 75, "health": 15, "security": 12}
        weights.update({"police_help": 6, "protected": 4, "duties": 5})
        return self.several(item, weights, max_count=3)

    def answer_worry(self, item: Item) -> str:
        level = min(4, self.exposures + (1 if self.risk > 0.7 else 0))
        shift = ("never", "rarely", "sometimes", "often", "always")
        weights = {key: 10 for key in shift}
        weights[shift[level]] = 45
        if level > 0:
            weights[shift[level - 1]] = 25
        weights[PREFER_NOT] = 2
        return self.pick(item, weights)

    def answer_leave(self, item: Item) -> str:
        strength = min(1.0, 0.08 + 0.12 * self.exposures + (0.15 if self.repeated else 0))
        if item.row and item.row.key == "profession":
            strength *= 0.7
        if self.rng.random() < 0.02:
            return PREFER_NOT
        if self.rng.random() >= strength:
            return "no"
        return "often" if self.rng.random() < 0.3 else "sometimes"

    def answer_routines(self, item: Item) -> str:
        center = {"know": 4, "trained": 3, "alarm": 4, "assessed": 3, "serious": 4}
        mean = center.get(item.row.key if item.row else "", 3) - (0.5 if self.exposures else 0)
        if self.rng.random() < 0.06:
            return "dk"
        return str(max(1, min(5, round(self.rng.gauss(mean, 1)))))

    def answer_threat_role(self, item: Item) -> str:
        if self.exposures:
            return self.pick(item, {"none": 25, "small": 30, "large": 25, "decisive": 15, "na": 5})
        return self.pick(item, {"none": 80, "small": 15, "large": 3, "decisive": 1, "na": 1})

    def answer_main_reason(self, item: Item) -> str:
        weights = {key: 4 for key in ("hours", "ethics", "climate", "commute", "other")}
        weights.update({"pay": 20, "workload": 22, "leadership": 12, "stress": 12})
        weights.update({"development": 10, "personal": 10, "reorganisation": 4})
        if self.exposures:
            weights.update({"threats": 10 * self.exposures, "safety": 4, "support": 5})
        choice = self.pick(item, weights)
        self.main_reason = choice
        return choice

    def answer_reasons(self, item: Item) -> list[str]:
        weights = {o.key: 5 for o in item.options}
        weights.update({"workload": 20, "stress": 18, "pay": 15, "leadership": 10})
        if self.exposures:
            weights.update({"threats": 15, "safety": 10, "support": 10})
        weights.pop(self.main_reason, None)
        return self.several(item, weights, max_count=item.question.max_choices or 3)

    # -- helpers ---------------------------------------------------------------------

    def weighted(self, options: Sequence[Option], weights: Mapping[str, float]) -> str:
        keys = [o.key for o in options]
        return self.rng.choices(keys, weights=[weights.get(k, 1) for k in keys])[0]

    def pick(self, item: Item, weights: Mapping[str, float]) -> str:
        return self.weighted(item.options, weights)

    def any_of(self, options: Sequence[Option]) -> str:
        if self.rng.random() < 0.03 and any(o.prefer_not for o in options):
            return PREFER_NOT
        return self.rng.choice([o.key for o in options if not o.prefer_not])

    def some_of(self, options: Sequence[Option]) -> list[str]:
        weights = {o.key: (0 if o.exclusive else 10) for o in options}
        return self.several_keys(options, weights, max_count=2)

    def several(self, item: Item, weights: Mapping[str, float], max_count: int) -> list[str]:
        if self.rng.random() < 0.03 and item.question.option(PREFER_NOT):
            return [PREFER_NOT]
        return self.several_keys(item.options, weights, max_count)

    def several_keys(
        self, options: Sequence[Option], weights: Mapping[str, float], max_count: int
    ) -> list[str]:
        """One to ``max_count`` distinct non-exclusive options, drawn by weight."""
        pool = {o.key: weights.get(o.key, 1) for o in options if not o.exclusive}
        pool = {k: w for k, w in pool.items() if w > 0}
        wanted = self.rng.randint(1, max(1, min(max_count, len(pool))))
        chosen: list[str] = []
        while pool and len(chosen) < wanted:
            key = self.rng.choices(list(pool), weights=list(pool.values()))[0]
            chosen.append(key)
            del pool[key]
        return chosen


CHUNK = 2000


def demo_chunk(
    definition_data: Mapping[str, Any], kind: str, size: int, seed: str, today: dt.date
) -> list[tuple[Answers, str | None]]:
    """``size`` validated synthetic responses with their periods (exit surveys: the month).

    Takes plain data so that it can run in a worker process; ``seed`` makes it
    reproducible whatever process runs it.
    """
    definition = from_data(definition_data)
    forms = demo_forms(definition, size, seed)
    periods = demo_periods(size, today, seed) if kind == "exit" else itertools.repeat(None)
    return [
        (validate(definition, form), period) for form, period in zip(forms, periods, strict=False)
    ]


def demo_responses(
    definition: Definition,
    count: int,
    seed: int | None,
    today: dt.date,
    workers: int = 1,
) -> Iterator[tuple[Answers, str | None]]:
    """``count`` validated synthetic responses, in chunks of ``CHUNK``.

    With ``workers`` > 1 the chunks are made in that many processes (started
    afresh, "spawn") while the caller stores the previous ones; at most two
    chunks per worker wait in memory.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    data = definition.to_data()
    sizes = [min(CHUNK, count - start) for start in range(0, count, CHUNK)]
    jobs = [(data, definition.kind, size, f"{seed}:{i}", today) for i, size in enumerate(sizes)]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield from demo_chunk(*job)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Any] = deque()
        queued = iter(jobs)
        for job in itertools.islice(queued, 2 * workers):
            pending.append(pool.submit(demo_chunk, *job))
        while pending:
            chunk = pending.popleft().result()
            for job in itertools.islice(queued, 1):
                pending.append(pool.submit(demo_chunk, *job))
            yield from chunk
