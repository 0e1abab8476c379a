"""An independent attacker for whole protected reports (test helper, not product code).

It does not use ``surveys.disclosure`` or the report's own bookkeeping. From the
survey definition and the respondents' answers (the truth) it builds the linked
system every reader can reason with (``shared/disclosure-control.md``, L1–L4):

- every count the report could show: item × breakdown × group × option, each
  group's n known (headcounts are known in a workplace), a group of respondents
  with no answer to a breakdown question counted as a group of its own;
- L1: a single-choice item's options sum to n; a multiple-choice item's
  exclusive option excludes the others, and every respondent chose something;
- L2: a headline indicator of one item is the sum of its options; the
  multi-item indicators the question bank ties to one item (``LINKS``); every
  other one lies between 0 and its base;
- L3: a conditional question is answered by at most those who chose an
  opening option (its "prefer not to say" per group a latent count, whose
  total the report may publish);
- L4: each breakdown's groups sum to the all-staff count (the exit
  questionnaire's reporting periods too: a respondent's half-year lies in the
  published period whose span covers it).

Then it reads what the report publishes (exact counts, bands, "x", "<k") and
bounds every hidden or banded count by integer programming (HiGHS), as an
outsider and as a respondent who knows every one of their own answers.
A finding is an exact recovery (one value left) or an everyone/no-one
disclosure (no value left in [k_ext, n − k_ext] where the group has room).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import highspy

from surveys.definition import PREFER_NOT
from surveys.disclosure import band_bounds
from surveys.indicators import indicators
from surveys.periods import half_year
from surveys.report import ALL, PERIOD

# Multi-item indicators whose hit is one item's options (L2, from the question bank):
# indicator -> (item, values) or (item, None) for "n less the exclusive options".
LINKS = {
    "unauthorized_influence": ("aim", ("all", "some")),
    "ia_feedback_received": ("ia_feedback", ("yes",)),
    "support_received": ("support", None),
}
MISSING = "\x00missing"


@dataclass(frozen=True)
class Finding:
    key: tuple
    reader: int | None  # the respondent's number, None for an outsider
    low: int
    high: int
    n: int


class Attack:
    def __init__(self, definition, answers, report, periods=None) -> None:
        self.definition = definition
        self.report = report
        self.answers = answers
        # Each respondent's stored half-year (exit questionnaires), by the answer's id.
        self.half_year = {
            id(a): half_year(p) for a, p in zip(answers, periods or (), strict=False) if p
        }
        self.lower: list[int] = []
        self.upper: list[int] = []
        self.true: list[int] = []
        self.index: dict[tuple, int] = {}
        self.rows: list[tuple[dict[int, int], float, float]] = []
        self.targets: list[tuple[int, int, int]] = []  # (variable, n, k_ext)
        self.members: dict[int, list[int]] = defaultdict(list)  # respondent -> variables
        self.base: dict[int, int] = {}  # a count's true n, where it differs from its bound
        self.n_of: dict[tuple, tuple[dict[int, int], int]] = {}  # (item, breakdown, group)
        self._build()

    # -- the system -------------------------------------------------------------------
    def var(self, key, true, upper) -> int:
        self.index[key] = len(self.true)
        self.true.append(true)
        self.lower.append(0)
        self.upper.append(upper)
        return self.index[key]

    def group_of(self, answer, breakdown) -> str:
        if breakdown == ALL:
            return ALL
        if breakdown == PERIOD:
            return self._period(self.half_year.get(id(answer)))
        value = answer.dimension_values(self.definition).get(breakdown)
        recoded = self.report.groups_of.get(breakdown)
        if recoded is not None:
            value = recoded.get(value)
        return value or MISSING

    def _period(self, half: str | None) -> str:
        """The published period covering ``half``: a pooled period's key names its first
        and last half-years ("2025-H2_2026-H1")."""
        for table in (*self.report.indicators, *self.report.questions):
            for row in table.breakdowns.get(PERIOD, ()):
                first, _, last = row.key.partition("_")
                if half is not None and first <= half <= (last or first):
                    return row.key
            break
        return MISSING

    def _item_rows(self, item, table, derived):
        """The groups of an item, per breakdown, with the n the report publishes for each:
        all staff from its own table; by group from its key-figure table (the report's
        ``key_figures``), or, for an item without one that a headline indicator is made
        of, from that indicator's table (a derived indicator's n is the item's; a
        multi-item one's is not, so the item's n stays unknown there)."""
        result = {ALL: table.breakdowns[ALL]}
        keyed = {t.key: t for t in self.report.key_figures}
        if item.key in keyed:
            result.update(keyed[item.key].breakdowns)
            return result
        for indicator in self.report.indicators:
            source = derived.get(indicator.key)
            linked = LINKS.get(indicator.key, (None,))[0]
            if item.key not in ((source.source if source else None), linked):
                continue
            for breakdown, rows in indicator.breakdowns.items():
                if breakdown != ALL and breakdown not in result:
                    result[breakdown] = tuple(
                        _Row(r.key, r.n if source is not None else None) for r in rows
                    )
        return result

    def _build(self) -> None:
        definition, report = self.definition, self.report
        tables = {t.key: t for t in (*report.indicators, *report.questions)}
        derived = {i.key: i for i in indicators(definition) if i.derived}
        for item in definition.items():
            if item.kind not in ("single", "multiple") or item.key not in tables:
                continue
            table = tables[item.key]
            options = [o for o in item.options if not o.prefer_not]
            recoded = self.report.groups_of.get(item.question.dimension or "")
            if recoded is not None:
                # A breakdown question's table shows the published (merged) groups.
                options = [_Option(c.key) for c in table.breakdowns[ALL][0].cells]
            for breakdown, rows in self._item_rows(item, table, derived).items():
                groups = [r.key for r in rows] + ([MISSING] if breakdown != ALL else [])
                members = defaultdict(list)
                for r, answer in enumerate(self.answers):
                    members[self.group_of(answer, breakdown)].append(r)
                published = {r.key: r.n is not None for r in rows}
                n_terms, n_known = {}, 0
                for g in groups:
                    people = members.get(g, [])
                    chosen = [set(self.answers[r].choices.get(item.key, ())) for r in people]
                    if recoded is not None:
                        chosen = [{recoded.get(v, PREFER_NOT) for v in c} for c in chosen]
                    n = sum(1 for c in chosen if c - {PREFER_NOT})
                    # A group's n is known where the report publishes it; elsewhere it is
                    # a count of its own, at most the group's respondents.
                    if breakdown == ALL or published.get(g):
                        size, n_term, n_const = n, {}, n
                        n_known += n
                    else:
                        size = len(people)
                        nv = self.var((item.key, "\x00n", breakdown, g), n, size)
                        n_term, n_const = {nv: -1}, 0
                        n_terms[nv] = 1
                    self.n_of[(item.key, breakdown, g)] = (n_term, n_const)
                    xs = []
                    for o in options:
                        count = sum(1 for c in chosen if o.key in c)
                        i = self.var((item.key, o.key, breakdown, g), count, size)
                        self.base[i] = n
                        xs.append(i)
                        for r, c in zip(people, chosen, strict=True):
                            if o.key in c:
                                self.members[r].append(i)
                        if n_term:
                            self.rows.append(({i: 1, **n_term}, -float("inf"), 0))
                    if item.kind == "single":
                        self.rows.append(({**dict.fromkeys(xs, 1), **n_term}, n_const, n_const))
                    else:
                        self.rows.append(
                            ({**dict.fromkeys(xs, 1), **n_term}, n_const, float("inf"))
                        )
                        exclusive = [x for x, o in zip(xs, options, strict=True) if o.exclusive]
                        for x, o in zip(xs, options, strict=True):
                            if exclusive and not o.exclusive:
                                self.rows.append(
                                    (
                                        {x: 1, **dict.fromkeys(exclusive, 1), **n_term},
                                        -float("inf"),
                                        n_const,
                                    )
                                )
                    if item.question.option(PREFER_NOT) is not None:
                        na = sum(1 for c in chosen if PREFER_NOT in c)
                        i = self.var((item.key, PREFER_NOT, breakdown, g), na, len(people))
                        self.rows.append(
                            ({i: 1, **{v: -c for v, c in n_term.items()}}, 0, len(people) - n_const)
                        )
                        for r, c in zip(people, chosen, strict=True):
                            if PREFER_NOT in c:
                                self.members[r].append(i)
                if breakdown != ALL and n_terms:
                    total = self.n_of[(item.key, ALL, ALL)][1]
                    self.rows.append((n_terms, total - n_known, total - n_known))
                for o in [*(o.key for o in options), PREFER_NOT]:
                    if (item.key, o, ALL, ALL) not in self.index or breakdown == ALL:
                        continue
                    terms = {self.index[(item.key, o, breakdown, g)]: 1 for g in groups}
                    terms[self.index[(item.key, o, ALL, ALL)]] = -1
                    self.rows.append((terms, 0, 0))
        # L3: the conditional questions (with each group's n, a count of its own where
        # the report does not publish it).
        for question in definition.questions:
            condition = question.condition
            parent = definition.question(condition.question) if condition else None
            if parent is None:
                continue
            for item in question.items:
                if item.key not in tables:
                    continue
                cells = {k[2:] for k in self.index if k[0] == item.key and k[1] != PREFER_NOT}
                for breakdown, g in sorted(cells):
                    self._at_least(parent, condition, item, breakdown, g)
        # Indicators.
        for table in report.indicators:
            for breakdown, rows in table.breakdowns.items():
                for row in rows:
                    published = row.n is not None
                    self._indicator(
                        table.key, derived.get(table.key), breakdown, row.key, published
                    )
        self._indicator_lines()
        self._publish(tables, derived)

    def _at_least(self, parent, condition, item, breakdown, g) -> None:
        """The opening options of a group count at least its answers to the follow-up."""
        terms = defaultdict(int)
        for p in parent.items:
            for w in condition.values:
                if (p.key, w, breakdown, g) in self.index:
                    terms[self.index[(p.key, w, breakdown, g)]] += 1
        if not terms:
            return
        n_term, n_const = self.n_of[(item.key, breakdown, g)]
        for v, c in n_term.items():
            terms[v] += c
        na = self.index.get((item.key, PREFER_NOT, breakdown, g))
        if na is not None:
            terms[na] -= 1
        self.rows.append((dict(terms), n_const, float("inf")))

    def _indicator(self, key, derived, breakdown, group, published) -> None:
        """An indicator of a group: its hits at most its base, the base known where the
        report publishes its n (``published``) and otherwise a count of its own; with
        the groups' bases summing to the all-staff base (L4)."""
        if derived is not None:
            return  # published as a sum of the item's options, see _publish
        people = [r for r, a in enumerate(self.answers) if self.group_of(a, breakdown) == group]
        base, hit = self._indicator_truth(key, people)
        i = self.var(("\x00ind", key, breakdown, group), len(hit), len(people))
        self.base[i] = len(base)
        b = self.var(("\x00base", key, breakdown, group), len(base), len(people))
        self.rows.append(({i: 1, b: -1}, -float("inf"), 0))
        if published:
            self.rows.append(({b: 1}, len(base), len(base)))
        for r in hit:
            self.members[r].append(i)
        link = LINKS.get(key)
        if link is None:
            return
        item, values = link
        n_term, n_const = self.n_of[(item, breakdown, group)]
        if values is None:
            none = [o.key for o in self.definition.item(item).options if o.exclusive]
            terms = {
                i: 1,
                **{self.index[(item, o, breakdown, group)]: 1 for o in none if o != PREFER_NOT},
                **n_term,
            }
            self.rows.append((terms, n_const, n_const))
        else:
            terms = {i: 1, **{self.index[(item, v, breakdown, group)]: -1 for v in values}}
            self.rows.append((terms, 0, 0))
        # A base that is some of the item's options is their count (ia_feedback_received:
        # yes, no and "don't know").
        options = self._base_options(key, item)
        if options is not None:
            terms = {b: 1, **{self.index[(item, o, breakdown, group)]: -1 for o in options}}
            self.rows.append((terms, 0, 0))

    def _indicator_lines(self) -> None:
        """L4 for the multi-item indicators: every breakdown's groups, the unpublished
        one included, sum to the all-staff hits and base."""
        for table in self.report.indicators:
            if ("\x00ind", table.key, ALL, ALL) not in self.index:
                continue
            for breakdown, rows in table.breakdowns.items():
                if breakdown == ALL:
                    continue
                self._indicator(table.key, None, breakdown, MISSING, False)
                groups = [r.key for r in rows] + [MISSING]
                for kind in ("\x00ind", "\x00base"):
                    terms = {self.index[(kind, table.key, breakdown, g)]: 1 for g in groups}
                    terms[self.index[(kind, table.key, ALL, ALL)]] = -1
                    self.rows.append((terms, 0, 0))

    def _base_options(self, key, item):
        indicator = next(i for i in indicators(self.definition) if i.key == key)
        options = [o.key for o in self.definition.item(item).options if not o.prefer_not]
        base = set(options)
        for flag in indicator.base:
            if len(flag.terms) == 1 and set(flag.terms[0][0]) == {item}:
                base &= set(flag.terms[0][1])
        return None if base == set(options) else [o for o in options if o in base]

    def _indicator_truth(self, key, people):
        indicator = next(i for i in indicators(self.definition) if i.key == key)

        def holds(flag, answers):
            return any(
                set(answers.choices.get(item, ())) & set(values)
                for items, values in flag.terms
                for item in items
            )

        base = [r for r in people if all(holds(f, self.answers[r]) for f in indicator.base)]
        hit = [r for r in base if all(holds(f, self.answers[r]) for f in indicator.hit)]
        return base, hit

    def _sum(self, key, item, values, breakdown, group) -> int:
        """A count of its own for a published sum of one item's options in a group (a
        derived indicator, a key figure), so that it is attacked as the reader sees it:
        ``values`` None means the item's n less its exclusive options. Returns it."""
        if key in self.index:
            return self.index[key]
        definition_item = self.definition.item(item)
        n_term, n_const = self.n_of[(item, breakdown, group)]
        if values is None:
            chosen = [o.key for o in definition_item.options if o.exclusive and not o.prefer_not]
            sign = -1
        else:
            chosen, sign = list(values), 1
        parts = [self.index[(item, o, breakdown, group)] for o in chosen]
        size = self.upper[parts[0]] if parts else n_const
        truth = sum(self.true[i] for i in parts)
        if values is None:
            n = n_const - sum(c * self.true[v] for v, c in n_term.items())
            truth = n - truth
        v = self.var(key, truth, size)
        self.base[v] = self.base.get(parts[0], size) if parts else size
        # v = Σ options, or v = n − Σ exclusive (n = n_const − Σ n_term).
        terms = {v: 1, **{i: -sign for i in parts}}
        if values is None:
            for u, c in n_term.items():
                terms[u] = terms.get(u, 0) + c
            self.rows.append((terms, n_const, n_const))
        else:
            self.rows.append((terms, 0, 0))
        for r, answer in enumerate(self.answers):
            if self.group_of(answer, breakdown) != group:
                continue
            chosen_by = set(answer.choices.get(item, ()))
            if values is None:
                hit = bool(chosen_by - {PREFER_NOT}) and not chosen_by & set(chosen)
            else:
                hit = bool(chosen_by & set(values))
            if hit:
                self.members[r].append(v)
        return v

    def _publish(self, tables, derived) -> None:
        """Fix exact counts, bound bands, and note every protected count to attack."""
        keyed = [(t, True) for t in self.report.key_figures]
        for table, is_key in [*((t, False) for t in tables.values()), *keyed]:
            for breakdown, rows in table.breakdowns.items():
                for row in rows:
                    for cell in row.cells:
                        if is_key:
                            item = self.definition.item(table.key)
                            values = list(item.key_figure.values)
                            if item.kind == "multiple" and len(values) > 1:
                                values = None  # n less the exclusive options
                            i = self._sum(
                                ("\x00key", table.key, breakdown, row.key),
                                table.key,
                                values,
                                breakdown,
                                row.key,
                            )
                            terms, n = {i: 1}, self.base.get(i, self.upper[i])
                        elif table.key in derived:
                            indicator = derived[table.key]
                            i = self._sum(
                                ("\x00ind", table.key, breakdown, row.key),
                                indicator.source,
                                indicator.values,
                                breakdown,
                                row.key,
                            )
                            terms, n = {i: 1}, self.base.get(i, self.upper[i])
                        elif (table.key, cell.key, breakdown, row.key) in self.index:
                            i = self.index[(table.key, cell.key, breakdown, row.key)]
                            terms, n = {i: 1}, self.base.get(i, self.upper[i])
                        else:
                            i = self.index[("\x00ind", table.key, breakdown, row.key)]
                            terms, n = {i: 1}, self.base.get(i, self.upper[i])
                        if cell.count is not None:
                            self.rows.append((terms, cell.count, cell.count))
                            continue
                        if cell.band is not None:
                            low, high = band_bounds(_Band(*cell.band), n)
                            self.rows.append((terms, low, high))
                        if n > 0 and len(terms) == 1:
                            self.targets.append((next(iter(terms)), n, table.k_ext))
                    key = (table.key, PREFER_NOT, ALL, ALL)
                    if breakdown == ALL and row.prefer_not is not None and key in self.index:
                        i = self.index[key]
                        self.rows.append(({i: 1}, row.prefer_not, row.prefer_not))

    # -- the attack ----------------------------------------------------------------------
    def components(self):
        """Fix what is published exactly, then split the rest into independent parts:
        (variables, rows) each, the rows with their fixed terms moved to the bounds."""
        low, high = list(self.lower), list(self.upper)
        multi = []
        for terms, lo, hi in self.rows:
            if len(terms) == 1:
                ((i, c),) = terms.items()
                assert c == 1
                low[i], high[i] = max(low[i], lo), min(high[i], hi)
            else:
                multi.append((terms, lo, hi))
        parent = list(range(len(self.true)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for terms, _, _ in multi:
            free = [i for i in terms if low[i] != high[i]]
            for i in free[1:]:
                parent[find(i)] = find(free[0])
        rows_of = defaultdict(list)
        for terms, lo, hi in multi:
            shift = sum(c * low[i] for i, c in terms.items() if low[i] == high[i])
            free = {i: c for i, c in terms.items() if low[i] != high[i]}
            if free:
                rows_of[find(next(iter(free)))].append((free, lo - shift, hi - shift))
        self.low, self.high = low, high
        self.root = find
        self.rows_of = rows_of

    def solver(self, root) -> tuple[highspy.Highs, dict[int, int]]:
        members = [i for i in range(len(self.true)) if self.root(i) == root]
        local = {i: m for m, i in enumerate(members)}
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for i in members:
            h.addVar(self.low[i], self.high[i])
            h.changeColIntegrality(local[i], highspy.HighsVarType.kInteger)
        for terms, low, high in self.rows_of.get(root, []):
            idx = [local[i] for i in terms]
            h.addRow(
                -highspy.kHighsInf if low == -float("inf") else low,
                highspy.kHighsInf if high == float("inf") else high,
                len(idx),
                idx,
                [float(c) for c in terms.values()],
            )
        return h, local

    def bound(self, h, i, known, settled) -> tuple[int, int]:
        """The least and greatest value of local variable ``i``. Every solution found is
        kept in ``known``; ``settled`` says when those already answer the question."""
        values = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            seen = {x[i] for x in known}
            if settled(seen):
                return min(seen), max(seen)
            h.changeColCost(i, 1.0)
            h.changeObjectiveSense(sense)
            h.run()
            assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            solution = [round(v) for v in h.getSolution().col_value]
            known.append(solution)
            values.append(solution[i])
            h.changeColCost(i, 0.0)
        return values[0], values[1]

    def findings(self, readers=()) -> list[Finding]:
        """Every protected count an outsider, or one of ``readers``, pins down (a
        respondent's number past the last respondent is no one: ``VARNA_ATTACK_READERS``
        may ask for more readers than a small survey has).

        Integer solutions found on the way are kept and reused: a count that two known
        solutions (the truth among them) already give two values, one of them outside
        the all-or-nothing band, needs no solve."""
        readers = [r for r in readers if r < len(self.answers)]
        self.components()
        found = []
        solvers = {}
        solutions = {}
        for reader in (None, *readers):
            own = set(self.members.get(reader, [])) if reader is not None else set()
            for i, n, k_ext in self.targets:
                if reader is not None and n == 1:
                    _, _, breakdown, group = self.key_of(i)
                    if self.group_of(self.answers[reader], breakdown) == group:
                        continue  # alone in the group: they learn only their own answers
                room = n >= 2 * k_ext

                def settled(seen, room=room, n=n, k_ext=k_ext):
                    return len(seen) > 1 and (
                        not room or any(k_ext <= v <= n - k_ext for v in seen)
                    )

                if self.low[i] == self.high[i]:
                    low = high = self.low[i]
                else:
                    root = self.root(i)
                    if root not in solvers:
                        solvers[root] = self.solver(root)
                        local = solvers[root][1]
                        truth = [0] * len(local)
                        for j, m in local.items():
                            truth[m] = self.true[j]
                        solutions[root] = [truth]
                    h, local = solvers[root]
                    mine = [j for j in own if j in local and self.low[j] < 1]
                    valid = [x for x in solutions[root] if all(x[local[j]] >= 1 for j in mine)]
                    for j in mine:
                        h.changeColBounds(local[j], 1, self.high[j])
                    low, high = self.bound(h, local[i], valid, settled)
                    solutions[root].extend(x for x in valid if x not in solutions[root])
                    for j in mine:
                        h.changeColBounds(local[j], self.low[j], self.high[j])
                assert low <= self.true[i] <= high, "the attacker's system is wrong"
                if low == high or (room and (high < k_ext or low > n - k_ext)):
                    found.append(Finding(self.key_of(i), reader, low, high, n))
        return found

    def violated(self) -> list:
        """Rows that the true counts break (there must be none: the system is the truth's)."""
        return [
            (terms, low, high)
            for terms, low, high in self.rows
            if not low <= sum(c * self.true[i] for i, c in terms.items()) <= high
        ]

    def key_of(self, i):
        if not hasattr(self, "_keys"):
            self._keys = {v: k for k, v in self.index.items()}
        return self._keys[i]


@dataclass(frozen=True)
class _Option:
    """A published group of a breakdown question's own table."""

    key: str
    exclusive: bool = False


@dataclass(frozen=True)
class _Row:
    """A group of a breakdown and the n the report publishes for it (None: not known)."""

    key: str
    n: int | None


@dataclass(frozen=True)
class _Band:
    sign: str
    bound: int
