"""Example call parameters for the generated contract tests (``tests/contract/``).

Every parameter of a method gets a value of its type, derived from the
catalogue alone: the first enum value, ``1`` for numbers, ``True``, ``{}``
for JSON, ``"1"`` for strings, one item for a list. The same value is also
written out as the wire string OK.ru should receive, so a test compares what
the emulator got against text the generator wrote, not against the SDK's own
encoder.
"""

from __future__ import annotations

import json
from typing import Any

from .catalogue import Method, Param

__all__ = ["example_args", "example_value", "wire_value"]

_SCALAR_EXAMPLES: dict[str, Any] = {
    "string": "1",
    "date": "2024-01-31",
    "int": 1,
    "long": 1,
    "float": 1.5,
    "boolean": True,
    "json": {},
}


def example_value(param: Param) -> Any:
    """A value of the parameter's type that the catalogue allows."""
    expr = param.type_expr
    base = expr.item if expr.item is not None else expr
    assert base is not None
    if param.closed_enum:
        value: Any = param.closed_enum[0]
    else:
        value = _SCALAR_EXAMPLES[base.name]
    return [value] if expr.kind == "list" else value


def wire_value(value: Any) -> str:
    """The wire text of an example value (OK.ru's encoding, written out independently)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)
    ):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, list):
        return ",".join(wire_value(v) for v in value)
    return str(value)


def example_args(method: Method) -> list[tuple[str, str, str, str]]:
    """(Python keyword, Python literal, wire name, wire text) for every parameter."""
    out: list[tuple[str, str, str, str]] = []
    for param in method.params:
        value = example_value(param)
        out.append((param.py_name, repr(value), param.name, wire_value(value)))
    return out
