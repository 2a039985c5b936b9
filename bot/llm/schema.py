"""Output schemas: what each provider is sent, and how an answer is checked against it."""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError, ValidationInfo

from bot.llm.choice import describe_errors
from bot.llm.errors import clip

T = TypeVar("T", bound=BaseModel)

#: keywords OpenAI's strict structured outputs accept; a schema using others is sent as
#: json_object with the schema in the prompt instead
_STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "description",
        "title",
        "minItems",
        "maxItems",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    }
)
_NAME = re.compile(r"[^A-Za-z0-9_-]")
_FENCED_JSON = re.compile(r"^```(?:json)?\s*\n(.*)\n```\s*$", re.DOTALL)


class InvalidAnswer(Exception):
    """Why an answer does not fit, worded for the model (repair) and for a user."""


#: the validation context of a model's answer: a schema's limits on what a model may say hold
#: for its answers, not for an answer stored before a limit was set (`answering`)
ANSWER = {"answer": True}


def answering(info: ValidationInfo) -> bool:
    """Whether a model's answer is being read (not a stored one)."""
    return isinstance(info.context, dict) and bool(info.context.get("answer"))


def schema_name(output: type[BaseModel]) -> str:
    """A tool or json_schema name both APIs accept (letters, digits, `_`, `-`; 64 at most)."""
    return _NAME.sub("_", output.__name__)[:64]


def json_schema(output: type[BaseModel]) -> dict[str, Any]:
    """`output`'s JSON schema, built once per class (pydantic builds it anew on every call, a
    few ms each); each caller gets its own copy, free to change."""
    return copy.deepcopy(_built_schema(output))


@functools.cache
def _built_schema(output: type[BaseModel]) -> dict[str, Any]:
    return output.model_json_schema()


def description(output: type[BaseModel]) -> str:
    doc = (output.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else f"The {output.__name__} answer"


def strict_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """`schema` when OpenAI's strict mode can enforce it as it is, else None.

    Strict mode needs every object closed (`additionalProperties: false`) with all its
    properties required, and only the keywords it knows.
    """
    if schema.get("type") != "object":
        return None
    return schema if _strict(schema) else None


def _strict(node: Any) -> bool:
    if isinstance(node, list):
        return all(_strict(item) for item in node)
    if not isinstance(node, dict):
        return True
    if set(node) - _STRICT_KEYWORDS:
        return False
    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties", {})
        if node.get("additionalProperties") is not False:
            return False
        if set(node.get("required", [])) != set(properties):
            return False
        if not all(_strict(child) for child in properties.values()):
            return False
    for key in ("items", "anyOf", "$defs"):
        child = node.get(key)
        if isinstance(child, dict) and key == "$defs":
            if not all(_strict(item) for item in child.values()):
                return False
        elif child is not None and not _strict(child):
            return False
    return True


def parse_answer(
    content: dict[str, Any] | str | None,
    output: type[T],
    *,
    truncated: bool = False,
    refusal: str | None = None,
    max_output_tokens: int | None = None,
) -> T:
    """The answer as an `output` instance, or `InvalidAnswer` saying what is wrong with it."""
    if refusal:
        raise InvalidAnswer(f"the model declined to answer: {clip(refusal)}")
    if truncated:
        limit = f" of {max_output_tokens} tokens" if max_output_tokens else ""
        raise InvalidAnswer(
            f"the answer was cut off at the output limit{limit}; give a shorter, complete answer"
        )
    if content is None or (isinstance(content, str) and not content.strip()):
        raise InvalidAnswer("the answer was empty")
    data = content if isinstance(content, dict) else _json(content)
    try:
        return output.model_validate(data, context=ANSWER)
    except ValidationError as exc:
        raise InvalidAnswer(f"the answer does not fit the schema: {describe_errors(exc)}") from None


def _json(text: str) -> Any:
    stripped = text.strip()
    fenced = _FENCED_JSON.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(
            f"the answer is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}):"
            f" {stripped[:120]!r}"
        ) from None
    except RecursionError:
        raise InvalidAnswer("the answer is not JSON Triad reads: it nests too deeply") from None
    except ValueError as exc:  # a number of over 4300 digits (`int` refuses to read it)
        raise InvalidAnswer(f"the answer is not JSON Triad reads: {exc}") from None


def schema_instruction(schema: dict[str, Any]) -> str:
    """For endpoints without strict structured output: the schema, spelled out in the prompt."""
    return (
        "Answer with exactly one JSON object, and nothing else, that matches this JSON schema:\n"
        f"```json\n{json.dumps(schema, indent=1)}\n```"
    )


def repair_prompt(problem: str) -> str:
    return (
        f"Your previous answer could not be used: {problem}.\n"
        "Answer again with the complete, corrected object that fits the schema exactly."
    )
