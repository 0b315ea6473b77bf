"""Checks of call parameters against the catalogue, before anything is sent.

Generated methods declare their parameters with :class:`Param`; the core runs
:func:`check_params` so that a wrong value fails with the method and the
parameter named, instead of an OK.ru error (or a silent misencoding) later.
The checks are about kinds of values, and stay permissive where the wire
is: an ``int`` is accepted for a string id, any iterable of strings or ints
for a list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from .encoding import NOT_GIVEN
from .errors import ParameterValidationError

__all__ = ["Param", "check_params"]

Kind = Literal["string", "int", "float", "boolean", "list", "json", "any"]


@dataclasses.dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter of a catalogued method."""

    wire: str
    kind: Kind = "any"
    #: the item kind of a list
    item: Kind = "any"
    required: bool = False
    #: allowed values (for a list: of each item)
    enum: tuple[str, ...] | None = None
    max_items: int | None = None


def _is_kind(value: Any, kind: Kind) -> bool:
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "json":
        return isinstance(value, (Mapping, list, tuple, str)) or hasattr(value, "model_dump")
    return isinstance(value, (list, tuple, set, frozenset))


_KIND_NAMES = {
    "string": "a string",
    "int": "an int",
    "float": "a number",
    "boolean": "a bool",
    "json": "a dict, a list or a pydantic model",
    "list": "a list",
    "any": "a value",
}


def check_params(method: str, declared: tuple[Param, ...], params: Mapping[str, Any]) -> None:
    """Raise :class:`ParameterValidationError` for the first value that does not fit."""
    for param in declared:
        value = params.get(param.wire, NOT_GIVEN)
        if value is NOT_GIVEN or value is None:
            if param.required:
                raise ParameterValidationError(method, param.wire, "is required")
            continue
        if not _is_kind(value, param.kind):
            hint = (
                " (pass a list, not a comma-joined string)"
                if param.kind == "list" and isinstance(value, str)
                else ""
            )
            raise ParameterValidationError(
                method,
                param.wire,
                f"must be {_KIND_NAMES[param.kind]}, got {type(value).__name__}{hint}",
            )
        if param.kind == "list":
            items = list(value)
            if param.max_items is not None and len(items) > param.max_items:
                raise ParameterValidationError(
                    method,
                    param.wire,
                    f"takes at most {param.max_items} items, got {len(items)}",
                )
            plain_strings = param.item in ("string", "any")
            if plain_strings and param.enum is None and _all_str(items):
                continue  # the common case (ids, field names), checked at C speed
            for item in items:
                # A str item fits a string list; only other items need the general check.
                if not (plain_strings and type(item) is str) and not _is_kind(item, param.item):
                    raise ParameterValidationError(
                        method,
                        param.wire,
                        f"items must be {_KIND_NAMES[param.item]}, got {type(item).__name__}",
                    )
                if param.enum is not None:
                    _check_enum(method, param, item)
        else:
            _check_enum(method, param, value)


def _all_str(items: list[Any]) -> bool:
    try:
        "".join(items)
    except TypeError:
        return False
    return True


def _check_enum(method: str, param: Param, value: Any) -> None:
    allowed = param.enum
    if allowed is None:
        return
    text = getattr(value, "value", value)
    if text not in allowed:
        shown = ", ".join(allowed[:10]) + (", ..." if len(allowed) > 10 else "")
        raise ParameterValidationError(method, param.wire, f"must be one of {shown}; got {text!r}")
