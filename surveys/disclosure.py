"""Disclosure control for published counts (``shared/disclosure-control.md``).

The rules themselves, standard library only: V1 rounding (``percent``), P2's
band (``band_width``, ``band_of``, ``band_bounds``), the reasons a cell is not
published exactly, D3 later releases (``check_release``) and the pooling of
exit-questionnaire periods (``pool_periods``).

Protection runs in ``surveys.linked``, which holds everything a report
publishes as one system (P1, P2, S1, S2 and the audit S3 over linked tables).
``protect``/``protect_all`` give it one item as plain tables (one per
breakdown, sharing their total): a ``Table`` is child groups × options, the
parent row being their sum; the worked examples of the rules are written
against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

PARENT_LABEL = "all"


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
    """Apply P1, P2, S1 and S3 to one table."""
    return protect_all([table], k, k_ext)[0]


def protect_all(tables: Sequence[Table], k: int, k_ext: int = 1) -> list[ProtectedTable]:
    """Protect several tables of one item (one per breakdown) as one system.

    The tables share their parent row, the total: they are the breakdowns of one
    table of the joint engine (``surveys.linked``), which hides children, never
    the total ("if every child would be suppressed, publish the parent only").
    """
    from surveys import linked  # the engine is built on this module's rules

    if k < 3:
        raise ValueError("k is never below 3")
    if not tables:
        return []
    first = tables[0]
    blocks: dict[str, tuple[str, ...]] = {linked.ALL: (linked.ALL,)}
    count: dict[tuple[str, str, str], int] = {}
    n: dict[tuple[str, str], int] = {}
    for i, table in enumerate(tables):
        block = f"b{i}"
        blocks[block] = tuple(table.groups)
        for group in table.groups:
            n[(block, group)] = table.n.get(group, 0)
            for option in table.options:
                count[(block, group, option)] = table.counts.get((group, option), 0)
    n[(linked.ALL, linked.ALL)] = sum(first.n.get(g, 0) for g in first.groups)
    for option in first.options:
        count[(linked.ALL, linked.ALL, option)] = sum(
            first.counts.get((g, option), 0) for g in first.groups
        )
    system = linked.System(k)
    system.table("t", "single" if first.exclusive else "multiple", first.options, blocks, count, n)
    if not first.exclusive:
        system.multiple_choice("t", ())
    for block, groups in blocks.items():
        for group in groups:
            size = n.get((block, group), 0)
            for column in first.columns:
                parts = first.derived.get(column, (column,))
                system.figure(
                    ("t", column, block, group),
                    "t",
                    dict.fromkeys(parts, 1),
                    n=size,
                    k_ext=k_ext,
                    headline=column in first.derived,
                )
    system.protect()

    def row(block: str, group: str, label: str) -> GroupResult:
        size = n.get((block, group), 0)
        cells = {}
        for column in first.columns:
            figure = system.figures[("t", column, block, group)]
            if figure.exact:
                cells[column] = Cell(figure.value, percent(figure.value, size), None, None)
            else:
                cells[column] = Cell(None, None, figure.band, Reason(str(figure.state)))
        small = size < k
        return GroupResult(label, None if small else size, Reason.PRIMARY if small else None, cells)

    parent = row(linked.ALL, linked.ALL, PARENT_LABEL)
    return [
        ProtectedTable(parent, tuple(row(f"b{i}", g, g) for g in table.groups))
        for i, table in enumerate(tables)
    ]


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
