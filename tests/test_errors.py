"""Every error path of a call: OK.ru errors, HTTP errors, bad bodies, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from okru_sdk import (
    API,
    APIError,
    AuthError,
    OkError,
    RequestTimeout,
    ResponseDecodeError,
    ServerSession,
    TransportError,
)
from okru_sdk.retry import RetryPolicy
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, MethodCall, User


@pytest.fixture
async def api(emu: OkEmulator, app: App, user: User) -> AsyncIterator[API]:
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.access_token,
        api_url=emu.url,
        timeout=5,
        retry=FAST_RETRY,
    ) as session:
        yield API(session)


#: the default rules with short pauses, so that retried error paths stay fast
FAST_RETRY = RetryPolicy(backoff=0.01, flood_backoff=0.01)


def reply_with(make: Callable[[], web.Response]) -> Callable[[MethodCall], web.Response]:
    def handler(call: MethodCall) -> web.Response:
        return make()

    return handler


async def test_error_body_becomes_api_error_with_code_message_data_and_method(
    emu: OkEmulator, api: API
) -> None:
    with pytest.raises(APIError) as info:
        await api.call("no.suchMethod")
    err = info.value
    assert err.code == 3
    assert err.method == "no.suchMethod"
    assert "no.suchMethod" in str(err)
    assert err.raw is not None and b'"error_code"' in err.raw
    assert isinstance(err, OkError)


async def test_missing_parameter_is_code_100_naming_it(api: API) -> None:
    with pytest.raises(APIError) as info:
        await api.call("users.getInfo", fields="uid")
    assert info.value.code == 100
    assert "uids" in info.value.msg


async def test_expired_token_is_code_102(emu: OkEmulator, api: API) -> None:
    emu.expire_token(api.session.access_token)
    with pytest.raises(APIError) as info:
        await api.call("users.getCurrentUser")
    assert info.value.code == 102


async def test_wrong_application_key_is_code_101(emu: OkEmulator, app: App, user: User) -> None:
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id, "WRONGKEY", app.app_secret_key, tok.access_token, api_url=emu.url
    ) as session:
        with pytest.raises(APIError) as info:
            await API(session).call("users.getCurrentUser")
    assert info.value.code == 101


async def test_wrong_secret_is_a_signature_error_104(emu: OkEmulator, app: App, user: User) -> None:
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id, app.app_key, "not-the-secret", tok.access_token, api_url=emu.url
    ) as session:
        with pytest.raises(APIError) as info:
            await API(session).call("users.getCurrentUser")
    assert info.value.code == 104
    assert "not-the-secret" not in str(info.value)


async def test_error_code_in_a_successful_payload_is_not_an_error(
    emu: OkEmulator, api: API
) -> None:
    emu.register_method("test.nested", lambda call: {"items": [{"error_code": 5}]})
    assert await api.call("test.nested") == {"items": [{"error_code": 5}]}


async def test_html_page_with_200_is_a_decode_error_with_the_body(
    emu: OkEmulator, api: API
) -> None:
    page = b"<html><body>Maintenance</body></html>"
    emu.register_method(
        "test.html", reply_with(lambda: web.Response(body=page, content_type="text/html"))
    )
    with pytest.raises(ResponseDecodeError) as info:
        await api.call("test.html")
    assert info.value.body == page
    assert info.value.method == "test.html"
    assert "Maintenance" in str(info.value)


async def test_truncated_json_is_a_decode_error_with_the_body(emu: OkEmulator, api: API) -> None:
    body = b'{"uid":"1","name":"Al'
    emu.register_method(
        "test.truncated",
        reply_with(lambda: web.Response(body=body, content_type="application/json")),
    )
    with pytest.raises(ResponseDecodeError) as info:
        await api.call("test.truncated")
    assert info.value.body == body


async def test_http_error_without_error_body_is_a_transport_error_with_status(
    emu: OkEmulator, api: API
) -> None:
    emu.register_method(
        "test.bad_gateway",
        reply_with(lambda: web.Response(status=502, body=b"<html>502 Bad Gateway</html>")),
    )
    with pytest.raises(TransportError) as info:
        await api.call("test.bad_gateway")
    assert info.value.status == 502
    assert info.value.body == b"<html>502 Bad Gateway</html>"
    assert "test.bad_gateway" in str(info.value)


async def test_http_error_with_an_error_body_is_an_api_error(emu: OkEmulator, api: API) -> None:
    emu.register_method(
        "test.error500",
        reply_with(
            lambda: web.json_response(
                {"error_code": 2, "error_msg": "SERVICE : try later", "error_data": None},
                status=500,
            )
        ),
    )
    with pytest.raises(APIError) as info:
        await api.call("test.error500")
    assert info.value.code == 2


async def test_slow_reply_is_a_request_timeout(emu: OkEmulator, app: App, user: User) -> None:
    release = asyncio.Event()

    async def slow(call: MethodCall) -> str:
        await release.wait()
        return "late"

    emu.register_method("test.slow", slow)
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.access_token,
        api_url=emu.url,
        timeout=0.3,
        retry=FAST_RETRY,
    ) as session:
        with pytest.raises(RequestTimeout) as info:
            await API(session).call("test.slow")
        release.set()
        # per-call timeout overrides the session's
        emu.register_method("test.fast", lambda call: "ok")
        assert await API(session).call("test.fast", timeout=2.0) == "ok"
    assert isinstance(info.value, TransportError)
    assert "test.slow" in str(info.value)


async def test_connection_refused_is_a_transport_error(app: App) -> None:
    async with OkEmulator() as gone:
        url = gone.url
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, "t", api_url=url, retry=FAST_RETRY
    ) as session:
        with pytest.raises(TransportError, match="cannot connect"):
            await API(session).call("users.getCurrentUser")


async def test_prohibited_call_without_app_secret_fails_before_sending(
    emu: OkEmulator, app: App, user: User
) -> None:
    from okru_sdk import ClientSession, SessionMode

    tok = emu.issue_token(app, user)
    async with ClientSession(
        app.app_id, app.app_key, tok.session_secret_key, "", api_url=emu.url
    ) as session:
        before = len(emu.requests)
        with pytest.raises(AuthError, match="application secret key"):
            await session.request("test.serverOnly", {}, mode=SessionMode.PROHIBITED)
        with pytest.raises(AuthError, match="needs a user session"):
            await session.request("users.getCurrentUser", {}, mode=SessionMode.REQUIRED)
        assert len(emu.requests) == before


async def test_prohibited_call_is_signed_with_the_app_secret_and_sends_no_token(
    emu: OkEmulator, api: API
) -> None:
    from okru_sdk import Circuit, SessionMode

    emu.register_method("test.serverOnly", lambda call: True, session="prohibited")
    assert await api.session.request("test.serverOnly", {}, mode=SessionMode.PROHIBITED) == b"true"
    last = emu.requests[-1]
    assert last.circuit is Circuit.APPLICATION
    assert "access_token" not in last.params


async def test_timeout_must_be_a_positive_number() -> None:
    with pytest.raises(ValueError, match="timeout"):
        ServerSession("1", "k", "s", "t", timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        ServerSession("1", "k", "s", "t", timeout=None)  # type: ignore[arg-type]
