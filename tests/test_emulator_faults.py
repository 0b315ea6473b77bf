"""Fault injection on the emulator (``emu.faults``), observed by plain aiohttp clients."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from okru_sdk.signing import sign_params
from okru_sdk.testing import Fault, FiredFault, MethodCall, OkEmulator

APP_ID = "1248"
APP_KEY = "CBAFAULTS"
APP_SECRET = "FAULTS-SECRET"
CLIENT_ERRORS = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


@dataclasses.dataclass
class World:
    emu: OkEmulator
    http: aiohttp.ClientSession
    #: what test.write stored, to prove a faulted write was not performed
    written: list[str]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    written: list[str] = []

    def write(call: MethodCall) -> dict[str, Any]:
        written.append(call.params.get("value", ""))
        return {"success": True}

    async with OkEmulator() as emu, aiohttp.ClientSession() as http:
        emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        emu.register_method("test.echo", lambda call: {"echo": call.params.get("value")})
        emu.register_method("test.write", write)
        yield World(emu, http, written)


def signed(method: str, **extra: str) -> dict[str, str]:
    params = {"application_key": APP_KEY, "method": method, "format": "json", **extra}
    params["sig"] = sign_params(params, APP_SECRET)
    return params


async def post(
    w: World, params: dict[str, str], path: str = "/fb.do", timeout: float | None = None
) -> tuple[int, Any, str]:
    """(status, headers, body text) of one POST."""
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with w.http.post(w.emu.url + path, data=params, timeout=client_timeout) as resp:
        return resp.status, resp.headers, await resp.text()


async def echo(w: World, value: str = "hi", method: str = "test.echo") -> Any:
    status, headers, body = await post(w, signed(method, value=value))
    assert status == 200
    assert "invocation-error" not in headers
    return json.loads(body)


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (state of the emulator, which has no event to wait on) for 1 s."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), 1.0)


# ---------------------------------------------------------------- reply kinds


async def test_http_errors_with_html_body(world: World) -> None:
    faults = world.emu.faults
    for status in (500, 502, 503):
        faults.add(Fault.http(status, retry_after=7), times=2)
        for _ in range(2):
            got, headers, body = await post(world, signed("test.echo", value="x"))
            assert got == status
            assert headers["Content-Type"].startswith("text/html")
            assert headers["Retry-After"] == "7"
            assert f"<h1>{status} " in body
        assert faults.pending == []
        assert await echo(world, "x") == {"echo": "x"}
    assert world.emu.handled["test.echo"] == 3
    assert faults.fired == [("test.echo", f"http_{s}") for s in (500, 500, 502, 502, 503, 503)]


async def test_http_error_without_retry_after(world: World) -> None:
    world.emu.faults.add(Fault.http(), times=1)
    status, headers, _ = await post(world, signed("test.echo"))
    assert status == 502
    assert "Retry-After" not in headers


async def test_html_page_with_status_200(world: World) -> None:
    world.emu.faults.add(Fault.html(), times=1)
    status, headers, body = await post(world, signed("test.echo"))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert body.lstrip().startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert world.emu.faults.fired == [FiredFault("test.echo", "html_200")]


async def test_truncated_json(world: World) -> None:
    world.emu.faults.add(Fault.truncated(), times=1)
    status, headers, body = await post(world, signed("test.echo"))
    assert status == 200
    assert headers["Content-Type"] == "application/json;charset=utf-8"
    assert body.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert world.emu.handled["test.echo"] == 0


async def test_api_error_matches_method_case_insensitively(world: World) -> None:
    world.emu.faults.add(Fault.api_error(8), method="TEST.ECHO", times=1)
    assert await echo(world, "w", method="test.write") == {"success": True}
    status, headers, body = await post(world, signed("test.echo"))
    assert status == 200
    assert headers["invocation-error"] == "8"
    assert json.loads(body) == {
        "error_code": 8,
        "error_msg": "FLOOD_BLOCKED : Injected fault",
        "error_data": None,
    }
    assert await echo(world) == {"echo": "hi"}
    assert world.emu.faults.fired == [("test.echo", "api_error_8")]


async def test_api_error_custom_message_and_delay(world: World) -> None:
    world.emu.faults.add(Fault.api_error(9999, "SYSTEM : boom", delay=0.1), times=1)
    started = time.monotonic()
    _, _, body = await post(world, signed("test.echo"))
    assert time.monotonic() - started >= 0.1
    assert json.loads(body)["error_msg"] == "SYSTEM : boom"


async def test_expire_token_answers_102_and_expires_it(world: World) -> None:
    emu = world.emu
    token = emu.issue_token(emu.apps[APP_KEY], emu.add_user())
    other = emu.issue_token(emu.apps[APP_KEY], emu.add_user())
    emu.faults.add(Fault.expire_token(), method="test.echo", times=1)

    def with_token(access_token: str, secret: str) -> dict[str, str]:
        params = {"application_key": APP_KEY, "method": "test.echo", "format": "json"}
        params["sig"] = sign_params(params, secret)
        params["access_token"] = access_token
        return params

    _, headers, body = await post(world, with_token(token.access_token, token.session_secret_key))
    assert headers["invocation-error"] == "102"
    assert json.loads(body)["error_msg"].startswith("PARAM_SESSION_EXPIRED : ")
    assert token.revoked and not other.revoked
    # the token stays expired: the emulator itself now answers 102
    _, headers, _ = await post(world, with_token(token.access_token, token.session_secret_key))
    assert headers["invocation-error"] == "102"
    _, headers, _ = await post(world, with_token(other.access_token, other.session_secret_key))
    assert "invocation-error" not in headers
    assert emu.faults.fired == [("test.echo", "expire_token")]


async def test_delay_then_handles_normally(world: World) -> None:
    world.emu.faults.add(Fault.delay(0.3), method="test.write", times=1)
    with pytest.raises(asyncio.TimeoutError):
        await post(world, signed("test.write", value="late"), timeout=0.05)
    # the delayed request still runs the method once the delay is over
    await wait_until(lambda: world.written == ["late"])
    assert world.emu.handled["test.write"] == 1
    assert world.emu.faults.fired == [("test.write", "delay")]
    assert await echo(world, "now", method="test.write") == {"success": True}
    assert len(world.emu.faults.fired) == 1  # times=1: used up


async def test_drop_closes_the_connection(world: World) -> None:
    world.emu.faults.add(Fault.drop(), method="test.write", times=1)
    with pytest.raises(CLIENT_ERRORS):
        await post(world, signed("test.write", value="lost"))
    assert world.written == []
    assert await echo(world, "kept", method="test.write") == {"success": True}
    assert world.written == ["kept"]
    assert world.emu.handled["test.write"] == 1
    assert len(world.emu.requests) == 2


# ---------------------------------------------------------------- hangs and stop


async def test_hang_until_cleared(world: World) -> None:
    faults = world.emu.faults
    faults.add(Fault.hang(), method="test.write")
    pending = asyncio.ensure_future(post(world, signed("test.write", value="stuck")))
    await wait_until(lambda: faults.in_flight == 1)
    assert not pending.done()
    assert await echo(world) == {"echo": "hi"}  # other methods still answer
    faults.clear()
    with pytest.raises(CLIENT_ERRORS):
        await pending
    assert faults.in_flight == 0
    assert world.written == []
    assert await echo(world, "free", method="test.write") == {"success": True}
    assert world.emu.handled == {"test.echo": 1, "test.write": 1}


async def test_clear_by_method_leaves_other_rules(world: World) -> None:
    faults = world.emu.faults
    faults.add(Fault.hang(), method="test.write")
    faults.add(Fault.http(503), method="test.echo")
    pending = asyncio.ensure_future(post(world, signed("test.write")))
    await wait_until(lambda: faults.in_flight == 1)
    faults.clear("Test.Write")
    with pytest.raises(CLIENT_ERRORS):
        await pending
    assert [rule.method for rule in faults.pending] == ["test.echo"]
    status, _, _ = await post(world, signed("test.echo"))
    assert status == 503


async def test_stop_returns_promptly_with_a_hung_request() -> None:
    async with aiohttp.ClientSession() as http:
        emu = OkEmulator()
        await emu.start()
        app = emu.add_app(app_key=APP_KEY, app_secret_key=APP_SECRET)
        assert app.app_key == APP_KEY
        emu.register_method("test.echo", lambda call: "ok")
        emu.faults.add(Fault.hang(), times=1)
        emu.faults.add(Fault.delay(30), method="test.echo")
        hung = [
            asyncio.ensure_future(http.post(emu.url + "/fb.do", data=signed("test.echo")))
            for _ in range(2)
        ]
        await wait_until(lambda: emu.faults.in_flight == 2)
        started = time.monotonic()
        await emu.stop()
        assert time.monotonic() - started < 0.5
        for task in hung:
            with pytest.raises(CLIENT_ERRORS):
                await task
        assert emu.handled["test.echo"] == 0
        assert emu.faults.fired == [("test.echo", "hang"), ("test.echo", "delay")]


async def test_release_drops_waiting_requests(world: World) -> None:
    faults = world.emu.faults
    faults.add(Fault.delay(30), times=1)
    pending = asyncio.ensure_future(post(world, signed("test.write")))
    await wait_until(lambda: faults.in_flight == 1)
    assert faults.release() == 1
    with pytest.raises(CLIENT_ERRORS):
        await pending
    assert world.written == []


# ---------------------------------------------------------------- matching


async def test_times_order_and_pending(world: World) -> None:
    faults = world.emu.faults
    first = faults.add(Fault.api_error(1), method="test.echo", times=1)
    second = faults.add(Fault.http(500), times=2)
    assert faults.pending == [first, second]
    codes = []
    for _ in range(4):
        status, headers, _ = await post(world, signed("test.echo"))
        codes.append((status, headers.get("invocation-error")))
    assert codes == [(200, "1"), (500, None), (500, None), (200, None)]
    assert first.fired == 1 and second.fired == 2
    assert first.remaining == 0 and second.remaining == 0
    assert faults.pending == []
    assert world.emu.handled["test.echo"] == 1


async def test_until_cleared_and_api_path(world: World) -> None:
    faults = world.emu.faults
    rule = faults.add(Fault.http(503), method="test.echo")
    for _ in range(3):
        status, _, _ = await post(world, signed("test.echo"), path="/api/test/echo")
        assert status == 503
    assert rule.fired == 3 and rule.remaining is None
    assert world.emu.requests[-1].method == "test.echo"
    faults.clear()
    assert faults.pending == []
    status, _, _ = await post(world, signed("test.echo"), path="/api/test/echo")
    assert status == 200
    assert len(faults.fired) == 3


async def test_token_endpoint_only_when_named(world: World) -> None:
    faults = world.emu.faults
    faults.add(Fault.http(500))  # API requests only
    refresh = {"grant_type": "refresh_token", "client_id": APP_ID, "refresh_token": "nope"}
    refresh["client_secret"] = APP_SECRET
    status, _, body = await post(world, refresh, path="/oauth/token.do")
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    faults.clear()

    faults.add(Fault.http(503, retry_after=1), method="/oauth/token.do", times=1)
    assert await echo(world) == {"echo": "hi"}
    status, headers, _ = await post(world, refresh, path="/oauth/token.do")
    assert status == 503 and headers["Retry-After"] == "1"
    assert faults.fired == [FiredFault("oauth/token.do", "http_503")]
    status, _, _ = await post(world, refresh, path="/oauth/token.do")
    assert status == 400


async def test_other_paths_are_never_faulted(world: World) -> None:
    world.emu.faults.add(Fault.http(500))
    async with world.http.get(world.emu.url + "/blank.html") as resp:
        assert resp.status == 200
    assert world.emu.faults.fired == []


def test_bad_arguments() -> None:
    emu = OkEmulator()
    with pytest.raises(ValueError):
        emu.faults.add(Fault.http(), times=0)
    with pytest.raises(ValueError):
        Fault.http(200)
    with pytest.raises(ValueError):
        Fault.delay(-1)
    assert Fault.api_error(12345).error_msg == "UNKNOWN : Injected fault"
    assert Fault.html(503).name == "html_503"
