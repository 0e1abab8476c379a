"""The abuse scenarios of ``bench/load.py --scenario stuffing|proxy`` (issue 17).

The portal runs under gunicorn with ``VARNA_BEHIND_PROXY=1``; every simulated
client sends the X-Forwarded-For header the proxy would add, so that each has
an address of its own while all connect from 127.0.0.1.
"""

from __future__ import annotations

import http.client
import itertools
import json
import queue
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.load import CSRF, TOKEN, count_in_database, prepare, server

ATTACKER = "203.0.113.66"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HR_EMAIL, HR_PASSWORD = "hr@load.invalid", "a long load-test password"


def colleague(n: int) -> str:
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


class Tally:
    """Statuses per kind of request, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, dict[int, int]] = {}
        self.connection_errors = 0

    def add(self, kind: str, status: int) -> None:
        with self.lock:
            by_status = self.counts.setdefault(kind, {})
            by_status[status] = by_status.get(status, 0) + 1

    def get(self, kind: str, status: int) -> int:
        return self.counts.get(kind, {}).get(status, 0)

    def error(self) -> None:
        with self.lock:
            self.connection_errors += 1


def request(port, method, path, address, body=None, cookie="", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    all_headers = {"X-Forwarded-For": address, **(headers or {})}
    if cookie:
        all_headers["Cookie"] = cookie
    conn.request(method, path, body=urlencode(body) if body else None, headers=all_headers)
    reply = conn.getresponse()
    html = reply.read().decode(errors="replace")
    cookies = "; ".join(
        value.split(";", 1)[0] for key, value in reply.getheaders() if key == "Set-Cookie"
    )
    conn.close()
    return reply.status, html, cookies or cookie


def submit(port, slug, answers, address, code=None) -> int:
    status, html, cookie = request(port, "GET", f"/s/{slug}", address)
    if status != 200:
        return status
    admission = {}
    if code is not None:
        status, html, cookie = request(
            port,
            "POST",
            f"/s/{slug}",
            address,
            {"csrf_token": CSRF.search(html).group(1), "code": code, "action": "code"},
            cookie,
            FORM,
        )
        if status != 200:
            return status
        admission = {"code": code}
    else:
        admission = {"form_token": TOKEN.search(html).group(1)}
    body = {**answers, **admission, "csrf_token": CSRF.search(html).group(1), "action": "submit"}
    status, _, _ = request(port, "POST", f"/s/{slug}", address, body, cookie, FORM)
    return status


def login(port, address, email, password) -> int:
    status, html, cookie = request(port, "GET", "/admin/login", address)
    token = CSRF.search(html).group(1)
    body = {"csrf_token": token, "email": email, "password": password}
    status, _, _ = request(port, "POST", "/admin/login", address, body, cookie, FORM)
    return status


def until(deadline: float, work, tally: Tally | None = None) -> None:
    """Repeat ``work`` until ``deadline``; connection errors are counted in ``tally``."""
    while time.monotonic() < deadline:
        try:
            work()
        except queue.Empty:
            time.sleep(0.05)  # no codes left to hand out
        except (OSError, http.client.HTTPException, AttributeError):
            if tally is not None:
                tally.error()
            time.sleep(0.05)


def run_threads(targets) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def report_breakdowns(env: dict[str, str], slug: str) -> tuple[list[str], list[str]]:
    """Close the survey and build its report as HR and the board would get it; returns its
    breakdowns and the breakdown questions (role, unit, years) it has a table of."""
    from portal import create_app, store
    from portal.extensions import db
    from portal.reports import results
    from tests.factories import private_key

    app = create_app()
    with app.app_context(), db.connection_context():
        survey = store.get_survey(slug)
        store.set_status(survey, "closed", private_key(survey))
        survey = store.get_survey(slug)
        data = results.to_json_data(results.survey_report(survey))
        groups = {q.key for q in survey.definition().dimensions()}
    tables = [t["key"] for t in (*data["indicators"], *data["questions"]) if t["key"] in groups]
    return list(data["breakdowns"]), tables


def create_hr(env: dict[str, str]) -> None:
    from portal import clock, create_app, store
    from portal.extensions import db
    from portal.services import passwords

    app = create_app()
    with app.app_context(), db.connection_context():
        store.create_user(HR_EMAIL, passwords.hash_password(HR_PASSWORD), "hr", clock.utcnow())


def run(args, env: dict[str, str], workdir: Path) -> int:
    env = {
        **env,
        "VARNA_BEHIND_PROXY": "1",
        "VARNA_DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'varna.sqlite3'}",
    }
    env.pop("VARNA_SUBMISSIONS_PER_CLIENT", None)  # the real per-client limits apply
    # Cheap password hashing: the scenario measures throttling, not Argon2.
    env.update(VARNA_ARGON2_MEMORY_COST=str(19 * 1024), VARNA_ARGON2_TIME_COST="2")
    if args.scenario == "stuffing":
        return stuffing(args, env)
    return proxy(args, env)


def stuffing(args, env: dict[str, str]) -> int:
    from portal.config import DEFAULTS

    slug, answers, _ = prepare(env)
    tally = Tally()
    addresses = itertools.count()
    with server(env, args.workers) as (port, log):
        deadline = time.monotonic() + args.seconds

        def attacker():
            until(
                deadline,
                lambda: tally.add("attacker", submit(port, slug, answers, ATTACKER)),
                tally,
            )

        def staff():
            address = colleague(next(addresses))
            tally.add("colleague", submit(port, slug, answers, address))
            time.sleep(args.seconds / 4)

        def colleagues():
            until(deadline, staff, tally)

        run_threads([attacker] * 8 + [colleagues] * args.clients)
    total, after_close, orphans, _ = count_in_database(env, slug)
    if after_close != total:
        orphans += abs(total - after_close)  # a response lost or made up by closing
    breakdowns, group_tables = report_breakdowns(env, slug)
    cap = DEFAULTS["SUBMISSIONS_PER_CLIENT"] * args.workers
    accepted = tally.get("attacker", 303)
    acknowledged = accepted + tally.get("colleague", 303)
    print(f"stuffing, {args.workers} workers, {args.clients} colleagues, {args.seconds} s")
    print(f"statuses: {json.dumps(tally.counts, sort_keys=True)}")
    print(f"attacker accepted: {accepted} (cap {cap}); stored {total}, acknowledged {acknowledged}")
    print(f"published breakdowns: {breakdowns}; counts per group of: {group_tables or 'none'}")
    failures = []
    if accepted > cap:
        failures.append(f"the attacker got {accepted} submissions accepted (cap {cap})")
    if tally.get("colleague", 429):
        failures.append(f"{tally.get('colleague', 429)} colleagues refused (429)")
    if tally.get("colleague", 303) == 0:
        failures.append("no colleague could answer")
    failures += common_failures(tally, log, total, acknowledged, orphans)
    if breakdowns != ["all"]:
        failures.append(f"a link-mode report publishes breakdowns {breakdowns}")
    if group_tables:
        failures.append(f"a link-mode report publishes how many answered per {group_tables}")
    return verdict(failures)


def proxy(args, env: dict[str, str]) -> int:
    codes_needed = args.clients * max(4, int(args.seconds))
    slug, answers, codes = prepare(env, access="codes", codes=codes_needed)
    create_hr(env)
    pool: queue.Queue[str] = queue.Queue()
    for code in codes:
        pool.put(code)
    tally = Tally()
    addresses = itertools.count()
    with server(env, args.workers) as (port, log):
        deadline = time.monotonic() + args.seconds

        def wrong_codes():
            guesses = itertools.count()

            def guess():
                code = f"{next(guesses):010d}"
                status, html, cookie = request(port, "GET", f"/s/{slug}", ATTACKER)
                body = {"csrf_token": CSRF.search(html).group(1), "code": code, "action": "code"}
                status, _, _ = request(port, "POST", f"/s/{slug}", ATTACKER, body, cookie, FORM)
                tally.add("wrong code", status)

            until(deadline, guess, tally)

        def failed_logins():
            names = itertools.count()
            until(
                deadline,
                lambda: tally.add(
                    "failed login",
                    login(port, ATTACKER, f"nobody{next(names)}@x.invalid", "wrong password"),
                ),
                tally,
            )

        def staff():
            address = colleague(next(addresses))
            tally.add("valid code", submit(port, slug, answers, address, pool.get_nowait()))
            time.sleep(args.seconds / 8)

        def colleagues():
            until(deadline, staff, tally)

        def office():
            # A colleague behind the attacker's own address (one office network): the
            # code is checked first, so the attacker's wrong codes never refuse it.
            tally.add(
                "valid code, same address", submit(port, slug, answers, ATTACKER, pool.get_nowait())
            )
            time.sleep(args.seconds / 8)

        def hr():
            address = colleague(60000)

            def once():
                tally.add("hr login", login(port, address, HR_EMAIL, HR_PASSWORD))
                time.sleep(0.5)

            until(deadline, once, tally)

        malformed(port)
        run_threads(
            [wrong_codes] * 4
            + [failed_logins] * 2
            + [hr, lambda: until(deadline, office, tally)]
            + [colleagues] * args.clients
        )
    total, after_close, orphans, _ = count_in_database(env, slug)
    if after_close != total:
        orphans += abs(total - after_close)  # a response lost or made up by closing
    acknowledged = tally.get("valid code", 303) + tally.get("valid code, same address", 303)
    print(f"proxy, {args.workers} workers, {args.clients} colleagues, {args.seconds} s")
    print(f"statuses: {json.dumps(tally.counts, sort_keys=True)}")
    print(f"stored {total}, acknowledged {acknowledged}")
    failures = []
    for kind in ("valid code", "valid code, same address"):
        refused = {s: n for s, n in tally.counts.get(kind, {}).items() if s != 303}
        if refused:
            failures.append(f"{kind}: refused {refused}")
    if not tally.get("valid code, same address", 303):
        failures.append("no valid code from the attacker's address was accepted")
    if not acknowledged:
        failures.append("no valid code was accepted")
    hr_refused = {s: n for s, n in tally.counts.get("hr login", {}).items() if s != 302}
    if hr_refused or not tally.get("hr login", 302):
        failures.append(f"HR's right password refused: {hr_refused}")
    if not tally.get("wrong code", 429):
        failures.append("the code guesser was never slowed down")
    if not tally.get("failed login", 429):
        failures.append("the failed logins were never slowed down")
    failures += common_failures(tally, log, total, acknowledged, orphans)
    lines = log["stderr"].decode(errors="replace").splitlines()
    if not any("Invalid request" in line for line in lines):
        failures.append("gunicorn never logged the malformed requests")
    if any("127.0.0.1" in line for line in lines if "Listening at" not in line):
        failures.append("an address in gunicorn's log")
    return verdict(failures)


def malformed(port: int) -> None:
    """Requests gunicorn itself refuses and logs ("Invalid request from ip=…")."""
    for raw in (
        b"GARBAGE\r\n\r\n",
        f"GET /\x00 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {ATTACKER}\r\n\r\n".encode(),
    ):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(raw)
            connection.recv(1024)


def common_failures(tally, log, total, acknowledged, orphans) -> list[str]:
    failures = []
    errors = {
        kind: {s: n for s, n in statuses.items() if s >= 500 and s != 503}
        for kind, statuses in tally.counts.items()
    }
    errors = {kind: e for kind, e in errors.items() if e}
    if errors:
        failures.append(f"server errors {errors}")
    if tally.connection_errors:
        failures.append(f"{tally.connection_errors} connection errors")
    if total != acknowledged:
        failures.append(f"{total} stored but {acknowledged} acknowledged")
    if orphans:
        failures.append(f"{orphans} partial responses")
    stderr = log["stderr"]
    if b"Traceback" in stderr:
        failures.append("tracebacks in the server log")
        print(stderr.decode(errors="replace")[-3000:])
    if re.search(rb"\b(?:10\.\d+\.\d+\.\d+|203\.0\.113\.66)\b", stderr):
        failures.append("a client address in the server log")
    return failures


def verdict(failures: list[str]) -> int:
    print("FAIL: " + "; ".join(failures) if failures else "OK: the abuse was contained")
    return 1 if failures else 0
