"""The emulator serves every catalogued method from the catalogue and checks its params."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from okru_sdk import API, APIError, ServerSession
from okru_sdk._generated.emulator_data import METHODS, ParamFacts
from okru_sdk._generated.index import METHOD_INDEX
from okru_sdk.testing import EmulatorError, OkEmulator
from okru_sdk.testing.catalogue import check_declared_params, register_catalogue

APP_ID, APP_KEY, APP_SECRET = "1248", "CBACATALOGUE", "CATALOGUE-SECRET"

TAGS = ParamFacts("tags", "list", "string", True, ("SPORT", "MUSIC"), 2)
ORDER = ParamFacts("order", "string", None, False, ("ASC", "DESC"), None)
RULES = ParamFacts("rules", "list", "json", False, None, 1)


def _error(params: dict[str, str], *declared: ParamFacts) -> str:
    with pytest.raises(EmulatorError) as info:
        check_declared_params(params, declared)
    assert info.value.code == 100
    return info.value.message


def test_enum_values_are_checked_per_item() -> None:
    check_declared_params({"tags": "SPORT,MUSIC", "order": "DESC"}, (TAGS, ORDER))
    assert (
        _error({"tags": "SPORT,CHESS"}, TAGS) == "PARAM : Invalid value 'CHESS' of parameter tags"
    )
    assert _error({"order": "UP"}, ORDER) == "PARAM : Invalid value 'UP' of parameter order"


def test_list_limits_are_checked() -> None:
    message = _error({"tags": "SPORT,MUSIC,SPORT"}, TAGS)
    assert message == "PARAM : Too many values in parameter tags: 3, at most 2"
    check_declared_params({"rules": '[{"a":1}]'}, (RULES,))
    assert "rules" in _error({"rules": "[{},{}]"}, RULES)
    assert "rules" in _error({"rules": "[not json"}, RULES)


def test_absent_params_are_left_to_the_core() -> None:
    check_declared_params({}, (TAGS, ORDER, RULES))


def test_facts_agree_with_the_index() -> None:
    assert sorted(METHODS) == list(METHOD_INDEX)
    for name, facts in METHODS.items():
        assert METHOD_INDEX[name][0] == facts.session
        assert METHOD_INDEX[name][2] == facts.signed
        assert facts.required_params == tuple(p.name for p in facts.params if p.required)


@dataclass
class Env:
    emu: OkEmulator
    api: API


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with OkEmulator() as emu:
        app = emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        user = emu.add_user(uid="571234567890")
        register_catalogue(emu, replace=True)
        token = emu.issue_token(app, user)
        async with ServerSession(
            APP_ID, APP_KEY, APP_SECRET, token.access_token, api_url=emu.url
        ) as session:
            yield Env(emu, API(session))


def _valid_params(name: str) -> dict[str, str]:
    """Wire values the method accepts: the first enum value, else "1"."""
    return {p.name: p.enum[0] if p.enum else "1" for p in METHODS[name].params if p.required}


def _pick(test: str, want: object) -> tuple[str, ParamFacts]:
    for name, facts in sorted(METHODS.items()):
        for param in facts.params:
            if want(param):
                return name, param
    pytest.skip(f"no catalogued method has a parameter for {test}")


async def test_required_param_missing_is_error_100(env: Env) -> None:
    name, param = _pick("required", lambda p: p.required)
    params = _valid_params(name)
    del params[param.name]
    with pytest.raises(APIError) as info:
        await env.api.call(name, **params)
    assert info.value.code == 100
    assert f"Missing required parameter {param.name}" in str(info.value)


async def test_bad_enum_value_is_error_100(env: Env) -> None:
    name, param = _pick("enum", lambda p: p.enum is not None)
    params = {**_valid_params(name), param.name: "NOT-A-VALUE"}
    with pytest.raises(APIError) as info:
        await env.api.call(name, **params)
    assert info.value.code == 100
    assert param.name in str(info.value) and "NOT-A-VALUE" in str(info.value)


async def test_too_many_items_is_error_100(env: Env) -> None:
    name, param = _pick("max_items", lambda p: p.max_items is not None and p.item != "json")
    assert param.max_items is not None
    items = [param.enum[0] if param.enum else str(i) for i in range(param.max_items + 1)]
    params = {**_valid_params(name), param.name: ",".join(items)}
    with pytest.raises(APIError) as info:
        await env.api.call(name, **params)
    assert info.value.code == 100
    assert param.name in str(info.value)


async def test_valid_call_answers_the_example(env: Env) -> None:
    for name in sorted(METHODS)[:20]:
        assert await env.api.call(name, **_valid_params(name)) == METHODS[name].example


async def test_builtins_win_unless_replaced() -> None:
    async with OkEmulator() as emu:
        builtin = emu.method_spec("users.getCurrentUser")
        assert builtin is not None
        assert "users.getCurrentUser" not in register_catalogue(emu)
        assert emu.method_spec("users.getCurrentUser") is builtin
        assert "users.getCurrentUser" in register_catalogue(emu, replace=True)
        assert emu.method_spec("users.getCurrentUser") is not builtin


def test_unsigned_methods_are_registered_unsigned() -> None:
    emu = OkEmulator()
    register_catalogue(emu, replace=True)
    for name, facts in METHODS.items():
        spec = emu.method_spec(name)
        assert spec is not None
        assert spec.unsigned is (not facts.signed), name
