"""Response decoding never lets a bare KeyError, JSONDecodeError or ValidationError escape."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import BaseModel, ConfigDict

from okru_sdk import APIError, MethodSpec, OkError, ResponseDecodeError
from okru_sdk.sessions.base import check_api_reply
from okru_sdk.transport import HttpReply


class Person(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)
    uid: str
    name: str | None = None
    age: int | None = None


SPECS: list[MethodSpec[Any]] = [
    MethodSpec("users.getCurrentUser", Person),
    MethodSpec("users.getInfo", list[Person]),
    MethodSpec("mediatopic.post", str),
    MethodSpec("notifications.sendSimple", bool),
    MethodSpec("users.getCallsLeft", int),
    MethodSpec("video.update", None),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def reply(body: bytes, status: int = 200) -> HttpReply:
    return HttpReply(status=status, headers=CIMultiDictProxy(CIMultiDict()), body=body, url="")


def decode(spec: MethodSpec[Any], body: bytes, status: int = 200) -> None:
    """Decode like a typed call does; only SDK errors may come out."""
    with contextlib.suppress(OkError):
        spec.parse(check_api_reply(spec.name, reply(body, status)))


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=200), status=st.sampled_from([200, 400, 500, 502]))
def test_random_bytes(body: bytes, status: int) -> None:
    for spec in SPECS:
        decode(spec, body, status)


@settings(max_examples=150, deadline=None)
@given(value=json_values, cut=st.integers(min_value=0, max_value=400))
def test_wrong_json_types_and_truncated_json(value: Any, cut: int) -> None:
    body = json.dumps(value).encode()
    for spec in SPECS:
        decode(spec, body)
        decode(spec, body[:cut])


@settings(max_examples=200, deadline=None)
@given(code=json_values, msg=json_values, data=json_values)
def test_malformed_error_bodies_become_api_errors(code: Any, msg: Any, data: Any) -> None:
    body = json.dumps({"error_code": code, "error_msg": msg, "error_data": data}).encode()
    try:
        check_api_reply("users.getCurrentUser", reply(body))
    except APIError as exc:
        assert isinstance(exc.code, int)
        assert exc.raw == body
    else:  # pragma: no cover - an error body must always raise
        raise AssertionError("an error body was accepted")


def test_validation_failure_keeps_the_pydantic_error_and_raw_body() -> None:
    body = b'{"name": "no uid"}'
    try:
        SPECS[0].parse(body)
    except ResponseDecodeError as exc:
        assert exc.body == body
        assert exc.cause is not None and "uid" in str(exc.cause)
        assert exc.method == "users.getCurrentUser"
    else:  # pragma: no cover
        raise AssertionError("validation should have failed")
