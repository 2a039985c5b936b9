"""Online backups of the embedded store (PostgreSQL has its own tool: pg_dump)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.errors import StoreError


def backup_sqlite(database: str | Path, target: str | Path) -> int:
    """Copy a live SQLite database (WAL included) into `target` with SQLite's online backup
    API, consistent even while Triad writes to it. Returns the size of the copy in bytes.

    A plain file copy is not a backup: the latest transactions live in the `-wal` file.
    """
    source_path, target_path = Path(database), Path(target)
    if not source_path.is_file():
        raise StoreError(f"no SQLite database at {source_path}")
    _create(target_path)
    try:
        source = sqlite3.connect(source_path, timeout=30.0)
        try:
            copy = sqlite3.connect(target_path)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        target_path.unlink(missing_ok=True)
        raise StoreError(f"backing up {source_path} to {target_path} failed: {exc}") from exc
    return target_path.stat().st_size


def _create(target: Path) -> None:
    """The backup's empty file, created here (never an existing one): a target that cannot be
    written is named as such, before the source is read."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the backup's folder {target.parent}: {exc.strerror or exc}"
        ) from None
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        raise StoreError(f"{target} exists: give a new file name for the backup") from None
    except OSError as exc:
        raise StoreError(f"cannot create the backup {target}: {exc.strerror or exc}") from None
