"""Disclosure control: the worked examples and attacks of shared/disclosure-control.md."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.disclosure import (
    Band,
    Reason,
    Table,
    band_bounds,
    band_of,
    band_width,
    check_release,
    percent,
    pool_periods,
    protect,
    protect_all,
)

ROLES = (
    "socialsekreterare",
    "bistandshandlaggare",
    "familjebehandlare",
    "administrator",
    "enhetschef",
)
SIZES = {
    "socialsekreterare": 38,
    "bistandshandlaggare": 12,
    "familjebehandlare": 17,
    "administrator": 9,
    "enhetschef": 4,
}


def yes_no(threatened: dict[str, int], sizes: dict[str, int] = SIZES) -> Table:
    counts = {}
    for group, y in threatened.items():
        counts[(group, "yes")] = y
        counts[(group, "no")] = sizes[group] - y
    return Table(tuple(threatened), ("yes", "no"), dict(sizes), counts, exclusive=True)


WORKED = {
    "socialsekreterare": 15,
    "bistandshandlaggare": 5,
    "familjebehandlare": 5,
    "administrator": 3,
    "enhetschef": 1,
}


def shown(result):
    return {
        g.group: (g.n, g.cells["yes"].percent, g.cells["yes"].band, g.cells["yes"].reason)
        for g in result.groups
    }


def test_worked_example_matches_the_published_table():
    result = protect(yes_no(WORKED), k=5)
    assert result.parent.n == 80
    assert result.parent.cells["yes"].percent == 36
    assert shown(result) == {
        "socialsekreterare": (38, 39, None, None),
        "bistandshandlaggare": (12, 42, None, None),
        "familjebehandlare": (17, 29, None, None),
        "administrator": (9, None, None, Reason.SECONDARY),
        "enhetschef": (None, None, None, Reason.PRIMARY),
    }


def test_group_below_k_shows_x_and_no_n():
    result = protect(yes_no(WORKED), k=5)
    manager = next(g for g in result.groups if g.group == "enhetschef")
    assert manager.n is None
    assert manager.reason is Reason.PRIMARY
    assert all(cell.count is None and cell.percent is None for cell in manager.cells.values())


def feasible_tables(table: Table, result) -> list[tuple[tuple[int, ...], ...]]:
    """Every table (a row of counts per group) consistent with the publication
    (brute force; small tables)."""
    published = {g.group: g for g in result.groups}
    ranges = []
    for g in table.groups:
        n = table.n[g]
        cells = published[g].cells
        per_option = []
        for o in table.options:
            cell = cells[o]
            if cell.count is not None:
                per_option.append([cell.count])
            elif cell.band is not None:
                low, high = band_bounds(cell.band, n)
                per_option.append(range(low, high + 1))
            else:
                per_option.append(range(n + 1))
        ranges.append(
            [
                combo
                for combo in itertools.product(*per_option)
                if not table.exclusive or sum(combo) == n
            ]
        )
    found = []
    for rows in itertools.product(*ranges):
        ok = True
        for j, o in enumerate(table.options):
            cell = result.parent.cells[o]
            total = sum(row[j] for row in rows)
            if cell.count is not None and total != cell.count:
                ok = False
            elif cell.band is not None:
                low, high = band_bounds(cell.band, result.parent.n)
                ok = ok and low <= total <= high
        if ok:
            found.append(rows)
    return found


def feasible_values(
    table: Table,
    result,
    group: str,
    column: str = "yes",
    view: tuple[str, str] | None = None,
    tables: list | None = None,
) -> set[int]:
    """Every value of a cell consistent with the publication (brute force; small tables),
    for a reader who knows that the cell ``view`` holds at least one respondent.
    ``tables``: ``feasible_tables(table, result)``, when already enumerated."""
    if tables is None:
        tables = feasible_tables(table, result)
    g, o = table.groups.index(group), table.options.index(column)
    if view is None:
        return {rows[g][o] for rows in tables}
    vg, vo = table.groups.index(view[0]), table.options.index(view[1])
    return {rows[g][o] for rows in tables if rows[vg][vo] >= 1}


def test_worked_example_leaves_the_manager_at_least_two_values():
    table = yes_no(WORKED)
    small = Table(table.groups, table.options, table.n, table.counts, exclusive=False)
    result = protect(table, k=5)
    assert len(_line_values(small, result, "enhetschef")) >= 2


def _line_values(table, result, group):
    """Feasible y of one group in the yes-column line (the other cells as published)."""
    published = {g.group: g for g in result.groups}
    hidden = [g for g in table.groups if published[g].cells["yes"].count is None]
    known = sum(published[g].cells["yes"].count for g in table.groups if g not in hidden)
    total = result.parent.cells["yes"].count
    values = set()
    for combo in itertools.product(*(range(table.n[g] + 1) for g in hidden)):
        if known + sum(combo) == total:
            values.add(combo[hidden.index(group)])
    return values


def test_variant_needs_a_third_suppression():
    variant = dict(WORKED, administrator=0)
    result = protect(yes_no(variant), k=5)
    rows = shown(result)
    assert rows["administrator"][2] == Band("<", 15)
    assert rows["bistandshandlaggare"][3] in (Reason.SECONDARY, Reason.AUDIT)
    assert rows["enhetschef"][3] is Reason.PRIMARY
    # A threatened manager knows y(enhetschef) >= 1; what remains must still hide it.
    table = yes_no(variant)
    published = {g.group: g for g in result.groups}
    hidden = [g for g in table.groups if published[g].cells["yes"].count is None]
    known = sum(published[g].cells["yes"].count for g in table.groups if g not in hidden)
    ranges = []
    for g in hidden:
        band = published[g].cells["yes"].band
        low, high = band_bounds(band, table.n[g]) if band else (0, table.n[g])
        if g == "enhetschef":
            low = max(low, 1)
        ranges.append(range(low, high + 1))
    manager = {
        combo[hidden.index("enhetschef")]
        for combo in itertools.product(*ranges)
        if known + sum(combo) == result.parent.cells["yes"].count
    }
    assert len(manager) >= 2


def test_two_groups_of_two_force_a_third_suppression():
    sizes = {"a": 2, "b": 2, "c": 10, "d": 12}
    result = protect(yes_no({"a": 1, "b": 1, "c": 5, "d": 6}, sizes), k=5)
    hidden = [g.group for g in result.groups if g.cells["yes"].count is None]
    assert set(hidden) >= {"a", "b"}
    assert len(hidden) >= 3


def test_groups_of_one_and_four_are_not_enough_together():
    sizes = {"a": 1, "b": 4, "c": 10, "d": 12}
    result = protect(yes_no({"a": 0, "b": 2, "c": 5, "d": 6}, sizes), k=5)
    hidden = [g.group for g in result.groups if g.cells["yes"].count is None]
    assert len(hidden) >= 3  # U = 5 fails 5 - 1 >= 5


@pytest.mark.parametrize(("y", "display"), [(9, Band(">", 85)), (0, Band("<", 15))])
def test_all_or_nothing_is_banded(y, display):
    sizes = {"a": 9, "b": 20, "c": 20}
    result = protect(yes_no({"a": y, "b": 8, "c": 9}, sizes), k=5)
    cell = next(g for g in result.groups if g.group == "a").cells["yes"]
    assert cell.band == display or cell.band is None
    assert cell.percent not in (0, 100)


def test_band_width_and_bounds():
    assert band_width(9, 1) == 15
    assert band_width(80, 1) == 5
    assert band_width(20, 1) == 10  # strictly greater than 5
    assert band_width(9, 2) == 25
    assert band_of(1, 9, 1) == Band("<", 15)
    assert band_of(3, 80, 1) == Band("<", 5)
    assert band_of(4, 80, 1) is None
    assert band_bounds(Band("<", 15), 9) == (0, 1)
    assert band_bounds(Band(">", 85), 9) == (8, 9)


@pytest.mark.parametrize(
    ("y", "n", "expected"),
    [(1, 8, 13), (29, 80, 36), (1, 3, 33), (2, 3, 67), (1, 2, 50), (0, 5, 0)],
)
def test_percent_rounds_halves_up(y, n, expected):
    assert percent(y, n) == expected


def test_two_dimensional_leak_is_found_by_the_audit():
    # Two suppressions in every row and column can still pin a cell exactly
    # (sdcTable's simpleheuristic case); the audit must add protection.
    groups = ("g1", "g2", "g3")
    options = ("o1", "o2", "o3")
    n = {"g1": 10, "g2": 10, "g3": 10}
    counts = {
        ("g1", "o1"): 1,
        ("g1", "o2"): 1,
        ("g1", "o3"): 8,
        ("g2", "o1"): 1,
        ("g2", "o2"): 4,
        ("g2", "o3"): 5,
        ("g3", "o1"): 4,
        ("g3", "o2"): 1,
        ("g3", "o3"): 5,
    }
    table = Table(groups, options, n, counts, exclusive=True)
    result = protect(table, k=5)
    tables = feasible_tables(table, result)
    for g in groups:
        for o in options:
            cell = next(r for r in result.groups if r.group == g).cells[o]
            if cell.count is None:
                assert len(feasible_values(table, result, g, o, tables=tables)) >= 2, (g, o)


def test_primary_and_secondary_render_alike():
    result = protect(yes_no(WORKED), k=5)
    rows = {g.group: g.cells["yes"] for g in result.groups}
    primary, secondary = rows["enhetschef"], rows["administrator"]
    assert (primary.count, primary.percent, primary.band) == (None, None, None)
    assert (secondary.count, secondary.percent, secondary.band) == (None, None, None)


def test_release_at_seven_then_eight_is_blocked():
    decisions = check_release({"cell": (3, 7)}, {"cell": (4, 8)}, k=5)
    assert decisions["cell"].publish_new is False
    assert (decisions["cell"].y, decisions["cell"].n) == (3, 7)
    later = check_release({"cell": (3, 7)}, {"cell": (8, 17)}, k=5)
    assert later["cell"].publish_new is True


def test_periods_pool_until_they_reach_k():
    pools = pool_periods([("2025H1", 3), ("2025H2", 4), ("2026H1", 6), ("2026H2", 2)], k=5)
    assert [(p.labels, p.n, p.pending) for p in pools] == [
        (("2025H1", "2025H2"), 7, False),
        (("2026H1",), 6, False),
        (("2026H2",), 2, True),
    ]


small_tables = st.integers(2, 3).flatmap(
    lambda g: st.integers(2, 3).flatmap(
        lambda o: st.tuples(
            st.just(g),
            st.just(o),
            st.lists(st.lists(st.integers(0, 4), min_size=o, max_size=o), min_size=g, max_size=g),
        )
    )
)


@settings(deadline=None)  # examples: the profile (tests/conftest.py)
@given(small_tables, st.integers(3, 5))
def test_no_published_small_group_and_no_derivable_suppressed_cell(spec, k):
    group_count, option_count, rows = spec
    groups = tuple(f"g{i}" for i in range(group_count))
    options = tuple(f"o{j}" for j in range(option_count))
    counts = {(g, o): rows[i][j] for i, g in enumerate(groups) for j, o in enumerate(options)}
    n = {g: sum(rows[i]) for i, g in enumerate(groups)}
    table = Table(groups, options, n, counts, exclusive=True)
    result = protect(table, k=k)
    again = protect(Table(groups, options, dict(reversed(n.items())), dict(counts), True), k=k)
    assert result == again  # deterministic, whatever the order of the mappings
    tables = feasible_tables(table, result)  # enumerated once, read for every cell and view
    for row in result.groups:
        if n[row.group] < k:
            assert row.n is None
        for o, cell in row.cells.items():
            if cell.count is not None:
                assert n[row.group] >= k
                assert band_of(cell.count, n[row.group], 1) is None
            elif n[row.group] > 0:
                values = feasible_values(table, result, row.group, o, tables=tables)
                assert len(values) >= 2, (row.group, o)
    # S3 from each respondent's point of view: a hidden cell keeps two values, one of
    # them away from "none" and "all" (k_ext = 1) where the group has room for it.
    hidden = [
        (row.group, o)
        for row in result.groups
        for o, cell in row.cells.items()
        if cell.count is None and n[row.group] > 0
    ]
    for view in [None, *(c for c in hidden if counts[c] >= 1)]:
        for group, o in hidden:
            if view is not None and view[0] == group and n[group] == 1:
                continue  # a group of one: its only respondent learns only their own answer
            values = feasible_values(table, result, group, o, view, tables)
            assert len(values) >= 2, (group, o, view)
            if n[group] >= 2:
                assert any(1 <= v <= n[group] - 1 for v in values), (group, o, view)


def test_a_child_group_called_all_does_not_collide_with_the_parent():
    table = Table(
        ("all",),
        ("yes", "no"),
        {"all": 39},
        {("all", "yes"): 16, ("all", "no"): 23},
        exclusive=True,
    )
    result = protect(table, k=5)
    assert result.parent.group == "all"
    assert result.parent.cells["yes"].count == 16
    assert result.groups[0].cells["yes"].count == 16


def test_an_empty_group_forces_no_suppression():
    """A group nobody belongs to hides nobody: the others and the total stay exact."""
    table = Table(
        ("social", "managers"),
        ("yes",),
        {"social": 20, "managers": 0},
        {("social", "yes"): 10, ("managers", "yes"): 0},
        exclusive=False,
    )
    result = protect(table, k=5)
    assert result.parent.cells["yes"].count == 10
    assert result.groups[0].cells["yes"].count == 10
    assert result.groups[1].n is None
    assert result.groups[1].cells["yes"].reason == Reason.PRIMARY


def test_bands_recoverable_from_their_row_cost_one_cell_per_row():
    """0 of 16 chose "often" and "don't know": the bands alone would be exact by
    subtraction from the row, so one more cell per row is held back, not the table."""
    options = ("often", "some", "no", "dk")
    counts = {("social", "often"): 0, ("social", "some"): 10}
    counts |= {("social", "no"): 6, ("social", "dk"): 0}
    table = Table(("social",), options, {"social": 16}, counts, exclusive=True)
    result = protect(table, k=5)
    for row in (result.parent, *result.groups):
        assert row.cells["often"].band == Band("<", 10)
        assert row.cells["dk"].band == Band("<", 10)
        assert row.cells["some"].count == 10
        # "No" is held back too (for the total a wider range, never "x").
        assert row.cells["no"].count is None
        assert row.cells["no"].reason == Reason.SECONDARY
    for option in ("often", "no", "dk"):
        assert len(feasible_values(table, result, "social", option)) >= 2, option


def test_the_total_is_protected_once_and_never_hidden_by_a_breakdown():
    """The same responses by role and by unit: the total row comes out the same in both,
    as protected on its own, and each breakdown hides children rather than the total."""
    options = ("never", "once", "often")
    by_role = {"a": (3, 1, 0), "b": (6, 2, 1), "c": (9, 0, 1)}
    by_unit = {"x": (10, 1, 0), "y": (2, 1, 1), "z": (6, 1, 1)}
    tables = []
    for rows in (by_role, by_unit):
        counts = {(g, o): rows[g][j] for g in rows for j, o in enumerate(options)}
        n = {g: sum(rows[g]) for g in rows}
        tables.append(Table(tuple(rows), options, n, counts, exclusive=True))
    total_counts = {("t", o): sum(r[j] for r in by_role.values()) for j, o in enumerate(options)}
    alone = protect(Table(("t",), options, {"t": 23}, total_counts, exclusive=True), k=5)
    role, unit = protect_all(tables, k=5)
    assert role.parent == unit.parent
    assert role.parent.cells == alone.parent.cells
    assert role.parent.cells["never"].count == 18
    for table, result in zip(tables, (role, unit), strict=True):
        for row in result.groups:
            for o, cell in row.cells.items():
                if cell.count is None and table.n[row.group] > 0:
                    assert len(feasible_values(table, result, row.group, o)) >= 2


def consistent_tables(table: Table, result):
    """Every table of counts (brute force) that agrees with all that ``result`` publishes,
    headline (derived) columns included."""

    def fits(cell, value, n):
        if cell.count is not None:
            return value == cell.count
        if cell.band is not None:
            low, high = band_bounds(cell.band, n)
            return low <= value <= high
        return True

    def value(row, column):
        parts = table.derived.get(column, (column,))
        return sum(row[table.options.index(o)] for o in parts)

    published = {g.group: g for g in result.groups}
    per_group = []
    for g in table.groups:
        n = table.n[g]
        rows = [
            combo
            for combo in itertools.product(range(n + 1), repeat=len(table.options))
            if sum(combo) == n
            and all(fits(published[g].cells[c], value(combo, c), n) for c in table.columns)
        ]
        per_group.append(rows)
    total = sum(table.n.values())
    for rows in itertools.product(*per_group):
        if all(
            fits(result.parent.cells[c], sum(value(r, c) for r in rows), total)
            for c in table.columns
        ):
            yield dict(zip(table.groups, rows, strict=True))


@settings(deadline=None)  # examples: the profile (tests/conftest.py)
@given(
    st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), min_size=2, max_size=3),
    st.integers(3, 4),
)
def test_headline_columns_protected_first_leave_no_hidden_cell_derivable(rows, k):
    """A table with a headline column ("yes" = "once" + "often"): whatever is published,
    each hidden cell, headline or option, keeps at least two possible values."""
    groups = tuple(f"g{i}" for i in range(len(rows)))
    options = ("never", "once", "often")
    counts = {(g, o): rows[i][j] for i, g in enumerate(groups) for j, o in enumerate(options)}
    n = {g: sum(rows[i]) for i, g in enumerate(groups)}
    table = Table(groups, options, n, counts, exclusive=True, derived={"yes": ("once", "often")})
    result = protect(table, k=k)
    tables = list(consistent_tables(table, result))
    for row in result.groups:
        if n[row.group] == 0:
            continue
        for column, cell in row.cells.items():
            if cell.count is None:
                parts = table.derived.get(column, (column,))
                values = {sum(t[row.group][options.index(o)] for o in parts) for t in tables}
                assert len(values) >= 2, (row.group, column, values)


def test_the_headline_by_role_survives_small_detailed_answers():
    """Threats by role for 196 staff (demo data): the detailed answers ("more than 5
    times" is 0–3 per role) need many cells hidden, but the board's figure — threatened,
    by role — stays published for every role large enough, each role's "never" with it."""
    sizes = {"ss_children": 42, "ss_adults": 26, "ss_finance": 27, "assessor": 28}
    sizes |= {"intake": 8, "treatment": 13, "manager": 17, "admin": 20, "other": 9, "na": 6}
    answers = {
        "ss_children": (13, 17, 9, 3),
        "ss_adults": (12, 10, 4, 0),
        "ss_finance": (23, 2, 2, 0),
        "assessor": (22, 3, 2, 1),
        "intake": (2, 3, 3, 0),
        "treatment": (6, 3, 4, 0),
        "manager": (11, 4, 2, 0),
        "admin": (17, 2, 0, 1),
        "other": (9, 0, 0, 0),
        "na": (2, 2, 1, 1),
    }
    options = ("never", "once", "2to5", "more5")
    counts = {(g, o): row[j] for g, row in answers.items() for j, o in enumerate(options)}
    derived = {"threatened": ("once", "2to5", "more5")}
    table = Table(tuple(answers), options, sizes, counts, exclusive=True, derived=derived)
    result = protect(table, k=5)
    threatened = {row.group: row.cells["threatened"] for row in result.groups}
    for group in ("ss_children", "ss_adults", "ss_finance", "assessor", "treatment", "admin"):
        assert threatened[group].count == sum(answers[group][1:]), group
    assert threatened["other"].band == Band("<", 15)
    assert result.parent.cells["threatened"].count == 79
