"""The OpenAPI document tells the truth: every operation's success answer has a schema that
names its fields (a model), never a bare object or a list of them."""

from __future__ import annotations

from typing import Any

from app.main import create_app
from app.settings import Settings


def untyped(schema: dict[str, Any]) -> bool:
    """A schema that says nothing of the fields: {}, a bare object, a list or a choice of them."""
    if "$ref" in schema:
        return False
    if "anyOf" in schema:
        return any(untyped(s) for s in schema["anyOf"] if s.get("type") != "null")
    if schema.get("type") == "array":
        return untyped(schema.get("items", {}))
    if schema.get("type") == "object":
        extra = schema.get("additionalProperties")
        return "properties" not in schema and not (isinstance(extra, dict) and not untyped(extra))
    return not schema


def test_every_answer_has_a_model() -> None:
    spec = create_app(Settings(database_url="unused")).openapi()
    bare, seen = [], 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            ok = {k: v for k, v in op["responses"].items() if k.startswith("2")}
            assert ok, f"{method.upper()} {path} documents no success answer"
            for status, answer in ok.items():
                for kind, content in answer.get("content", {}).items():
                    if kind != "application/json":
                        continue
                    seen += 1
                    if untyped(content.get("schema", {})):
                        bare.append(f"{method.upper()} {path} {status}: {content.get('schema')}")
    assert seen > 20  # the check read the answers it is about
    assert not bare, "answers without a model:\n" + "\n".join(bare)


def test_the_check_tells_a_bag_from_a_model() -> None:
    assert untyped({"type": "object"})
    assert untyped({"type": "array", "items": {"type": "object", "additionalProperties": True}})
    assert untyped({"anyOf": [{"type": "object"}, {"type": "null"}]})
    assert not untyped({"$ref": "#/components/schemas/Page"})
    assert not untyped({"type": "object", "additionalProperties": {"type": "string"}})
