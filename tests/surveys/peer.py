"""τ-ARGUS as a peer to measure against (IL5 of ``shared/disclosure-control.md``).

Given the same primary cells on a single table, how many secondary suppressions does
Värna's engine need, and how many does τ-ARGUS's optimal method (``OPT``, through
``pytauargus``, which bundles the open-source HiGHS solver) need?

A table here is one question by one breakdown, as the report publishes it or as it
once did:

- ``"key"``: each group's key figure with its n (what the report publishes by group,
  IL3), and for all staff the key figure and the rest. For τ-ARGUS this is the
  additive table group × {key figure, the rest}, row totals the groups' n.
- ``"full"``: every option of a single-choice question for every group (the table
  set of the first engines; "answer by role" in IL5's measurement).

Värna protects the table alone (``linked.System`` built for this one table); its
primary cells (P1: a group below k, P2: a band) go to τ-ARGUS as unsafe cells, with
protection levels that ask what Värna's audit asks (the range must reach
``[k_ext, n − k_ext]``, and be at least one wide). The n of every group of k or more
and every all-staff figure are "protected" (never suppressed), since Värna never
hides them either (V1, IL1). Every cell costs 1, so τ-ARGUS minimises the number of
cells it suppresses. The respondents who gave no group are an unpublished row of
their own, suppressed without protection levels (as in Värna, where ``MISSING``
is a group nobody sees).

τ-ARGUS knows less than a reader of Värna's report: a band is "x" to it (its bounds
are published, "<10 %"), and it does not look from a respondent's point of view
(the coalition of one). So each pattern is also checked the way a reader would
attack it (``_recoverable``: integer programming over the published table, bands
as bounds, as an outsider): a τ-ARGUS pattern that hides fewer cells than Värna's
may leave a figure that can be worked out.

A test dependency only; ``pytauargus`` is optional (its tests skip without it).
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highspy

from surveys import linked
from surveys.definition import Definition, Item
from surveys.disclosure import Band, Reason
from surveys.report import _Marginals

try:  # an optional test and benchmark dependency
    from pytauargus.engine import run_batch  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - depends on the environment
    run_batch = None

ALL = linked.ALL
MISSING = linked.MISSING
_MISSING_CODE = "zz_missing"
# What τ-ARGUS pays for suppressing an all-staff figure (Värna: a range instead, IL1).
TOTAL_COST = 1000
# A cell of the τ-ARGUS table: (group, column, count, status, lower and upper protection
# levels, cost). Every cell of a group costs 1, so that the optimum is the fewest cells;
# the unpublished row costs 0: τ-ARGUS hides it wherever that helps, as the report does.
Cell = tuple[str, str, int, str, int, int, int]

_METADATA = """<SEPARATOR> ";"
<SAFE> "S"
<UNSAFE> "U"
<PROTECT> "P"
grp "" ""
<RECODEABLE>
<TOTCODE> "Total"
opt "" ""
<RECODEABLE>
<TOTCODE> "Total"
count
<NUMERIC>
freq
<FREQUENCY>
cost
<NUMERIC> <COSTVAR>
lpl
<NUMERIC> <LOWERPL>
upl
<NUMERIC> <UPPERPL>
status
<STATUS>
"""

_BATCH = """<OPENTABLEDATA> "table.tab"
<OPENMETADATA> "table.rda"
<SPECIFYTABLE> "grp""opt"|"count"||"cost"
<SAFETYRULE>
<READTABLE> 1
<SUPPRESS> OPT(1)
<WRITETABLE> (1,5,"SO+","out.tab")
"""


@dataclass(frozen=True)
class Comparison:
    """One table: its primary cells and each method's secondary suppressions, and the
    protected cells a reader could work out from each method's publication."""

    item: str
    breakdown: str
    shape: str  # "key" or "full"
    groups: int
    primary: int  # cells (key: groups) protected for P1 or P2
    varna: int  # cells (key: groups) Värna hides or shows as a range for a secondary reason
    tau: int  # cells (key: groups) τ-ARGUS suppresses for a secondary reason
    varna_recovered: int  # protected cells an outsider works out from Värna's table
    tau_recovered: int  # … from the table τ-ARGUS would publish (bands as bounds)
    tau_breaks_line_rule: bool  # τ-ARGUS's table fails S1 (which it does not know)


def available() -> bool:
    return run_batch is not None


def marginals(definition: Definition, counts: Any, k: int) -> _Marginals:
    """The survey's counts per item and group, as the report sums them (once per survey:
    every table compared is read from them)."""
    return _Marginals(definition, counts, k)


def tables(marginals: _Marginals) -> list[tuple[Item, str, str]]:
    """The single tables to compare: every key figure by every breakdown, and every
    single-choice question's full distribution by every breakdown."""
    definition = marginals.definition
    chosen = []
    for item in definition.items():
        if item.kind not in ("single", "multiple") or item.question.dimension:
            continue
        for breakdown in marginals.dimensions:
            if item.key_figure is not None:
                chosen.append((item, breakdown, "key"))
            if item.kind == "single":
                chosen.append((item, breakdown, "full"))
    return chosen


def compare(
    marginals: _Marginals,
    k: int,
    item: Item,
    breakdown: str,
    shape: str,
    respondents: bool = True,
) -> Comparison:
    """Värna's engine and τ-ARGUS's optimum on one table, from the same primaries."""
    system, options, n = _single_system(marginals, item, breakdown, k, shape)
    groups = list(system.blocks[item.key][breakdown])
    columns = [linked.KEY] if shape == "key" else list(options)
    figures = {
        (group, column): system.figures[(item.key, column, block, group)]
        for block, members in ((ALL, [ALL]), (breakdown, groups))
        for group in members
        for column in columns
    }
    # ``System.protect`` in its steps: the primaries are what P1 and P2 decide (a band
    # the audit later turns into "x" is still a primary cell).
    system._primary()
    primaries = {
        cell: figure.band
        for cell, figure in figures.items()
        if figure.state in (Reason.PRIMARY, Reason.BAND)
    }
    system._line_rule()
    system._audit()
    cells = _tau_cells(system, item, breakdown, groups, columns, figures, primaries, n, k)
    names = {f"g{index}": group for index, group in enumerate(groups)}
    names.update({"Total": ALL, _MISSING_CODE: MISSING})
    tau_status = {(names[code], column): s for (code, column), s in _run_tau(cells).items()}
    column_of = {linked.KEY: "key"} if shape == "key" else {c: c for c in columns}
    varna_hidden = {cell for cell, figure in figures.items() if not figure.exact} - set(primaries)
    tau_hidden = {
        (g, c)
        for g, c in figures
        if (g, c) not in primaries
        and (
            tau_status.get((g, column_of[c])) == "M"
            or (shape == "key" and g != ALL and tau_status.get((g, "rest")) == "M")
        )
    }
    counted: tuple[set[Any], ...] = (set(primaries), varna_hidden, tau_hidden)
    if shape == "key":  # by group: the group's one figure is lost or not
        counted = tuple({g for g, _ in cells_of} for cells_of in counted)
    table = _Table(cells, names, k, figures, column_of)
    return Comparison(
        item.key,
        breakdown,
        shape,
        len(groups),
        len(counted[0]),
        len(counted[1]),
        len(counted[2]),
        # What each method publishes: Värna its final states; τ-ARGUS the primaries as
        # P1 and P2 left them, and its own suppressions.
        table.recoverable({c: f.band for c, f in figures.items() if not f.exact}, respondents),
        table.recoverable({**dict.fromkeys(tau_hidden), **primaries}, respondents),
        _breaks_line_rule(figures, set(primaries) | tau_hidden, n.get((ALL, ALL), 0), k),
    )


def _breaks_line_rule(
    figures: dict[tuple[str, str], linked.Figure],
    protected: set[tuple[str, str]],
    total: int,
    k: int,
) -> bool:
    """S1 of ``shared/disclosure-control.md`` on a pattern: in every line whose all-staff
    figure is exact, the hidden groups and the unpublished ones together (U) must hold
    k + 1 respondents and k_ext + 1 on either side of the figure."""
    for column in {c for _, c in figures}:
        parent = figures[(ALL, column)]
        if (ALL, column) in protected:
            continue
        children = [(g, f) for (g, c), f in figures.items() if c == column and g != ALL]
        hidden = [f for g, f in children if (g, column) in protected and f.n > 0]
        if not hidden:
            continue
        n_u = total - sum(f.n for _, f in children) + sum(f.n for f in hidden)
        y_u = parent.value - sum(f.value for _, f in children) + sum(f.value for f in hidden)
        if n_u - 1 < k or min(y_u, n_u - y_u) < parent.k_ext + 1:
            return True
    return False


def _single_system(
    marginals: _Marginals, item: Item, breakdown: str, k: int, shape: str
) -> tuple[linked.System, tuple[str, ...], dict[tuple[str, str], int]]:
    """``linked.derive`` for one item and one breakdown: the table alone."""
    system = linked.System(k)
    blocks = {ALL: (ALL,), breakdown: tuple(g for g, _ in marginals.groups(breakdown))}
    k_ext = linked.k_ext_for(item.key, ())
    n = linked.add_item(
        system, marginals, item, blocks, k_ext, distribution="every" if shape == "full" else "none"
    )
    return system, tuple(key for key, _ in marginals.options(item)), n


def _levels(value: int, size: int, margin: int) -> tuple[int, int]:
    """τ-ARGUS's lower and upper protection levels for what Värna's audit asks of a
    protected count: a range at least one wide that reaches [k_ext, n − k_ext] (only
    the first for a group below k, whose n is not published either)."""
    if value < margin:
        return 0, margin - value
    if value > size - margin:
        return value - (size - margin), 0
    return (1, 0) if value >= size else (0, 1)


def _tau_cells(
    system: linked.System,
    item: Item,
    breakdown: str,
    groups: list[str],
    columns: list[str],
    figures: dict[tuple[str, str], linked.Figure],
    primaries: dict[tuple[str, str], Band | None],
    n: dict[tuple[str, str], int],
    k: int,
) -> list[Cell]:
    """The cells of the τ-ARGUS table: (group, column, count, status, lower, upper).

    Key tables have the columns key figure and "rest"; full tables the options."""
    rows: list[Cell] = []
    block_sizes = {g: n.get((breakdown, g), 0) for g in groups}
    missing = n.get((ALL, ALL), 0) - sum(block_sizes.values())

    def split(group: str) -> dict[str, int]:
        figure = figures.get((group, columns[0]))
        if columns == [linked.KEY]:
            size = block_sizes.get(group, missing) if group != ALL else n.get((ALL, ALL), 0)
            value = figure.value if figure is not None else _missing_key(system, item, breakdown)
            return {"key": value, "rest": size - value}
        part = system.parts[(item.key, breakdown if group != ALL else ALL, group)]
        return {o: system.truth[v] for o, v in part.vars.items()}

    for index, group in enumerate([*groups, MISSING, ALL]):
        values = split(group)
        code = "Total" if group == ALL else _MISSING_CODE if group == MISSING else f"g{index}"
        for column, value in values.items():
            if group == MISSING:
                status, low, high = "S", 0, 0  # free to suppress (cost 0, ``_run_tau``)
            else:
                figure = figures[(group, linked.KEY if columns == [linked.KEY] else column)]
                cell = (group, linked.KEY if columns == [linked.KEY] else column)
                if cell in primaries:
                    status, (low, high) = "U", _levels(figure.value, figure.n, figure.k_ext)
                elif group == ALL:
                    # Never hidden but, where nothing else works, shown as a range (IL1):
                    # as dear to τ-ARGUS as a range is to Värna.
                    status, low, high = "S", 0, 0
                else:
                    status, low, high = "S", 0, 0
            cost = 0 if group == MISSING else TOTAL_COST if group == ALL else 1
            rows.append((code, column, value, status, low, high, cost))
        size = sum(values.values())
        # The unpublished row's n is known where every group's n is (by subtraction).
        known = all(size >= k for size in block_sizes.values())
        published = group == ALL or (size >= k if group != MISSING else known)
        status = "P" if published else "S" if group == MISSING else "U"
        rows.append((code, "Total", size, status, 0, int(status == "U"), int(group != MISSING)))
    return rows


def _missing_key(system: linked.System, item: Item, breakdown: str) -> int:
    """The key figure of the respondents without a group (by subtraction)."""
    total = system.figures[(item.key, linked.KEY, ALL, ALL)].value
    return total - sum(
        figure.value
        for (table, column, block, _), figure in system.figures.items()
        if table == item.key and column == linked.KEY and block == breakdown
    )


def _run_tau(cells: list[Cell]) -> dict[tuple[str, str], str]:
    """τ-ARGUS OPT on the cells: the status it gives each (group code, column), "M"
    for a secondary suppression."""
    if run_batch is None:
        raise RuntimeError("pytauargus is not installed")
    if not any(cell[3] == "U" for cell in cells):
        # Nothing to protect (and OPT refuses a table without unsafe cells).
        return {(cell[0], cell[1]): cell[3] for cell in cells}
    with tempfile.TemporaryDirectory(prefix="varna-tau-") as work:
        folder = Path(work)
        lines = [
            f"{group};{column};{value};{max(value, 1)};{cost};{low};{high};{status}"
            for group, column, value, status, low, high, cost in cells
        ]
        (folder / "table.tab").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "table.rda").write_text(_METADATA, encoding="utf-8")
        (folder / "batch.arb").write_text(_BATCH, encoding="utf-8")
        with contextlib.chdir(folder):  # the engine writes its logs where it runs
            run_batch(str(folder / "batch.arb"))
        statuses = {}
        for line in (folder / "out.tab").read_text(encoding="utf-8").splitlines():
            fields = [f.strip('"').strip() for f in line.split(";")]
            statuses[(fields[0], fields[1])] = fields[5]
    return statuses


class _Table:
    """One table as a reader of the report sees it, for a suppression pattern: an
    integer programme over its cells (the unpublished row included), with every
    published count fixed, bands as bounds, rows summing to the groups' n and columns
    to the all-staff figures. ``recoverable`` counts the protected figures it pins
    down, or leaves no value outside the all-or-nothing band for."""

    def __init__(
        self,
        cells: list[Cell],
        names: dict[str, str],
        k: int,
        figures: dict[tuple[str, str], linked.Figure],
        column_of: dict[str, str],
    ) -> None:
        self.cells = cells
        self.names = names
        self.k = k
        self.figures = figures
        self.column_of = column_of

    def recoverable(
        self, protected: dict[tuple[str, str], Band | None], respondents: bool = True
    ) -> int:
        """The protected figures (hidden: None, or a band) a reader works out."""
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        variables: dict[tuple[str, str], int] = {}
        truth: dict[tuple[str, str], int] = {}
        totals: dict[tuple[str, str], tuple[int, str]] = {}
        for code, column, value, status, *_ in self.cells:
            group = self.names[code]
            if column == "Total" or group == ALL:
                totals[(group, column)] = (value, status)
                continue
            truth[(group, column)] = value
            variables[(group, column)] = h.getNumCol()
            h.addVar(0, highspy.kHighsInf)
            h.changeColIntegrality(variables[(group, column)], highspy.HighsVarType.kInteger)
        sums: dict[str, int] = {}  # column -> variable of its all-staff sum
        for group in {g for g, _ in variables}:
            value, status = totals[(group, "Total")]
            lo, hi = (value, value) if status == "P" else (0.0, self.k - 1.0)
            if group == MISSING and status != "P":
                lo, hi = 0, highspy.kHighsInf
            self._row(h, [variables[c] for c in variables if c[0] == group], [], lo, hi)
        for column in {c for _, c in variables}:
            sums[column] = h.getNumCol()
            h.addVar(0, highspy.kHighsInf)
            self._row(h, [variables[c] for c in variables if c[1] == column], [sums[column]], 0, 0)
        grand = totals[(ALL, "Total")][0]
        self._row(h, list(sums.values()), [], grand, grand)
        targets = []
        for (group, figure_column), figure in self.figures.items():
            column = self.column_of[figure_column]
            variable = sums[column] if group == ALL else variables[(group, column)]
            if (group, figure_column) not in protected:
                h.changeColBounds(variable, figure.value, figure.value)
                continue
            band = protected[(group, figure_column)]
            if band is not None:
                h.changeColBounds(variable, *linked.band_range(band, figure.n))
            targets.append((variable, figure.n, figure.k_ext, (group, column)))

        # An outsider, then each respondent (one per group and option they chose, as all
        # in the same cell know the same): they know their own cell holds one at least,
        # and judge the others, their own answer removed ("a respondent inside U", S1).
        readers: list[tuple[str, str] | None] = [None]
        if respondents:
            readers += [c for c in variables if c[0] != MISSING and truth[c] > 0]
        found: set[tuple[str, str]] = set()
        for reader in readers:
            if reader is not None:
                h.changeColBounds(variables[reader], 1, highspy.kHighsInf)
            for variable, n, margin, cell in targets:
                if cell in found:
                    continue
                low, high = self._bound(h, variable)
                size = n
                if reader is not None and cell[0] in (reader[0], ALL):
                    size -= 1  # the others in the reader's group
                    if reader[1] == cell[1]:
                        low, high = low - 1, high - 1
                one_sided = n >= self.k and (high < margin or low > size - margin)
                if low == high or one_sided:
                    found.add(cell)
            if reader is not None:
                h.changeColBounds(variables[reader], 0, highspy.kHighsInf)
        return len(found)

    @staticmethod
    def _row(h: Any, plus: list[int], minus: list[int], lo: float, hi: float) -> None:
        index = plus + minus
        h.addRow(lo, hi, len(index), index, [1.0] * len(plus) + [-1.0] * len(minus))

    @staticmethod
    def _bound(h: Any, variable: int) -> tuple[int, int]:
        values = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            h.changeColCost(variable, 1.0)
            h.changeObjectiveSense(sense)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise AssertionError(f"the published table has no solution: {h.getModelStatus()}")
            values.append(round(h.getSolution().col_value[variable]))
            h.changeColCost(variable, 0.0)
        return values[0], values[1]
