"""Teach an :class:`~okru_sdk.testing.emulator.OkEmulator` every catalogued method.

``register_catalogue(emu)`` registers each method of the catalogue with its
session mode, required parameters and signing rule; the handler checks the
declared parameters as OK.ru would (enum values and list limits, error 100)
and answers the catalogue's example result. Methods the emulator implements
itself (``users.getCurrentUser`` and the other built-ins) keep their real
handlers unless ``replace=True``. The facts come from
``okru_sdk/_generated/emulator_data.py``, generated from ``schema/``, so no
YAML is read at run time.

The emulator core checks the session mode (453/451) and the required
parameters (100 ``PARAM : Missing required parameter <name>``) before a
handler runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._generated.emulator_data import METHODS, MethodFacts, ParamFacts
from .paging import page_reply
from .state import EmulatorError, MethodCall

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = [
    "catalogued_methods",
    "check_declared_params",
    "example_handler",
    "register_catalogue",
]


def catalogued_methods() -> dict[str, MethodFacts]:
    """Wire name -> facts (session mode, parameters, example) of every method."""
    return dict(METHODS)


def _items(param: ParamFacts, value: str) -> list[str]:
    if param.kind != "list":
        return [value]
    if param.item == "json":
        try:
            decoded = json.loads(value)
        except ValueError:
            raise EmulatorError(
                100, f"PARAM : Invalid parameter {param.name} value {value!r}"
            ) from None
        if not isinstance(decoded, list):
            decoded = [decoded]
        return [json.dumps(v) if not isinstance(v, str) else v for v in decoded]
    return [part.strip() for part in value.split(",")] if value else []


def check_declared_params(params: dict[str, str], declared: Iterable[ParamFacts]) -> None:
    """Raise an :class:`EmulatorError` 100 for an enum or list-limit violation.

    Required parameters are checked by the emulator core before this runs.
    """
    for param in declared:
        value = params.get(param.name)
        if value is None:
            continue
        items = _items(param, value)
        if param.max_items is not None and len(items) > param.max_items:
            raise EmulatorError(
                100,
                f"PARAM : Too many values in parameter {param.name}: "
                f"{len(items)}, at most {param.max_items}",
            )
        if param.enum is not None:
            for item in items:
                if item not in param.enum:
                    raise EmulatorError(
                        100, f"PARAM : Invalid value {item!r} of parameter {param.name}"
                    )


def example_handler(example: Any, params: Iterable[ParamFacts] = ()) -> Callable[[MethodCall], Any]:
    """A handler that checks ``params`` and answers a fresh copy of ``example``.

    ``example`` is the decoded example result (``None`` for an empty reply).
    """
    text = json.dumps(example)
    declared = tuple(params)

    def handler(call: MethodCall) -> Any:
        check_declared_params(call.params, declared)
        return json.loads(text)

    return handler


def _facts_handler(facts: MethodFacts) -> Callable[[MethodCall], Any]:
    def handler(call: MethodCall) -> Any:
        check_declared_params(call.params, facts.params)
        if facts.paging is not None:  # a list from emu.set_list, one page at a time
            items = call.emulator.lists.find(call.method, call.params)
            if items is not None:
                return page_reply(facts, items, call.params)
        return json.loads(facts.example_json)

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
            _facts_handler(facts),
            session=facts.session,
            required_params=facts.required_params,
            unsigned=not facts.signed,
        )
        done.append(name)
    return done
