"""Typed lists near the cost of parsing them: validate only the fields that arrived.

A generated model declares every field OK.ru may send (``User`` has about a
hundred), all optional, and pydantic fills each absent one for every item: a
1,000-user reply with 14 fields present spends most of its time on the other
84. OK.ru sends exactly the fields a call asked for (``fields=...``), so the
shape of the items is known before the reply arrives.

For such a call the result is validated by a *shaped* validator: the model's
own core schema with only the asked-for fields kept, building instances of a
subclass of the model (``isinstance(item, User)`` holds, and mypy sees
``User`` as declared). Absent fields read as their default (``None``) through
``__getattr__``, so attribute access behaves as on a fully validated model;
``model_dump()`` shows the fields that arrived, as ``exclude_unset=True``
would. A pickled item comes back as an ordinary model instance.

Nothing is trusted blindly: an item carrying a field the model declares but the
shape left out (say ``uid`` sent without being asked for) would keep it
unvalidated among the extras, so the reply is validated again with that field
added to the shape, and the wider shape is remembered for the next call.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterable
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import SchemaValidator

from ._base_model import OkModel

__all__ = ["ShapedDecoder", "shaped_decoder"]

#: distinct ``fields=`` values remembered per method (a program uses a handful)
_FIELDS_CACHE_SIZE = 64

#: an item's unknown (or unasked) fields
_EXTRA = operator.attrgetter("__pydantic_extra__")

#: pydantic's own fallback (private attributes, extras), defined outside type checking
_BASE_GETATTR: Any = getattr(BaseModel, "__getattr__")  # noqa: B009


def _rebuild_full(model: type[BaseModel], state: dict[str, Any]) -> BaseModel:
    """Unpickle a shaped item as an ordinary instance of its model."""
    values = dict(state["__dict__"])
    values.update(state.get("__pydantic_extra__") or {})
    item = model.model_construct(_fields_set=state.get("__pydantic_fields_set__"), **values)
    return item


class _Shape:
    """One model reduced to a set of fields: its validator and instance class."""

    __slots__ = ("cls", "names", "requested", "validator")

    def __init__(
        self,
        model: type[OkModel],
        requested: frozenset[str],
        names: frozenset[str],
        as_list: bool,
    ) -> None:
        full = model.__pydantic_core_schema__
        fields = full["schema"]["fields"]
        defaults = {name: f.get_default() for name, f in model.model_fields.items()}

        def __getattr__(self: BaseModel, name: str) -> Any:
            if name in defaults:
                return defaults[name]
            return _BASE_GETATTR(self, name)

        def __reduce__(self: BaseModel) -> tuple[Any, ...]:
            return (_rebuild_full, (model, self.__getstate__()))

        namespace = {
            "__module__": model.__module__,
            "__qualname__": model.__qualname__,
            "__getattr__": __getattr__,
            "__reduce__": __reduce__,
            "__doc__": model.__doc__,
        }
        self.cls: type[OkModel] = type(model.__name__, (model,), namespace)
        schema = dict(full)
        inner = dict(full["schema"])
        inner["fields"] = {n: f for n, f in fields.items() if n in names}
        schema["schema"] = inner
        schema["cls"] = self.cls
        schema.pop("ref", None)
        if as_list:
            schema = {"type": "list", "items_schema": schema}
        self.validator = SchemaValidator(schema, full.get("config"))
        #: the fields validated; ``requested``: the fields the calls asked for
        self.names = names
        self.requested = requested


class ShapedDecoder:
    """Decodes replies of one model (or a list of it) shaped by the fields asked for."""

    def __init__(self, model: type[OkModel], as_list: bool) -> None:
        self.model = model
        self.as_list = as_list
        model.model_rebuild()  # the full core schema, built once
        by_wire: dict[str, str] = {}
        for name, field in model.model_fields.items():
            by_wire[name] = name
            if isinstance(field.alias, str):
                by_wire[field.alias] = name
        #: wire name or Python name -> Python field name
        self._by_wire = by_wire
        #: a ``fields=`` value as given -> the field names it asks for
        self._fields_cache: dict[str, frozenset[str]] = {}
        #: requested names (lower-cased) -> the shape that fitted the replies so far
        self._shapes: dict[frozenset[str], _Shape] = {}
        self._lock = threading.Lock()

    def shape_for(self, requested: Any) -> _Shape | None:
        """The shape for a call's ``fields=`` value; ``None`` when it names no known field."""
        # a string key: unlike a tuple, it gives the garbage collector nothing to track
        try:
            key = requested if isinstance(requested, str) else ",".join(requested)
        except TypeError:  # an item that is not a string: validate the whole model
            return None
        names = self._fields_cache.get(key)
        if names is None:
            names = self._fields_for(key.split(","))
            if len(self._fields_cache) < _FIELDS_CACHE_SIZE:
                self._fields_cache[key] = names
        if not names:
            return None
        shape = self._shapes.get(names)
        if shape is None:
            with self._lock:
                shape = self._shapes.get(names)
                if shape is None:
                    shape = _Shape(self.model, names, names, self.as_list)
                    self._shapes[names] = shape
        return shape

    def _fields_for(self, requested: Iterable[str]) -> frozenset[str]:
        by_wire = self._by_wire
        found = set()
        for raw in requested:
            raw = raw.strip().rsplit(".", 1)[-1]  # "user.PIC190X190" -> "PIC190X190"
            name = by_wire.get(raw) or by_wire.get(raw.lower())
            if name is not None:
                found.add(name)
        return frozenset(found)

    def decode(self, shape: _Shape, body: bytes) -> Any:
        """Validate ``body`` in the ``shape`` :meth:`shape_for` gave."""
        result = shape.validator.validate_json(body)
        # Items without extras (the common case) are checked at C speed.
        if self.as_list:
            if not any(map(_EXTRA, result)):
                return result
            items = result
        else:
            if not result.__pydantic_extra__:
                return result
            items = (result,)
        missed = self._missed(items, shape.names)
        if not missed:
            return result
        # A declared field arrived unasked: widen the shape and remember it.
        wider = _Shape(self.model, shape.requested, shape.names | missed, self.as_list)
        with self._lock:
            self._shapes[shape.requested] = wider
        return wider.validator.validate_json(body)

    def _missed(self, items: Iterable[Any], names: frozenset[str]) -> frozenset[str]:
        by_wire = self._by_wire
        missed: set[str] = set()
        for item in items:
            extra = item.__pydantic_extra__
            if extra:
                for key in extra:
                    name = by_wire.get(key)
                    if name is not None and name not in names:
                        missed.add(name)
        return frozenset(missed)


def shaped_decoder(result_type: Any) -> ShapedDecoder | None:
    """A decoder for ``Model`` or ``list[Model]`` results; ``None`` for any other type."""
    as_list = get_origin(result_type) is list
    model = get_args(result_type)[0] if as_list else result_type
    if isinstance(model, type) and issubclass(model, OkModel):
        return ShapedDecoder(model, as_list)
    return None
