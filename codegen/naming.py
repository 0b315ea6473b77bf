"""Wire names (``users.getCurrentUser``, ``photosV2``) to Python names."""

from __future__ import annotations

import keyword
import re

__all__ = ["RESERVED_PARAM_NAMES", "class_name", "python_param_name", "snake_case"]

#: names a generated method already uses for itself; a catalogue parameter
#: with one of these names gets a trailing underscore
RESERVED_PARAM_NAMES = frozenset({"self", "timeout", "extra_params", "params"})

_BOUNDARY = re.compile(
    r"""
    (?<=[a-z0-9])(?=[A-Z])        # getCurrent|User, photos|V2
    | (?<=[A-Z])(?=[A-Z][a-z])    # URL|Info
    """,
    re.VERBOSE,
)


def snake_case(name: str) -> str:
    """``getCurrentUser`` -> ``get_current_user``; ``photosV2`` -> ``photos_v2``."""
    return _BOUNDARY.sub("_", name).replace("-", "_").lower()


def class_name(name: str) -> str:
    """``photos_v2`` / ``photosV2`` / ``FLOOD_BLOCKED`` -> ``PhotosV2`` / ``FloodBlocked``."""
    parts = re.split(r"[_\-\s.]+", snake_case(name) if not name.isupper() else name.lower())
    return "".join(part[:1].upper() + part[1:] for part in parts if part)


def python_param_name(wire_name: str) -> str:
    """A keyword-safe snake_case name for a parameter (``from`` -> ``from_``)."""
    name = snake_case(wire_name)
    if keyword.iskeyword(name) or name in RESERVED_PARAM_NAMES:
        name += "_"
    return name
