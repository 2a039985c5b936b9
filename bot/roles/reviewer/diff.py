"""The PR's diff, parsed with unidiff: which lines may carry an inline comment, and chunks.

A large diff is split into chunks that fit a reviewer's budget (a large file by hunks, a huge
hunk by runs of lines); no file is dropped silently: a binary file is named with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk, Line, PatchSet

from bot.llm.context import estimate_tokens


@dataclass(frozen=True)
class DiffFile:
    path: str
    text: str
    #: lines of the new file a review comment may be placed on (added or context lines)
    commentable: frozenset[int]
    binary: bool = False


@dataclass(frozen=True)
class Chunk:
    files: list[DiffFile]

    @property
    def text(self) -> str:
        return "\n".join(f.text for f in self.files)


@dataclass(frozen=True)
class SplitDiff:
    chunks: list[Chunk]
    #: path -> why it is not reviewed
    left_out: dict[str, str] = field(default_factory=dict)


def parse_diff(text: str) -> list[DiffFile]:
    """Every file of a unified diff with the new-file lines that are in the diff."""
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise ValueError(f"the PR's diff could not be parsed: {exc}") from exc
    files = []
    for patched in patch:
        lines = frozenset(
            line.target_line_no
            for hunk in patched
            for line in hunk
            if line.target_line_no is not None and (line.is_added or line.is_context)
        )
        path = patched.path
        files.append(DiffFile(path, str(patched), lines, bool(patched.is_binary_file)))
    return files


def with_line_numbers(file: DiffFile) -> str:
    """The file's diff with new-file line numbers, so findings can name real lines."""
    out = []
    for patched in PatchSet(file.text):
        out.append(f"--- {patched.source_file}\n+++ {patched.target_file}")
        for hunk in patched:
            out.append(str(hunk).splitlines()[0])
            for line in hunk:
                number = line.target_line_no if line.target_line_no is not None else ""
                out.append(f"{number:>5} {line.line_type}{line.value.rstrip(chr(10))}")
    return "\n".join(out)


def split_diff(files: list[DiffFile], chunk_tokens: int) -> SplitDiff:
    """Chunks in diff order, each within `chunk_tokens`: whole files where they fit, else a
    file's hunks (or runs of a hunk's lines). Binary files are named as left out."""
    chunks: list[Chunk] = []
    left_out: dict[str, str] = {}
    current: list[DiffFile] = []
    used = 0
    for file in files:
        if file.binary:
            left_out[file.path] = "binary file: no text to review"
            continue
        cost = estimate_tokens(with_line_numbers(file))
        if cost > chunk_tokens:
            parts = _split_file(file, chunk_tokens)
            if current:
                chunks.append(Chunk(current))
                current, used = [], 0
            chunks.extend(Chunk([part]) for part in parts)
            continue
        if used + cost > chunk_tokens and current:
            chunks.append(Chunk(current))
            current, used = [], 0
        current.append(file)
        used += cost
    if current:
        chunks.append(Chunk(current))
    return SplitDiff(chunks, left_out)


def _split_file(file: DiffFile, chunk_tokens: int) -> list[DiffFile]:
    """A large file's diff in pieces that fit: whole hunks where they fit, else hunks cut
    into runs of lines with their own hunk headers (a new 3,000-line file is one hunk)."""
    [patched] = list(PatchSet(file.text))
    header = f"--- {patched.source_file}\n+++ {patched.target_file}\n"
    pieces: list[DiffFile] = []
    hunks: list[str] = []
    for hunk in patched:
        for text in _hunk_pieces(file.path, header, hunk, chunk_tokens):
            if hunks and _cost(file.path, header + "".join([*hunks, text])) > chunk_tokens:
                pieces.append(DiffFile(file.path, header + "".join(hunks), file.commentable))
                hunks = []
            hunks.append(text)
    if hunks:
        pieces.append(DiffFile(file.path, header + "".join(hunks), file.commentable))
    return pieces


def _hunk_pieces(path: str, header: str, hunk: Hunk, chunk_tokens: int) -> list[str]:
    text = str(hunk)
    if _cost(path, header + text) <= chunk_tokens:
        return [text]
    lines = list(hunk)
    per_line = max(_cost(path, header + text) / max(len(lines), 1), 1)
    size = max(int(chunk_tokens / per_line * 0.9), 1)
    return [_as_hunk(lines[i : i + size]) for i in range(0, len(lines), size)]


def _as_hunk(lines: list[Line]) -> str:
    """A run of a hunk's lines as a hunk of its own, with a header that counts them."""
    source = [line for line in lines if not line.is_added]
    target = [line for line in lines if not line.is_removed]
    source_start = next((x.source_line_no for x in source if x.source_line_no), 0)
    target_start = next((x.target_line_no for x in target if x.target_line_no), 0)
    body = "".join(str(line) for line in lines)
    return f"@@ -{source_start},{len(source)} +{target_start},{len(target)} @@\n{body}"


def _cost(path: str, text: str) -> int:
    return estimate_tokens(with_line_numbers(DiffFile(path, text, frozenset())))
