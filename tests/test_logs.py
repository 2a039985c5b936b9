"""Logs are structured, never carry a secret, and are written in batches off a terminal."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.llm.config import process_redactor
from bot.logs import (
    REDACTED,
    BatchingStreamHandler,
    JsonFormatter,
    RedactingFilter,
    TextFormatter,
)
from bot.redaction import Redactor
from bot.settings import Settings


def _logger(
    formatter: logging.Formatter, secrets: list[str] | Redactor
) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter(secrets))
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_carry_the_extra_fields() -> None:
    logger, stream = _logger(JsonFormatter(), [])
    logger.info("delivery stored", extra={"delivery": "d-1", "event": "issues"})
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "delivery stored" and entry["level"] == "info"
    assert (entry["delivery"], entry["event"]) == ("d-1", "issues")


def test_secrets_are_redacted_in_messages_arguments_and_fields() -> None:
    logger, stream = _logger(JsonFormatter(), ["ghs_supersecrettoken", "whsec-123456"])
    logger.info("token %s expired", "ghs_supersecrettoken", extra={"secret": "x whsec-123456 y"})
    entry = json.loads(stream.getvalue())
    assert entry["message"] == f"token {REDACTED} expired"
    assert entry["secret"] == f"x {REDACTED} y"
    assert "supersecret" not in stream.getvalue() and "whsec" not in stream.getvalue()


def test_text_lines_are_readable() -> None:
    logger, stream = _logger(TextFormatter(), [])
    logger.warning("webhook rejected", extra={"status": 401})
    assert "WARNING webhook rejected  status=401" in stream.getvalue()


def test_uvicorns_coloured_copy_of_the_message_is_not_a_field() -> None:
    logger, stream = _logger(JsonFormatter(), [])
    logger.info(
        "Started server process [%d]",
        42,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
    )
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "Started server process [42]"
    assert "color_message" not in entry and "\\u001b" not in stream.getvalue()


def test_the_http_clients_do_not_log_each_request_at_info() -> None:
    from bot.logs import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        for name in ("httpx", "httpx2"):  # httpx2 is the model SDKs' HTTP client
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
            assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
    finally:
        root.handlers[:], root.level = handlers, level


def test_a_formatted_exception_is_redacted_too() -> None:
    for formatter in (JsonFormatter(), TextFormatter()):
        logger, stream = _logger(formatter, ["whsec-0123456789"])
        try:
            raise RuntimeError(
                "GitHub said no to ghs_abcdefghijklmnopqrstuvwxyz012345 whsec-0123456789"
            )
        except RuntimeError:
            logger.exception("job failed")
        written = stream.getvalue()
        assert "Traceback" in written and "RuntimeError" in written
        assert "ghs_abcdefghij" not in written and "whsec-0123456789" not in written
        assert REDACTED in written


def test_the_process_redactor_knows_the_models_files_keys_and_the_database_password(
    tmp_path: Path,
) -> None:
    models = tmp_path / "models.yml"
    models.write_text(
        "endpoints:\n  - provider: openai-compatible\n    base_url: https://llm.example/v1\n"
        "    api_key_env: ROUTER_KEY\n"
    )
    settings = Settings(
        models_file=models,
        database_url="postgresql://triad:pg-password-1@db/triad",
        admin_token="admin-token-123",
    )
    redactor = process_redactor(settings, {"ROUTER_KEY": "router-key-value"})
    logger, stream = _logger(TextFormatter(), redactor)
    logger.warning(
        "oops", extra={"said": ["router-key-value", {"k": "pg-password-1 admin-token-123"}]}
    )
    written = stream.getvalue()
    for secret in ("router-key-value", "pg-password-1", "admin-token-123"):
        assert secret not in written


def test_fields_that_are_not_text_are_redacted_as_they_will_be_written() -> None:
    for formatter in (JsonFormatter(), TextFormatter()):
        logger, stream = _logger(formatter, ["whsec-0123456789"])
        logger.warning(
            "oops",
            extra={
                "error": RuntimeError("GitHub said whsec-0123456789"),
                "body": b"secret=whsec-0123456789",
                "nested": {"cause": ValueError("whsec-0123456789")},
            },
        )
        written = stream.getvalue()
        assert "whsec-0123456789" not in written and REDACTED in written
        assert "GitHub said" in written


def test_the_private_key_is_redacted_as_base64_and_line_by_line() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    encoded = base64.b64encode(pem.encode()).decode()
    settings = Settings(private_key=encoded)
    logger, stream = _logger(TextFormatter(), process_redactor(settings, {}))
    body_line = pem.splitlines()[5]
    logger.warning("key %s and a line %s", encoded, body_line, extra={"key": [encoded]})
    written = stream.getvalue()
    assert encoded not in written and body_line not in written
    assert written.count(REDACTED) == 3


def test_a_record_looks_up_no_caller_thread_or_process_no_line_shows() -> None:
    """Finding them was 3-4% of a delivery's CPU at INFO (a stack walk, a system call); the
    conftest's fixture puts them back after the test."""
    from bot.logs import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        record = logging.getLogger("test.lookups").makeRecord(
            "test.lookups", logging.INFO, "(unknown file)", 0, "m", (), None
        )
        assert (record.process, record.thread, record.processName) == (None, None, None)
        assert logging._srcfile is None  # so no caller is found for any record
    finally:
        root.handlers[:], root.level = handlers, level


class _Writes(io.StringIO):
    """A stream that counts its writes (each one a system call that lets go of the GIL)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@contextlib.contextmanager
def _batching(
    delay: float, most: int = 64 * 1024
) -> Iterator[tuple[logging.Logger, BatchingStreamHandler, _Writes]]:
    """A logger of its own writing through a batching handler, closed afterwards."""
    stream = _Writes()
    handler = BatchingStreamHandler(stream, delay=delay, most=most)
    handler.setFormatter(TextFormatter())
    logger = logging.getLogger(f"test.batching.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield logger, handler, stream
    finally:
        handler.close()


def test_info_lines_wait_to_be_written_together_in_order() -> None:
    with _batching(delay=60) as (logger, handler, stream):
        for number in range(100):
            logger.info("delivery stored", extra={"number": number})
        assert stream.getvalue() == ""  # none written yet: they wait for company
        handler.flush()
        lines = stream.getvalue().splitlines()
        assert [line.rsplit("number=", 1)[1] for line in lines] == [str(n) for n in range(100)]
        assert stream.writes == 1


def test_a_warning_is_written_at_once_behind_the_lines_before_it() -> None:
    with _batching(delay=60) as (logger, _, stream):
        logger.info("first")
        logger.warning("then this")
        assert [line.split(maxsplit=2)[2] for line in stream.getvalue().splitlines()] == [
            "first",
            "then this",
        ]
        assert stream.writes == 1


def test_a_line_waits_no_longer_than_the_delay() -> None:
    with _batching(delay=0.05) as (logger, _, stream):
        logger.info("soon")
        deadline = time.monotonic() + 5
        while "soon" not in stream.getvalue():
            assert time.monotonic() < deadline, "the line was never written"
            time.sleep(0.01)
        logger.info("and the next one too")  # the writer thread waits again
        while "next one" not in stream.getvalue():
            assert time.monotonic() < deadline, "the second line was never written"
            time.sleep(0.01)


def _writers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "log-writer"}


def _until_ended(threads: set[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive(), "the writer thread did not end"


@pytest.mark.parametrize("pause", [0.0, 0.1])
def test_closing_writes_what_waits_and_ends_the_writer_thread(pause: float) -> None:
    """Closed at once, or while the writer thread waits out the delay."""
    before = _writers()
    with _batching(delay=60) as (logger, handler, stream):
        logger.info("last words")
        time.sleep(pause)
        handler.close()
        assert "last words" in stream.getvalue()
        _until_ended(_writers() - before)


def test_lines_past_the_size_limit_are_written_without_waiting() -> None:
    with _batching(delay=60, most=1000) as (logger, _, stream):
        for _ in range(20):
            logger.info("x" * 100)
        assert stream.writes >= 1 and stream.getvalue().count("x" * 100) >= 9


def test_a_failed_write_is_reported_as_logging_reports_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(f"the disk is gone: {len(text)} characters not written")

    handler = BatchingStreamHandler(Broken(), delay=60)
    logger = logging.getLogger("test.batching.broken")
    logger.handlers[:], logger.propagate = [handler], False
    try:
        logger.warning("lost")
        assert "--- Logging error ---" in capsys.readouterr().err
    finally:
        handler.close()


def test_configuring_again_ends_the_first_handlers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.logs import configure_logging

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal, even under `pytest -s`
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    before = _writers()
    try:
        configure_logging("INFO", "json")
        first = _writers() - before
        assert len(first) == 1
        configure_logging("INFO", "json", batch_seconds=0)
        assert not isinstance(root.handlers[0], BatchingStreamHandler)
        _until_ended(first)
    finally:
        root.handlers[:], root.level = handlers, level


def _python_logging(script: str) -> subprocess.CompletedProcess[str]:
    """`script` run by a new Python process whose stderr is a pipe (logs batched), after
    `configure_logging('INFO', 'json')`."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.logs import configure_logging\nconfigure_logging('INFO', 'json')\n" + script,
        ],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_process_that_exits_writes_the_lines_still_waiting() -> None:
    done = _python_logging(
        "import logging\n"
        "assert type(logging.getLogger().handlers[0]).__name__ == 'BatchingStreamHandler'\n"
        "logging.getLogger('bot').info('written at exit')\n"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr)["message"] == "written at exit"


def test_an_uncaught_traceback_comes_after_the_lines_logged_before_it() -> None:
    done = _python_logging(
        "import logging, threading\n"
        "logging.getLogger('bot').info('in a thread, before')\n"
        "def fail(): raise RuntimeError('the thread failed')\n"
        "thread = threading.Thread(target=fail); thread.start(); thread.join()\n"
        "logging.getLogger('bot').info('before')\n"
        "raise RuntimeError('it failed')\n"
    )
    assert done.returncode == 1
    written = done.stderr
    assert written.index("in a thread, before") < written.index("the thread failed")
    assert written.index('"before"') < written.index("RuntimeError: it failed")


def test_a_terminal_sees_each_line_as_it_is_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.logs import configure_logging

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "text")
        assert not isinstance(root.handlers[0], BatchingStreamHandler)
        logging.getLogger("test.terminal").info("right away")
        assert "right away" in terminal.getvalue()
    finally:
        root.handlers[:], root.level = handlers, level
