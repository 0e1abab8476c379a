"""Benchmark of disclosure control (not a test): ``python bench/disclosure.py``.

For the demo surveys (the staff surveys of 2025 and 2026 and the exit
questionnaire, with the seeds of ``portal.demo``) and for generated staff
surveys of 20, 50, 120, 400 and 5 000 responses, builds the protected report
from the counts (no database) and prints

- per breakdown, the share of cells shown exactly, as a band and hidden
  ("x"), over the groups that have at least one respondent;
- for the headline indicators by role and by unit, the share of groups with
  n ≥ k whose indicator is shown (exactly or as a band), and exactly;
- the CPU time of the cold protected report, and its ratio to a CPU
  calibration loop run in the same process, so that figures compare across
  machines;
- the ceiling: the share of cells exact if only P1 and P2 applied (no
  secondary protection at all, which would not be safe): no engine can
  publish more exactly.

``--quick`` leaves out the 5 000-response survey.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveys import linked  # noqa: E402
from surveys.report import ALL, build  # noqa: E402
from tests.factories import (  # noqa: E402
    BENCHMARK_SURVEYS,
    counts_from_answers,
    generated_survey,
)

K = 5
META = {"slug": "bench", "title_sv": "Bänk", "title_en": "Bench", "min_group": K}
HEADLINE_BREAKDOWNS = ("role", "unit")


def calibration() -> float:
    """CPU seconds of a fixed pure-Python loop (integer and dict work, like the engine's)."""
    start = time.process_time()
    total = 0
    table: dict[int, int] = {}
    for i in range(2_000_000):
        total += (i * 7) % 13
        table[i & 1023] = total
    return time.process_time() - start


def measure(definition, answers, periods):
    """The protected report, the CPU seconds it took, and its figures."""
    counts = counts_from_answers(definition, answers, periods)
    start = time.process_time()
    report = build(definition, counts, k=K, survey_meta=META)
    seconds = time.process_time() - start
    # Groups with at least one respondent, per breakdown.
    present: dict[str, set] = defaultdict(set)
    for answer in answers:
        for dimension, value in answer.dimension_values(definition).items():
            if value is not None:
                present[dimension].add(value)
    cells: dict[str, Counter] = defaultdict(Counter)
    for table in (*report.indicators, *report.questions, *report.key_figures):
        for breakdown, rows in table.breakdowns.items():
            for row in rows:
                if breakdown not in (ALL, "period") and row.key not in present[breakdown]:
                    continue
                for cell in row.cells:
                    state = "exact" if cell.count is not None else "band" if cell.band else "x"
                    cells[breakdown][state] += 1
    headline: dict[str, Counter] = defaultdict(Counter)
    for table in report.indicators:
        for breakdown in HEADLINE_BREAKDOWNS:
            for row in table.breakdowns.get(breakdown, ()):
                if row.n is None and row.reason != "secondary":
                    continue  # below k (a row hidden whole, its n "x", has n ≥ k)
                cell = row.cells[0]
                headline[breakdown]["groups"] += 1
                headline[breakdown]["shown"] += cell.count is not None or cell.band is not None
                headline[breakdown]["exact"] += cell.count is not None
    return report, seconds, cells, headline


def _primary_only(system: linked.System) -> None:
    """``System.protect`` with P1 and P2 alone: no follow-up row hidden for its n, no
    line rule, no audit."""
    system.hidden_rows.clear()
    system._primary()


def ceiling(definition, answers, periods) -> dict[str, float]:
    """Per breakdown, the share of cells exact if only P1 and P2 applied."""
    with mock.patch.object(linked.System, "protect", _primary_only):
        _, _, cells, _ = measure(definition, answers, periods)
    return {b: states["exact"] / sum(states.values()) for b, states in cells.items()}


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    –  "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="leave out 5 000 responses")
    args = parser.parse_args()
    cases = [c for c in BENCHMARK_SURVEYS if not (args.quick and c[2] >= 5000)]
    calibrate = min(calibration() for _ in range(3))
    print(f"calibration loop: {calibrate * 1000:.0f} ms CPU")
    for name, template, responses, seed in cases:
        definition, answers, periods = generated_survey(template, responses, seed)
        _, seconds, cells, headline = measure(definition, answers, periods)
        most = ceiling(definition, answers, periods)
        print(
            f"\n{name} ({len(answers)} responses): report {seconds * 1000:.0f} ms CPU "
            f"= {seconds / calibrate:.2f} × calibration"
        )
        for breakdown, states in cells.items():
            total = sum(states.values())
            print(
                f"  {breakdown:<7} {total:5d} cells: exact {share(states['exact'], total)}"
                f"  band {share(states['band'], total)}  x {share(states['x'], total)}"
                f"  (P1 and P2 alone: exact {100 * most[breakdown]:5.1f} %)"
            )
        for breakdown in HEADLINE_BREAKDOWNS:
            counted = headline[breakdown]
            if counted["groups"]:
                print(
                    f"  headline indicators by {breakdown}: {counted['groups']} groups with "
                    f"n ≥ k, shown {share(counted['shown'], counted['groups'])}, exact "
                    f"{share(counted['exact'], counted['groups'])}"
                )


if __name__ == "__main__":
    main()
