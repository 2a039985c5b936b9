"""Real deliveries for the ingest benchmark: the example payloads GitHub sends, each made unique.

Every body is a fixture from tests/fixtures/github-webhooks (as an App receives it: with an
`installation`) with a sequence number added as its last key, so no two bodies are equal and
none is answered as a replay of an earlier one; the keys keep GitHub's order (`action` first).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "github-webhooks"
SECRET = "bench-secret-of-32-characters-ok"


@dataclass(frozen=True)
class Template:
    """One fixture: its event, and its body without the closing `}`."""

    event: str
    head: bytes

    def body(self, sequence: int) -> bytes:
        return b'%s,"bench_sequence":%d}' % (self.head, sequence)


def templates(folder: Path = FIXTURES) -> list[Template]:
    """Every fixture but `ping` (answered before the store), in a fixed order."""
    found = []
    for path in sorted(folder.glob("*.json")):
        event = path.name.split(".", 1)[0]
        if event == "ping":
            continue
        payload = json.loads(path.read_bytes())
        payload.setdefault("installation", {"id": 7, "node_id": "MDIzOkludGVncmF0aW9uNw=="})
        found.append(Template(event, json.dumps(payload, separators=(",", ":")).encode()[:-1]))
    return found


def signature(body: bytes, secret: str = SECRET) -> bytes:
    return b"sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
