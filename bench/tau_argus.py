"""Benchmark against a peer (not a test): ``python bench/tau_argus.py``.

IL5 of ``shared/disclosure-control.md``: given the same primary cells on a single
table, how many secondary suppressions does Värna's engine need, and how many does
τ-ARGUS's optimal method (``pytauargus``, a test dependency, with HiGHS)? For the
demo surveys (and ``--all``: the generated ones of 50, 120 and 400 responses), per
breakdown, for the tables the report publishes by group (each question's key
figure, "key") and for every single-choice question's full distribution by group
(what the first engines published, "full"), it prints the primary cells, each
method's secondary suppressions (key tables: groups; full tables: cells), and how
many protected figures an outsider works out from each method's table with the
bands as published (``tests/surveys/peer.py``; ``--respondents`` adds each
respondent's view, slower), and the tables where Värna hides more although
τ-ARGUS's table is safe and keeps the line rule S1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.factories import (  # noqa: E402
    BENCHMARK_SURVEYS,
    counts_from_answers,
    generated_survey,
)
from tests.surveys import peer  # noqa: E402

K = 5
DEMO = ("demo staff 2025", "demo staff 2026", "demo exit")
MORE = ("staff 50", "staff 120", "staff 400")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="the generated surveys too")
    parser.add_argument("--respondents", action="store_true", help="each respondent's view")
    args = parser.parse_args()
    if not peer.available():
        sys.exit("pytauargus is not installed: pip install -e '.[test]'")
    names = DEMO + (MORE if args.all else ())
    for name, template, responses, seed in BENCHMARK_SURVEYS:
        if name not in names:
            continue
        definition, answers, periods = generated_survey(template, responses, seed)
        marginals = peer.marginals(definition, counts_from_answers(definition, answers, periods), K)
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 7)
        start = time.perf_counter()
        for item, breakdown, shape in peer.tables(marginals):
            c = peer.compare(marginals, K, item, breakdown, shape, respondents=args.respondents)
            total = totals[(shape, breakdown)]
            for i, value in enumerate(
                (1, c.primary, c.varna, c.tau, c.varna_recovered, c.tau_recovered)
            ):
                total[i] += value
            total[6] += c.varna > c.tau and not c.tau_recovered and not c.tau_breaks_line_rule
        print(f"\n{name} ({len(answers)} responses), {time.perf_counter() - start:.0f} s")
        print(
            "  table        tables  primary  secondary Värna / τ-ARGUS  "
            "recovered Värna / τ-ARGUS  Värna more, τ-ARGUS safe and S1 kept"
        )
        for (shape, breakdown), t in sorted(totals.items()):
            print(
                f"  {shape:4} {breakdown:<7} {t[0]:6d}  {t[1]:7d}  {t[2]:9d} / {t[3]:<7d}  "
                f"{t[4]:15d} / {t[5]:<7d}  {t[6]:6d}"
            )


if __name__ == "__main__":
    main()
