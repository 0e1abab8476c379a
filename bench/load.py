"""Load and fault test: concurrent respondents against gunicorn, on loopback only.

Starts the portal under gunicorn (4 workers) on a temporary SQLite database (or
the PostgreSQL database given with --database-url), creates and opens a staff
survey, and lets --clients respondents submit it for --seconds. Prints
throughput, latency percentiles and errors, then checks that the number of
responses in the database equals the number of acknowledged submissions and
that no response lacks its answers.

Faults (each optional):
  --kill-worker   SIGKILL one worker halfway through the run;
  --lock SECONDS  another process holds the SQLite write lock for SECONDS
                  halfway through: requests must wait or get the 503 retry
                  page, never a 500.

Exit status 1 on any 5xx other than the retry page (503), any lost or partial
response, or (without --kill-worker) any connection error.

Abuse scenarios (issue 17; the portal runs with VARNA_BEHIND_PROXY=1 and every
client sends the X-Forwarded-For a proxy would add):
  --scenario stuffing  one client floods a link-mode survey from several
                       threads while --clients colleagues answer from their
                       own addresses: the flood is capped per client, no
                       colleague is refused, and the closed survey's report
                       has no breakdown that stuffing could exploit;
  --scenario proxy     one client sends wrong codes and failed logins as fast
                       as it can while colleagues (own addresses, one proxy)
                       enter valid codes and HR logs in: no valid code and no
                       right password is ever refused; the attacker is slowed.

    python bench/load.py                         # 200 clients, 60 s
    python bench/load.py --seconds 10 --kill-worker --lock 5
    python bench/load.py --seconds 10 --clients 20 --scenario stuffing
    python bench/load.py --seconds 10 --clients 20 --scenario proxy
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@contextmanager
def server(env: dict[str, str], workers: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """The portal under gunicorn on a free loopback port, stopped afterwards.

    Yields the port and a dict with the master's ``pid``; after the block it
    also holds gunicorn's ``stderr`` (bytes).
    """
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own server on loopback
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "portal" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "app:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log: dict[str, Any] = {"pid": process.pid, "stderr": b""}
    try:
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port, log
    finally:
        process.send_signal(signal.SIGTERM)
        _, log["stderr"] = process.communicate(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(
    env: dict[str, str], access: str = "link", codes: int = 0
) -> tuple[str, dict[str, str], list[str]]:
    """Create and open a survey in the configured database; return its slug, a form
    and its access codes (``access="codes"``)."""
    os.environ.update(env)
    from portal import create_app, store
    from portal.extensions import db
    from surveys.definition import load_template
    from tests.factories import complete_answers, give_key, issue_codes

    app = create_app()
    definition = load_template("staff_threats")
    with app.app_context(), db.connection_context():
        survey = store.create_survey(definition, title_sv="Last", title_en="Load", access=access)
        give_key(survey)  # as HR does before opening; the key stays in this process
        generated = issue_codes(survey, codes, env["VARNA_SECRET_KEY"]) if codes else []
        store.set_status(survey, "open")
    answers = complete_answers(
        definition,
        exp_threats="once",
        aim="some",
        police="some",
        police_by="me",
        suggestions="Fler larm och bättre rutiner",
    )
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()
    return survey.slug, answers, generated


def count_in_database(env: dict[str, str], slug: str) -> tuple[int, int, int, float]:
    """Check the survey's storage, then close it and check again.

    Returns (responses while open: mixed into the tables or sealed in the
    inbox; responses after close, all mixed; partial ones: a response without
    answers or an inbox entry that does not unseal; seconds the close took).
    """
    from portal import create_app, store
    from portal.extensions import db
    from portal.store import inbox, seal, survey_key
    from portal.store.models import Answer, InboxEntry, Response
    from tests.factories import private_key

    app = create_app()
    with app.app_context(), db.connection_context():
        survey = store.get_survey(slug)
        while_open = store.response_count(survey)
        broken = 0
        private = private_key(survey)
        for entry in InboxEntry.select().where(InboxEntry.survey == survey.id):
            try:
                inbox.decode(inbox.open_entry(entry, survey.id, private))
            except (seal.SealError, survey_key.SurveyKeyError, ValueError, KeyError):
                broken += 1
        started = time.monotonic()
        store.set_status(survey, "closed", private_key(survey))
        closing = time.monotonic() - started
        after_close = Response.select().where(Response.survey == survey.id).count()
        orphans = (
            Response.select()
            .where(
                Response.survey == survey.id,
                ~Response.id.in_(Answer.select(Answer.response).distinct()),
            )
            .count()
        )
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()
    return while_open, after_close, orphans + broken, closing


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.connection_errors = 0
        self.acknowledged = 0

    def record(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(seconds)
            if status == 303:
                self.acknowledged += 1


def respondent(
    port: int, slug: str, answers: dict[str, str], deadline: float, stats: Stats, think: float
):
    pause = random.Random()  # noqa: S311 - pacing, not security
    # Respondents arrive spread over the first think time, not all in one instant.
    time.sleep(pause.uniform(0, think))
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", f"/s/{slug}")
            page = conn.getresponse()
            html = page.read().decode()
            cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
            if page.status != 200:
                stats.record(page.status, 0)
                conn.close()
                continue
            # A respondent reads and answers before sending: without this pause
            # 200 clients would be a closed loop measuring only queueing.
            time.sleep(pause.uniform(0.5 * think, 1.5 * think))
            body = urlencode(
                {
                    **answers,
                    "csrf_token": CSRF.search(html).group(1),
                    "form_token": TOKEN.search(html).group(1),
                    "action": "submit",
                }
            )
            started = time.monotonic()
            conn.request(
                "POST",
                f"/s/{slug}",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            reply = conn.getresponse()
            reply.read()
            stats.record(reply.status, time.monotonic() - started)
            conn.close()
        except (OSError, http.client.HTTPException, AttributeError):
            with stats.lock:
                stats.connection_errors += 1
            time.sleep(0.05)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(  # noqa: S603 - a fixed command about our own child process
        ["/usr/bin/pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def hold_lock(database: Path, seconds: float) -> None:
    blocker = sqlite3.connect(database)
    blocker.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    blocker.rollback()
    blocker.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--think",
        type=float,
        default=5.0,
        help="mean seconds a respondent spends between opening and sending",
    )
    parser.add_argument("--database-url", default=None, help="postgresql://… (default: SQLite)")
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument("--lock", type=float, default=0, help="hold the SQLite lock N seconds")
    parser.add_argument("--scenario", choices=["stuffing", "proxy"], default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="varna-load-"))
    database = workdir / "varna.sqlite3"
    env = {
        "VARNA_INSTANCE_PATH": str(workdir),
        "VARNA_SECRET_KEY": "load-test-secret",
        "VARNA_DATABASE_URL": args.database_url or f"sqlite:///{database}",
        # Every simulated respondent connects from 127.0.0.1: no per-client brake here.
        "VARNA_SUBMISSIONS_PER_CLIENT": "1000000",
    }
    if args.scenario:
        from bench import abuse

        return abuse.run(args, env, workdir)
    slug, answers, _ = prepare(env)
    with server(env, args.workers) as (port, log):
        stats = Stats()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=respondent, args=(port, slug, answers, deadline, stats, args.think)
            )
            for _ in range(args.clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds / 2)
        if args.kill_worker:
            victim = worker_pids(log["pid"])[0]
            os.kill(victim, signal.SIGKILL)
            print(f"killed worker {victim} with SIGKILL")
        if args.lock:
            print(f"holding the SQLite write lock for {args.lock} s")
            hold_lock(database, args.lock)
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    stderr = log["stderr"]

    total, after_close, orphans, closing = count_in_database(env, slug)
    latencies = sorted(stats.latencies) or [0.0]
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    server_errors = {s: n for s, n in stats.statuses.items() if s >= 500 and s != 503}
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}, "
        f"{args.workers} gunicorn workers, {args.clients} clients "
        f"(think time {args.think} s), {elapsed:.1f} s"
    )
    print(
        f"submissions: {sum(stats.statuses.values())}, acknowledged (303): {stats.acknowledged}, "
        f"throughput: {stats.acknowledged / elapsed:.1f}/s"
    )
    print(f"latency of the POST: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(
        f"statuses: {dict(sorted(stats.statuses.items()))}, "
        f"connection errors: {stats.connection_errors}"
    )
    print(
        f"responses in the database: {total} (tables and sealed inbox), partial: {orphans}; "
        f"after close: {after_close} (closing took {closing * 1000:.0f} ms)"
    )
    failures = []
    if server_errors:
        failures.append(f"server errors {server_errors}")
    if stats.connection_errors and not args.kill_worker:
        failures.append(f"{stats.connection_errors} connection errors")
    if total < stats.acknowledged:
        failures.append(f"lost responses: {stats.acknowledged - total}")
    # With a killed worker a response may commit just before its reply is lost;
    # otherwise every response in the database was acknowledged.
    if total != stats.acknowledged and not args.kill_worker:
        failures.append(f"{total} stored but {stats.acknowledged} acknowledged")
    if orphans:
        failures.append(f"{orphans} partial responses")
    if after_close != total:
        failures.append(f"{total} stored before the close but {after_close} after it")
    if b"Traceback" in stderr:
        failures.append("tracebacks in the server log")
        print(stderr.decode(errors="replace")[-3000:])
    print("FAIL: " + "; ".join(failures) if failures else "OK: no errors, no lost responses")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
