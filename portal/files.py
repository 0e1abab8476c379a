"""File modes: the instance folder 0700; the database, its WAL and journal, the secret
key and backups 0600.

``protect_instance`` sets the process's umask to 077 *before* anything is
created, so a file is never readable by others even for a moment; it also
tightens a folder or file left with wider modes by an earlier version.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def protect_instance(instance_path: str) -> None:
    """Set the umask, create the instance folder 0700 and tighten what is in it."""
    os.umask(UMASK)
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(FOLDER_MODE)
    secret = folder / "secret_key"
    if secret.exists():
        secret.chmod(FILE_MODE)


def sqlite_path(database_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None (PostgreSQL, in-memory)."""
    parsed = urlparse(database_url)
    if parsed.scheme != "sqlite":
        return None
    path = unquote(parsed.path)[1:]
    return Path(path) if path and path != ":memory:" else None


def protect_database(database_url: str) -> None:
    """Give an SQLite database and its WAL, shared-memory and journal files mode 0600.

    SQLite creates the WAL and journal with the mode of the database file, so
    a database created under the umask stays private; this fixes one made
    by an earlier version with 0644.
    """
    path = sqlite_path(database_url)
    if path is None:
        return
    for suffix in SQLITE_SUFFIXES:
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.chmod(FILE_MODE)
