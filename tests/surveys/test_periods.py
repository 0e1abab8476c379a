"""Exit-questionnaire reporting periods: half-years pooled until they reach k (rule D3)."""

from __future__ import annotations

import pytest

from surveys.periods import half_year, reporting_periods


@pytest.mark.parametrize(
    ("month", "half"),
    [
        ("2025-01", "2025-H1"),
        ("2025-06", "2025-H1"),
        ("2025-07", "2025-H2"),
        ("2025-12", "2025-H2"),
    ],
)
def test_months_fall_in_their_half_year(month, half):
    assert half_year(month) == half


@pytest.mark.parametrize("month", ["", "2025-13", "2025-00", "2025-1", "25-01", "2025-01-01"])
def test_anything_but_a_month_is_in_no_half_year(month):
    assert half_year(month) is None


def test_half_years_at_or_above_k_stand_alone():
    periods = reporting_periods({"2025-02": 3, "2025-05": 4, "2025-08": 9}, k=5)
    assert [(p.key, p.respondents, p.pooled, p.pending) for p in periods.periods] == [
        ("2025-H1", 7, False, False),
        ("2025-H2", 9, False, False),
    ]
    assert periods.of_month == {"2025-02": "2025-H1", "2025-05": "2025-H1", "2025-08": "2025-H2"}
    assert periods.periods[0].label.sv == "jan–jun 2025"
    assert periods.periods[1].label.en == "Jul–Dec 2025"
    assert periods.pending is None
    assert not periods.any_pooled


def test_a_small_half_year_is_pooled_with_the_next_and_labelled_so():
    periods = reporting_periods({"2025-03": 2, "2025-10": 4, "2026-02": 6}, k=5)
    first, second = periods.periods
    assert (first.key, first.respondents, first.pooled) == ("2025-H1_2025-H2", 6, True)
    assert first.label.sv == "jan–dec 2025 (sammanslagna halvår)"
    assert first.label.en == "Jan–Dec 2025 (pooled half-years)"
    assert (second.key, second.pooled, second.pending) == ("2026-H1", False, False)
    assert periods.of_month["2025-10"] == "2025-H1_2025-H2"


def test_empty_half_years_in_between_belong_to_the_next_pool():
    periods = reporting_periods({"2024-11": 5, "2025-09": 5}, k=5)
    assert [p.key for p in periods.periods] == ["2024-H2", "2025-H1_2025-H2"]
    assert periods.periods[1].span.sv == "jan–dec 2025"


def test_a_pool_across_the_new_year_names_both_years():
    periods = reporting_periods({"2025-08": 1, "2026-01": 4}, k=5)
    (pool,) = periods.periods
    assert pool.span.sv == "jul 2025–jun 2026"
    assert pool.span.en == "Jul 2025–Jun 2026"


def test_the_last_pool_below_k_is_pending():
    periods = reporting_periods({"2025-01": 8, "2025-07": 2, "2026-03": 1}, k=5)
    assert [p.key for p in periods.periods] == ["2025-H1", "2025-H2_2026-H1"]
    pending = periods.pending
    assert pending is not None
    assert pending.respondents == 3
    assert pending.label.sv == "jul 2025–jun 2026 (väntar på fler svar)"
    assert pending.label.en == "Jul 2025–Jun 2026 (awaiting more responses)"


def test_no_months_no_periods():
    periods = reporting_periods({"not-a-month": 4}, k=5)
    assert periods.periods == ()
    assert periods.of_month == {}
