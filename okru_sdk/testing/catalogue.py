"""Teach an :class:`~okru_sdk.testing.emulator.OkEmulator` every catalogued method.

``register_catalogue(emu)`` registers each method of the catalogue with its
session mode and required parameters; the handler answers the catalogue's
example result. Methods the emulator implements itself (``users.getCurrentUser``
and the other built-ins) keep their real handlers unless ``replace=True``.
The facts come from ``okru_sdk/_generated/emulator_data.py``, generated from
``schema/``, so no YAML is read at run time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._generated.emulator_data import METHODS, MethodFacts
from .state import MethodCall

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = ["catalogued_methods", "example_handler", "register_catalogue"]


def catalogued_methods() -> dict[str, MethodFacts]:
    """Wire name -> facts (session mode, required params, example) of every method."""
    return dict(METHODS)


def example_handler(example: Any) -> Callable[[MethodCall], Any]:
    """A handler answering a fresh copy of ``example`` to every call."""

    def handler(call: MethodCall) -> Any:
        return copy.deepcopy(example)

    return handler


def register_catalogue(
    emu: OkEmulator,
    *,
    only: Iterable[str] | None = None,
    replace: bool = False,
) -> list[str]:
    """Register catalogued methods on ``emu``; return the names registered.

    ``only`` limits it to some wire names; ``replace`` also overrides methods
    the emulator already knows.
    """
    wanted = set(only) if only is not None else None
    done: list[str] = []
    for name, facts in sorted(METHODS.items()):
        if wanted is not None and name not in wanted:
            continue
        if not replace and emu.method_spec(name) is not None:
            continue
        emu.register_method(
            name,
            example_handler(facts.example),
            session=facts.session,
            required_params=facts.required_params,
        )
        done.append(name)
    return done
