"""Structured logs: JSON lines in production, readable lines in a terminal, secrets redacted
by the process's one redactor (`bot.redaction`), in messages, fields and tracebacks alike."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
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
]

_TRACEBACKS = logging.Formatter()


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
        return json.dumps(entry, default=str)


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
    time and the event loop waited to get it back: at INFO, a line a delivery, that doubled
    the futex calls and cost a fifth of a delivery's CPU (`bench/harness.py --log-level`).
    A line still waiting is lost only if the process is killed outright: exit
    (`logging.shutdown`) and `close` write it."""

    def __init__(self, stream: TextIO, delay: float = 0.2, most: int = 64 * 1024) -> None:
        super().__init__(stream)
        self.delay = delay
        self.most = most
        self._lines: list[str] = []
        self._size = 0
        self._waiting = threading.Event()
        self._closed = False
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
        if record.levelno >= logging.WARNING or self._size >= self.most or self._closed:
            self._write(record)
        elif not self._waiting.is_set():
            self._waiting.set()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write(None)
        finally:
            self.release()

    def close(self) -> None:
        self._closed = True
        self._waiting.set()  # the writer thread ends
        self.flush()
        super().close()

    def _write(self, record: logging.LogRecord | None) -> None:
        if not self._lines:
            return
        text = "".join(self._lines)
        self._lines.clear()
        self._size = 0
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            # as StreamHandler: said on stderr, if that can be written (from the writer
            # thread, with no record to name, the lines are dropped and the thread goes on)
            if record is not None:
                self.handleError(record)

    def _write_after_delay(self) -> None:
        while True:
            self._waiting.wait()
            if self._closed:
                return
            time.sleep(self.delay)  # the lines logged meanwhile go in the same write
            self._waiting.clear()
            self.flush()


def configure_logging(level: str, log_format: str, secrets: Iterable[str] | Redactor = ()) -> None:
    """Route every logger (Triad's, uvicorn's, libraries') through one redacting handler."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    # a person at a terminal sees each line as it is logged
    handler: logging.StreamHandler[TextIO] = (
        logging.StreamHandler(sys.stderr)
        if sys.stderr.isatty()
        else BatchingStreamHandler(sys.stderr)
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
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx (and httpx2, which the model SDKs use) log every request URL at INFO; at that
    # level they are noise, and an installation-token URL is not for the logs
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
