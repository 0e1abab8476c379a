"""A throwaway PostgreSQL cluster on loopback for the tests that need PostgreSQL itself
(system columns, physical order, pg_dump), or the server named by
VARNA_TEST_DATABASE_URL (which .ci/run provides)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

MISSING = "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin)"


def bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(found):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


def pg_dump() -> str | None:
    """The pg_dump that matches the server binaries, else the one on PATH."""
    directory = bin_dir()
    if directory is not None and (directory / "pg_dump").exists():
        return str(directory / "pg_dump")
    return shutil.which("pg_dump")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root and uses the postgres account.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Yield the URL of an empty database; raises LookupError when none can be had."""
    url = os.environ.get("VARNA_TEST_DATABASE_URL")
    if url:
        yield url
        return
    directory = bin_dir()
    if directory is None:
        raise LookupError(MISSING)
    try:
        import psycopg2  # noqa: F401 - the tests that use the cluster read it with psycopg2
    except ImportError as exc:
        raise LookupError("needs psycopg2 (pip install -e '.[test]')") from exc
    root = Path(tempfile.mkdtemp(prefix="varna-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        command = _as_postgres([str(directory / args[0]), *args[1:]])
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - fixed programs

    try:
        run("initdb", "-D", str(data), "-A", "trust", "-U", "varna")
        run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-w",
            "-o",
            # wal_recycle = off, as the README asks of a production server (T2 after close).
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c wal_recycle=off",
            "start",
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise LookupError(f"a PostgreSQL cluster could not be started: {exc.stderr!r}") from exc
    try:
        run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "varna", "varna_test")
        yield f"postgresql://varna@127.0.0.1:{port}/varna_test"
    finally:
        subprocess.run(  # noqa: S603 - a fixed program
            _as_postgres([str(directory / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
