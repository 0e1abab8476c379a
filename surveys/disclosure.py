"""Disclosure control for published counts (``shared/disclosure-control.md``).

Pure functions on frozen dataclasses, standard library only. A ``Table`` is
one item broken down by one dimension: child groups (rows, "prefer not to
say" among them) × options (columns), the parent row being their sum. The
functions decide, cell by cell, whether a count is published exactly, as a
band ("<15 %"), or suppressed ("x"), and keep the reason for the audit.

Rules: P1 minimum group size, P2 all-or-nothing bands, P3 totals are cells
too, S1 the line rule over columns (and rows of exclusive tables), S2 repeated
until stable, S3 an exact audit of every protected cell by integer bounds
(a rational simplex with branch and bound), also as seen by a respondent who
knows their own answer. V1 rounding, D3 later releases, and the pooling of
exit-questionnaire periods.

The attacker is assumed to know every group's size (headcounts are known in a
workplace), which only makes the protection stricter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

PARENT_LABEL = "all"
# Internal key of the parent row: a child group may itself be called "all".
PARENT = "\x00parent"


class Reason(StrEnum):
    """Why a cell is not published exactly (internal: never exported)."""

    PRIMARY = "primary"  # P1: the group is smaller than k
    BAND = "band"  # P2: the value is within the all-or-nothing band
    SECONDARY = "secondary"  # S1/S2: hidden so that another hidden cell stays hidden
    AUDIT = "audit"  # S3: added after the exact audit found a recoverable cell


@dataclass(frozen=True)
class Band:
    """A published range: ``("<", 15)`` is "<15 %", ``(">", 85)`` is ">85 %"."""

    sign: str
    bound: int

    def __iter__(self) -> Iterator[str | int]:
        return iter((self.sign, self.bound))

    def __str__(self) -> str:
        return f"{self.sign}{self.bound}"


@dataclass(frozen=True)
class Table:
    """One item by one dimension: counts per (group, option) and group sizes."""

    groups: tuple[str, ...]
    options: tuple[str, ...]
    n: Mapping[str, int]
    counts: Mapping[tuple[str, str], int]
    exclusive: bool
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def y(self, group: str, column: str) -> int:
        """The count of a cell; a derived column is the sum of its options."""
        if column in self.derived:
            return sum(self.counts.get((group, o), 0) for o in self.derived[column])
        return self.counts.get((group, column), 0)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.options) + tuple(self.derived)


@dataclass(frozen=True)
class Cell:
    """A protected cell: exact (count and percent), banded, or suppressed."""

    count: int | None
    percent: int | None
    band: Band | None
    reason: Reason | None

    @property
    def exact(self) -> bool:
        return self.reason is None


# A cell as protected on its own: its reason (None when exact) and its band.
_CellState = tuple[Reason | None, Band | None]


@dataclass(frozen=True)
class GroupResult:
    """A protected row; ``n`` is None when the group is below k (shown "<k")."""

    group: str
    n: int | None
    reason: Reason | None
    cells: Mapping[str, Cell]


@dataclass(frozen=True)
class ProtectedTable:
    """The parent row (all) and the protected child rows, in table order."""

    parent: GroupResult
    groups: tuple[GroupResult, ...]


def percent(y: int, n: int) -> int:
    """V1: an integer percentage of unrounded counts, halves rounded up (integer arithmetic)."""
    if n <= 0:
        raise ValueError("percent of an empty group")
    return (200 * y + n) // (2 * n)


def band_width(n: int, k_ext: int) -> int:
    """P2: the smallest multiple of 5 strictly greater than 100·k_ext/n."""
    return (100 * k_ext // n) // 5 * 5 + 5


def band_of(y: int, n: int, k_ext: int) -> Band | None:
    """The band ``y`` of ``n`` falls in, or None when it can be shown exactly."""
    width = band_width(n, k_ext)
    if 100 * y < width * n:
        return Band("<", width)
    if 100 * y > (100 - width) * n:
        return Band(">", 100 - width)
    return None


def band_bounds(band: Band, n: int) -> tuple[int, int]:
    """The counts a band allows for a group of ``n``."""
    if band.sign == "<":
        return 0, (band.bound * n - 1) // 100
    return band.bound * n // 100 + 1, n


# -- protection --------------------------------------------------------------------------


def protect(table: Table, k: int, k_ext: int = 1) -> ProtectedTable:
    """Apply P1, P2, S1, S2 and S3 to one table."""
    return protect_all([table], k, k_ext)[0]


def protect_all(tables: Sequence[Table], k: int, k_ext: int = 1) -> list[ProtectedTable]:
    """Protect several tables (e.g. one item by each dimension).

    Tables built from the same responses share only their parent row (the total).
    The parent is protected first, on its own, so it comes out the same in every
    table; each breakdown then hides children, never the total, to protect itself
    ("if every child would be suppressed, publish the parent only").
    """
    if k < 3:
        raise ValueError("k is never below 3")
    parents: dict[tuple[Any, ...], dict[str, Any]] = {}
    results = []
    for table in tables:
        total = _total_table(table)
        key = (
            total.n[TOTAL],
            tuple(sorted(total.counts.items())),
            total.exclusive,
            tuple(total.options),
            tuple(sorted(total.derived.items())),
        )
        if key not in parents:
            parents[key] = _Protector(total, k, k_ext).run_parent()
        fixed = _headline_cells(table, k, k_ext)
        results.append(_Protector(table, k, k_ext, parents[key], fixed).run())
    return results


# The other answers beside a headline figure, in a table of the headline alone.
REST = "\x00rest"


def _headline_cells(table: Table, k: int, k_ext: int) -> dict[tuple[str, str], _CellState]:
    """The headline figures of an exclusive table, each protected first on its own.

    "Threatened, by role" is what the board asks for; protected together with the
    detailed answers ("once", "2–5 times", …) it would be hidden to protect them.
    So each headline column is protected as a table of its own (the headline and
    the rest of the respondents), and the detailed table then starts from it and
    hides its other cells first. Where the rest is one option ("never" beside
    "threatened") that option is fixed too: it is the headline's complement.
    Returns {(group, column): (state, band)} for the child groups.
    """
    if not table.exclusive or not table.groups:
        return {}
    fixed: dict[tuple[str, str], _CellState] = {}
    for name, parts in table.derived.items():
        counts = {}
        for g in table.groups:
            y = table.y(g, name)
            counts[(g, name)] = y
            counts[(g, REST)] = table.n.get(g, 0) - y
        alone = Table(table.groups, (name, REST), dict(table.n), counts, exclusive=True)
        (result,) = protect_all([alone], k, k_ext)
        rest = [o for o in table.options if o not in parts]
        for row in result.groups:
            fixed[(row.group, name)] = _cell_state(row.cells[name])
            if len(rest) == 1:
                fixed[(row.group, rest[0])] = _cell_state(row.cells[REST])
    return fixed


def _cell_state(cell: Cell) -> _CellState:
    return cell.reason, cell.band


# The single child of a table of the total alone.
TOTAL = "\x00total"


def _total_table(table: Table) -> Table:
    """The parent row of ``table`` as a table of its own."""
    counts = {
        (TOTAL, o): sum(table.counts.get((g, o), 0) for g in table.groups) for o in table.options
    }
    n = {TOTAL: sum(table.n.get(g, 0) for g in table.groups)}
    return Table((TOTAL,), table.options, n, counts, table.exclusive, table.derived)


# How many of the cheapest candidates of each pool are tried before settling for the
# cheapest. The pools: the lines through the failing cell, the lines through its
# hidden parts, the whole table, and in a breakdown the headline figures, then the
# total. Every cell on the lines through the failing cell is tried: the one that
# settles may be the costliest, such as a headline figure that is the complement of
# the failing cell (hiding cheaper cells first would only hide them too).
LOOKAHEAD = (None, 6, 0, 0, 0)
# Witnesses kept per table for later audits (see _Protector.witnesses).
WITNESSES_KEPT = 32


class _Protector:
    def __init__(
        self,
        table: Table,
        k: int,
        k_ext: int,
        parent: dict[str, Any] | None = None,
        fixed: Mapping[tuple[str, str], _CellState] | None = None,
    ) -> None:
        self.t = table
        # Cells protected before this table (headline figures): kept unless no other
        # cell is left to hide.
        self.fixed = dict(fixed or {})
        # The parent row as protected on its own (state, band and reason), kept as is.
        self.fixed_parent = parent
        self.k = k
        self.k_ext = k_ext
        self.groups = list(table.groups)
        self.columns = list(table.columns)
        self.t_base = [(g, o) for g in self.groups for o in table.options]
        self.total_n = sum(table.n.get(g, 0) for g in self.groups)
        # state[(group, column)] = None (exact) or Reason; bands[(group, column)] = Band
        self.state: dict[tuple[str, str], Reason | None] = {}
        self.bands: dict[tuple[str, str], Band] = {}
        self.group_reason: dict[str, Reason | None] = {}
        self.passed: set[tuple[str, str]] = set()
        # Tables found by the audit (base cell -> count), newest last: one that agrees with
        # a later model serves as its witness too, without a search. Each is checked
        # exactly against the model it is used for, wherever it came from.
        self.witnesses: list[dict[tuple[str, str], int]] = []
        # Headline figures, and in an exclusive table the one option each is the
        # complement of ("never" beside "threatened"): hiding either hides both.
        self.headline = set(table.derived)
        if table.exclusive:
            for parts in table.derived.values():
                rest = [o for o in table.options if o not in parts]
                if len(rest) == 1:
                    self.headline.add(rest[0])

    def n(self, group: str) -> int:
        return self.total_n if group == PARENT else self.t.n.get(group, 0)

    def y(self, group: str, column: str) -> int:
        if group == PARENT:
            return sum(self.t.y(g, column) for g in self.groups)
        return self.t.y(group, column)

    def rows(self) -> list[str]:
        return [PARENT, *self.groups]

    def run_parent(self) -> dict[str, Any]:
        """Protect a table of the total alone; its parent row, to fix in every breakdown."""
        self.run()
        return {
            "state": {c: self.state[(PARENT, c)] for c in self.columns},
            "bands": {c: b for (g, c), b in self.bands.items() if g == PARENT},
            "reason": self.group_reason[PARENT],
        }

    def run(self) -> ProtectedTable:
        self.primary()
        while True:
            self.lines()
            failing = self.audit_failures()
            if not failing:
                break
            if not self.suppress_for(failing[0]):
                break
        return self.result()

    # P1, P2, P3
    def primary(self) -> None:
        for group in self.rows():
            small = self.n(group) < self.k
            self.group_reason[group] = Reason.PRIMARY if small else None
            for column in self.columns:
                cell = (group, column)
                if small:
                    self.state[cell] = Reason.PRIMARY
                    continue
                band = band_of(self.y(group, column), self.n(group), self.k_ext)
                self.state[cell] = Reason.BAND if band else None
                if band:
                    self.bands[cell] = band
        if self.fixed_parent is not None:
            self.group_reason[PARENT] = self.fixed_parent["reason"]
            for column in self.columns:
                self.state[(PARENT, column)] = self.fixed_parent["state"][column]
                self.bands.pop((PARENT, column), None)
            for column, band in self.fixed_parent["bands"].items():
                self.bands[(PARENT, column)] = band
        for cell, (reason, band) in self.fixed.items():
            self.state[cell] = reason
            self.bands.pop(cell, None)
            if band is not None:
                self.bands[cell] = band

    def exact(self, cell: tuple[str, str]) -> bool:
        return self.state[cell] is None

    # S1 and S2: line rules until nothing changes
    def lines(self) -> None:
        changed = True
        while changed:
            changed = False
            for column in self.columns:
                changed |= self.column_line(column)
            if self.t.exclusive:
                for group in self.rows():
                    changed |= self.row_line(group)

    def column_line(self, column: str) -> bool:
        if not self.exact((PARENT, column)):
            return False
        # An empty group hides nobody: its cells are zero whatever is published.
        hidden = [g for g in self.groups if not self.exact((g, column)) and self.n(g) > 0]
        if not hidden:
            return False
        n_u = sum(self.n(g) for g in hidden)
        y_u = sum(self.y(g, column) for g in hidden)
        if n_u - 1 >= self.k and min(y_u, n_u - y_u) >= self.k_ext + 1:
            return False
        shown = [g for g in self.groups if self.exact((g, column))]
        if not shown:
            return False  # every child is hidden: the parent alone is published
        victim = min(shown, key=lambda g: (self.n(g), self.groups.index(g)))
        self.state[(victim, column)] = Reason.SECONDARY
        return True

    def row_line(self, group: str) -> bool:
        """In an exclusive table a row sums to n: one hidden option would be recoverable."""
        if self.group_reason[group] is not None:
            return False
        options = list(self.t.options)
        hidden = [o for o in options if not self.exact((group, o))]
        if len(hidden) != 1:
            return False
        shown = [o for o in options if self.exact((group, o))]
        if not shown:
            return False
        victim = min(
            shown, key=lambda o: ((group, o) in self.fixed, self.y(group, o), options.index(o))
        )
        self.state[(group, victim)] = Reason.SECONDARY
        return True

    # S3: the audit
    def audit_failures(self) -> list[tuple[str, str]]:
        # Hiding a cell only relaxes what a reader knows (an equality or a band
        # becomes a plain bound), so a cell that passed once passes for good.
        protected = [
            c
            for c, r in self.state.items()
            if r is not None and self.n(c[0]) > 0 and c not in self.passed
        ]
        if not protected:
            return []
        model = _Model(self)
        views = model.views()
        # One failure is enough: the caller hides one more cell and audits again.
        for cell in protected:
            if not model.passes_all(cell, views):
                return [cell]
            self.passed.add(cell)
        return []

    def suppress_for(self, cell: tuple[str, str]) -> bool:
        """Hide one more cell so that ``cell`` passes the audit, at the least cost.

        A failing band is first turned into "x" when that settles it: a band leaks
        to the respondents inside it ("<5 %" and my own answer: nobody else), and
        no other cell can repair that. Otherwise candidates come from the lines
        through ``cell``, then from the lines through the hidden cells it is made
        of (a leak may run through a row the cell is not on), then from the whole
        table. Within each pool the cheapest cell that settles the failure on its
        own is hidden, shown by small moves first and by the solver for the
        cheapest few; when none does, the cheapest one, and the audit goes round.
        """
        if self.state[cell] == Reason.BAND and self.settles(cell, cell, thorough=True):
            self.hide(cell)
            return True
        fallback = None
        for pool, tries in zip(self.candidate_pools(cell), LOOKAHEAD, strict=False):
            # Hide an exact cell if there is one; otherwise turn a band (which
            # still bounds the value) into a plain "x".
            shown = [c for c in pool if self.exact(c)] or [
                c for c in pool if self.state[c] == Reason.BAND
            ]
            ordered = sorted(shown, key=self.cost)
            if fallback is None and ordered:
                fallback = ordered[0]
            tried = ordered[:tries]
            victim = next((v for v in tried if self.settles(cell, v)), None)
            if victim is None:
                # The solver for the cheapest few, and for the headline figures on the
                # cell's row, which may be the one equation that gives the cell away.
                thorough = tried[: LOOKAHEAD[1]]
                thorough += [
                    v for v in tried[LOOKAHEAD[1] :] if v[0] == cell[0] and v[1] in self.headline
                ]
                victim = next((v for v in thorough if self.settles(cell, v, thorough=True)), None)
            if victim is not None:
                self.hide(victim)
                return True
        if fallback is None:
            return False
        self.hide(fallback)
        return True

    def lines_through(self, cell: tuple[str, str]) -> list[tuple[str, str]]:
        group, column = cell
        found = [(g, column) for g in self.rows()]
        if self.t.exclusive:
            found += [(group, o) for o in self.t.options]
        for name, parts in self.t.derived.items():
            if column in parts or column == name:
                found += [(group, c) for c in (*parts, name)]
        return found

    def candidate_pools(self, cell: tuple[str, str]) -> list[list[tuple[str, str]]]:
        group, column = cell
        near = self.lines_through(cell)
        parts = self.t.derived.get(column, (column,))
        groups = self.groups if group == PARENT else [group]
        hidden_parts = [(g, o) for g in groups for o in parts if not self.exact((g, o))]
        farther = [c for part in hidden_parts for c in self.lines_through(part)]
        pools = [near, farther, list(self.state)]
        if self.fixed_parent is None:
            return [[c for c in dict.fromkeys(pool) if c in self.state] for pool in pools]
        # A breakdown hides its other children first, then the headline figures,
        # and the total (protected on its own already) only when nothing else is left.
        everything = list(dict.fromkeys([*near, *self.state]))
        children = [
            [
                c
                for c in dict.fromkeys(pool)
                if c in self.state and c[0] != PARENT and c not in self.fixed
            ]
            for pool in pools
        ]
        headline = [c for c in everything if c in self.fixed]
        return [*children, headline, [c for c in everything if c[0] == PARENT]]

    def cost(self, cell: tuple[str, str]) -> tuple[bool, int, int, int, int]:
        group, column = cell
        return (
            column in self.headline,  # headline indicators are hidden last
            self.y(group, column),
            self.n(group),
            self.rows().index(group),
            self.columns.index(column),
        )

    def hide(self, cell: tuple[str, str]) -> None:
        self.state[cell] = Reason.AUDIT
        self.bands.pop(cell, None)

    def settles(
        self, failing: tuple[str, str], victim: tuple[str, str], *, thorough: bool = False
    ) -> bool:
        """Whether hiding ``victim`` alone lets ``failing`` pass for every reader: by
        small moves only, or with the solver too when ``thorough``."""
        state, band = self.state[victim], self.bands.get(victim)
        self.state[victim] = Reason.AUDIT
        self.bands.pop(victim, None)
        try:
            model = _Model(self)
            return model.passes_all(failing, model.views(), moves_only=not thorough)
        finally:
            self.state[victim] = state
            if band is not None:
                self.bands[victim] = band

    def result(self) -> ProtectedTable:
        def row(group: str) -> GroupResult:
            n = self.n(group)
            cells = {}
            for column in self.columns:
                reason = self.state[(group, column)]
                if reason is None:
                    y = self.y(group, column)
                    cells[column] = Cell(y, percent(y, n), None, None)
                elif reason == Reason.BAND:
                    cells[column] = Cell(None, None, self.bands[(group, column)], reason)
                else:
                    cells[column] = Cell(None, None, None, reason)
            reason = self.group_reason[group]
            return GroupResult(group, None if reason else n, reason, cells)

        parent = row(PARENT)
        parent = GroupResult(PARENT_LABEL, parent.n, parent.reason, parent.cells)
        return ProtectedTable(parent, tuple(row(g) for g in self.groups))


class _Model:
    """What a reader knows, as linear constraints over the unknown base cells."""

    def __init__(self, p: _Protector) -> None:
        self.p = p
        t = p.t
        base = p.t_base
        known: dict[tuple[str, str], int] = {}
        for cell in base:
            # An empty group's cells are zero whatever is published.
            if p.exact(cell) or p.n(cell[0]) == 0:
                known[cell] = t.y(*cell)
        self.unknown_base = [c for c in base if c not in known]
        self.index = {c: i for i, c in enumerate(self.unknown_base)}
        size = len(self.unknown_base)
        self.lower = [0] * size
        self.upper = [p.n(g) for g, _ in self.unknown_base]
        # Linear forms are sparse: {variable: coefficient}.
        self.equalities: list[tuple[dict[int, int], int]] = []
        self.inequalities: list[tuple[dict[int, int], int]] = []  # a·x ≤ b

        def expression(cells: Sequence[tuple[str, str]]) -> tuple[dict[int, int], int]:
            coefficients: dict[int, int] = {}
            constant = 0
            for cell in cells:
                if cell in self.index:
                    i = self.index[cell]
                    coefficients[i] = coefficients.get(i, 0) + 1
                else:
                    constant += known[cell]
            return coefficients, constant

        def publish(cells: Sequence[tuple[str, str]], state: tuple[str, str]) -> None:
            coefficients, constant = expression(cells)
            reason = p.state[state]
            if not coefficients:
                return
            if reason is None:
                self.equalities.append((coefficients, p.y(*state) - constant))
            elif reason == Reason.BAND:
                low, high = band_bounds(p.bands[state], p.n(state[0]))
                self.inequalities.append((coefficients, high - constant))
                self.inequalities.append(({i: -c for i, c in coefficients.items()}, constant - low))
            elif sum(self.upper[i] * c for i, c in coefficients.items()) > p.n(state[0]) - constant:
                # "x" still bounds the cell by its group's size, unless the bounds
                # of its parts already do.
                self.inequalities.append((coefficients, p.n(state[0]) - constant))

        for group in p.groups:
            for column in p.columns:
                parts = t.derived.get(column, (column,))
                publish([(group, o) for o in parts], (group, column))
            if t.exclusive:
                coefficients, constant = expression([(group, o) for o in t.options])
                if coefficients:
                    self.equalities.append((coefficients, p.n(group) - constant))
        for column in p.columns:
            parts = t.derived.get(column, (column,))
            publish([(g, o) for g in p.groups for o in parts], (PARENT, column))

    def _prepare_moves(self) -> None:
        """Constraint rows touching each unknown cell, and their slack at the true table."""
        if hasattr(self, "_touching"):
            return
        true = [self.p.t.y(*c) for c in self.unknown_base]
        self._true = true
        rows = [(a, b, b) for a, b in self.equalities] + [
            (a, None, b) for a, b in self.inequalities
        ]
        self._rows = [
            (a, low, high, sum(c * true[i] for i, c in a.items())) for a, low, high in rows
        ]
        self._touching: list[list[int]] = [[] for _ in self.unknown_base]
        for r, (a, _, _, _) in enumerate(self._rows):
            for i in a:
                self._touching[i].append(r)

    def _move_ok(self, move: dict[int, int], lower: list[int]) -> bool:
        for i, d in move.items():
            value = self._true[i] + d
            if value < lower[i] or value > self.upper[i]:
                return False
        touched = {r for i in move for r in self._touching[i]}
        for r in touched:
            a, low, high, value = self._rows[r]
            new = value + sum(a.get(i, 0) * d for i, d in move.items())
            if (low is not None and new != low) or new > high:
                return False
        return True

    def views(self) -> list[tuple[str, str] | None]:
        """The readers to audit for: an outsider (None) and one respondent in each
        hidden cell that has any, who knows that cell holds at least one."""
        return [None, *(c for c in self.unknown_base if self.p.t.counts.get(c, 0) >= 1)]

    def lower_for(self, view: tuple[str, str] | None) -> list[int]:
        lower = list(self.lower)
        if view is not None:
            lower[self.index[view]] = max(lower[self.index[view]], 1)
        return lower

    def find_move(
        self, cell: tuple[str, str], lower: list[int], need: int = 0
    ) -> dict[int, int] | None:
        """A ±1 move on one cell, a pair, or a 2×2 cycle that stays consistent with the
        publication and changes the cell's value (by ``need`` when given, else either
        way): then more than one value is possible."""
        self._prepare_moves()
        coefficients, _ = self.target(cell)
        touching_target = sorted(coefficients)
        size = len(self.unknown_base)

        def changes(move: dict[int, int]) -> bool:
            delta = sum(coefficients.get(i, 0) * d for i, d in move.items())
            return delta != 0 if need == 0 else (delta >= need if need > 0 else delta <= need)

        for i in touching_target:
            # A partner that shares no constraint with i cannot repair what moving i
            # alone breaks, so only neighbours are tried.
            neighbours = sorted({j for r in self._touching[i] for j in self._rows[r][0]} - {i})
            for d in (1, -1):
                if changes({i: d}) and self._move_ok({i: d}, lower):
                    return {i: d}
                for j in neighbours:
                    move = {i: d, j: -d}
                    if changes(move) and self._move_ok(move, lower):
                        return move
        cells = self.unknown_base
        for i in touching_target:
            g1, o1 = cells[i]
            for j in range(size):
                g2, o2 = cells[j]
                if g2 == g1 or o2 == o1:
                    continue
                corner_a = self.index.get((g1, o2))
                corner_b = self.index.get((g2, o1))
                if corner_a is None or corner_b is None:
                    continue
                for d in (1, -1):
                    move = {i: d, corner_a: -d, corner_b: -d, j: d}
                    if changes(move) and self._move_ok(move, lower):
                        return move
        return None

    def target(self, cell: tuple[str, str]) -> tuple[dict[int, int], int]:
        group, column = cell
        parts = self.p.t.derived.get(column, (column,))
        groups = self.p.groups if group == PARENT else [group]
        coefficients: dict[int, int] = {}
        constant = 0
        for g in groups:
            for o in parts:
                if (g, o) in self.index:
                    i = self.index[(g, o)]
                    coefficients[i] = coefficients.get(i, 0) + 1
                else:
                    constant += self.p.t.y(g, o)
        return coefficients, constant

    def passes_all(
        self,
        cell: tuple[str, str],
        views: Sequence[tuple[str, str] | None],
        *,
        moves_only: bool = False,
    ) -> bool:
        """S3 for one cell and every reader in ``views``: more than one value is possible
        and, where the group is large enough to have one, a value away from "none" and
        "all".

        A witness (another table consistent with the publication) found for one reader
        serves every reader whose own cell it leaves at one or more, so most readers
        need no search of their own.
        """
        n = self.p.n(cell[0])
        y = self.p.y(*cell)
        floor, ceiling = self.p.k_ext, n - self.p.k_ext
        need: int | None
        directions: tuple[bool, ...]
        ok: Callable[[int], bool]
        if not floor <= ceiling or floor <= y <= ceiling:
            # The true value is feasible: any other feasible value will do.
            need, directions = 0, (True, False)
            ok = lambda value: value != y  # noqa: E731
        elif y < floor:
            need, directions = (1 if floor - y == 1 else None), (True,)
            ok = lambda value: value >= floor  # noqa: E731
        else:
            need, directions = (-1 if y - ceiling == 1 else None), (False,)
            ok = lambda value: value <= ceiling  # noqa: E731

        remaining = list(dict.fromkeys(views))
        if need is not None:
            self._prepare_moves()
            waiting = []
            while remaining:
                view = remaining.pop(0)
                move = self.find_move(cell, self.lower_for(view), need)
                if move is None:
                    waiting.append(view)
                    if view is None:
                        # Every reader knows at least what an outsider knows: when no
                        # small move works for the outsider, none works for anyone.
                        waiting += remaining
                        break
                    continue
                x = list(self._true)
                for i, d in move.items():
                    x[i] += d
                remaining = [v for v in remaining if not self.covers(x, v)]
            remaining = waiting
        if remaining and moves_only:
            return False
        coefficients, constant = self.target(cell)

        def value(x: Sequence[int]) -> int:
            return sum(c * x[i] for i, c in coefficients.items()) + constant

        while remaining:
            view = remaining.pop(0)
            lower = self.lower_for(view)
            known = self.known_witness(lower, lambda x: ok(value(x)))
            if known is not None:
                remaining = [v for v in remaining if not self.covers(known, v)]
                continue
            for maximise in directions:
                found = self.optimum(coefficients, lower, maximise=maximise)
                if found is None:  # an impossible view: the reader's own cell cannot be ≥ 1
                    break
                if ok(value(found)):
                    self.remember(found)
                    remaining = [v for v in remaining if not self.covers(found, v)]
                    break
            else:
                return False
        return True

    def known_witness(
        self, lower: list[int], wanted: Callable[[list[int]], bool]
    ) -> list[int] | None:
        """A table the audit found before that fits this model and ``wanted``, if any."""
        for table in reversed(self.p.witnesses):
            x = [table[c] for c in self.unknown_base]
            if wanted(x) and _satisfies(x, lower, self.upper, self.equalities, self.inequalities):
                return x
        return None

    def remember(self, x: Sequence[int]) -> None:
        """Keep ``x`` (with the published cells at their true values) for later models."""
        table = {c: self.p.t.y(*c) for c in self.p.t_base}
        table.update(zip(self.unknown_base, x, strict=True))
        self.p.witnesses.append(table)
        del self.p.witnesses[:-WITNESSES_KEPT]

    def optimum(
        self, coefficients: dict[int, int], lower: list[int], *, maximise: bool
    ) -> list[int] | None:
        """An integer table at the min or max of ``coefficients``·x, checked exactly.

        Floating point first; the exact solver only when its answer does not check out.
        A floating-point optimum that checks out may still fall short of the true one;
        the audit then fails a cell that would pass, which only hides more.
        """
        problem = (coefficients, lower, self.upper, self.equalities, self.inequalities)
        try:
            found = _integer_optimum(*problem, minimise=not maximise, exact=False)
        except ArithmeticError:
            found = None
        if found is not None and _satisfies(found[1], *problem[1:]):
            return found[1]
        found = _integer_optimum(*problem, minimise=not maximise)
        return None if found is None else found[1]

    def covers(self, x: Sequence[int], view: tuple[str, str] | None) -> bool:
        """Whether the table ``x`` is possible for the reader ``view``."""
        return view is None or x[self.index[view]] >= 1


# -- integer bounds -----------------------------------------------------------------------
#
# The audit needs, per protected cell, either a witness (another integer table that agrees
# with everything published and gives the cell another value) or a proof that none exists.
# A witness is searched for in floating point, which is fast, and then checked exactly in
# integers, so a cell never passes on a rounding error. When the fast search finds no
# witness the cell fails: that errs only towards hiding more, never less.

# A number of the simplex: a Fraction when exact, a float in the fast search.
_Number = Fraction | float
# A linear constraint over the unknown cells: ({variable: coefficient}, right-hand side).
_Constraint = tuple[dict[int, int], int]


# round() and abs() of a _Number: mypy cannot pick their overloads for the union.
def _round(v: _Number) -> int:
    return round(v) if isinstance(v, float) else round(v)


def _abs(v: _Number) -> _Number:
    return abs(v) if isinstance(v, float) else abs(v)


def _integer_optimum(
    objective: Mapping[int, int],
    lower: Sequence[int],
    upper: Sequence[int],
    equalities: Sequence[_Constraint],
    inequalities: Sequence[_Constraint],
    *,
    minimise: bool,
    exact: bool = True,
) -> tuple[int, list[int]] | None:
    """min or max of objective·x over integers lower ≤ x ≤ upper and the constraints:
    (value, x) at an optimum, or None when no integer point is feasible.

    With ``exact=False`` the LPs run in floating point: the answer is then a candidate
    that the caller must check with :func:`_satisfies`.
    """
    zero: _Number = Fraction(0) if exact else 0.0
    eps: float = 0 if exact else 1e-7
    caps = _implied_caps(len(lower), equalities)
    best: _Number | None = None
    best_x: list[_Number] | None = None
    stack = [(list(lower), list(upper))]
    while stack:
        lo, hi = stack.pop()
        if any(a > b for a, b in zip(lo, hi, strict=True)):
            continue
        solution = _lp(objective, lo, hi, equalities, inequalities, minimise, caps, zero, eps)
        if solution is None:
            continue
        value, x = solution
        if best is not None and (value >= best - eps if minimise else value <= best + eps):
            continue
        fractional = next((i for i, v in enumerate(x) if _abs(v - _round(v)) > eps), None)
        if fractional is None:
            best, best_x = value, x
            continue
        floor = math.floor(x[fractional])
        left_hi = list(hi)
        left_hi[fractional] = floor
        right_lo = list(lo)
        right_lo[fractional] = floor + 1
        stack.append((lo, left_hi))
        stack.append((right_lo, hi))
    if best is None or best_x is None:
        return None
    return _round(best), [_round(v) for v in best_x]


def _satisfies(
    x: Sequence[int],
    lower: Sequence[int],
    upper: Sequence[int],
    equalities: Sequence[_Constraint],
    inequalities: Sequence[_Constraint],
) -> bool:
    """Whether the integer point ``x`` meets every bound and constraint exactly."""
    if any(not lo <= v <= hi for v, lo, hi in zip(x, lower, upper, strict=True)):
        return False
    for coefficients, rhs in equalities:
        if sum(c * x[i] for i, c in coefficients.items()) != rhs:
            return False
    for coefficients, rhs in inequalities:
        if sum(c * x[i] for i, c in coefficients.items()) > rhs:
            return False
    return True


def _implied_caps(n: int, equalities: Sequence[_Constraint]) -> list[float]:
    """Upper bounds that follow from x ≥ 0 and an equality with non-negative coefficients
    (a row that sums to n bounds each of its cells by n): such bounds need no row."""
    caps = [math.inf] * n
    for coefficients, rhs in equalities:
        if all(c >= 0 for c in coefficients.values()):
            for i, c in coefficients.items():
                if c:
                    caps[i] = min(caps[i], rhs // c)
    return caps


def _lp(
    objective: Mapping[int, int],
    lower: Sequence[int],
    upper: Sequence[int],
    equalities: Sequence[_Constraint],
    inequalities: Sequence[_Constraint],
    minimise: bool,
    caps: Sequence[float],
    zero: _Number,
    eps: float,
) -> tuple[_Number, list[_Number]] | None:
    """Solve the LP by a two-phase simplex; (value, x) or None if infeasible.

    Numbers are Fractions (exact) or floats with tolerance ``eps``. Variables are
    shifted by their lower bounds and upper bounds become rows unless an equality
    already implies them. Rows a·x ≤ b with b ≥ 0 start with their slack in the
    basis; only the others need an artificial variable, which keeps phase 1 short.
    """
    one = zero + 1
    n = len(lower)
    rows: list[tuple[dict[int, int], int, str]] = []
    for coefficients, rhs in equalities:
        shift = sum(c * lower[i] for i, c in coefficients.items())
        rows.append((coefficients, rhs - shift, "="))
    for coefficients, rhs in inequalities:
        shift = sum(c * lower[i] for i, c in coefficients.items())
        rows.append((coefficients, rhs - shift, "<"))
    for i in range(n):
        if upper[i] < caps[i]:
            rows.append(({i: 1}, upper[i] - lower[i], "<"))
    slacks = [r for r, (_, _, kind) in enumerate(rows) if kind == "<"]
    needs_artificial = [r for r, (_, rhs, kind) in enumerate(rows) if kind == "=" or rhs < 0]
    slack_column = {r: n + i for i, r in enumerate(slacks)}
    artificial_column = {r: n + len(slacks) + i for i, r in enumerate(needs_artificial)}
    width = n + len(slacks) + len(needs_artificial)
    tableau: list[list[_Number]] = []
    basis: list[int] = []
    for r, (coefficients, rhs, kind) in enumerate(rows):
        row = [zero] * (width + 1)
        for i, c in coefficients.items():
            row[i] = zero + c
        row[-1] = zero + rhs
        if kind == "<":
            row[slack_column[r]] = one
        if rhs < 0:
            row = [-v for v in row]
        if r in artificial_column:
            row[artificial_column[r]] = one
            basis.append(artificial_column[r])
        else:
            basis.append(slack_column[r])
        tableau.append(row)
    artificial = set(artificial_column.values())
    if artificial:
        phase1 = [zero] * width
        for j in artificial:
            phase1[j] = one
        if _simplex(tableau, basis, phase1, width, eps) > eps:
            return None
        for r, b in enumerate(basis):
            if b in artificial:
                pivot = next(
                    (j for j in range(width) if j not in artificial and _abs(tableau[r][j]) > eps),
                    None,
                )
                if pivot is not None:
                    _pivot(tableau, basis, r, pivot, eps)
    cost = [zero] * width
    for j, c in objective.items():
        cost[j] = zero + (c if minimise else -c)
    _simplex(tableau, basis, cost, width, eps, artificial)
    shifted = [zero] * n
    for r, b in enumerate(basis):
        if b < n:
            shifted[b] = tableau[r][-1]
    x = [v + lower[i] for i, v in enumerate(shifted)]
    return sum(c * x[i] for i, c in objective.items()), x


def _pivot(
    tableau: list[list[_Number]],
    basis: list[int],
    row: int,
    column: int,
    eps: float,
    objective: list[_Number] | None = None,
) -> None:
    pivot = tableau[row][column]
    pivot_row = [v / pivot for v in tableau[row]]
    tableau[row] = pivot_row
    # The pivot row is sparse: update only its nonzero columns.
    nonzero = [(j, v) for j, v in enumerate(pivot_row) if v]
    others = [tableau[r] for r in range(len(tableau)) if r != row]
    if objective is not None:
        others.append(objective)
    for other in others:
        factor = other[column]
        if factor:
            for j, v in nonzero:
                other[j] -= factor * v
            if eps:
                other[column] = 0.0  # exactly, whatever rounding left behind
    basis[row] = column


def _simplex(
    tableau: list[list[_Number]],
    basis: list[int],
    cost: Sequence[_Number],
    width: int,
    eps: float,
    blocked: AbstractSet[int] = frozenset(),
) -> _Number:
    """Minimise cost·x from the current basic feasible solution (Bland's rule).

    The reduced costs are kept as one more row, updated by every pivot.
    """
    reduced = list(cost) + [cost[0] * 0]
    for r, b in enumerate(basis):
        factor = reduced[b]
        if factor:
            reduced = [a - factor * v for a, v in zip(reduced, tableau[r], strict=True)]
    # Bland's rule cannot cycle in exact arithmetic; in floating point a guard stops a
    # run that rounding has sent round in circles (the caller then solves exactly).
    limit = 50 * (width + len(tableau)) if eps else None
    pivots = 0
    while True:
        pivots += 1
        if limit is not None and pivots > limit:
            raise ArithmeticError("no progress in floating point")
        column = next((j for j in range(width) if reduced[j] < -eps and j not in blocked), None)
        if column is None:
            return -reduced[-1]
        candidates = [
            (tableau[r][-1] / tableau[r][column], basis[r], r)
            for r in range(len(tableau))
            if tableau[r][column] > eps
        ]
        if not candidates:
            raise ArithmeticError("unbounded LP: every variable is bounded, so this cannot happen")
        _, _, row = min(candidates)
        _pivot(tableau, basis, row, column, eps, reduced)


# -- time ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """Consecutive periods released together; ``pending`` until it reaches k."""

    labels: tuple[str, ...]
    n: int
    pending: bool


def pool_periods(periods: Sequence[tuple[str, int]], k: int) -> list[Pool]:
    """D3: pool each period with the next until the pool has at least k respondents.

    A final pool still below k is pending: it is not released, and waits for
    the next period.
    """
    pools: list[Pool] = []
    labels: list[str] = []
    total = 0
    for label, n in periods:
        labels.append(label)
        total += n
        if total >= k:
            pools.append(Pool(tuple(labels), total, False))
            labels, total = [], 0
    if labels:
        pools.append(Pool(tuple(labels), total, True))
    return pools


@dataclass(frozen=True)
class ReleaseDecision:
    """Whether a cell may show its new figure in a later release (D3)."""

    publish_new: bool
    y: int
    n: int


def check_release(
    previous: Mapping[str, tuple[int, int]],
    current: Mapping[str, tuple[int, int]],
    k: int,
    k_ext: int = 1,
) -> dict[str, ReleaseDecision]:
    """D3: a cell in two releases is unchanged, or differs by at least k respondents
    with a difference that itself passes P1 and P2; otherwise the old figure stays."""
    decisions = {}
    for key, (y, n) in current.items():
        if key not in previous:
            decisions[key] = ReleaseDecision(True, y, n)
            continue
        old_y, old_n = previous[key]
        dy, dn = y - old_y, n - old_n
        unchanged = (dy, dn) == (0, 0)
        safe = dn >= k and 0 <= dy <= dn and band_of(dy, dn, k_ext) is None
        if unchanged or safe:
            decisions[key] = ReleaseDecision(True, y, n)
        else:
            decisions[key] = ReleaseDecision(False, old_y, old_n)
    return decisions
