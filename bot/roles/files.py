"""Reading repository files for a model: missing ones say so, huge or binary ones are withheld."""

from __future__ import annotations

import asyncio

from bot.github.repo import Repo

MAX_FILE_BYTES = 200_000
#: shown instead of a file too large or binary to read: a model may not rewrite it
WITHHELD = "(content withheld: the file is too large or binary to show)"


async def read_paths(repo: Repo, paths: list[str], ref: str) -> dict[str, str | None]:
    """Each path's text at `ref`: None when it does not exist, WITHHELD when it cannot be shown."""
    contents = await asyncio.gather(*(repo.read_file(path, ref) for path in paths))
    return {
        path: text
        if text is None or (len(text) <= MAX_FILE_BYTES and "\x00" not in text)
        else WITHHELD
        for path, text in zip(paths, contents, strict=True)
    }


async def readable(repo: Repo, paths: list[str], ref: str) -> dict[str, str]:
    """Only the files that exist and can be shown."""
    found = await read_paths(repo, paths, ref)
    return {path: text for path, text in found.items() if text is not None and text != WITHHELD}
