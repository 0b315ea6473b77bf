"""The one place where Python values become OK.ru wire strings.

The same encoded mapping is signed and sent, so the signature and the request
can never disagree.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, Final, Literal

__all__ = ["NOT_GIVEN", "NotGiven", "encode_params", "encode_value"]


class NotGiven(enum.Enum):
    """Type of :data:`NOT_GIVEN`: a parameter the caller did not pass.

    Distinct from ``None`` so that a generated method can tell "leave it out"
    from an explicit value.
    """

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _is_json_like(value: object) -> bool:
    # Plain items are ruled out before the (slower) ABC check for mappings.
    if isinstance(value, (list, tuple)):
        return any(
            isinstance(v, (dict, list, tuple))
            or (not isinstance(v, (str, int, float)) and isinstance(v, Mapping))
            for v in value
        )
    return isinstance(value, Mapping)


def encode_value(value: Any) -> str:
    """Encode one parameter value.

    - ``bool`` -> ``"true"`` / ``"false"``
    - ``str`` as it is; ``int``/``float`` through ``str``; enums by their value
    - a mapping, or a list holding mappings or lists -> compact JSON, non-ASCII kept
    - any other list, tuple, set or frozenset -> its items encoded and comma-joined
      (sets are sorted so the result is stable)
    - a pydantic model -> its JSON (by alias, ``None`` fields left out)
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, enum.Enum):
        return encode_value(value.value)
    if isinstance(value, (list, tuple)):
        try:
            return ",".join(value)  # the common case: a list of strings (ids, field names)
        except TypeError:
            pass  # an item that is not a string: the general rules below
    if _is_json_like(value):
        return _json_dumps(_to_jsonable(value))
    if isinstance(value, (list, tuple)):
        return ",".join(encode_value(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return ",".join(sorted(encode_value(v) for v in value))
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _json_dumps(dump(mode="json", by_alias=True, exclude_none=True))
    raise TypeError(f"cannot encode a value of type {type(value).__name__} as an OK.ru parameter")


def _to_jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): _to_jsonable(v) for k, v in value.items() if v is not NOT_GIVEN}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Encode a parameter mapping for signing and sending.

    ``None`` and :data:`NOT_GIVEN` are left out; ``False``, ``0`` and ``""`` are sent.
    """
    return {
        key: encode_value(value)
        for key, value in params.items()
        if value is not None and value is not NOT_GIVEN
    }
