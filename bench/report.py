"""Benchmark of the results report (not a test): ``python bench/report.py [--responses N]``.

Builds a closed staff survey with N synthetic responses (default 100 000) in a
temporary SQLite database, through the bulk storage path, then times

(a) a plain grouped count of every answer of the survey
    (``SELECT question, value, COUNT(*) … GROUP BY question, value``), and
(b) the full report as any request after the first builds it: the survey's
    counts read from the database (aggregated once, since a closed survey
    never changes), disclosure control of every table of every breakdown,
    and the report object, and
(c) the first report after closing, which also aggregates the counts: every
    grouped count query over the answers,

and prints them, the ratio (b)/(a) and the peak memory of (b). Targets: (b)
within 2 s and within 1.5 × (a); peak memory under 300 MB.

Then, in a second temporary database with the demo data (``flask --app app
demo``: two published staff surveys and an exit questionnaire), it times

(d) the board's XLSX download of each demo survey in Swedish and English, as
    the request builds it: the frozen snapshot read and its report built in
    every breakdown, then the workbook written. Target: under 1 s.

``--exports-only`` runs (d) alone (about half a minute, most of it the demo set-up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peewee import SQL, fn  # noqa: E402

from portal import store  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.reports import board_report, exports, results  # noqa: E402
from portal.services.demo import demo_answers, set_up_demo  # noqa: E402
from portal.store.models import Answer, ResultCounts, Survey  # noqa: E402
from surveys.definition import load_template  # noqa: E402
from tests.factories import make_app  # noqa: E402


def plain_count(survey) -> int:
    """(a): one grouped count over every answer of the survey."""
    query = (
        Answer.select(Answer.question, Answer.value, fn.COUNT(SQL("*")))
        .where(Answer.survey == survey.id)
        .group_by(Answer.question, Answer.value)
        .tuples()
    )
    return sum(row[2] for row in query)


def timed(function, repeat: int) -> tuple[float, object]:
    """The median wall time of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def xlsx_exports(repeat: int) -> None:
    """(d): the XLSX download of every published demo survey, in Swedish and English."""
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        with app.test_request_context(), db.connection_context():
            start = time.perf_counter()
            demo = set_up_demo(dt.date.today())
            print(f"demo surveys set up in {time.perf_counter() - start:.1f} s")
            exports.to_xlsx(
                board_report.every_breakdown(board_report.snapshot(demo.published()[0], "sv"), "sv")
            )  # openpyxl's first import, not timed
            for survey in demo.published():
                for lang in ("sv", "en"):
                    with app.test_request_context(f"/?lang={lang}"):

                        def views(survey=survey, lang=lang):
                            return board_report.every_breakdown(
                                board_report.snapshot(survey, lang), lang
                            )

                        built, reports = timed(views, repeat)
                        written, workbook = timed(lambda r=reports: exports.to_xlsx(r), repeat)
                    rows = sum(1 for r in reports for _ in exports.export_rows(r))
                    print(
                        f"(d) XLSX {survey.title_en} ({lang}, {len(reports)} breakdowns, "
                        f"{rows} rows, {len(workbook) // 1024} KB): "
                        f"{(built + written) * 1000:.0f} ms "
                        f"(report {built * 1000:.0f} ms, workbook {written * 1000:.0f} ms)"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--exports-only", action="store_true", help="only (d), the demo surveys' XLSX"
    )
    args = parser.parse_args()
    if not args.exports_only:
        large_survey(args)
    xlsx_exports(args.repeat)


def large_survey(args: argparse.Namespace) -> None:
    """(a), (b) and (c) on a closed survey of ``args.responses`` synthetic responses."""
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        with app.app_context(), db.connection_context():
            definition = load_template("staff_threats")
            survey = store.create_survey(
                definition, title_sv="Bänk", title_en="Bench", access="link"
            )
            # Stored like a link survey (no codes to make), reported like a survey with
            # codes: every breakdown is published, so every table is protected.
            Survey.update(access="codes").where(Survey.id == survey.id).execute()
            survey = Survey.get_by_id(survey.id)
            store.set_status(survey, "open")
            start = time.perf_counter()
            stored = store.submit_responses(
                survey,
                definition,
                demo_answers(survey, args.responses, args.seed, workers=os.cpu_count() or 1),
            )
            fill = time.perf_counter() - start
            store.set_status(survey, "closed")
            answers = plain_count(survey)
            print(f"responses: {stored} ({answers} answer rows), stored in {fill:.1f} s")

            def full_report():
                # The portal keeps a closed survey's report per process: time a cold build.
                app.extensions.pop("varna.reports", None)
                return results.survey_report(survey)

            def first_report():
                ResultCounts.delete().where(ResultCounts.survey == survey.id).execute()
                return full_report()

            def protected_report():
                # Counts kept, protection not: disclosure control runs (then is kept).
                ResultCounts.update(protection_json=None).where(
                    ResultCounts.survey == survey.id
                ).execute()
                return full_report()

            plain, _ = timed(lambda: plain_count(survey), args.repeat)
            first, _ = timed(first_report, args.repeat)
            queries, _ = timed(lambda: store.aggregate_counts(survey, definition), args.repeat)
            full, report = timed(full_report, args.repeat)
            protecting, _ = timed(protected_report, args.repeat)

            tracemalloc.start()
            full_report()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

            tables = len(report.indicators) + len(report.questions)
            print(f"(a) plain grouped count: {plain * 1000:.0f} ms")
            print(
                f"(b) full report ({tables} tables for all staff, {len(report.indicators)} "
                f"indicators and {len(report.key_figures)} key figures by "
                f"{len(report.breakdowns) - 1} breakdowns): {full * 1000:.0f} ms"
            )
            print(f"ratio (b)/(a): {full / plain:.2f}")
            print(
                f"(b') full report when its protection is not kept yet (disclosure control "
                f"runs): {protecting * 1000:.0f} ms, ratio to (a): {protecting / plain:.2f}"
            )
            print(
                f"(c) first report after closing: {first * 1000:.0f} ms "
                f"(of which aggregating the counts: {queries * 1000:.0f} ms)"
            )
            print(
                f"peak Python memory during (b): {peak / 2**20:.1f} MB "
                f"(process max RSS, including the bulk load: {rss:.0f} MB)"
            )


if __name__ == "__main__":
    main()
