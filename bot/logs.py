"""Structured logs: JSON lines in production, readable lines in a terminal, secrets redacted
by the process's one redactor (`bot.redaction`), in messages, fields and tracebacks alike."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

from bot.redaction import REDACTED, Redactor

# Attributes every LogRecord has; anything else was passed with `extra=` and is a field.
# uvicorn's `color_message` repeats the message with ANSI colour codes: never a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}
__all__ = [
    "REDACTED",
    "BatchingStreamHandler",
    "JsonFormatter",
    "RedactingFilter",
    "TextFormatter",
    "configure_logging",
    "flush_logs",
]

_TRACEBACKS = logging.Formatter()
#: made once: `json.dumps` with an option builds an encoder for every line
_LINE_JSON = json.JSONEncoder(default=str)


class RedactingFilter(logging.Filter):
    """Blank every secret out of a record: its message, its fields, and its exception and stack,
    which are formatted here (and then only the redacted text travels on)."""

    def __init__(self, secrets: Iterable[str] | Redactor = ()) -> None:
        super().__init__()
        self._redactor = secrets if isinstance(secrets, Redactor) else Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self._redactor.text
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in _fields(record).items():
            setattr(record, key, self._redactor.scrub(_plain(value)))
        if record.exc_info:
            record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _plain(value: object) -> object:
    """A field as it will be written, so the redactor sees that text: anything but JSON's own
    types (an exception, bytes, a path) becomes the string it would be serialised as."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        exception = _exception(self, record)
        if exception:
            entry["exception"] = exception
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _LINE_JSON.encode(entry)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.getMessage()}"
        if fields:
            line += f"  {fields}"
        exception = _exception(self, record)
        if exception:
            line += "\n" + exception
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The record's traceback: as the redacting filter left it, or formatted now."""
    if record.exc_text:
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else None


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}


class BatchingStreamHandler(logging.StreamHandler[TextIO]):
    """Writes lines together: a line below WARNING waits up to `delay` seconds for others to
    go with it; a WARNING or worse is written at once, behind every line before it.

    A write to the log lets go of the GIL. In `triad serve` the store's thread took it each
    time and the event loop waited to get it back: at INFO, a line a delivery, that made a
    third of the futex calls and 20 µs of system time a delivery (README, Benchmarks). What
    waits is written by `close` (at exit, `logging.shutdown`) and by `flush_logs`, which an
    uncaught exception and `triad: error` call first, so their lines come last; only a
    process killed outright loses it. Triad never forks: a child would inherit the lines but
    not the thread.
    """

    def __init__(self, stream: TextIO, delay: float = 0.2, most: int = 64 * 1024) -> None:
        super().__init__(stream)
        self.delay = delay
        self.most = most
        self._lines: list[str] = []
        self._size = 0
        self._last: logging.LogRecord | None = None
        self._waiting = threading.Event()
        self._closing = threading.Event()
        threading.Thread(target=self._write_after_delay, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        """Under the handler's lock (`Handler.handle`)."""
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)
        self._size += len(line)
        self._last = record
        if record.levelno >= logging.WARNING or self._size >= self.most or self._closing.is_set():
            self._write()
        elif not self._waiting.is_set():
            self._waiting.set()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write()
        finally:
            self.release()

    def close(self) -> None:
        self._closing.set()
        self._waiting.set()  # the writer thread ends, without writing: this does
        self.flush()
        super().close()

    def _write(self) -> None:
        """Every line waiting, in one write (under the handler's lock)."""
        lines, last = self._lines, self._last
        if not lines or last is None:
            return
        self._lines, self._size, self._last = [], 0, None
        try:
            self.stream.write("".join(lines))
            self.stream.flush()
        except Exception:
            self.handleError(last)  # as StreamHandler: said on stderr, if that can be written

    def _write_after_delay(self) -> None:
        while not self._closing.is_set():
            self._waiting.wait()
            if self._closing.wait(self.delay):  # closing: `close` writes what waits
                return
            self._waiting.clear()  # a line logged from here on waits for the next round
            self.flush()


def flush_logs() -> None:
    """Write every line still waiting: before anything is written to stderr around the
    logging (an error message, a traceback), so it comes after the lines logged before it."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def _flush_before_tracebacks() -> None:
    """An uncaught exception's traceback (in any thread) comes after the lines logged before
    it: the hooks that print it write what waits first. Once per process."""
    if getattr(sys.excepthook, "__name__", "") == "_excepthook_flushing_logs":
        return
    previous, previous_in_thread = sys.excepthook, threading.excepthook

    def _excepthook_flushing_logs(
        kind: type[BaseException], value: BaseException, traceback: TracebackType | None
    ) -> None:
        with contextlib.suppress(Exception):  # the traceback matters more
            flush_logs()
        previous(kind, value, traceback)

    def _thread_excepthook_flushing_logs(args: threading.ExceptHookArgs) -> None:
        with contextlib.suppress(Exception):
            flush_logs()
        previous_in_thread(args)

    sys.excepthook = _excepthook_flushing_logs
    threading.excepthook = _thread_excepthook_flushing_logs


def configure_logging(
    level: str,
    log_format: str,
    secrets: Iterable[str] | Redactor = (),
    batch_seconds: float = 0.2,
) -> None:
    """Route every logger (Triad's, uvicorn's, libraries') through one redacting handler;
    off a terminal, lines below WARNING wait up to `batch_seconds` to be written together
    (0: each at once, as on a terminal, where a person reads them as they come)."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    handler: logging.StreamHandler[TextIO] = (
        logging.StreamHandler(sys.stderr)
        if sys.stderr.isatty() or batch_seconds <= 0
        else BatchingStreamHandler(sys.stderr, delay=batch_seconds)
    )
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(RedactingFilter(secrets))
    # a line names its logger, never its caller's file and line, thread or process: not
    # finding them (a stack walk, a lookup, a system call a record) saved 3-4% of a
    # delivery's CPU at INFO (the logging HOWTO's "Optimization"). With no caller found, a
    # call's `stack_info` is not recorded either: Triad passes none.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    for replaced in root.handlers:
        if isinstance(replaced, BatchingStreamHandler):  # its lines written, its thread ended
            replaced.close()
    root.handlers[:] = [handler]
    _flush_before_tracebacks()
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx (and httpx2, which the model SDKs use) log every request URL at INFO; at that
    # level they are noise, and an installation-token URL is not for the logs
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
