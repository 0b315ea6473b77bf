"""Input shapes (``schema/inputs/``) as ``TypedDict`` classes and tagged unions.

The generated module is ``okru_sdk/_generated/inputs.py`` (public as
``okru_sdk.inputs``). A tagged shape gets a required ``"type"`` key typed as
``Literal[<tag>]``; a union is a plain ``A | B`` alias of tagged shapes, so mypy
picks the member by its tag and a misspelt tag or key is an error.
"""

from __future__ import annotations

import dataclasses
import keyword
import re

from .catalogue import Catalogue, InputType

__all__ = ["ShapeKey", "ShapeView", "input_shapes"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclasses.dataclass(frozen=True)
class ShapeKey:
    """One key of a generated TypedDict."""

    name: str
    annotation: str
    description: str


@dataclasses.dataclass(frozen=True)
class ShapeView:
    """What the template needs for one input shape."""

    shape: InputType
    keys: list[ShapeKey]
    #: ``TypedDict("Name", {...})`` instead of a class: a key is not a usable attribute name
    functional: bool

    @property
    def name(self) -> str:
        return self.shape.name


def _view(shape: InputType) -> ShapeView:
    keys: list[ShapeKey] = []
    if shape.tag is not None:
        literal = '"' + shape.tag.replace("\\", "\\\\").replace('"', '\\"') + '"'
        keys.append(ShapeKey("type", f"Literal[{literal}]", f"Always {shape.tag!r}."))
    for item in shape.fields:
        annotation = item.annotation if item.required else f"NotRequired[{item.annotation}]"
        text = item.description
        if item.known_values:
            text = (
                (text.rstrip(".") + ". " if text else "")
                + "Known values: "
                + ", ".join(item.known_values)
            )
        keys.append(ShapeKey(item.name, annotation, text))
    # names the annotations use (string literals left out): a key with such a name would
    # shadow it inside the class body, so that shape is written in the functional form
    used = {n for key in keys for n in _NAME.findall(_STRING.sub("", key.annotation))}
    functional = any(
        not key.name.isidentifier() or keyword.iskeyword(key.name) or key.name in used
        for key in keys
    )
    return ShapeView(shape, keys, functional)


def _depends_on(shape: InputType, names: set[str]) -> list[str]:
    """The other shapes ``shape`` names (union members, key types)."""
    if shape.union is not None:
        return list(shape.union)
    found: list[str] = []
    for item in shape.fields:
        found += [n for n in _NAME.findall(item.type) if n in names and n != shape.name]
    return found


def input_shapes(catalogue: Catalogue) -> list[ShapeView]:
    """Every shape, each after the shapes it names (else in file and declaration order).

    The generated module evaluates its annotations (no ``from __future__ import
    annotations``): only then do ``TypedDict`` classes know their ``NotRequired``
    keys at run time (``__required_keys__``), which pydantic and other readers use.
    A shape named before it is defined (a cycle) is written as a string.
    """
    shapes = {s.name: s for s in catalogue.inputs}
    names = set(shapes)
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for dep in _depends_on(shapes[name], names):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for shape in catalogue.inputs:
        visit(shape.name)
    views: list[ShapeView] = []
    for position, name in enumerate(order):
        later = set(order[position:])
        view = _view(shapes[name])
        keys = [
            dataclasses.replace(key, annotation=_quote(key.annotation, later)) for key in view.keys
        ]
        views.append(dataclasses.replace(view, keys=keys))
    return views


def _quote(annotation: str, undefined: set[str]) -> str:
    """Names of shapes not defined yet, as strings (forward references)."""
    return _NAME.sub(lambda m: f'"{m[0]}"' if m[0] in undefined else m[0], annotation)
