"""Online backups of the embedded store (PostgreSQL has its own tool: pg_dump)."""

from __future__ import annotations

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
    if target_path.exists():
        raise StoreError(f"{target_path} exists: give a new file name for the backup")
    target_path.parent.mkdir(parents=True, exist_ok=True)
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
        raise StoreError(f"backing up {source_path} failed: {exc}") from exc
    return target_path.stat().st_size
