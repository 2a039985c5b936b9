"""Logs are structured and never carry a secret."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.llm.config import process_redactor
from bot.logs import REDACTED, JsonFormatter, RedactingFilter, TextFormatter
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
