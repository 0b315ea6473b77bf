"""Every method of the research seed is catalogued and reachable as a typed method on ``API``.

The seed lives beside the clone (``../shared/reference/okru-methods.yaml``); the
test is skipped only when that file is missing.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.catalogue import load_catalogue
from okru_sdk import API
from okru_sdk._generated.emulator_data import METHODS

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "reference" / "okru-methods.yaml"

#: seed entries that are deliberately not callable methods, with the reason
NOT_CALLABLE = {
    "callbacks.payment": (
        "a callback OK.ru sends to the app's server, not a method the app calls; "
        "okru_sdk.callbacks verifies and answers it"
    ),
}


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _seed_names() -> list[str]:
    if not SEED.is_file():
        pytest.skip(f"research seed not found at {SEED}")
    data: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return [m["name"] for entries in data["groups"].values() for m in entries]


def test_every_seed_method_is_catalogued() -> None:
    catalogued = {_norm(name) for name in METHODS}
    missing = [
        name for name in _seed_names() if name not in NOT_CALLABLE and _norm(name) not in catalogued
    ]
    assert missing == []


def test_every_seed_method_is_a_typed_method_on_api() -> None:
    seed = {_norm(n) for n in _seed_names() if n not in NOT_CALLABLE}
    catalogue = load_catalogue(ROOT / "schema")
    reached: set[str] = set()
    for group in catalogue.groups:
        attr = inspect.getattr_static(API, group.py_name, None)
        assert isinstance(attr, cached_property), f"API.{group.py_name} is not a method group"
        module = importlib.import_module(f"okru_sdk._generated.methods.{group.py_name}")
        cls = getattr(module, group.class_name)
        for method in group.methods:
            func = getattr(cls, method.py_name, None)
            assert func is not None and inspect.iscoroutinefunction(func), method.name
            assert "return" in func.__annotations__, method.name
            reached.add(_norm(method.name))
    assert seed - reached == set()


def test_not_callable_entries_are_really_absent() -> None:
    names = set(_seed_names())
    for name in NOT_CALLABLE:
        assert name in names, f"{name} is no longer in the seed; drop it from NOT_CALLABLE"
        assert name not in METHODS


def test_the_payment_callback_has_its_helper() -> None:
    from okru_sdk.callbacks import parse_payment_callback, payment_handler, payment_ok_reply

    assert callable(parse_payment_callback) and callable(payment_handler)
    body, headers = payment_ok_reply()
    assert b"callbacks_payment_response" in body and headers["Content-Type"] == "application/xml"
