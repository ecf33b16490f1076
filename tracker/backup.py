"""Backing up and restoring the whole database.

SQLite: the online backup API (``sqlite3.Connection.backup``), which copies a consistent snapshot
while the service keeps running, page by page. PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore --clean --single-transaction``, the server's own tools (on PATH, same major version as
the server). Neither overwrites anything unless asked to (``force``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from tracker.extensions import db


class BackupError(Exception):
    """Something the person running the command must fix; the message says what."""


def _url() -> sa.engine.URL:
    return db.engine.url


def is_sqlite() -> bool:
    return _url().get_backend_name() == "sqlite"


def _sqlite_file() -> Path:
    database = _url().database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _libpq_url() -> str:
    """The database address for pg_dump and pg_restore (a libpq URI: no '+psycopg' driver part)."""
    return _url().set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(f"{command[0]} is not installed (it comes with the PostgreSQL client tools).")
    result = subprocess.run([tool, *command[1:]], capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(path: Path, *, force: bool = False) -> str:
    """Write a backup of the database to ``path``; returns its SHA-256."""
    if path.exists() and not force:
        raise BackupError(f"{path} already exists. Choose another path, or add --force to replace it.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    if is_sqlite():
        source = sqlite3.connect(_sqlite_file())
        target = sqlite3.connect(partial)
        try:
            with target:
                source.backup(target)
            # The database runs with a write-ahead log, and the copy inherits that mode; a backup is
            # one self-contained file instead (a write-ahead-log file could not even be opened
            # read-only from a folder its reader cannot write to).
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", _libpq_url()])
    os.replace(partial, path)  # a backup is either whole or absent
    return sha256_of(path)


def database_has_data() -> bool:
    tables = set(sa.inspect(db.engine).get_table_names())
    if "users" not in tables:
        return False
    with db.engine.connect() as connection:
        return connection.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM users)")) in (True, 1)


def restore(path: Path, *, force: bool = False) -> None:
    """Replace the database with the backup at ``path``."""
    if not path.is_file():
        raise BackupError(f"There is no backup at {path}.")
    if database_has_data() and not force:
        raise BackupError("The database already holds data. Add --force to replace all of it with the backup.")
    db.session.remove()
    db.engine.dispose()  # nothing of ours may hold the database while it is replaced
    if is_sqlite():
        _check_sqlite_backup(path)
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_file())
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                f"--dbname={_libpq_url()}",
                str(path),
            ]
        )
    db.engine.dispose()


def _check_sqlite_backup(path: Path) -> None:
    """Refuse a file that is not a SQLite backup of this service, before anything is overwritten."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise BackupError(f"{path} is not a SQLite database.") from None
    if not {"alembic_version", "users", "audit_events"} <= tables:
        raise BackupError(f"{path} is not a backup of this service's database.")
