"""Version 8: the report's real period, and published snapshots in the second format.

``survey.opened_on`` and ``survey.closed_on`` are the days a survey actually
opened and closed (set by the status transition from now on); the report's
period is those days, not the planned ``opens_on``/``closes_on``. For surveys
that opened or closed before this version, the planned day is the best record
there is, so it is copied.

Published snapshots are rewritten once into format 2, so that the report
pipeline reads structured data only:
- every band becomes ``{"sign": "<", "bound": 15}`` (format 1 kept only the
  display text "<15 %"; it is read here, once, and never again);
- the comparison is frozen: the earlier survey the page used to pick when it
  was viewed (the latest published before it, of the same template) is
  stored in the snapshot with its figures, so that publishing another survey
  can no longer change an already published report.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from playhouse.migrate import migrate

FORMAT = 2
_BAND = re.compile(r"^\s*([<>])\s*(\d{1,3})")


def upgrade(migrator, database) -> None:
    """Add the two dates and convert the stored snapshots."""
    from peewee import DateField

    present = {c.name for c in database.get_columns("survey")}
    # A database rebuilt from the current models already has the columns.
    missing = [name for name in ("opened_on", "closed_on") if name not in present]
    if missing:
        migrate(*(migrator.add_column("survey", name, DateField(null=True)) for name in missing))
    database.execute_sql('UPDATE "survey" SET "opened_on" = "opens_on" WHERE "status" <> \'draft\'')
    database.execute_sql(
        'UPDATE "survey" SET "closed_on" = "closes_on" '
        "WHERE \"status\" IN ('closed', 'published')"
    )
    if "report_snapshot" not in database.get_tables():
        return  # a database from before snapshots: store.create_tables makes the table
    surveys = {
        row[0]: row
        for row in database.execute_sql(
            'SELECT "id", "template", "title_sv", "title_en", "published_on", "closes_on" '
            'FROM "survey" WHERE "status" = \'published\''
        ).fetchall()
    }
    snapshots = database.execute_sql(
        'SELECT "id", "survey_id", "lang", "report_json" FROM "report_snapshot"'
    ).fetchall()
    by_survey: dict[tuple[int, str], dict[str, Any]] = {}
    for _id, survey_id, lang, text in snapshots:
        try:
            by_survey[(survey_id, lang)] = json.loads(text)
        except ValueError:
            continue
    for snapshot_id, survey_id, lang, _text in snapshots:
        data = by_survey.get((survey_id, lang))
        if not isinstance(data, dict) or data.get("format") == FORMAT:
            continue
        upgraded = upgrade_snapshot(data)
        earlier = _previous(surveys, survey_id)
        upgraded["comparison"] = None
        if earlier is not None and (earlier[0], lang) in by_survey:
            before = upgrade_snapshot(by_survey[(earlier[0], lang)])
            upgraded["comparison"] = {
                "slug": (before.get("report") or {}).get("survey", {}).get("slug", ""),
                "title": earlier[3] if lang == "en" else earlier[2],
                "label": _label(earlier, surveys[survey_id], lang),
                "report": before.get("report") or {},
            }
        database.execute_sql(
            # database.param is the driver's placeholder ("?" or "%s"), not a value.
            f'UPDATE "report_snapshot" SET "report_json" = {database.param} '  # noqa: S608
            f'WHERE "id" = {database.param}',
            (json.dumps(upgraded, ensure_ascii=False, sort_keys=True), snapshot_id),
        )


def upgrade_snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """A format 1 snapshot in format 2 (bands as data; the comparison is set by the caller)."""
    report = data.get("report") or {}
    for part in ("indicators", "questions"):
        for table in report.get(part) or ():
            for rows in (table.get("breakdowns") or {}).values():
                for row in rows:
                    for option in row.get("options") or ():
                        option.setdefault("band", _band(option))
    survey = report.get("survey")
    if isinstance(survey, dict):
        survey.setdefault("opened_on", survey.get("opens_on"))
        survey.setdefault("closed_on", survey.get("closes_on"))
    return {**data, "format": FORMAT, "references": data.get("references") or []}


def _band(option: dict[str, Any]) -> dict[str, Any] | None:
    if option.get("count") is not None or option.get("suppressed") is not None:
        return None
    match = _BAND.match(str(option.get("display") or ""))
    return {"sign": match.group(1), "bound": int(match.group(2))} if match else None


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _previous(surveys: dict[int, tuple], survey_id: int) -> tuple | None:
    """The latest survey of the same template published before this one (as the page chose)."""
    current = surveys.get(survey_id)
    if current is None or _day(current[4]) is None:
        return None
    key = (_day(current[4]), survey_id)
    earlier = [
        s
        for s in surveys.values()
        if s[1] == current[1] and s[0] != survey_id and (_day(s[4]), s[0]) < key
    ]
    return max(earlier, key=lambda s: (_day(s[4]), s[0]), default=None)


def _label(earlier: tuple, current: tuple, lang: str) -> str:
    """The earlier survey's year when it differs from this one's, else its title."""

    def year(survey: tuple) -> int | None:
        day = _day(survey[5]) or _day(survey[4])
        return day.year if day else None

    if year(earlier) and year(current) and year(earlier) != year(current):
        return str(year(earlier))
    return earlier[3] if lang == "en" else earlier[2]
