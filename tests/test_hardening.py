"""Regression tests for the findings of the outside review (issue 9) in the core session layer.

Each test failed on the code before the fix. Hostile servers run on 127.0.0.1.
Where an old failure mode was "waits forever", the test bounds the wait with a
generous ``asyncio.wait_for`` so that it fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import math
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from okru_sdk import (
    API,
    APIError,
    AuthError,
    CodeServerSession,
    OkError,
    PasswordServerSession,
    RefreshServerSession,
    ReplyTooLarge,
    RequestTimeout,
    ResponseDecodeError,
    ServerSession,
    SessionClosed,
    TransportError,
    authorization_url,
    code_from_redirect,
    new_state,
)
from okru_sdk.redact import SECRET_KEYS, redact_params
from okru_sdk.retry import NO_RETRY, RetryPolicy
from okru_sdk.sessions import SessionSettings
from okru_sdk.signing import server_secret, sign_params, sign_params_with_session_key
from okru_sdk.testing import Fault, OkEmulator
from okru_sdk.testing.state import App, MethodCall, User

from .conftest import LOGIN, PASSWORD, REDIRECT_URI
from .servers import answering

#: a generous bound for "does not wait forever"; the real waits are well under a second
NEVER = 20.0
SHORT = RetryPolicy(max_retries=0, total_timeout=0.5)


#: a server on 127.0.0.1 answering every request with the given handler
hostile = answering


def token_session(url: str, **settings: object) -> ServerSession:
    settings.setdefault("api_url", url)
    return ServerSession("1", "KEY", "APP-SECRET-0000", "TOKEN-0000", **settings)  # type: ignore[arg-type]


# -- 1. timeouts and the total deadline ------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "5"])
async def test_a_bad_per_call_timeout_is_refused_as_the_constructor_refuses_it(
    emu: OkEmulator, app: App, user: User, bad: object
) -> None:
    tok = emu.issue_token(app, user)
    with pytest.raises(ValueError, match="timeout"):
        ServerSession(app.app_id, app.app_key, app.app_secret_key, "t", timeout=bad)  # type: ignore[arg-type]
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.access_token, api_url=emu.url
    ) as s:
        emu.faults.add(Fault.hang(), method="users.getCurrentUser")
        with pytest.raises(ValueError, match="timeout"):
            await asyncio.wait_for(API(s).users.get_current_user(timeout=bad), NEVER)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            await asyncio.wait_for(API(s).call("users.getCurrentUser", timeout=bad), NEVER)  # type: ignore[arg-type]
    assert not any(r.method == "users.getCurrentUser" for r in emu.requests)


def test_a_non_finite_total_deadline_is_refused() -> None:
    with pytest.raises(ValueError, match="total_timeout"):
        RetryPolicy(total_timeout=math.inf)


async def test_the_total_deadline_bounds_a_hung_sign_in(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    emu.faults.add(Fault.hang(), method="auth.login")
    session = PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, retry=SHORT, **urls
    )
    try:
        with pytest.raises(RequestTimeout):
            await asyncio.wait_for(API(session).call("users.getCurrentUser"), NEVER)
    finally:
        await session.close()


async def test_the_total_deadline_bounds_a_hung_renewal(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, retry=SHORT, **urls
    ) as s:
        emu.expire_token(s.access_token)
        emu.faults.add(Fault.hang(), method="oauth/token.do")
        with pytest.raises(RequestTimeout):
            await asyncio.wait_for(API(s).call("users.getCurrentUser"), NEVER)


# -- 2. one sign-in or renewal in flight, its outcome shared -----------------------------


def token_do_calls(emu: OkEmulator) -> int:
    return sum(1 for r in emu.requests if r.path.endswith("token.do"))


@pytest.mark.parametrize("fault", [Fault.http(503), Fault.hang()], ids=["503", "hang"])
async def test_a_failed_renewal_is_shared_by_every_waiting_call(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings, fault: Fault
) -> None:
    tok = emu.issue_token(app, user, refresh=True)
    async with RefreshServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.refresh_token, retry=SHORT, **urls
    ) as s:
        emu.expire_token(s.access_token)
        emu.clear_requests()
        emu.faults.add(fault, method="oauth/token.do")
        calls = [API(s).call("users.getCurrentUser") for _ in range(10)]
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), NEVER)
    assert token_do_calls(emu) == 1
    assert all(isinstance(r, TransportError) for r in results), results


async def test_concurrent_first_calls_with_a_wrong_password_send_one_login(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    session = PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, "wrong password", **urls
    )
    try:
        results = await asyncio.gather(
            *(API(session).call("users.getCurrentUser") for _ in range(10)),
            return_exceptions=True,
        )
    finally:
        await session.close()
    assert sum(1 for r in emu.requests if r.method == "auth.login") == 1
    assert all(isinstance(r, AuthError) for r in results), results


async def test_concurrent_first_calls_with_a_bad_code_send_one_exchange(
    emu: OkEmulator, app: App, urls: SessionSettings
) -> None:
    session = CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, "not-a-code", REDIRECT_URI, **urls
    )
    try:
        results = await asyncio.gather(
            *(API(session).call("users.getCurrentUser") for _ in range(10)),
            return_exceptions=True,
        )
    finally:
        await session.close()
    assert token_do_calls(emu) == 1
    assert all(isinstance(r, AuthError) for r in results), results


async def test_a_later_call_tries_the_sign_in_again(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    session = PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, retry=NO_RETRY, **urls
    )
    try:
        emu.faults.add(Fault.http(503), method="auth.login", times=1)
        with pytest.raises(TransportError):
            await API(session).call("users.getCurrentUser")
        assert (await API(session).call("users.getCurrentUser"))["uid"] == user.uid
    finally:
        await session.close()
    assert sum(1 for r in emu.requests if r.method == "auth.login") == 2


# -- 4. secrets OK.ru echoes back ----------------------------------------------------------


async def test_a_signature_error_that_echoes_the_password_is_scrubbed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "hunter2-ÄÖ secret"

    async def echo(request: web.Request) -> web.Response:
        form = await request.post()
        signed = "".join(f"{k}={form[k]}" for k in sorted(form) if k != "sig")
        msg = (
            f"PARAM_SIGNATURE : Invalid signature {form['sig']}, calculated by string {signed}*****"
        )
        return web.json_response({"error_code": 104, "error_msg": msg, "error_data": None})

    caplog.set_level(logging.DEBUG, logger="okru_sdk")
    async with hostile(echo) as url:
        session = PasswordServerSession("1", "KEY", "APP-SECRET-0000", LOGIN, password, api_url=url)
        try:
            with pytest.raises(AuthError) as info:
                await session.authorize()
        finally:
            await session.close()
        logging.getLogger("test").exception("login failed", exc_info=info.value)
    cause = info.value.__cause__
    assert isinstance(cause, APIError) and cause.code == 104
    assert "calculated by string" in cause.msg  # the rest of the message is kept
    shown = [str(info.value), str(cause), cause.msg, repr(cause.raw), caplog.text]
    for text in shown:
        assert password not in text
        assert json.dumps(password)[1:-1] not in text
        assert "APP-SECRET-0000" not in text


async def test_a_token_endpoint_that_echoes_the_client_secret_is_scrubbed() -> None:
    async def echo(request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response(
            {"error": "invalid_grant", "error_description": f"bad request {dict(form)}"}
        )

    async with hostile(echo) as url:
        session = CodeServerSession(
            "1", "KEY", "APP-SECRET-0000", "CODE-1234", "https://e", api_url=url
        )
        try:
            with pytest.raises(AuthError) as info:
                await session.authorize()
        finally:
            await session.close()
    assert "invalid_grant" in str(info.value)
    assert "APP-SECRET-0000" not in str(info.value) and "CODE-1234" not in str(info.value)


# -- 5. a redirect is not a success ---------------------------------------------------------


async def test_a_3xx_reply_from_fb_do_is_an_error() -> None:
    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "https://elsewhere.example/"})

    async with hostile(redirect) as url, token_session(url, retry=NO_RETRY) as s:
        with pytest.raises(TransportError) as info:
            await API(s).call("mediatopic.post", type="USER_NOTE", attachment={"media": []})
    assert info.value.status == 302


# -- 6. previews of non-JSON bodies are redacted ---------------------------------------------


async def test_a_form_encoded_token_reply_is_not_previewed_verbatim() -> None:
    async def form(request: web.Request) -> web.Response:
        return web.Response(
            text="access_token=NEW-TOKEN-SECRET&refresh_token=NEW-REFRESH&expires_in=1800",
            status=200,
        )

    async with hostile(form) as url:
        session = CodeServerSession("1", "KEY", "APP-SECRET-0000", "CODE", "https://e", api_url=url)
        try:
            with pytest.raises(ResponseDecodeError) as info:
                await session.authorize()
        finally:
            await session.close()
    assert "NEW-TOKEN-SECRET" not in str(info.value) and "NEW-REFRESH" not in str(info.value)
    assert "expires_in=1800" in str(info.value)


# -- 7. every failure a reply can cause is an OkError ------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_ERROR = b'{"error_code": 100, "error_data": ' + DEEP + b"}"


@pytest.mark.parametrize("body", [DEEP, DEEP_ERROR], ids=["reply", "error body"])
async def test_deeply_nested_json_is_an_ok_error(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async def deep(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    caplog.set_level(logging.DEBUG, logger="okru_sdk")
    async with hostile(deep) as url, token_session(url, retry=NO_RETRY) as s:
        with pytest.raises(OkError):
            await API(s).call("users.getCurrentUser")
        with pytest.raises(OkError):
            await API(s).users.get_current_user()


async def test_a_deeply_nested_token_reply_is_an_ok_error() -> None:
    async def deep(request: web.Request) -> web.Response:
        return web.Response(body=DEEP, content_type="application/json")

    async with hostile(deep) as url:
        session = CodeServerSession("1", "KEY", "APP-SECRET", "CODE", "https://e", api_url=url)
        try:
            with pytest.raises(OkError):
                await session.authorize()
        finally:
            await session.close()


def test_an_error_message_with_a_lone_surrogate_stays_utf8() -> None:
    body = b'{"error_code": 100, "error_msg": "bad \\ud800 value"}'
    err = APIError.from_payload(json.loads(body), method="users.getInfo", raw=body)
    str(err).encode("utf-8")  # raises UnicodeEncodeError before the fix
    assert "bad" in str(err) and "value" in str(err)


# -- 10. reply size cap ----------------------------------------------------------------------


async def test_an_announced_oversized_reply_is_refused() -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"[" + b"1," * 600_000 + b"1]", content_type="application/json")

    async with hostile(big) as url, token_session(url, max_reply_size=1_000_000) as s:
        with pytest.raises(ReplyTooLarge) as info:
            await API(s).call("users.getCurrentUser")
    assert "max_reply_size" in str(info.value)
    assert isinstance(info.value, TransportError)


async def test_a_gzip_bomb_is_refused_while_it_is_decoded() -> None:
    payload = gzip.compress(b"[" + b"0," * 5_000_000 + b"0]")

    async def bomb(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )
        await resp.prepare(request)
        await resp.write(payload)
        await resp.write_eof()
        return resp

    assert len(payload) < 1_000_000
    async with hostile(bomb) as url, token_session(url, max_reply_size=1_000_000) as s:
        with pytest.raises(ReplyTooLarge):
            await API(s).call("users.getCurrentUser")


def test_max_reply_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_reply_size"):
        token_session("https://api.ok.ru", max_reply_size=0)


# -- 11. redaction follows the catalogue ---------------------------------------------------------


def test_parameters_the_catalogue_marks_secret_are_redacted() -> None:
    assert "sdkToken" in SECRET_KEYS
    assert redact_params({"sdkToken": "SDK-SECRET", "uid": "1"}) == {
        "sdkToken": "***",
        "uid": "1",
    }


# -- 12. cleartext URLs, state ---------------------------------------------------------------


@pytest.mark.parametrize("field", ["api_url", "connect_url"])
def test_plain_http_to_a_non_loopback_host_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="allow_insecure_http"):
        token_session("https://api.ok.ru", **{field: "http://api.ok.ru"})
    token_session("https://api.ok.ru", **{field: "http://api.ok.ru"}, allow_insecure_http=True)
    for loopback in ("http://127.0.0.1:8080", "http://[::1]:80", "http://localhost:1"):
        token_session("https://api.ok.ru", **{field: loopback})
    with pytest.raises(ValueError):
        token_session("https://api.ok.ru", **{field: "ftp://api.ok.ru"})


def test_an_authorization_url_always_carries_a_state() -> None:
    url = authorization_url("1", ["VALUABLE_ACCESS"], "https://example.com/cb")
    assert parse_qs(urlsplit(url).query)["state"][0]
    state = new_state()
    url = authorization_url("1", "VALUABLE_ACCESS", "https://example.com/cb", state=state)
    assert parse_qs(urlsplit(url).query)["state"] == [state]


def test_code_from_redirect_checks_the_state() -> None:
    state = new_state()
    assert (
        code_from_redirect(f"https://example.com/cb?code=C0DE&state={state}", state=state) == "C0DE"
    )
    with pytest.raises(AuthError, match="state"):
        code_from_redirect("https://example.com/cb?code=C0DE&state=forged", state=state)
    with pytest.raises(AuthError, match="state"):
        code_from_redirect("https://example.com/cb?code=C0DE", state=state)
    with pytest.raises(AuthError, match="refused"):
        code_from_redirect(f"https://example.com/cb?error=access_denied&state={state}", state=state)


# -- 13. a closed session stays closed ----------------------------------------------------------


async def test_a_call_after_close_raises_instead_of_opening_a_new_connection_pool(
    emu: OkEmulator, app: App, user: User
) -> None:
    tok = emu.issue_token(app, user)
    s = ServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.access_token, api_url=emu.url
    )
    await API(s).call("users.getCurrentUser")
    await s.close()
    with pytest.raises(SessionClosed, match="closed"):
        await API(s).call("users.getCurrentUser")
    assert s._transport._http is not None and s._transport._http.closed


# -- informational: the legacy session_key in the signature ------------------------------------


async def test_session_key_is_left_out_of_the_signature_unless_asked(
    emu: OkEmulator, app: App, user: User
) -> None:
    tok = emu.issue_token(app, user)
    seen: list[dict[str, str]] = []

    def record(call: MethodCall) -> str:
        seen.append(dict(call.params))
        return "ok"

    emu.register_method("test.echo", record)
    for sign_session_key in (False, True):
        async with ServerSession(
            app.app_id,
            app.app_key,
            app.app_secret_key,
            tok.access_token,
            api_url=emu.url,
            sign_session_key=sign_session_key,
        ) as s:
            assert await API(s).call("test.echo", session_key=tok.access_token) == "ok"
    secret = server_secret(tok.access_token, app.app_secret_key)
    default, js_style = seen
    assert default["sig"] == sign_params(default, secret)
    assert js_style["sig"] == sign_params_with_session_key(js_style, secret)
    assert default["sig"] != js_style["sig"]
