"""`triad`'s arguments: a number out of range is one `triad: error:` line, never a traceback
from the socket or the database, and never silently the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("TRIAD_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "70000"], "argument --port: '70000' is not a port (1 to 65535)"),
        (["serve", "--port", "http"], "argument --port: 'http' is not a port (1 to 65535)"),
        (["serve", "--admin-port", "0"], "argument --admin-port: '0' is not a port (1 to 65535)"),
        (["worker", "--metrics-port", "0"], "argument --metrics-port: '0' is not a port"),
        (["setup", "--port", "-1"], "argument --port: '-1' is not a port (1 to 65535)"),
        (["serve", "--job-concurrency", "-1"], "argument --job-concurrency: '-1' is not a number"),
        (["worker", "--concurrency", "0"], "argument --concurrency: '0' is not a number"),
        (["jobs", "--limit", "-1"], "argument --limit: '-1' is not a number of rows (1 or more)"),
        (["deliveries", "--limit", "0"], "argument --limit: '0' is not a number of rows"),
        (["jobs", "show", "99999999999999999999"], "argument id: '99999999999999999999' is not a"),
        (["jobs", "retry", "0"], "argument ID: '0' is not a job id"),
    ],
)
def test_a_bad_number_is_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"triad: error: {message}")
    assert captured.err.count("\n") == 1
    assert captured.err.endswith(" --help`)\n")  # where to read what is accepted
    assert not (Path.cwd() / "none.db").exists()
