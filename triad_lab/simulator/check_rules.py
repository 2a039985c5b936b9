"""The rules GitHub applies to an App's check run: the states it may take and the output and
buttons it may carry (what the simulator refuses with 422, as GitHub does)."""

from __future__ import annotations

from typing import Any

from triad_lab.simulator.state import ApiError, CheckRun, invalid

JSON = dict[str, Any]
#: a suite's conclusion is its most severe run's
SEVERITY = ("action_required", "cancelled", "timed_out", "failure", "neutral", "skipped")
_CONCLUSIONS = frozenset({*SEVERITY, "success"})
_STATUSES = frozenset({"queued", "in_progress", "completed", "waiting", "requested", "pending"})
#: GitHub's limits on a check run's output (UTF-8 bytes) and buttons (characters)
MAX_OUTPUT = 65_535
BUTTON_LIMITS = {"label": 20, "description": 40, "identifier": 20}


def check_state(body: JSON, run: CheckRun | None) -> tuple[str, str | None]:
    """The status and conclusion a create or update leaves, refused (422) as GitHub does."""
    status = body.get("status")
    conclusion = body.get("conclusion")
    if conclusion is not None:
        if conclusion == "stale":
            raise ApiError(422, "Only GitHub can set a check run's conclusion to stale")
        if conclusion not in _CONCLUSIONS:
            raise invalid("CheckRun", "conclusion", "invalid")
        status = "completed"
    if status is None:
        status = run.status if run else "queued"
    if status not in _STATUSES:
        raise invalid("CheckRun", "status", "invalid")
    if status != "completed":
        return status, None
    if conclusion is None:
        if run is None or run.conclusion is None:
            raise ApiError(422, "Conclusion is required when the status is completed")
        conclusion = run.conclusion
    return status, conclusion


def apply_check_body(run: CheckRun, body: JSON) -> None:
    if "external_id" in body:
        run.external_id = body["external_id"]
    output = body.get("output")
    if output is not None:
        if not isinstance(output.get("title"), str) or not isinstance(output.get("summary"), str):
            raise invalid("CheckRun", "output", "missing_field")
        for field in ("summary", "text"):
            if len((output.get(field) or "").encode()) > MAX_OUTPUT:
                raise ApiError(
                    422, f"Invalid request.\n\n{field} exceeds a maximum bytesize of {MAX_OUTPUT}"
                )
        run.title, run.summary, run.text = output["title"], output["summary"], output.get("text")
    if "actions" in body:
        actions = list(body["actions"] or [])
        if len(actions) > 3:
            raise ApiError(422, "Only 3 actions are allowed")
        for item in actions:
            for field, limit in BUTTON_LIMITS.items():
                value = item.get(field)
                if not isinstance(value, str) or not value or len(value) > limit:
                    raise ApiError(
                        422, f"actions.{field} must be 1 to {limit} characters: {value!r}"
                    )
        run.actions = actions
