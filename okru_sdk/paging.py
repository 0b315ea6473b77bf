"""``api.paginate``: every item of every page of a pageable method.

Which methods page, and how, is declared in the catalogue (a ``paging:`` block
on the method in ``schema/methods``); the generator puts a :class:`Paging` on
the method's ``MethodSpec`` and typed overloads of ``API.paginate`` into
``okru_sdk/_generated/paging.py``. This module is the one hand-written loop
that follows the three conventions OK.ru uses:

- ``anchor``: send ``anchor`` (and the caller's ``direction``), read the next
  ``anchor`` and ``has_more`` from the reply;
- ``legacy_anchor``: the same with ``pagingAnchor`` / ``pagingDirection``;
- ``offset``: send ``offset``, advance it by the number of items received.

Each page is one call of the typed method itself, so parameters are checked,
retries, timeouts and the result model are exactly those of the method.
"""

from __future__ import annotations

import json
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from .encoding import NOT_GIVEN
from .errors import ResponseDecodeError

if TYPE_CHECKING:
    from .api import API

__all__ = ["Paging", "PagingStyle", "paginate"]

PagingStyle = Literal["anchor", "legacy_anchor", "offset"]

#: where the generated method groups live; a method from there is named ``api.<group>.<name>``
_GROUPS_MODULE = "okru_sdk._generated.methods."


class Paging:
    """How one method pages (generated from its ``paging:`` block in the catalogue).

    Parameters are Python keyword names of the typed method; reply fields are
    wire names, dotted for a nested field (``category.badges``). A plain class
    rather than a dataclass: one is built per pageable method when its group loads.
    """

    __slots__ = (
        "anchor_field",
        "anchor_param",
        "has_more_field",
        "items",
        "offset_param",
        "style",
        "total_field",
    )

    def __init__(
        self,
        style: PagingStyle,
        *,
        items: str,
        anchor_param: str | None = None,
        anchor_field: str | None = None,
        has_more_field: str | None = None,
        total_field: str | None = None,
        offset_param: str | None = None,
    ) -> None:
        self.style = style
        #: the reply field holding the page's list
        self.items = items
        #: the keyword that takes the anchor of the next page (anchor styles)
        self.anchor_param = anchor_param
        #: the reply field with the anchor of the next page (anchor styles)
        self.anchor_field = anchor_field
        #: the reply field saying whether more pages follow, when the method has one
        self.has_more_field = has_more_field
        #: the reply field with the total number of items, when the method has one
        self.total_field = total_field
        #: the keyword that takes the number of items to skip (offset style)
        self.offset_param = offset_param

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("items", *sorted(set(self.__slots__) - {"items", "style"}))
            if getattr(self, name) is not None
        )
        return f"Paging({self.style!r}, {fields})"


def paginate(
    api: API,
    method: Callable[..., Awaitable[Any]],
    params: dict[str, Any],
    *,
    limit: int | None = None,
) -> AsyncIterator[Any]:
    """The iterator behind ``API.paginate``; raises ``TypeError`` for a method that does not page.

    The checks run here, at the call, not at the first ``async for`` step.
    """
    spec = _pageable_spec(api, method)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise TypeError(f"api.paginate: limit must be an int or None, got {type(limit).__name__}")
    if limit is not None and limit < 0:
        raise ValueError(f"api.paginate: limit must not be negative, got {limit}")
    paging: Paging = spec.paging
    if paging.style == "offset":
        return _offset_pages(method, spec.name, paging, dict(params), limit)
    return _anchor_pages(method, spec.name, paging, dict(params), limit)


def _describe(method: object) -> str:
    func = getattr(method, "__func__", method)
    module = getattr(func, "__module__", None) or ""
    name = getattr(func, "__name__", None)
    if name and module.startswith(_GROUPS_MODULE):
        return f"api.{module[len(_GROUPS_MODULE) :]}.{name}"
    return getattr(func, "__qualname__", None) or repr(method)


def _pageable_spec(api: API, method: object) -> Any:
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", None)
    table = getattr(type(owner), "_PAGEABLE", None) if owner is not None else None
    spec = table.get(name) if isinstance(table, Mapping) and isinstance(name, str) else None
    if spec is None or getattr(spec, "paging", None) is None:
        raise TypeError(
            f"api.paginate: {_describe(method)} does not page; pass a method of this API that "
            "the catalogue declares pageable, e.g. api.friends.get_relatives_v2 (docs/catalogue.md "
            "lists them under 'Paging')"
        )
    if getattr(owner, "_api", None) is not api:
        raise TypeError(
            f"api.paginate: {_describe(method)} belongs to another API object; "
            "pass the method of the API you page with"
        )
    return spec


# -- reading reply fields ----------------------------------------------------------

Getter = Callable[[Any], Any]

#: (type of the value, wire name) -> how to read that field from such a value; built on
#: the first page, so later pages do one dict lookup per field (isinstance checks against
#: pydantic's ABC-based metaclass would cost more than the rest of the step)
_GETTERS: dict[tuple[type, str], Getter] = {}


def _getter(cls: type, wire: str) -> Getter:
    if issubclass(cls, BaseModel):
        for attr, info in cls.model_fields.items():
            if (info.alias or attr) == wire:
                return operator.attrgetter(attr)
        # a field the model does not declare, kept as an extra
        return lambda value: (value.model_extra or {}).get(wire)
    if issubclass(cls, Mapping):
        return lambda value: value.get(wire)
    return lambda value: None


def _field(reply: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in a model or a decoded JSON object; ``None`` when absent."""
    value = reply
    for wire in path:
        key = (type(value), wire)
        getter = _GETTERS.get(key)
        if getter is None:
            getter = _GETTERS[key] = _getter(key[0], wire)
        value = getter(value)
        if value is None:
            return None
    return value


def _split(path: str | None) -> tuple[str, ...] | None:
    return tuple(path.split(".")) if path else None


def _page_items(reply: Any, path: tuple[str, ...], name: str, shown: str) -> list[Any]:
    items = _field(reply, path)
    if items is None:
        return []
    if not isinstance(items, list):
        body = json.dumps(reply, ensure_ascii=False).encode() if isinstance(reply, dict) else b""
        raise ResponseDecodeError(
            f"{name}: the reply's {shown!r} is not a list ({type(items).__name__})",
            method=name,
            body=body,
        )
    return items


# -- the loops -----------------------------------------------------------------------


async def _anchor_pages(
    call: Callable[..., Awaitable[Any]],
    name: str,
    paging: Paging,
    params: dict[str, Any],
    limit: int | None,
) -> AsyncIterator[Any]:
    """Pages until ``has_more`` is false, or the anchor is missing or unchanged, or
    (without ``has_more``) a page is empty."""
    if limit == 0:
        return
    items_path = _split(paging.items) or ()
    anchor_path = _split(paging.anchor_field) or ()
    has_more_path = _split(paging.has_more_field)
    anchor_param = paging.anchor_param
    assert anchor_param is not None
    left = limit
    while True:
        reply = await call(**params)
        items = _page_items(reply, items_path, name, paging.items)
        for item in items:
            yield item
            if left is not None:
                left -= 1
                if left == 0:
                    return
        has_more = _field(reply, has_more_path) if has_more_path else None
        anchor = _field(reply, anchor_path)
        sent = params.get(anchor_param, NOT_GIVEN)
        if has_more is False or not anchor or anchor == sent:
            return
        if has_more is None and not items:
            return
        params[anchor_param] = anchor


async def _offset_pages(
    call: Callable[..., Awaitable[Any]],
    name: str,
    paging: Paging,
    params: dict[str, Any],
    limit: int | None,
) -> AsyncIterator[Any]:
    """Pages until a page is empty, ``has_more`` is false or the offset reaches the total."""
    if limit == 0:
        return
    items_path = _split(paging.items) or ()
    has_more_path = _split(paging.has_more_field)
    total_path = _split(paging.total_field)
    offset_param = paging.offset_param
    assert offset_param is not None
    left = limit
    while True:
        reply = await call(**params)
        items = _page_items(reply, items_path, name, paging.items)
        for item in items:
            yield item
            if left is not None:
                left -= 1
                if left == 0:
                    return
        start = params.get(offset_param)
        offset = (start if isinstance(start, int) and not isinstance(start, bool) else 0) + len(
            items
        )
        has_more = _field(reply, has_more_path) if has_more_path else None
        total = _field(reply, total_path) if total_path else None
        if not items or has_more is False:
            return
        if isinstance(total, int) and not isinstance(total, bool) and offset >= total:
            return
        params[offset_param] = offset
