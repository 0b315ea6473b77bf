"""Lists the emulator pages through, for the methods the catalogue declares pageable.

``emu.set_list("group.getMembers", members, uid="53038939046008")`` gives a
pageable method a list; its calls (with those parameter values) then get one
page of it at a time, following the method's own convention from the
catalogue (``okru_sdk/_generated/emulator_data.py``):

- anchor styles: an opaque anchor (base64 of a position) in the reply's anchor
  field; ``FORWARD`` (the default), ``BACKWARD`` and ``AROUND`` directions; the
  reply's ``has_more`` and total fields where the method has them;
- offset style: ``offset`` / ``count`` slices, with the total where the method has one.

The rest of the reply is the method's catalogue example, so other fields keep
believable values. A call that matches no list answers the plain example.
A malformed or out-of-range anchor, a negative offset or a count below 1 is
answered with error 100, as OK.ru answers a bad parameter.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .._generated.emulator_data import METHODS, MethodFacts, PagingFacts
from .state import EmulatorError

__all__ = ["DEFAULT_PAGE_SIZE", "PagedLists", "decode_anchor", "encode_anchor", "page_reply"]

#: page size when the call leaves ``count`` out and the catalogue knows no default
DEFAULT_PAGE_SIZE = 10


def encode_anchor(position: int) -> str:
    """The anchor of a position in a list (opaque to clients, like OK.ru's)."""
    return base64.b64encode(str(position).encode("ascii")).decode("ascii")


def decode_anchor(anchor: str, size: int) -> int:
    """The position an anchor stands for; error 100 for anything else."""
    try:
        position = int(base64.b64decode(anchor.encode("ascii"), validate=True).decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        raise EmulatorError(100, f"PARAM : Invalid anchor {anchor!r}") from None
    if not 0 <= position <= size:
        raise EmulatorError(100, f"PARAM : Invalid anchor {anchor!r}")
    return position


@dataclasses.dataclass
class _Entry:
    where: dict[str, str]
    items: list[Any]


class PagedLists:
    """The lists of ``emu.set_list``, by method (wire names match case-insensitively)."""

    def __init__(self) -> None:
        self._lists: dict[str, list[_Entry]] = {}

    def set(self, method: str, items: Iterable[Any], where: Mapping[str, object]) -> None:
        """Serve ``items`` for calls of ``method`` whose parameters have the ``where`` values.

        Raises ``ValueError`` for a method the catalogue does not declare pageable
        or a ``where`` name that is not one of its parameters.
        """
        facts = _facts(method)
        if facts is None or facts.paging is None:
            pageable = ", ".join(sorted(n for n, f in METHODS.items() if f.paging is not None))
            raise ValueError(f"{method} does not page in the catalogue; pageable: {pageable}")
        declared = {p.name for p in facts.params}
        for name in where:
            if name not in declared:
                raise ValueError(f"{method} has no parameter {name!r} (use wire names)")
        wanted = {name: _wire(value) for name, value in where.items()}
        entries = self._lists.setdefault(method.lower(), [])
        entries[:] = [e for e in entries if e.where != wanted]
        entries.append(_Entry(wanted, list(items)))

    def find(self, method: str, params: Mapping[str, str]) -> list[Any] | None:
        """The list for this call (the latest one whose ``where`` matches), or ``None``."""
        for entry in reversed(self._lists.get(method.lower(), ())):
            if all(params.get(k) == v for k, v in entry.where.items()):
                return entry.items
        return None

    def clear(self) -> None:
        self._lists.clear()


def _facts(method: str) -> MethodFacts | None:
    facts = METHODS.get(method)
    if facts is not None:
        return facts
    lowered = method.lower()
    return next((f for n, f in METHODS.items() if n.lower() == lowered), None)


def _wire(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int_param(params: Mapping[str, str], name: str | None) -> int | None:
    if name is None or not params.get(name):
        return None
    try:
        return int(params[name])
    except ValueError:
        raise EmulatorError(
            100, f"PARAM : Invalid parameter {name} value {params[name]!r}"
        ) from None


def _put(reply: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = reply
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def _window(
    paging: PagingFacts, params: Mapping[str, str], size: int, count: int
) -> tuple[int, int, int, bool]:
    """(first, end, next position, more follow) of the page a call asks for."""
    if paging.style == "offset":
        start = _int_param(params, paging.offset_param) or 0
        if start < 0:
            raise EmulatorError(
                100, f"PARAM : Invalid parameter {paging.offset_param} value {start}"
            )
        end = min(size, start + count)
        return start, max(start, end), end, end < size
    direction = "FORWARD"
    if paging.direction_param is not None and params.get(paging.direction_param):
        direction = params[paging.direction_param].upper()
    anchor = params.get(paging.anchor_param or "")
    start = size if direction == "BACKWARD" else 0  # where a first page starts
    position = decode_anchor(anchor, size) if anchor else start
    if direction == "FORWARD":
        end = min(size, position + count)
        return position, end, end, end < size
    if direction == "BACKWARD":
        first = max(0, position - count)
        return first, position, first, first > 0
    if direction == "AROUND":
        first = max(0, position - count // 2)
        end = min(size, first + count)
        return first, end, end, end < size
    raise EmulatorError(
        100, f"PARAM : Invalid parameter {paging.direction_param} value {direction!r}"
    )


def page_reply(facts: MethodFacts, items: list[Any], params: Mapping[str, str]) -> Any:
    """One page of ``items`` for a call with ``params``, shaped like the method's example."""
    paging = facts.paging
    assert paging is not None
    count = _int_param(params, paging.count_param)
    if count is None:
        count = paging.count_default or DEFAULT_PAGE_SIZE
    if count < 1:
        raise EmulatorError(100, f"PARAM : Invalid parameter {paging.count_param} value {count}")
    first, end, following, more = _window(paging, params, len(items), count)
    example = facts.example
    reply: dict[str, Any] = example if isinstance(example, dict) else {}
    _put(reply, paging.items, copy.deepcopy(items[first:end]))
    if paging.anchor_field is not None:
        _put(reply, paging.anchor_field, encode_anchor(following))
    if paging.has_more_field is not None:
        _put(reply, paging.has_more_field, more)
    if paging.total_field is not None:
        _put(reply, paging.total_field, len(items))
    return reply
