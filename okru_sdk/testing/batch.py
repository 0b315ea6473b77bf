"""``batch.execute`` in the emulator: each call runs for real, with the batch's session.

The ``methods`` parameter is a JSON array of ``{"method": "group.name",
"params": {...}}``. Every call goes through :meth:`OkEmulator.dispatch`, the
path of a normal request after its signature check: the session mode
(453/451), the required parameters (100), then the method's handler, with the
app, user and token of the batch request itself (inner calls are not signed
on their own). The reply is one JSON object with a key per call,
``<group>_<method>_response`` (the dot made an underscore), holding the call's
result or, when the call failed, OK.ru's error object (``error_code``,
``error_msg``, ``error_data``). A failing call does not stop the others.

A parameter value ``{"supplier": "<group.method>.<field>"}`` takes the field
``<field>`` of an earlier call's result in the same batch (a list becomes a
comma-joined string), as OK.ru documents for its batches.

Where OK.ru's documents are silent the emulator is strict, so that a client
relying on more fails here first: more calls than ``emu.max_batch_calls``
(the SDK's :data:`~okru_sdk.batch.MAX_BATCH_CALLS` by default) or one method
twice in a batch (its reply key would be ambiguous) fail the whole request
with 1200 ``BATCH``; a ``batch.*`` method inside a batch fails that call.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .state import EmulatorError, MethodCall

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = ["batch_execute", "register_batch", "reply_key"]


def reply_key(method: str) -> str:
    """The reply key of one batched call: ``users.getInfo`` -> ``users_getInfo_response``."""
    return method.replace(".", "_") + "_response"


def register_batch(emu: OkEmulator) -> None:
    """Serve ``batch.execute`` on ``emu`` (the emulator does this itself)."""
    emu.register_method(
        "batch.execute", batch_execute, session="optional", required_params=("methods",)
    )


async def batch_execute(call: MethodCall) -> dict[str, Any]:
    emu = call.emulator
    calls = _decode_methods(call.params["methods"])
    if len(calls) > emu.max_batch_calls:
        raise EmulatorError(
            1200,
            f"BATCH : Too many methods in a batch: {len(calls)}, at most {emu.max_batch_calls}",
        )
    seen: set[str] = set()
    for name, _ in calls:
        if name.lower() in seen:
            raise EmulatorError(1200, f"BATCH : Method {name} is given more than once")
        seen.add(name.lower())

    reply: dict[str, Any] = {}
    results: dict[str, Any] = {}  # by lower-case method name, for suppliers
    for name, raw_params in calls:
        try:
            if name.lower().startswith("batch."):
                raise EmulatorError(1200, f"BATCH : Method {name} cannot be called in a batch")
            spec = emu.method_spec(name)
            if spec is None:
                raise EmulatorError(3, f"METHOD : Method {name} does not exist")
            params = _wire_params(raw_params, results)
            result = await emu.dispatch(
                spec,
                params,
                app=call.app,
                token=call.token,
                circuit=call.circuit,
                request=call.request,
            )
            result = _plain(result)
        except EmulatorError as error:
            reply[reply_key(name)] = error.to_json()
            continue
        results[name.lower()] = result
        reply[reply_key(name)] = result
    return reply


def _decode_methods(raw: str) -> list[tuple[str, dict[str, Any]]]:
    bad = EmulatorError(100, "PARAM : Invalid parameter methods: a JSON array of calls expected")
    try:
        items = json.loads(raw)
    except ValueError:
        raise bad from None
    if not isinstance(items, list):
        raise bad
    calls = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("method"), str):
            raise bad
        params = item.get("params", {})
        if not isinstance(params, dict):
            raise bad
        calls.append((item["method"], params))
    return calls


def _wire_params(raw: dict[str, Any], results: dict[str, Any]) -> dict[str, str]:
    """The call's parameters as the strings a request would carry; suppliers resolved."""
    params: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"supplier"}:
            value = _supplied(key, str(value["supplier"]), results)
        if value is None:
            continue
        if isinstance(value, str):
            params[key] = value
        elif isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            params[key] = str(value)
        else:
            params[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return params


def _supplied(param: str, supplier: str, results: dict[str, Any]) -> Any:
    method, _, field = supplier.rpartition(".")
    source = results.get(method.lower())
    if not isinstance(source, dict) or field not in source:
        raise EmulatorError(
            100, f"PARAM : Invalid supplier {supplier} of parameter {param}: no such earlier output"
        )
    value = source[field]
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value


def _plain(result: Any) -> Any:
    """A handler's answer as JSON data (a handler may answer a ready JSON response)."""
    if isinstance(result, web.Response):
        body = result.body
        if not body:
            return None
        if not isinstance(body, bytes):
            raise EmulatorError(5000, "INVALID_RESPONSE : Method answered no JSON")
        return json.loads(body)
    if isinstance(result, web.StreamResponse):
        raise EmulatorError(5000, "INVALID_RESPONSE : Method cannot be called in a batch")
    return result
