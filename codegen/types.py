"""The catalogue's small type language for parameters and results.

Grammar::

    type   := scalar | "list[" type "]" | ObjectName
    scalar := string | int | long | float | boolean | date | json | none

``ObjectName`` is the ``title`` of a schema in ``schema/objects/`` and is only
allowed in results. ``none`` (an empty reply) is only allowed as a whole result.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

__all__ = ["SCALARS", "TypeExpr", "TypeSyntaxError", "parse_type"]

#: scalar name -> (parameter annotation, result annotation)
SCALARS: dict[str, tuple[str, str]] = {
    "string": ("str", "str"),
    "int": ("int", "int"),
    "long": ("int", "int"),
    "float": ("float", "float"),
    "boolean": ("bool", "bool"),
    "date": ("str", "str"),
    "json": ("Mapping[str, Any]", "dict[str, Any]"),
    "none": ("None", "None"),
}

_OBJECT_NAME = re.compile(r"[A-Z][A-Za-z0-9]*\Z")


class TypeSyntaxError(ValueError):
    """A type expression that is not in the grammar."""


@dataclasses.dataclass(frozen=True)
class TypeExpr:
    """A parsed type: a scalar, a list of something, or a named object."""

    kind: str  # "scalar" | "list" | "object"
    name: str = ""
    item: TypeExpr | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            return f"list[{self.item}]"
        return self.name

    @property
    def objects(self) -> tuple[str, ...]:
        """Object names this type mentions."""
        if self.kind == "object":
            return (self.name,)
        if self.item is not None:
            return self.item.objects
        return ()

    def param_annotation(self, literal: str | None = None) -> str:
        """The annotation of a parameter of this type (``Literal`` for enumerated strings)."""
        if self.kind == "list":
            assert self.item is not None
            return f"Sequence[{self.item.param_annotation(literal)}]"
        if literal is not None:
            return literal
        if self.kind == "object":
            raise TypeSyntaxError(f"object type {self.name!r} cannot be a parameter type")
        return SCALARS[self.name][0]

    def lazy_result(self, module_of: Callable[[str], str]) -> str:
        """An expression that builds this result type, importing its models when run."""
        if self.kind == "list":
            assert self.item is not None
            return f"list_of({self.item.lazy_result(module_of)})"
        if self.kind == "object":
            return f'load_model("{module_of(self.name)}", "{self.name}")'
        return SCALARS[self.name][1]

    def result_annotation(self) -> str:
        """The annotation of a result of this type."""
        if self.kind == "list":
            assert self.item is not None
            return f"list[{self.item.result_annotation()}]"
        if self.kind == "object":
            return self.name
        return SCALARS[self.name][1]


def parse_type(text: str) -> TypeExpr:
    """Parse ``list[User]``, ``string``, ... or raise :class:`TypeSyntaxError`."""
    text = text.strip()
    if text.startswith("list[") and text.endswith("]"):
        item = parse_type(text[len("list[") : -1])
        if item.name == "none":
            raise TypeSyntaxError("'none' cannot be a list item")
        return TypeExpr("list", item=item)
    if text in SCALARS:
        return TypeExpr("scalar", text)
    if _OBJECT_NAME.match(text):
        return TypeExpr("object", text)
    known = ", ".join(sorted(SCALARS))
    raise TypeSyntaxError(
        f"unknown type {text!r}: use one of {known}, list[...], or an object title"
    )
