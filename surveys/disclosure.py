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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

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

    def __iter__(self):
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

    Tables built from the same responses share only their parent row (the
    total), which every table protects identically, so each table is protected
    on its own; the parent is the same in all of them.
    """
    if k < 3:
        raise ValueError("k is never below 3")
    return [_Protector(table, k, k_ext).run() for table in tables]


class _Protector:
    def __init__(self, table: Table, k: int, k_ext: int) -> None:
        self.t = table
        self.k = k
        self.k_ext = k_ext
        self.groups = list(table.groups)
        self.columns = list(table.columns)
        self.total_n = sum(table.n.get(g, 0) for g in self.groups)
        # state[(group, column)] = None (exact) or Reason; bands[(group, column)] = Band
        self.state: dict[tuple[str, str], Reason | None] = {}
        self.bands: dict[tuple[str, str], Band] = {}
        self.group_reason: dict[str, Reason | None] = {}

    def n(self, group: str) -> int:
        return self.total_n if group == PARENT else self.t.n.get(group, 0)

    def y(self, group: str, column: str) -> int:
        if group == PARENT:
            return sum(self.t.y(g, column) for g in self.groups)
        return self.t.y(group, column)

    def rows(self) -> list[str]:
        return [PARENT, *self.groups]

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
        hidden = [g for g in self.groups if not self.exact((g, column))]
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
        victim = min(shown, key=lambda o: (self.y(group, o), options.index(o)))
        self.state[(group, victim)] = Reason.SECONDARY
        return True

    # S3: the audit
    def audit_failures(self) -> list[tuple[str, str]]:
        protected = [c for c, r in self.state.items() if r is not None and self.n(c[0]) > 0]
        if not protected:
            return []
        model = _Model(self)
        views: list[tuple[str, str] | None] = [None]
        views += [c for c in model.unknown_base if self.t.counts.get(c, 0) >= 1]
        # One failure is enough: the caller hides one more cell and audits again.
        for cell in protected:
            if any(not model.passes(cell, view) for view in views):
                return [cell]
        return []

    def suppress_for(self, cell: tuple[str, str]) -> bool:
        """Suppress the smallest exactly shown cell in a line through ``cell``."""
        group, column = cell
        candidates = []
        if group == PARENT:
            candidates += [(g, column) for g in self.groups]
        else:
            candidates += [(g, column) for g in self.rows()]
        if self.t.exclusive:
            candidates += [(group, o) for o in self.t.options]
        for name, parts in self.t.derived.items():
            if column in parts or column == name:
                candidates += [(group, c) for c in (*parts, name)]
        candidates = [c for c in dict.fromkeys(candidates) if c in self.state]
        # Hide an exact cell in a line through it if there is one; otherwise turn
        # a band (which still bounds the value) into a plain "x"; when the leak
        # runs through other lines, widen the search to the whole table.
        everything = list(self.state)
        shown = []
        for pool in (candidates, everything):
            shown = [c for c in pool if self.exact(c)] or [
                c for c in pool if self.state[c] == Reason.BAND
            ]
            if shown:
                break
        if not shown:
            return False
        victim = min(
            shown,
            key=lambda c: (
                c[1] in self.t.derived,  # headline indicators are hidden last
                self.y(*c),
                self.n(c[0]),
                self.rows().index(c[0]),
                self.columns.index(c[1]),
            ),
        )
        self.state[victim] = Reason.AUDIT
        self.bands.pop(victim, None)
        return True

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
        base = [(g, o) for g in p.groups for o in t.options]
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
        self.equalities: list[tuple[list[int], int]] = []
        self.inequalities: list[tuple[list[int], int]] = []  # a·x ≤ b

        def expression(cells: Sequence[tuple[str, str]]) -> tuple[list[int], int]:
            coefficients = [0] * size
            constant = 0
            for cell in cells:
                if cell in self.index:
                    coefficients[self.index[cell]] += 1
                else:
                    constant += known[cell]
            return coefficients, constant

        def publish(cells: Sequence[tuple[str, str]], state: tuple[str, str]) -> None:
            coefficients, constant = expression(cells)
            reason = p.state[state]
            if not any(coefficients):
                return
            if reason is None:
                self.equalities.append((coefficients, p.y(*state) - constant))
            elif reason == Reason.BAND:
                low, high = band_bounds(p.bands[state], p.n(state[0]))
                self.inequalities.append((coefficients, high - constant))
                self.inequalities.append(([-c for c in coefficients], constant - low))
            else:
                self.inequalities.append((coefficients, p.n(state[0]) - constant))

        for group in p.groups:
            for column in p.columns:
                parts = t.derived.get(column, (column,))
                publish([(group, o) for o in parts], (group, column))
            if t.exclusive:
                coefficients, constant = expression([(group, o) for o in t.options])
                if any(coefficients):
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
            (a, low, high, sum(c * v for c, v in zip(a, true, strict=True)))
            for a, low, high in rows
        ]
        self._touching = [
            [r for r, (a, _, _, _) in enumerate(self._rows) if a[i]]
            for i in range(len(self.unknown_base))
        ]

    def _move_ok(self, move: dict[int, int], lower: list[int]) -> bool:
        for i, d in move.items():
            value = self._true[i] + d
            if value < lower[i] or value > self.upper[i]:
                return False
        touched = {r for i in move for r in self._touching[i]}
        for r in touched:
            a, low, high, value = self._rows[r]
            new = value + sum(a[i] * d for i, d in move.items())
            if (low is not None and new != low) or new > high:
                return False
        return True

    def moves_to_other_value(
        self, cell: tuple[str, str], view: tuple[str, str] | None, need: int = 0
    ) -> bool:
        """Whether a ±1 move on one cell, a pair, or a 2×2 cycle stays consistent with the
        publication and changes the cell's value (by ``need`` when given, else either way):
        then more than one value is possible."""
        self._prepare_moves()
        lower = list(self.lower)
        if view is not None:
            lower[self.index[view]] = max(lower[self.index[view]], 1)
        coefficients, _ = self.target(cell)
        touching_target = [i for i, c in enumerate(coefficients) if c]
        if not touching_target:
            return False
        size = len(self.unknown_base)

        def changes(move: dict[int, int]) -> bool:
            delta = sum(coefficients[i] * d for i, d in move.items())
            return delta != 0 if need == 0 else (delta >= need if need > 0 else delta <= need)

        for i in touching_target:
            for d in (1, -1):
                if changes({i: d}) and self._move_ok({i: d}, lower):
                    return True
                for j in range(size):
                    if j != i:
                        move = {i: d, j: -d}
                        if changes(move) and self._move_ok(move, lower):
                            return True
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
                        return True
        return False

    def target(self, cell: tuple[str, str]) -> tuple[list[int], int]:
        group, column = cell
        parts = self.p.t.derived.get(column, (column,))
        groups = self.p.groups if group == PARENT else [group]
        coefficients = [0] * len(self.unknown_base)
        constant = 0
        for g in groups:
            for o in parts:
                if (g, o) in self.index:
                    coefficients[self.index[(g, o)]] += 1
                else:
                    constant += self.p.t.y(g, o)
        return coefficients, constant

    def passes(self, cell: tuple[str, str], view: tuple[str, str] | None) -> bool:
        """S3 for one cell and one reader: more than one value is possible and, where the
        group is large enough to have one, a value away from "none" and "all"."""
        n = self.p.n(cell[0])
        y = self.p.y(*cell)
        floor, ceiling = self.p.k_ext, n - self.p.k_ext
        middle = floor <= ceiling
        # The true value is always feasible: when it lies in the middle, one other
        # feasible value is enough, so one bound usually settles the question.
        if not middle or floor <= y <= ceiling:
            # Usually a small move away from the true table shows another value.
            if self.moves_to_other_value(cell, view):
                return True
            if self.bound(cell, view, maximise=True) > y:
                return True
            return self.bound(cell, view, maximise=False) < y
        if y < floor:
            if floor - y == 1 and self.moves_to_other_value(cell, view, need=1):
                return True
            return self.bound(cell, view, maximise=True) >= floor
        if y - ceiling == 1 and self.moves_to_other_value(cell, view, need=-1):
            return True
        return self.bound(cell, view, maximise=False) <= ceiling

    def bound(self, cell: tuple[str, str], view: tuple[str, str] | None, *, maximise: bool) -> int:
        """The integer max (or min) of the cell's count for a reader who knows ``view`` ≥ 1."""
        lower = list(self.lower)
        if view is not None:
            lower[self.index[view]] = max(lower[self.index[view]], 1)
        coefficients, constant = self.target(cell)
        value = _integer_optimum(
            coefficients,
            lower,
            self.upper,
            self.equalities,
            self.inequalities,
            minimise=not maximise,
        )
        if value is None:  # an impossible view (the reader's own cell cannot be ≥ 1)
            return self.p.y(*cell)
        return value + constant

    def bounds(self, cell: tuple[str, str], view: tuple[str, str] | None) -> tuple[int, int]:
        """Integer min and max of the cell's count, for a reader who knows ``view`` ≥ 1."""
        lower = list(self.lower)
        if view is not None:
            lower[self.index[view]] = max(lower[self.index[view]], 1)
        coefficients, constant = self.target(cell)
        low = _integer_optimum(
            coefficients, lower, self.upper, self.equalities, self.inequalities, minimise=True
        )
        high = _integer_optimum(
            coefficients, lower, self.upper, self.equalities, self.inequalities, minimise=False
        )
        if low is None or high is None:
            # The true table is always feasible; infeasible means the view is impossible.
            true = sum(self.p.t.y(*c) for c in self.unknown_base if coefficients[self.index[c]])
            return true + constant, true + constant
        return low + constant, high + constant


# -- exact integer bounds -----------------------------------------------------------------


def _integer_optimum(objective, lower, upper, equalities, inequalities, *, minimise):
    """min or max of objective·x over integers lower ≤ x ≤ upper and the constraints."""
    best: Fraction | None = None
    stack = [(list(lower), list(upper))]
    while stack:
        lo, hi = stack.pop()
        if any(a > b for a, b in zip(lo, hi, strict=True)):
            continue
        solution = _lp(objective, lo, hi, equalities, inequalities, minimise)
        if solution is None:
            continue
        value, x = solution
        if best is not None and (value >= best if minimise else value <= best):
            continue
        fractional = next((i for i, v in enumerate(x) if v.denominator != 1), None)
        if fractional is None:
            best = value
            continue
        floor = x[fractional].numerator // x[fractional].denominator
        left_hi = list(hi)
        left_hi[fractional] = floor
        right_lo = list(lo)
        right_lo[fractional] = floor + 1
        stack.append((lo, left_hi))
        stack.append((right_lo, hi))
    return None if best is None else int(best)


def _lp(objective, lower, upper, equalities, inequalities, minimise):
    """Solve the LP exactly (two-phase simplex on Fractions); (value, x) or None if infeasible.

    Variables are shifted by their lower bounds and upper bounds become rows.
    Rows a·x ≤ b with b ≥ 0 start with their slack in the basis; only the
    others need an artificial variable, which keeps phase 1 short.
    """
    n = len(objective)
    rows: list[tuple[list[int], int, str]] = []
    for coefficients, rhs in equalities:
        shift = sum(c * lo for c, lo in zip(coefficients, lower, strict=True))
        rows.append((coefficients, rhs - shift, "="))
    for coefficients, rhs in inequalities:
        shift = sum(c * lo for c, lo in zip(coefficients, lower, strict=True))
        rows.append((coefficients, rhs - shift, "<"))
    for i in range(n):
        unit = [0] * n
        unit[i] = 1
        rows.append((unit, upper[i] - lower[i], "<"))
    slacks = [r for r, (_, _, kind) in enumerate(rows) if kind == "<"]
    needs_artificial = [r for r, (_, rhs, kind) in enumerate(rows) if kind == "=" or rhs < 0]
    slack_column = {r: n + i for i, r in enumerate(slacks)}
    artificial_column = {r: n + len(slacks) + i for i, r in enumerate(needs_artificial)}
    width = n + len(slacks) + len(needs_artificial)
    tableau: list[list[Fraction]] = []
    basis: list[int] = []
    for r, (coefficients, rhs, kind) in enumerate(rows):
        row = [Fraction(c) for c in coefficients] + [Fraction(0)] * (width - n) + [Fraction(rhs)]
        if kind == "<":
            row[slack_column[r]] = Fraction(1)
        if rhs < 0:
            row = [-v for v in row]
        if r in artificial_column:
            row[artificial_column[r]] = Fraction(1)
            basis.append(artificial_column[r])
        else:
            basis.append(slack_column[r])
        tableau.append(row)
    artificial = set(artificial_column.values())
    if artificial:
        phase1 = [Fraction(0)] * width
        for j in artificial:
            phase1[j] = Fraction(1)
        if _simplex(tableau, basis, phase1, width) > 0:
            return None
        for r, b in enumerate(basis):
            if b in artificial:
                pivot = next(
                    (j for j in range(width) if j not in artificial and tableau[r][j] != 0), None
                )
                if pivot is not None:
                    _pivot(tableau, basis, r, pivot)
    cost = [Fraction(0)] * width
    for j, c in enumerate(objective):
        cost[j] = Fraction(c if minimise else -c)
    _simplex(tableau, basis, cost, width, artificial)
    shifted = [Fraction(0)] * n
    for r, b in enumerate(basis):
        if b < n:
            shifted[b] = tableau[r][-1]
    x = [v + lower[i] for i, v in enumerate(shifted)]
    return sum(c * v for c, v in zip(objective, x, strict=True)), x


def _pivot(tableau, basis, row, column, objective=None) -> None:
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
    basis[row] = column


def _simplex(tableau, basis, cost, width, blocked=frozenset()) -> Fraction:
    """Minimise cost·x from the current basic feasible solution (Bland's rule).

    The reduced costs are kept as one more row, updated by every pivot.
    """
    reduced = list(cost) + [Fraction(0)]
    for r, b in enumerate(basis):
        factor = reduced[b]
        if factor:
            reduced = [a - factor * v for a, v in zip(reduced, tableau[r], strict=True)]
    while True:
        column = next((j for j in range(width) if reduced[j] < 0 and j not in blocked), None)
        if column is None:
            return -reduced[-1]
        candidates = [
            (tableau[r][-1] / tableau[r][column], basis[r], r)
            for r in range(len(tableau))
            if tableau[r][column] > 0
        ]
        if not candidates:
            raise ArithmeticError("unbounded LP: every variable is bounded, so this cannot happen")
        _, _, row = min(candidates)
        _pivot(tableau, basis, row, column, reduced)


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
