"""``flask --app app …`` commands for operators and automation."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal import clock, store
from portal.extensions import db
from portal.reports import board_report, exports, results
from portal.services import dimension_import, lifecycle, publication, templates
from portal.services.demo import demo_answers, set_up_demo
from portal.store.models import MIN_GROUP_FLOOR, Status
from surveys.definition import DefinitionError
from surveys.report import BREAKDOWNS


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    for command in (
        init_db,
        create_admin,
        reset_mfa,
        end_sessions,
        create_survey,
        check_template,
        upload_template,
        survey_key,
        open_survey,
        close_survey,
        open_answers,
        publish_survey,
        archive_survey,
        tick,
        demo_data,
        demo,
        report,
        backup,
        translate,
    ):
        app.cli.add_command(command)


def _today() -> dt.date:
    """Today where the portal is used: the one clock the web pages use too."""
    return clock.today()


def _refused(exc: lifecycle.LifecycleError) -> click.ClickException:
    return click.ClickException(str(exc))


def _survey_or_fail(slug: str):
    survey = store.get_survey(slug)
    if survey is None:
        raise click.ClickException(f"no survey with slug {slug!r}")
    return survey


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def survey_link(slug: str) -> str:
    """The address staff open to answer."""
    return f"{_base_url()}/s/{slug}"


def board_link(slug: str) -> str:
    """The address of a published survey's board report."""
    return f"{_base_url()}/board/{slug}"


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the tables or upgrade the schema to this version (safe to run again)."""
    from portal.store import migrations

    with db.connection_context():
        before, after = migrations.migrate()
    if before == after:
        click.echo(f"Database ready (schema version {after}).")
    else:
        click.echo(f"Database ready: schema version {before or 'none'} → {after}.")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "hr", "board"]),
    default="admin",
    show_default=True,
    help="admin manages accounts and everything else; hr runs surveys; board reads reports.",
)
def create_admin(email: str, role: str) -> None:
    """Create an administration account; the password is asked twice, or read from
    VARNA_ADMIN_PASSWORD."""
    from portal.services import accounts, passwords

    try:
        email = accounts.check_email(email)
    except accounts.InvalidEmail as exc:
        raise click.BadParameter(exc.message, param_hint="EMAIL") from None
    with db.connection_context():
        if store.get_user_by_email(email) is not None:
            raise click.ClickException(f"an account for {email} exists already")
    password = os.environ.get("VARNA_ADMIN_PASSWORD")
    if password:
        _refuse_weak(password, email)
    else:
        password = _prompt_password(email)
    try:
        with db.connection_context():
            user, _ = accounts.create_account(email, role, password, actor=None)
    except accounts.EmailTaken:
        raise click.ClickException(f"an account for {email} exists already") from None
    except passwords.PasswordRejected as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {role} account {user.email}. Log in at {_admin_link()}")


@click.command("reset-mfa")
@click.argument("email")
def reset_mfa(email: str) -> None:
    """Remove an account's second factor (it enrols again at its next login); its sessions
    end. For a lost phone when no other administrator can do it on the web, or after
    VARNA_SECRET_KEY was replaced (the stored secrets cannot be decrypted then)."""
    from portal.services import accounts

    with db.connection_context():
        user = store.get_user_by_email(email)
        if user is None:
            raise click.ClickException(f"no account for {email}")
        accounts.reset_second_factor(user, actor=None)
    click.echo(f"The second factor of {user.email} was removed; it enrols again at its next login.")


@click.command("end-sessions")
@click.argument("email", required=False)
@click.option("--all", "everyone", is_flag=True, help="End the sessions of every account.")
def end_sessions(email: str | None, everyone: bool) -> None:
    """End every session of the account EMAIL, or of everyone with --all."""
    from portal.services import sessions

    if bool(email) == everyone:
        raise click.UsageError("give either an EMAIL or --all")
    with db.connection_context():
        if everyone:
            count = sessions.end_everyone(actor=None)
        elif email is None:  # checked above: without --all an EMAIL is given
            raise click.UsageError("give either an EMAIL or --all")
        else:
            user = store.get_user_by_email(email)
            if user is None:
                raise click.ClickException(f"no account for {email}")
            count = sessions.end_all_of(user, actor=None)
    click.echo(f"{count} sessions ended.")


def _refuse_weak(password: str, email: str) -> None:
    from portal.services import passwords

    problems = passwords.policy_problems(password, email)
    if problems:
        raise click.ClickException(
            "VARNA_ADMIN_PASSWORD is not acceptable: " + " ".join(p.english() for p in problems)
        )


def _prompt_password(email: str) -> str:
    from portal.services import passwords

    click.echo(f"Choose a password of at least {passwords.MIN_LENGTH} characters.")
    for _attempt in range(3):
        password = click.prompt("Password", hide_input=True)
        problems = passwords.policy_problems(password, email)
        if problems:
            for problem in problems:
                click.echo(f"Error: {problem.english()}", err=True)
            continue
        if click.prompt("Password again", hide_input=True) != password:
            click.echo("Error: the two passwords are not the same.", err=True)
            continue
        return password
    raise click.ClickException("no acceptable password given; no account was created")


def _admin_link() -> str:
    return f"{_base_url()}/admin/login"


@click.command("create-survey")
@with_appcontext
@click.option("--template", "template_key", default=None, help="Template key, e.g. staff_threats.")
@click.option(
    "--from",
    "from_slug",
    default=None,
    help="Start from an earlier survey (its identifier): its template customisation, units, "
    "roles and settings are copied; dates, codes and answers are not.",
)
@click.option("--title", default=None, help="Title (both languages unless --title-en is given).")
@click.option("--title-en", default=None, help="English title, when different.")
@click.option("--access", type=click.Choice(["link", "codes"]), default=None)
@click.option(
    "--units-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV or XLSX file of units and roles (columns: type, name_sv, name_en, invited).",
)
@click.option(
    "--codes",
    "code_count",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Number of single-use codes to generate (access=codes).",
)
@click.option(
    "--codes-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file to write the codes to (header: code).",
)
@click.option(
    "--min-group",
    type=click.IntRange(MIN_GROUP_FLOOR, 100),
    default=None,
    help="Minimum group size k for reporting (default 5, or the earlier survey's).",
)
def create_survey(
    template_key,
    from_slug,
    title,
    title_en,
    access,
    units_file,
    code_count,
    codes_out,
    min_group,
) -> None:
    """Create a draft survey from a template (or an earlier survey) and print its link."""
    if (template_key is None) == (from_slug is None):
        raise click.UsageError("give either --template or --from")
    if from_slug is None and (title is None or access is None):
        raise click.UsageError("--template needs --title and --access")
    dims = _read_units_file(units_file) if units_file is not None else None
    with db.connection_context():
        source = _survey_or_fail(from_slug) if from_slug is not None else None
        if source is None and template_key not in templates.available():
            raise click.BadParameter(
                f"unknown template; choose one of {', '.join(templates.available())}",
                param_hint="--template",
            )
        if access is None and source is not None:
            access = source.access
        _check_codes_options(access, code_count, codes_out)
        if source is not None:
            settings = lifecycle.copy_settings(source)
        else:
            settings = lifecycle.SurveySettings(title_sv=title, title_en=title_en, access=access)
        settings = dataclasses.replace(
            settings,
            title_sv=title or settings.title_sv,
            title_en=(title_en or title or settings.title_en) if title else settings.title_en,
            access=access,
            min_group=min_group or settings.min_group,
        )
        try:
            if source is not None:
                survey = lifecycle.create_survey(
                    source.template,
                    settings,
                    actor=None,
                    today=_today(),
                    custom=lifecycle.customisation(source),
                )
            else:
                survey = lifecycle.create_survey(template_key, settings, actor=None, today=_today())
            if dims is not None:
                lifecycle.import_dimensions(
                    survey, dims.units, dims.roles, actor=None, today=_today()
                )
        except DefinitionError as exc:
            raise click.ClickException(str(exc)) from exc
        except lifecycle.SettingsError as exc:
            problems = "; ".join(m % p if p else m for m, p in exc.errors.values())
            raise click.ClickException(f"the survey was not created: {problems}") from exc
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
        if access == "codes":
            codes = lifecycle.generate_codes(
                survey, code_count, current_app.config["SECRET_KEY"], actor=None
            )
            _write_codes(codes_out, codes)
    click.echo(f"Created draft survey {survey.slug}")
    if source is not None:
        click.echo(f"Copied from {source.slug}")
    click.echo(f"Link: {survey_link(survey.slug)}")
    if access == "codes":
        click.echo(f"{len(codes)} codes written to {codes_out}; only their hashes are stored.")
        click.echo(f"Staff enter their code at: {_base_url()}/kod")
    click.echo(f"Make its survey key with: flask --app app survey-key {survey.slug} --key-out FILE")
    click.echo(f"Then open it with: flask --app app open-survey {survey.slug}")


def _check_codes_options(access: str, code_count: int | None, codes_out: Path | None) -> None:
    if access == "codes" and (code_count is None or codes_out is None):
        raise click.UsageError("--access codes needs --codes N and --codes-out FILE.csv")
    if access == "link" and (code_count is not None or codes_out is not None):
        raise click.UsageError("--codes and --codes-out are only for --access codes")
    if codes_out is not None and codes_out.exists():
        raise click.UsageError(f"{codes_out} exists already; codes are never overwritten")
    if code_count is not None and not 1 <= code_count <= lifecycle.MAX_CODES_PER_BATCH:
        raise click.UsageError(
            f"--codes must be between 1 and {lifecycle.MAX_CODES_PER_BATCH} (one batch; add more "
            "on the survey's page or with another batch later)",
            ctx=None,
        )


def _read_units_file(path: Path) -> dimension_import.Dimensions:
    """The units and roles of a CSV/XLSX file, or every problem with its line number."""
    try:
        return dimension_import.read_file(path.name, path.read_bytes())
    except dimension_import.ImportFileError as exc:
        lines = [
            f"{path.name}, line {e.line}: {e.message % e.params if e.params else e.message}"
            if e.line
            else f"{path.name}: {e.message % e.params if e.params else e.message}"
            for e in exc.errors
        ]
        raise click.ClickException("nothing was created:\n" + "\n".join(lines)) from exc


def _write_codes(path: Path, codes: list[str]) -> None:
    with open(path, "x", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code"])
        writer.writerows([c] for c in codes)
    path.chmod(0o600)


@click.command("check-template")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_template(path: Path) -> None:
    """Validate a template file (TOML, see surveys/templates/FORMAT.md) without storing it."""
    try:
        definition = templates.check_upload(path.name, path.read_bytes())
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    optional = sum(q.optional for q in definition.questions)
    click.echo(
        f"{path.name}: valid, template '{definition.key}' version {definition.version}, "
        f"{len(definition.questions)} questions ({optional} optional)"
    )


@click.command("upload-template")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def upload_template(path: Path) -> None:
    """Store the municipality's own version of a template (as on the Templates page)."""
    with db.connection_context():
        try:
            definition = templates.upload(path.name, path.read_bytes(), actor=None)
        except DefinitionError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Template '{definition.key}' version {definition.version} saved for new surveys")


@click.command("open-survey")
@with_appcontext
@click.argument("slug")
def open_survey(slug: str) -> None:
    """Open a draft survey for answers (a closed or published survey never reopens)."""
    with db.connection_context():
        survey = _survey_or_fail(slug)
        try:
            lifecycle.open_survey(survey, actor=None, today=_today())
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
    click.echo(f"Survey {slug} is open: {survey_link(slug)}")


@click.command("survey-key")
@with_appcontext
@click.argument("slug")
@click.option(
    "--key-out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write the survey key to (readable by you only); never overwritten.",
)
def survey_key(slug: str, key_out: Path) -> None:
    """Make a draft's survey key (replacing any earlier one) and write it to a file.

    The portal keeps only its public half: the answers can be opened only with
    this file's key, at close (close-survey --key-file) or afterwards
    (open-answers). Keep it away from the server and its backups.
    """
    # The file first, readable by its owner only and never over an existing one: a key
    # is made only when there is somewhere to keep it (making one replaces the draft's).
    try:
        descriptor = os.open(key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise click.UsageError(
            f"{key_out} exists already; a survey key is never overwritten"
        ) from exc
    except OSError as exc:
        raise click.UsageError(f"{key_out} cannot be written: {exc.strerror}") from exc
    try:
        with db.connection_context():
            survey = _survey_or_fail(slug)
            try:
                key = lifecycle.make_survey_key(survey, actor=None)
            except lifecycle.LifecycleError as exc:
                raise _refused(exc) from exc
            mark = lifecycle.key_mark(survey)
    except click.ClickException:
        os.close(descriptor)
        key_out.unlink()
        raise
    with open(descriptor, "w", encoding="utf-8") as out:
        out.write(f"Värna survey key for {slug} (mark {mark})\n{key}\n")
    click.echo(f"Survey key of {slug} (mark {mark}) written to {key_out}.")
    click.echo("The portal does not keep it: without it nobody can open the answers.")


def _read_key(key_file: Path | None) -> str | None:
    """The survey key in ``key_file`` (its last non-empty line; '-' reads standard input)."""
    if key_file is None:
        return None
    try:
        text = sys.stdin.read() if str(key_file) == "-" else key_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{key_file} cannot be read as a survey key: {exc}") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


_KEY_FILE = click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path, allow_dash=True),
    default=None,
    help="File with the survey key (as written by survey-key), or - for standard input.",
)


@click.command("close-survey")
@with_appcontext
@click.argument("slug")
@_KEY_FILE
def close_survey(slug: str, key_file: Path | None) -> None:
    """Close an open survey; its access codes are deleted and its counts aggregated.

    Without --key-file a survey with a survey key closes all the same, and its
    answers wait sealed for open-answers.
    """
    key = _read_key(key_file)
    with db.connection_context():
        survey = _survey_or_fail(slug)
        try:
            lifecycle.close_survey(survey, actor=None, today=_today(), key_text=key)
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
        count = store.response_count(survey)
        if survey.awaiting_key:
            click.echo(
                f"Survey {slug} is closed with {count} responses, still sealed: open them with "
                f"flask --app app open-answers {slug} --key-file FILE"
            )
            return
        _keep_counts(survey)
    click.echo(f"Survey {slug} is closed with {count} responses.")


@click.command("open-answers")
@with_appcontext
@click.argument("slug")
@_KEY_FILE
def open_answers(slug: str, key_file: Path | None) -> None:
    """Open the sealed answers of a survey that closed without its key."""
    if key_file is None:
        raise click.UsageError("give the survey key with --key-file FILE (or - for standard input)")
    key = _read_key(key_file)
    with db.connection_context():
        survey = _survey_or_fail(slug)
        try:
            opened = lifecycle.open_answers(survey, key, actor=None)
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
        _keep_counts(survey)
    click.echo(f"Opened the {opened} sealed answers of {slug}.")


def _keep_counts(survey) -> None:
    """Aggregate a just-closed survey's counts now, so that no page request has to."""
    store.result_counts(survey, survey.definition())


@click.command("publish-survey")
@with_appcontext
@click.argument("slug")
@click.option(
    "--compare-with",
    default=None,
    metavar="SLUG|none",
    help="The earlier published survey of the same template to compare with, or none; "
    "default the latest one. Frozen in the report.",
)
def publish_survey(slug: str, compare_with: str | None) -> None:
    """Publish a closed survey to the board; its report is frozen and it never reopens."""
    choice = publication.NO_COMPARISON if compare_with == "none" else compare_with
    with db.connection_context():
        survey = _survey_or_fail(slug)
        try:
            lifecycle.publish_survey(
                survey,
                functools.partial(publication.report_snapshots, compare_with=choice),
                actor=None,
                today=_today(),
            )
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
    click.echo(f"Survey {slug} is published; its report is frozen.")


@click.command("archive-survey")
@with_appcontext
@click.argument("slug")
def archive_survey(slug: str) -> None:
    """Archive a closed or published survey (hidden from the default list)."""
    with db.connection_context():
        survey = _survey_or_fail(slug)
        try:
            lifecycle.archive_survey(survey, actor=None)
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
    click.echo(f"Survey {slug} is archived.")


@click.command("tick")
@with_appcontext
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this date (YYYY-MM-DD); for testing a schedule.",
)
def tick(today: dt.datetime | None) -> None:
    """Apply due transitions: open and close surveys on their dates, purge after retention,
    and mix waiting submissions into the response tables.

    Safe to run from cron every few minutes, on several hosts at once.
    """
    day = today.date() if today else _today()
    with db.connection_context():
        applied = lifecycle.apply_schedule(day)
        for slug, action in applied:
            if action == "survey_closed":
                _keep_counts(_survey_or_fail(slug))
        if any(action in ("responses_purged", "purge_finished") for _, action in applied):
            store.compact()
        try:
            mixed = store.mix_due()
        except store.DatabaseBusy:
            mixed = 0  # the next tick or submission mixes them
        # SQLite: the write-ahead log keeps earlier versions of pages (and of the
        # sealed inbox) until a checkpoint empties it; do that now and then.
        store.truncate_wal()
    for slug, action in applied:
        click.echo(f"{slug}: {action.replace('survey_', '').replace('_', ' ')}")
    if mixed:
        click.echo(f"Mixed {mixed} waiting submissions into the response tables.")
    if not applied and not mixed:
        click.echo("Nothing due.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Write a consistent online copy of the SQLite database to PATH (checked for integrity)."""
    if path.exists():
        raise click.ClickException(f"{path} exists already; choose a new file name")
    try:
        with db.connection_context():
            store.backup_sqlite(path)
    except store.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {path} and checked: integrity ok.")


@click.command("demo-data")
@with_appcontext
@click.argument("slug")
@click.option(
    "--responses",
    "count",
    type=click.IntRange(1, 1_000_000),
    required=True,
    help="Number of synthetic responses to add.",
)
@click.option("--seed", type=int, default=None, help="Seed, for reproducible data.")
def demo_data(slug: str, count: int, seed: int | None) -> None:
    """Fill an open survey with plausible synthetic responses (for demonstrations)."""
    with db.connection_context():
        survey = _survey_or_fail(slug)
        if survey.status != Status.OPEN:
            raise click.ClickException(
                f"the survey is {survey.status}; demo data can only be added to an open survey"
            )
        try:
            # Making and validating answers costs more than storing them: spare cores
            # help. With two cores or fewer the spawned workers only compete with
            # the writing process (measured: slower), so it is all done here.
            cores = os.cpu_count() or 1
            workers = 1 if cores <= 2 else min(4, cores - 1)
            stored = store.submit_responses(
                survey, survey.definition(), demo_answers(survey, count, seed, workers)
            )
        except store.SurveyNotOpen as exc:
            raise click.ClickException("the survey closed while demo data was being added") from exc
    click.echo(f"Added {stored} synthetic responses to {slug}.")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Set up demo data to look around: a demo administrator and demo surveys.

    Creates (once) published staff surveys of 2025 and 2026 and a published exit
    questionnaire, all with synthetic responses, and an open survey to answer;
    running it again creates nothing twice but gives the demo administrator a new
    password. For a demonstration or development database only: the demo surveys
    appear on the board beside real ones, and a real staff survey published later
    would be compared with them.
    """
    started = time.monotonic()
    with db.connection_context():
        try:
            result = set_up_demo(_today(), progress=click.echo)
        except lifecycle.LifecycleError as exc:
            raise _refused(exc) from exc
        except store.SurveyNotOpen as exc:
            raise click.ClickException("a demo survey closed while responses were added") from exc
    account = result.account
    click.echo(f"Demo ready in {time.monotonic() - started:.0f} s.")
    click.echo("")
    click.echo(f"Log in at {_admin_link()}")
    click.echo(f"  e-mail:   {account.email}")
    click.echo(f"  password: {account.password}")
    if not account.created:
        click.echo("  (the password was reset: the one printed before no longer works)")
    click.echo("Board reports:")
    for survey in result.published():
        click.echo(f"  {survey.title_en}: {board_link(survey.slug)}")
    click.echo("Answer the open survey (no login needed):")
    for survey in result.open():
        click.echo(f"  {survey.title_en}: {survey_link(survey.slug)}")


@click.command("report")
@with_appcontext
@click.argument("slug")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "xlsx", "docx"]),
    default="json",
    help="json: the report data (as frozen at publication); csv, xlsx, docx: the board's "
    "files. xlsx and docx need --output.",
)
@click.option(
    "--by",
    type=click.Choice(BREAKDOWNS),
    default=None,
    help="Only this breakdown (all = the totals only); default every breakdown "
    "(for docx: the report's default breakdown).",
)
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
@click.option(
    "--invited",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Number of people invited, for the response rate (closed surveys).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of printing.",
)
def report(slug: str, fmt: str, by: str | None, lang: str, invited: int | None, output) -> None:
    """Export the disclosure-controlled report of a closed survey (never raw responses).

    A published survey exports its published report (the frozen snapshot),
    which stays the same after its raw responses are purged; a closed one the
    report as it would be published now. CSV, XLSX and DOCX are the same files
    as the board's downloads (one report pipeline).
    """
    if fmt in ("xlsx", "docx") and output is None:
        raise click.UsageError(f"--format {fmt} writes a binary file: give --output")
    with db.connection_context():
        survey = _survey_or_fail(slug)
        data = _report_data(survey, lang, invited)
        if fmt == "json":
            content: str | bytes = (
                json.dumps(
                    results.select_breakdowns(data["report"], by), ensure_ascii=False, indent=2
                )
                + "\n"
            )
        else:
            with force_locale(lang):
                content = _report_file(data, fmt, by, lang)
    if output is None:
        click.echo(content, nl=False)
    elif isinstance(content, bytes):
        output.write_bytes(content)
        click.echo(f"Report written to {output}.")
    else:
        # newline="" keeps the CSV's CRLF line ends as they are.
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        click.echo(f"Report written to {output}.")


def _report_data(survey, lang: str, invited: int | None) -> dict:
    """The snapshot data: the frozen one of a published survey, else as it would be published."""
    snapshot = store.report_snapshot(survey, lang) if survey.status == Status.PUBLISHED else None
    if snapshot is not None:
        return json.loads(snapshot)
    if survey.purged_on is not None:
        raise click.ClickException(
            f"the raw responses of this survey were purged and it has no published report in {lang}"
        )
    if survey.awaiting_key:
        raise click.ClickException(
            "the survey is closed but its answers are still sealed: open them with "
            f"open-answers {survey.slug} --key-file FILE"
        )
    try:
        return publication.results_view(survey, lang, invited=invited)
    except (store.ResultsNotAvailable, lifecycle.LifecycleError) as exc:
        raise click.ClickException(
            f"the survey is {survey.status}; results are only available once it is closed"
        ) from exc


def _report_file(data: dict, fmt: str, by: str | None, lang: str) -> str | bytes:
    """The board's CSV, XLSX or DOCX of snapshot data (``by``: one breakdown, else all)."""
    breakdowns = list((data.get("report") or {}).get("breakdowns") or {})
    if by is not None and by not in breakdowns:
        raise click.ClickException(f"this report has no breakdown {by}")
    if fmt == "docx":
        return exports.to_docx(board_report.build(data, lang, by))
    views = [board_report.build(data, lang, by)] if by else board_report.every_breakdown(data, lang)
    return exports.to_csv(views) if fmt == "csv" else exports.to_xlsx(views)


ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"


def _pybabel(*args: str) -> None:
    # pybabel is Babel's own CLI; run with this interpreter so the venv's Babel is used.
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:  # noqa: S603
        raise click.ClickException("pybabel failed")


@click.group()
def translate() -> None:
    """Translation workflow: extract, update and compile the catalogs."""


@translate.command("extract")
def translate_extract() -> None:
    """Extract messages into translations/messages.pot."""
    _extract()


def _extract() -> None:
    _pybabel(
        "extract",
        "-F",
        str(TRANSLATIONS / "babel.cfg"),
        "-k",
        "_l",
        "-k",
        "N_",
        "--add-comments=Translators:",
        "--sort-by-file",
        "--no-wrap",
        "--project=Värna",
        "-o",
        str(TRANSLATIONS / "messages.pot"),
        "portal",
        "surveys",
    )


@translate.command("update")
def translate_update() -> None:
    """Extract, then merge new messages into the sv and en catalogs."""
    _extract()
    _pybabel(
        "update",
        "-i",
        str(TRANSLATIONS / "messages.pot"),
        "-d",
        str(TRANSLATIONS),
        "--no-wrap",
        "--ignore-obsolete",
    )
    filled = fill_source_catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po")
    click.echo(f"en: {filled} new messages copied from their English msgid")
    click.echo("Now translate the empty and fuzzy messages in translations/sv, then compile.")


def fill_source_catalog(path: Path) -> int:
    """Messages are written in English, so the en catalog is the msgid itself."""
    from babel.messages.pofile import read_po, write_po

    with open(path, "rb") as fh:
        catalog = read_po(fh)
    filled = 0
    for message in catalog:
        if message.id and (not message.string or message.fuzzy):
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    with open(path, "wb") as fh:
        write_po(fh, catalog, width=0, sort_by_file=True, ignore_obsolete=True)
    return filled


@translate.command("compile")
def translate_compile() -> None:
    """Compile the catalogs to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
