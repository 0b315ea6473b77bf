"""Every public SDK exception survives pickle (workers, result backends) and carries no secret."""

from __future__ import annotations

import copy
import importlib
import json
import pickle
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from okru_sdk import (
    API,
    APIError,
    ClientSession,
    OkError,
    ParameterValidationError,
    PasswordServerSession,
    ResponseDecodeError,
    ServerSession,
    TransportError,
)
from okru_sdk.callbacks import PaymentCallbackError, parse_payment_callback
from okru_sdk.errors import load_error_classes
from okru_sdk.retry import RetryPolicy
from okru_sdk.signing import sign_params
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, MethodCall, User

from .conftest import PASSWORD

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
NO_RETRY = RetryPolicy(max_retries=0)

#: the attributes compared after a round trip, where a class has them
PUBLIC = (
    "args",
    "code",
    "msg",
    "data",
    "method",
    "raw",
    "param",
    "status",
    "body",
    "reached_server",
    "retry_after",
    "error_code",
    "transient",
    "name",
    "message",
)


def all_error_classes() -> list[type[OkError]]:
    """OkError and every subclass the SDK defines, generated per-code classes included."""
    load_error_classes()
    for module in ("okru_sdk.errors", "okru_sdk.callbacks", "okru_sdk.transport"):
        importlib.import_module(module)
    seen: list[type[OkError]] = []
    todo: list[type[OkError]] = [OkError]
    while todo:
        cls = todo.pop()
        if cls in seen or not cls.__module__.startswith("okru_sdk"):
            continue
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: (c.__module__, c.__qualname__))


def example(cls: type[OkError]) -> OkError:
    """An instance of ``cls`` with every attribute set to something non-default."""
    if issubclass(cls, APIError):
        code = cls.error_code if cls.error_code is not None else 99999
        return cls(
            code,
            "SOME_ERROR : something went wrong",
            {"id": 7, "names": ["a", "b"]},
            method="users.getInfo",
            raw=b'{"error_code":%d,"error_msg":"SOME_ERROR : something went wrong"}' % code,
        )
    if issubclass(cls, TransportError):
        return cls(
            "users.getInfo: HTTP 502",
            method="users.getInfo",
            status=502,
            body=b"<html>502 Bad Gateway</html>",
            retry_after=1.5,
        )
    if issubclass(cls, ResponseDecodeError):
        return cls(
            "users.getInfo: the reply is not JSON",
            method="users.getInfo",
            body=b"<html>Maintenance</html>",
            cause=ValueError("Expecting value"),
        )
    if issubclass(cls, ParameterValidationError):
        return cls("users.getInfo", "uids", "takes at most 100 items, got 101")
    if issubclass(cls, PaymentCallbackError):
        return cls(1001, "unknown product")
    return cls(f"{cls.__name__}: it failed")


def public_state(exc: BaseException) -> dict[str, Any]:
    return {name: getattr(exc, name) for name in PUBLIC if hasattr(exc, name)}


ERROR_CLASSES = all_error_classes()


def test_the_tree_was_found() -> None:
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"OkError", "APIError", "ParameterValidationError", "PaymentCallbackError"} <= names
    assert {"InvalidSignature", "FloodBlocked", "SessionExpired"} <= names
    assert len(ERROR_CLASSES) > 50


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_round_trips(cls: type[OkError]) -> None:
    error = example(cls)
    for protocol in PROTOCOLS:
        copy_ = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(copy_) is cls
        assert str(copy_) == str(error)
        assert repr(copy_) == repr(error)
        assert public_state(copy_) == public_state(error)


@pytest.mark.parametrize(
    "error",
    [
        ParameterValidationError("users.getInfo", "uids", "is required"),
        PaymentCallbackError(104, "signature does not match"),
        PaymentCallbackError(1001),
        APIError.from_payload(
            {"error_code": 104, "error_msg": "PARAM_SIGNATURE : Invalid signature"},
            method="users.getInfo",
            raw=b'{"error_code":104}',
        ),
        ResponseDecodeError("users.getInfo: the reply is not JSON", body=b"<html>x</html>"),
        ResponseDecodeError("users.getInfo: the reply is not JSON", body=b'{"uid":'),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_reported_failures(error: OkError) -> None:
    copy_ = pickle.loads(pickle.dumps(error))
    assert type(copy_) is type(error)
    assert str(copy_) == str(error)
    assert public_state(copy_) == public_state(error)


def test_code_lookup_and_family_still_work_after_a_round_trip() -> None:
    error = APIError.from_payload({"error_code": 8, "error_msg": "FLOOD"}, method="m")
    copy_ = pickle.loads(pickle.dumps(error))
    assert type(copy_).__name__ == "FloodBlocked"
    assert copy_.code == 8 and copy_.error_code == 8 and copy_.transient == error.transient
    assert isinstance(copy_, APIError.for_code(8))
    with pytest.raises(APIError):
        raise copy_


def test_copy_and_deepcopy_work_too() -> None:
    error = ParameterValidationError("users.getInfo", "uids", "is required")
    for clone in (copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is ParameterValidationError
        assert (str(clone), clone.method, clone.param) == (str(error), "users.getInfo", "uids")


def test_notes_survive() -> None:
    error = PaymentCallbackError(1001)
    error.__notes__ = ["while crediting transaction 4711"]  # add_note() on 3.11+
    assert pickle.loads(pickle.dumps(error)).__notes__ == ["while crediting transaction 4711"]


def test_a_fresh_interpreter_unpickles_them() -> None:
    """What a worker or a result backend does: unpickle with nothing imported yet."""
    errors = [example(cls) for cls in ERROR_CLASSES]
    expected = [(type(e).__module__, type(e).__qualname__, str(e)) for e in errors]
    script = (
        "import pickle, sys, json\n"
        "errors = pickle.loads(sys.stdin.buffer.read())\n"
        "print(json.dumps([(type(e).__module__, type(e).__qualname__, str(e)) for e in errors]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps(errors),
        capture_output=True,
        check=True,
    )
    assert [tuple(row) for row in json.loads(result.stdout)] == expected


def test_foreign_causes_are_not_carried() -> None:
    # A JSONDecodeError keeps the whole document it failed on; a pydantic
    # ValidationError quotes input values. Neither travels.
    body = b'{"uid": "1", "access_token": "tok-in-a-broken-reply'
    try:
        json.loads(body)
    except ValueError as exc:
        error = ResponseDecodeError("m: the reply is not JSON", method="m", body=body, cause=exc)
    copy_ = pickle.loads(pickle.dumps(error))
    assert copy_.cause is None
    assert str(copy_) == str(error)
    # an SDK error as the cause does travel
    inner = APIError(2, "SERVICE", method="m")
    outer = ResponseDecodeError("m: bad", method="m", body=b"", cause=inner)
    assert type(pickle.loads(pickle.dumps(outer)).cause) is type(inner)


# --- no secret in the pickle ----------------------------------------------------------------


@pytest.fixture
async def echoing(emu: OkEmulator) -> AsyncIterator[OkEmulator]:
    """Methods that misbehave by echoing the request's parameters back."""

    def query(call: MethodCall) -> str:
        return "&".join(f"{k}={v}" for k, v in sorted(call.params.items()))

    emu.register_method(
        "test.echoGateway",
        lambda call: web.Response(
            status=502, body=f"<html>502 for /fb.do?{query(call)}</html>".encode()
        ),
    )
    emu.register_method(
        "test.echoBrokenJson",
        lambda call: web.Response(
            body=(json.dumps({"echo": call.params})[:-3]).encode(), content_type="application/json"
        ),
    )
    emu.register_method(
        "test.echoPlain",
        lambda call: web.Response(body=f"error; request was {query(call)}".encode()),
    )
    emu.register_method(
        "test.echoError",
        lambda call: web.json_response(
            {
                "error_code": 100,
                "error_msg": "PARAM : Invalid parameter",
                "error_data": {k: v for k, v in call.params.items() if k != "sig"},
            }
        ),
    )
    yield emu


def secrets_of(emu: OkEmulator) -> set[str]:
    values = {PASSWORD}
    for app in emu.apps.values():
        values.add(app.app_secret_key)
    for token in emu.tokens.values():
        values.update({token.access_token, token.session_secret_key})
    return {v for v in values if v}


async def collect_errors(emu: OkEmulator, app: App, user: User) -> list[OkError]:
    errors: list[OkError] = []
    token = emu.issue_token(app, user)
    urls: dict[str, Any] = {"api_url": emu.url, "connect_url": emu.url, "retry": NO_RETRY}
    sessions = [
        ServerSession(app.app_id, app.app_key, app.app_secret_key, token.access_token, **urls),
        ClientSession(
            app.app_id, app.app_key, token.session_secret_key, token.access_token, **urls
        ),
    ]
    methods = ["test.echoGateway", "test.echoBrokenJson", "test.echoPlain", "test.echoError"]
    for session in sessions:
        async with session:
            api = API(session)
            for method in methods:
                with pytest.raises(OkError) as caught:
                    await api.call(method, password=PASSWORD, token=token.access_token)
                errors.append(caught.value)
            emu.register_method(  # a typed call, a reply of the wrong shape
                "users.getCurrentUser",
                lambda call: {"uid": {"nested": True}, "access_token": call.params.get("token")},
            )
            with pytest.raises(ResponseDecodeError) as caught:
                await api.users.get_current_user()
            errors.append(caught.value)
            with pytest.raises(ParameterValidationError) as caught_param:
                await api.users.get_info(uids=["1"] * 101, fields=["uid"])
            errors.append(caught_param.value)

    # a password sign-in whose reply echoes the form it was sent
    emu.register_method(
        "auth.login",
        lambda call: web.Response(body=f"user_name=x&password={call.params.get('password')}"),
        session="prohibited",
    )
    login = PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, user.login, PASSWORD, **urls
    )
    with pytest.raises(OkError) as caught:
        async with login:
            await API(login).call("users.getCurrentUser")
    errors.append(caught.value)

    # a payment callback signed with the app secret key
    callback = {"uid": "1", "amount": "5", "application_key": app.app_key, "transaction_id": "9"}
    forged = {**callback, "sig": sign_params(callback, app.app_secret_key), "amount": "50"}
    with pytest.raises(PaymentCallbackError) as caught_payment:
        parse_payment_callback(forged, app_key=app.app_key, app_secret_key=app.app_secret_key)
    errors.append(caught_payment.value)
    return errors


async def test_pickles_carry_no_secret(echoing: OkEmulator, app: App, user: User) -> None:
    errors = await collect_errors(echoing, app, user)
    assert len(errors) >= 12
    secrets = secrets_of(echoing)
    assert secrets
    for error in errors:
        for protocol in PROTOCOLS:
            data = pickle.dumps(error, protocol=protocol)
            leaked = sorted(s for s in secrets if s.encode() in data)
            assert not leaked, f"{type(error).__name__} pickle carries {len(leaked)} secret(s)"
            copy_ = pickle.loads(data)
            assert type(copy_) is type(error)
            assert str(copy_) == str(error)
            assert public_state(copy_).get("method") == public_state(error).get("method")
