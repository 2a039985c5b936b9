"""Scripted models for the demo: a valid answer for any output schema, built from the schema.

`ScriptedModels` is a responder for `FakeModelServer`: it reads the output schema from the
request (the forced tool's `input_schema`, the json_schema response format, or the schema
spelled out in a json_object prompt), builds a small valid instance, and lets a per-schema
hook adjust it (the architect's hooks pick real paths from the fenced repository tree).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.llm.choice import DEFAULT_CHOICES
from triad_lab.simulator.model_server import ModelRequest, Reply

Hook = Callable[[ModelRequest, dict[str, Any]], dict[str, Any]]

_SCHEMA_IN_PROMPT = re.compile(r"JSON schema:\n```json\n(.*?)\n```", re.DOTALL)
_FENCE = re.compile(r'<untrusted-data label="([^"]*)">\n(.*?)\n</untrusted-data>', re.DOTALL)


def example(
    schema: Mapping[str, Any],
    root: Mapping[str, Any] | None = None,
    name: str = "",
    number: int | None = None,
) -> Any:
    """A small instance of `schema`: required properties, minimum list lengths, first enums.

    Strings say which field they fill; list items are numbered so that they differ.
    """
    root = root if root is not None else schema
    if "$ref" in schema:
        return example(_resolve(root, schema["$ref"]), root, name, number)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return example(options[0], root, name, number)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        required = schema.get("required", list(properties))
        return {
            key: example(properties[key], root, key, number)
            for key in required
            if key in properties
        }
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        count = min(count, schema.get("maxItems", count))
        items = schema.get("items", {"type": "string"})
        return [example(items, root, _singular(name), i + 1) for i in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _text(schema, name, number)


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    node: Any = root
    for piece in ref.removeprefix("#/").split("/"):
        node = node[piece]
    resolved: Mapping[str, Any] = node
    return resolved


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _text(schema: Mapping[str, Any], name: str, number: int | None) -> str:
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    words = name.replace("_", " ").strip() or "text"
    value = f"Scripted {words}" + (f" {number}" if number is not None else "")
    min_length: int = schema.get("minLength", 0)
    value += "." * max(0, min_length - len(value))
    return value[: schema["maxLength"]] if "maxLength" in schema else value


def fenced_parts(request: ModelRequest) -> dict[str, str]:
    """label -> text of every fenced context part in the request."""
    return dict(_FENCE.findall(request.text))


def _tree(request: ModelRequest) -> list[str]:
    tree = fenced_parts(request).get("repository tree", "")
    return [line.strip() for line in tree.splitlines() if line.strip()]


def _file_selection(request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
    tree = _tree(request)
    readme = [path for path in tree if path.lower().startswith("readme")]
    code = [path for path in tree if path.endswith((".py", ".js", ".ts", ".go", ".rs"))]
    paths = list(dict.fromkeys([*readme, *code]))[:3] or tree[:3]
    return {**data, "paths": paths, "reason": "The README and the main code show the structure."}


def _design(request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
    files = [label.removeprefix("file ") for label in fenced_parts(request) if label[:5] == "file "]
    plan = [
        {"path": path, "change": "modify", "description": f"Scripted change to {path}"}
        for path in files[:2]
    ] or data["plan"]
    names = [option["name"] for option in data["options"]]
    return {**data, "clarifying_questions": [], "chosen_option": names[0], "plan": plan}


_PLAN_ROW = re.compile(r"^\| `([^`]+)` \| (create|modify|delete) \|", re.M)
_COMMENT = {".py": "# ", ".toml": "# ", ".yml": "# ", ".yaml": "# ", ".sh": "# ", ".js": "// "}


def _implementation(request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Carry out each plan step of the fenced design on the fenced files, by whole content."""
    parts = fenced_parts(request)
    design = next((text for label, text in parts.items() if "design" in label), "")
    files = {label[5:]: text for label, text in parts.items() if label.startswith("file ")}
    fixing = any(label.startswith("feedback") for label in parts)
    edits = []
    for number, (path, change) in enumerate(_PLAN_ROW.findall(design), 1):
        current = files.get(path)
        exists = current is not None and current != "(does not exist yet)"
        edit = {"path": path, "plan_step": number, "reason": "", "replacements": []}
        if change == "delete" and exists:
            edits.append(edit | {"action": "delete", "content": None})
            continue
        prefix = next((c for ext, c in _COMMENT.items() if path.endswith(ext)), "")
        line = f"{prefix}Scripted {'fix' if fixing else 'change'} for step {number}\n"
        action = "modify" if exists else "create"
        content = (
            (current + ("" if current.endswith("\n") else "\n") + line)
            if exists and current is not None
            else line
        )
        edits.append(edit | {"action": action, "content": content})
    return {
        **data,
        "root_cause": "Scripted root cause: the change missed a case." if fixing else "",
        "design_problem": "",
        "read_first": [],
        "edits": edits,
    }


_CRITERION = re.compile(r"^- \[ \] (.+)$", re.M)


def _review(request: ModelRequest, data: dict[str, Any]) -> dict[str, Any]:
    """Approve, checking every acceptance criterion of the fenced design as met."""
    parts = fenced_parts(request)
    design = next((text for label, text in parts.items() if "design" in label), "")
    criteria = [
        {"criterion": text.strip(), "met": True, "note": "Covered by the change."}
        for text in _CRITERION.findall(design)
    ]
    return {
        **data,
        "verdict": "approve",
        "summary": "The change implements the approved design.",
        "walkthrough": walkthrough_of(parts),
        "findings": [],
        "criteria": criteria,
    }


#: the API reviewer B's requests come on: the two reviewers ask for the same schema, and the
#: default choices put them on different providers
REVIEWER_B_API = DEFAULT_CHOICES["reviewer_b"].provider


def reviewer_b_first_round(request: ModelRequest) -> bool:
    """True for reviewer B's first review of a PR (a re-review is told what changed since)."""
    first = not any("since your last review" in label for label in fenced_parts(request))
    return request.api == REVIEWER_B_API and first


def objection(
    answer: dict[str, Any], path: str, line: int, message: str, summary: str
) -> dict[str, Any]:
    """`answer` turned into a request for changes with one high-severity finding on a line."""
    finding = {
        "path": path,
        "line": line,
        "severity": "high",
        "category": "unclear",
        "message": message,
        "suggestion": None,
    }
    return answer | {"verdict": "request_changes", "summary": summary, "findings": [finding]}


_DIFF_FILE = re.compile(r"^\+\+\+ b/(.+)$", re.M)


def walkthrough_of(parts: dict[str, str]) -> list[dict[str, Any]]:
    """One group naming the files the fenced diff changes."""
    diff = "\n".join(text for label, text in parts.items() if "diff" in label)
    files = list(dict.fromkeys(_DIFF_FILE.findall(diff)))
    if not files:
        return []
    return [{"purpose": "The change", "files": files, "summary": "Scripted walkthrough."}]


DEFAULT_HOOKS: dict[str, Hook] = {
    "ReviewAnswer": _review,
    "FileSelection": _file_selection,
    "DesignProposal": _design,
    "Implementation": _implementation,
}


class ScriptedModels:
    """Answers any structured request with a deterministic, schema-valid object."""

    def __init__(self, hooks: Mapping[str, Hook] | None = None) -> None:
        self.hooks = {**DEFAULT_HOOKS, **(hooks or {})}

    def __call__(self, request: ModelRequest) -> Reply:
        schema = request.schema or _schema_in_prompt(request)
        if schema is None:
            return Reply(text="The scripted model needs an output schema to answer.")
        data = example(schema)
        hook = self.hooks.get(request.schema_name or str(schema.get("title", "")))
        return Reply(data=hook(request, data) if hook else data)


def _schema_in_prompt(request: ModelRequest) -> dict[str, Any] | None:
    found = _SCHEMA_IN_PROMPT.search(request.text)
    if not found:
        return None
    try:
        schema = json.loads(found.group(1))
    except json.JSONDecodeError:
        return None
    return schema if isinstance(schema, dict) else None
