"""The `.env` that `triad setup` writes: one line per setting, read alike by every reader.

Values are written unquoted, one per line, and only when they need no quoting: no control or
line-separator characters, no leading quote, no surrounding spaces, no ` #`. Such a line reads
the same in pydantic-settings (python-dotenv), a shell's `set -a; . ./.env` of simple values,
and `docker run --env-file` (which takes each line literally and knows no quoting nor
multi-line values). The private key is therefore one line with `\\n` escapes, a form Triad
accepts. Replacing an existing `.env` rewrites only the keys setup owns and keeps every other
line (other settings, API keys, comments) as it was.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from dotenv.parser import parse_stream

#: the settings `triad setup` writes; replacing `.env` drops their old lines, and only theirs
SETUP_KEYS = (
    "TRIAD_APP_ID",
    "TRIAD_PRIVATE_KEY",
    "TRIAD_WEBHOOK_SECRET",
    "TRIAD_CLIENT_ID",
    "TRIAD_CLIENT_SECRET",
    "TRIAD_GITHUB_API_URL",
    "TRIAD_WEBHOOK_PROXY_URL",
)
HEADER = "# Written by `triad setup`"
_SECRETS_NOTE = "# It holds secrets: keep it out of version control."
_COMMENT_AFTER_SPACE = re.compile(r"\s#")


class UnsafeEnvValue(ValueError):
    """A value that would not read back as written (or would add lines); names the key only."""


def has_control_characters(text: str, allowed: str = "") -> bool:
    """True when `text` holds a control or line/paragraph separator character not in `allowed`."""
    return any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} and ch not in allowed for ch in text)


def assignment(key: str, value: str) -> str:
    """`KEY=value` for `.env`, or UnsafeEnvValue when the value cannot be written as it is."""
    if (
        has_control_characters(value)
        or value != value.strip()
        or value[:1] in {'"', "'", "`"}
        or _COMMENT_AFTER_SPACE.search(value)
    ):
        raise UnsafeEnvValue(f"{key}: the value cannot be written to .env safely")
    return f"{key}={value}"


def one_line_key(pem: str) -> str:
    """The PEM key as one line with `\\n` escapes (Settings turn them back into newlines)."""
    return pem.strip().replace("\r\n", "\n").replace("\n", "\\n")


def env_block(values: Mapping[str, str], comment: str) -> str:
    """The lines setup writes: a comment, then every value (raises UnsafeEnvValue)."""
    lines = [assignment(key, value) for key, value in values.items()]
    note = "".join(ch for ch in comment if not has_control_characters(ch))
    return "\n".join([f"{HEADER} {note}", _SECRETS_NOTE, *lines]) + "\n"


def merge(existing: str, block: str) -> str:
    """`existing` without setup's keys and its old comment, then `block`."""
    kept = []
    for binding in parse_stream(io.StringIO(existing)):
        text = binding.original.string
        if binding.key in SETUP_KEYS:
            continue
        if text.startswith((HEADER, _SECRETS_NOTE)):
            continue
        kept.append(text if text.endswith("\n") else text + "\n")
    rest = "".join(kept).strip("\n")
    return (rest + "\n\n" if rest else "") + block


def write_env(path: Path, block: str, *, overwrite: bool) -> None:
    """Write `block` to `path`, readable by its owner only.

    Without `overwrite` an existing file is refused (FileExistsError). With it, the file is
    replaced atomically by its other lines plus `block`.
    """
    if not overwrite:
        _write_new(path, block)
        return
    try:
        # its other lines are kept byte for byte, whatever their encoding
        existing = path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        existing = ""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        _write_new(temporary, merge(existing, block))
        os.replace(temporary, path)
    except BaseException:  # a copy of the private key is not left behind (a full disk)
        temporary.unlink(missing_ok=True)
        raise


def _write_new(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, text.encode("utf-8", "surrogateescape"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
