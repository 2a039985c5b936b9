"""What reading a comment for commands costs: hostile 65 kB comments against a typical one.

Anyone may comment on a public issue, and the web process reads every comment for `/triad`
lines before it answers the webhook, so the worst comment must cost milliseconds, not seconds.
Prints the median CPU time per parse over interleaved rounds, and each hostile input's ratio to
the typical comment.

    .venv/bin/python bench/command_parse.py --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.workflow.commands import parse_command

TYPICAL = "Thanks, this looks right.\n\n> the plan\n\nOne question first.\n\n/triad revise\n"


def _lines(unit: str) -> str:
    """65 kB of `unit` in 100-character lines of one paragraph (a longer line is cut short
    and not read at all, so what costs the most is many lines of hostile text)."""
    line = unit * (100 // len(unit))
    return "\n".join([line] * (65_000 // len(line)))


#: each holds the command `/triad x`
HOSTILE = {
    "brackets": "/triad x\n\n" + _lines("["),
    "emphasis": "/triad x\n\n" + _lines("*a"),
    "links": "/triad x\n\n" + _lines("[a]("),
    "list items": "/triad x\n" + "- a\n" * 16_000,
    "paragraphs": "/triad x\n" + "a\n\n" * 21_000,
    "html": "/triad x\n\n" + _lines("<a"),
    "html block": "/triad x\n\n<div>\n" + "<code" * 3000,
    "html attrs": "/triad x\n\n<div>\n" + _lines("<code title='</code>'>"),
}


def cpu_ms(body: str) -> float:
    started = time.process_time()
    parse_command(body)
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    parse_command(TYPICAL)  # the parser is imported on first use
    samples: dict[str, list[float]] = {name: [] for name in ("typical", *HOSTILE)}
    for _ in range(rounds):  # interleaved: each round parses every input once
        samples["typical"].append(cpu_ms(TYPICAL))
        for name, body in HOSTILE.items():
            samples[name].append(cpu_ms(body))
    typical = statistics.median(samples["typical"])
    print(f"{'input':<12} {'size':>8} {'CPU ms (median)':>16} {'× typical':>10}")
    for name, values in samples.items():
        size = len(TYPICAL if name == "typical" else HOSTILE[name])
        median = statistics.median(values)
        print(f"{name:<12} {size:>8} {median:>16.3f} {median / typical:>10.0f}")


if __name__ == "__main__":
    main()
