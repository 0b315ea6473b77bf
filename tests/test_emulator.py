"""Tests of the bundled OK.ru emulator, driven with plain aiohttp clients."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from okru_sdk.signing import Circuit, server_secret, sign_params
from okru_sdk.testing import (
    DEMO_APP_KEY,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    App,
    EmulatorError,
    MethodCall,
    OkEmulator,
    User,
)
from okru_sdk.testing.__main__ import _parse_args

APP_ID = "1248"
APP_KEY = "CBAABC"
APP_SECRET = "S3CRET"
REDIRECT = "https://example.com/cb"


@dataclasses.dataclass
class World:
    emu: OkEmulator
    http: aiohttp.ClientSession

    @property
    def app(self) -> App:
        return self.emu.apps[APP_KEY]

    @property
    def alice(self) -> User:
        return self.emu.users["575662066926"]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with OkEmulator() as emu, aiohttp.ClientSession() as http:
        emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        alice = emu.add_user(
            login="alice@example.com",
            password="pw",
            uid="575662066926",
            first_name="Alice",
            last_name="Liddell",
        )
        emu.add_user(login="bob@example.com", password="pw2", uid="1001", friends=[alice])
        emu.add_user(login="carol@example.com", password="pw3", uid="1002", captcha=True)
        yield World(emu, http)


async def call(
    w: World,
    params: dict[str, str],
    *,
    secret: str | None = None,
    access_token: str | None = None,
    path: str = "/fb.do",
    http_method: str = "POST",
) -> tuple[Any, aiohttp.ClientResponse, bytes]:
    """Sign (if ``secret``), add the token after signing, send; returns (json, response, body)."""
    wire = dict(params)
    if secret is not None:
        wire["sig"] = sign_params(wire, secret)
    if access_token is not None:
        wire["access_token"] = access_token
    url = w.emu.url + path
    kwargs: dict[str, Any] = {"params": wire} if http_method == "GET" else {"data": wire}
    async with w.http.request(http_method, url, **kwargs) as response:
        body = await response.read()
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    return (json.loads(body) if body else None), response, body


def base(method: str, **extra: str) -> dict[str, str]:
    return {"application_key": APP_KEY, "method": method, "format": "json", **extra}


def assert_error(reply: Any, response: aiohttp.ClientResponse, code: int) -> None:
    assert isinstance(reply, dict), reply
    assert reply["error_code"] == code, reply
    assert reply["error_data"] is None
    assert " : " in reply["error_msg"]
    assert response.headers["invocation-error"] == str(code)


# ---------------------------------------------------------------- signatures


async def test_client_circuit(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    reply, resp, _ = await call(
        world,
        base("users.getCurrentUser"),
        secret=tok.session_secret_key,
        access_token=tok.access_token,
    )
    assert "invocation-error" not in resp.headers
    assert reply["uid"] == "575662066926"
    assert reply["first_name"] == "Alice"
    assert reply["name"] == "Alice Liddell"
    (rec,) = world.emu.requests
    assert rec.method == "users.getCurrentUser"
    assert rec.circuit is Circuit.CLIENT
    assert rec.path == "/fb.do"
    assert rec.http_method == "POST"
    assert rec.params["access_token"] == tok.access_token
    assert rec.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_server_circuit(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    secret = server_secret(tok.access_token, APP_SECRET)
    reply, _, _ = await call(
        world, base("friends.get"), secret=secret, access_token=tok.access_token
    )
    assert reply == ["1001"]
    assert world.emu.requests[-1].circuit is Circuit.SERVER


async def test_session_less_circuit(world: World) -> None:
    reply, _, _ = await call(world, base("friends.get", fid="1001"), secret=APP_SECRET)
    assert reply == ["575662066926"]
    assert world.emu.requests[-1].circuit is Circuit.APPLICATION


async def test_session_less_friends_get_needs_fid(world: World) -> None:
    reply, resp, _ = await call(world, base("friends.get"), secret=APP_SECRET)
    assert_error(reply, resp, 100)
    assert "fid" in reply["error_msg"]


async def test_legacy_client_signature_without_token(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    reply, _, _ = await call(world, base("users.getLoggedInUser"), secret=tok.session_secret_key)
    assert reply == "575662066926"
    assert world.emu.requests[-1].circuit is Circuit.CLIENT


async def test_legacy_session_key_is_signed(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    params = base("users.getLoggedInUser", session_key=tok.access_token)
    reply, _, _ = await call(world, params, secret=tok.session_secret_key)
    assert reply == "575662066926"
    assert world.emu.requests[-1].circuit is Circuit.CLIENT


async def test_published_vector_accepted() -> None:
    # the published aiookru vector, served by a registered events.get
    async with OkEmulator() as emu, aiohttp.ClientSession() as http:
        app = emu.add_app(app_key="ABCDEFGHIGKLMNOPK", app_secret_key="ABC123DEF456GHI789JKL123")
        tok = emu.issue_token(app, emu.add_user())
        emu.tokens.pop(tok.access_token)
        tok.access_token = "-s-84W-s3egarWUsbkq-IWTucuedzTKT8VUXIA.s4Xx8IW7"
        tok.session_secret_key = "ae5362b5b588cc7294c2414d71b74d5d"
        emu.tokens[tok.access_token] = tok
        emu.register_method("events.get", lambda call: [], session="required")
        wire = {"application_key": "ABCDEFGHIGKLMNOPK", "format": "json", "method": "events.get"}
        for sig, circuit in (
            ("232c8eb921951c4dba9b72606f9ddb4c", Circuit.SERVER),
            ("03a41413523ea8092507949d6e711963", Circuit.CLIENT),
        ):
            data = {**wire, "sig": sig, "access_token": tok.access_token}
            async with http.post(emu.url + "/fb.do", data=data) as resp:
                assert await resp.json(content_type=None) == []
            assert emu.requests[-1].circuit is circuit


async def test_bad_and_missing_signature(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    reply, resp, _ = await call(
        world, base("users.getCurrentUser"), secret="nope", access_token=tok.access_token
    )
    assert_error(reply, resp, 104)
    reply, resp, _ = await call(world, base("users.getCurrentUser"), access_token=tok.access_token)
    assert_error(reply, resp, 104)
    reply, resp, _ = await call(world, base("friends.get", fid="1001"), secret="wrong")
    assert_error(reply, resp, 104)
    reply, resp, _ = await call(world, base("friends.get", fid="1001"))
    assert_error(reply, resp, 104)


async def test_signature_covers_every_received_param(world: World) -> None:
    params = base("friends.get", fid="1001")
    params["sig"] = sign_params(params, APP_SECRET)
    params["extra"] = "added after signing"
    async with world.http.post(world.emu.url + "/fb.do", data=params) as resp:
        reply = await resp.json(content_type=None)
    assert reply["error_code"] == 104


async def test_application_key_checks(world: World) -> None:
    params = {"method": "friends.get", "fid": "1001"}
    reply, resp, _ = await call(world, params, secret=APP_SECRET)
    assert_error(reply, resp, 101)
    params["application_key"] = "UNKNOWN"
    reply, resp, _ = await call(world, params, secret=APP_SECRET)
    assert_error(reply, resp, 101)


async def test_unknown_method(world: World) -> None:
    reply, resp, _ = await call(world, base("no.suchMethod"), secret=APP_SECRET)
    assert_error(reply, resp, 3)
    assert world.emu.requests[-1].method == "no.suchMethod"


async def test_session_required(world: World) -> None:
    reply, resp, _ = await call(world, base("users.getCurrentUser"), secret=APP_SECRET)
    assert_error(reply, resp, 453)


async def test_session_prohibited(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    params = base("auth.login", user_name="alice@example.com", password="pw")
    reply, resp, _ = await call(
        world, params, secret=tok.session_secret_key, access_token=tok.access_token
    )
    assert_error(reply, resp, 451)


async def test_expired_unknown_and_foreign_tokens(world: World) -> None:
    emu = world.emu
    tok = emu.issue_token(world.app, world.alice)
    emu.expire_token(tok.access_token)
    reply, resp, _ = await call(
        world,
        base("users.getCurrentUser"),
        secret=tok.session_secret_key,
        access_token=tok.access_token,
    )
    assert_error(reply, resp, 102)

    short = emu.issue_token(world.app, world.alice, expires_in=0)
    reply, resp, _ = await call(
        world,
        base("users.getCurrentUser"),
        secret=short.session_secret_key,
        access_token=short.access_token,
    )
    assert_error(reply, resp, 102)

    # the emulator's clock decides expiry
    later = emu.issue_token(world.app, world.alice, expires_in=60)
    emu.clock = lambda: later.expires_at or 0.0
    reply, resp, _ = await call(
        world,
        base("users.getCurrentUser"),
        secret=later.session_secret_key,
        access_token=later.access_token,
    )
    assert_error(reply, resp, 102)

    reply, resp, _ = await call(
        world, base("users.getCurrentUser"), secret="x", access_token="not-a-token"
    )
    assert_error(reply, resp, 103)

    other = emu.add_app(app_key="OTHERKEY", app_secret_key="OTHERSECRET")
    foreign = emu.issue_token(other, world.alice, expires_in=None)
    reply, resp, _ = await call(
        world,
        base("users.getCurrentUser"),
        secret=foreign.session_secret_key,
        access_token=foreign.access_token,
    )
    assert_error(reply, resp, 103)


async def test_missing_required_param(world: World) -> None:
    reply, resp, _ = await call(world, base("users.getInfo", uids="1001"), secret=APP_SECRET)
    assert_error(reply, resp, 100)
    assert reply["error_msg"] == "PARAM : Missing required parameter fields"


async def test_api_path_style_get(world: World) -> None:
    tok = world.emu.issue_token(world.app, world.alice)
    params = {"application_key": APP_KEY, "fields": "UID,FIRST_NAME,location,pic190x190"}
    reply, _, _ = await call(
        world,
        params,
        secret=server_secret(tok.access_token, APP_SECRET),
        access_token=tok.access_token,
        path="/api/users/getCurrentUser",
        http_method="GET",
    )
    assert set(reply) == {"uid", "first_name", "location", "pic190x190"}
    assert reply["location"]["countryCode"] == "RU"
    rec = world.emu.requests[-1]
    assert (rec.method, rec.http_method, rec.circuit) == (
        "users.getCurrentUser",
        "GET",
        Circuit.SERVER,
    )


async def test_users_get_info(world: World) -> None:
    params = base("users.getInfo", uids="1001,999,575662066926", fields="first_name,gender")
    reply, _, _ = await call(world, params, secret=APP_SECRET)
    assert [u["uid"] for u in reply] == ["1001", "575662066926"]
    assert set(reply[1]) == {"uid", "first_name", "gender"}
    many = ",".join(str(n) for n in range(101))
    reply, resp, _ = await call(
        world, base("users.getInfo", uids=many, fields="uid"), secret=APP_SECRET
    )
    assert_error(reply, resp, 100)


async def test_non_ascii_params_round_trip(world: World) -> None:
    seen: list[str] = []

    def echo(call: MethodCall) -> str:
        seen.append(call.params["text"])
        return call.params["text"]

    world.emu.register_method("test.echo", echo, required_params=("text",))
    reply, _, _ = await call(world, base("test.echo", text="Привет, мир & co"), secret=APP_SECRET)
    assert reply == "Привет, мир & co" == seen[0]


async def test_register_method(world: World) -> None:
    emu = world.emu
    calls: list[MethodCall] = []

    async def handler(call: MethodCall) -> Any:
        calls.append(call)
        if call.params.get("fail"):
            raise EmulatorError(300, "NOT_FOUND : nothing here", {"why": "test"})
        if call.params.get("void"):
            return None
        return {"ok": True}

    emu.register_method("test.thing", handler, session="optional", required_params=("x",))
    emu.register_method("sdk.init", lambda call: {"ok": "unsigned"}, unsigned=True)

    reply, _, _ = await call(world, base("test.thing", x="1"), secret=APP_SECRET)
    assert reply == {"ok": True}
    session_less = calls[-1]
    assert session_less.user is None and session_less.token is None
    assert session_less.app is world.app
    assert session_less.emulator is emu and session_less.circuit is Circuit.APPLICATION

    tok = emu.issue_token(world.app, world.alice)
    await call(
        world,
        base("test.thing", x="1"),
        secret=tok.session_secret_key,
        access_token=tok.access_token,
    )
    with_session = calls[-1]
    assert with_session.user is world.alice and with_session.token is tok

    reply, resp, _ = await call(world, base("test.thing", x="1", fail="1"), secret=APP_SECRET)
    assert (reply["error_code"], reply["error_data"]) == (300, {"why": "test"})
    assert resp.headers["invocation-error"] == "300"

    reply, _, body = await call(world, base("test.thing", x="1", void="1"), secret=APP_SECRET)
    assert body == b"" and reply is None

    reply, _, _ = await call(world, base("sdk.init"))
    assert reply == {"ok": "unsigned"}
    assert emu.requests[-1].circuit is None

    with pytest.raises(ValueError):
        emu.register_method("x.y", handler, session="sometimes")  # type: ignore[arg-type]


# ---------------------------------------------------------------- auth.login


async def test_auth_login_unsigned_and_session_works(world: World) -> None:
    params = base("auth.login", user_name="Alice@Example.com", password="pw", gen_token="true")
    reply, _, _ = await call(world, params)
    assert world.emu.requests[-1].circuit is None
    assert reply["uid"] == "575662066926"
    assert reply["api_server"] == world.emu.url + "/"
    assert len(reply["session_secret_key"]) == 32
    assert reply["auth_token"]
    key, ssk = reply["session_key"], reply["session_secret_key"]

    me, _, _ = await call(world, base("users.getLoggedInUser"), secret=ssk, access_token=key)
    assert me == "575662066926"
    secret = server_secret(key, APP_SECRET)
    me, _, _ = await call(world, base("users.getLoggedInUser"), secret=secret, access_token=key)
    assert me == "575662066926"
    circuits = [r.circuit for r in world.emu.requests]
    assert circuits == [None, Circuit.CLIENT, Circuit.SERVER]


async def test_auth_login_signed_and_failures(world: World) -> None:
    params = base("auth.login", user_name="alice@example.com", password="pw")
    reply, _, _ = await call(world, params, secret=APP_SECRET)
    assert reply["uid"] == "575662066926"
    assert world.emu.requests[-1].circuit is Circuit.APPLICATION

    reply, resp, _ = await call(world, params, secret="bad")
    assert_error(reply, resp, 104)

    bad = base("auth.login", user_name="alice@example.com", password="nope")
    reply, resp, _ = await call(world, bad)
    assert_error(reply, resp, 401)

    captcha = base("auth.login", user_name="carol@example.com", password="pw3")
    reply, resp, _ = await call(world, captcha)
    assert_error(reply, resp, 402)


# ---------------------------------------------------------------- token.do


async def token_do(w: World, **params: str) -> tuple[int, dict[str, Any]]:
    async with w.http.post(w.emu.url + "/oauth/token.do", data=params) as resp:
        assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
        return resp.status, await resp.json(content_type=None)


async def test_token_do_code_grant_confidential(world: World) -> None:
    emu = world.emu
    code = emu.issue_code(world.app, world.alice, redirect_uri=REDIRECT)
    grant = {"grant_type": "authorization_code", "code": code, "client_id": APP_ID}

    status, reply = await token_do(world, **grant, redirect_uri=REDIRECT)
    assert (status, reply["error"]) == (400, "invalid_client")  # no secret, confidential app
    status, reply = await token_do(world, **grant, redirect_uri=REDIRECT, client_secret="bad")
    assert (status, reply["error"]) == (400, "invalid_client")
    status, reply = await token_do(
        world, **grant, redirect_uri=REDIRECT + "/other", client_secret=APP_SECRET
    )
    assert (status, reply["error"]) == (400, "invalid_grant")

    # the query part of redirect_uri is not compared; failures above did not use the code
    status, reply = await token_do(
        world, **grant, redirect_uri=REDIRECT + "?x=1", client_secret=APP_SECRET
    )
    assert status == 200, reply
    assert set(reply) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert reply["token_type"] == "session"
    assert reply["expires_in"] == "1800"

    status, again = await token_do(world, **grant, redirect_uri=REDIRECT, client_secret=APP_SECRET)
    assert (status, again["error"]) == (400, "invalid_grant")  # single use

    access = reply["access_token"]
    me, _, _ = await call(
        world,
        base("users.getLoggedInUser"),
        secret=server_secret(access, APP_SECRET),
        access_token=access,
    )
    assert me == "575662066926"

    # refresh grant
    status, refreshed = await token_do(
        world,
        grant_type="refresh_token",
        refresh_token=reply["refresh_token"],
        client_id=APP_ID,
        client_secret=APP_SECRET,
    )
    assert status == 200, refreshed
    assert set(refreshed) == {"access_token", "token_type", "expires_in"}
    assert refreshed["access_token"] != access
    assert emu.tokens[refreshed["access_token"]].user is world.alice

    status, reply = await token_do(
        world,
        grant_type="refresh_token",
        refresh_token="nope",
        client_id=APP_ID,
        client_secret=APP_SECRET,
    )
    assert (status, reply["error"]) == (400, "invalid_grant")
    status, reply = await token_do(world, grant_type="password", client_id=APP_ID)
    assert (status, reply["error"]) == (400, "invalid_request")
    status, reply = await token_do(
        world, grant_type="authorization_code", code="x", client_id="42", redirect_uri=REDIRECT
    )
    assert (status, reply["error"]) == (400, "invalid_client")

    token_requests = [r for r in emu.requests if r.path == "/oauth/token.do"]
    assert len(token_requests) == 9
    assert all(r.method is None and r.circuit is None for r in token_requests)


async def test_token_do_public_app(world: World) -> None:
    emu = world.emu
    public = emu.add_app(
        app_id="777", app_key="PUBKEY", app_secret_key="PUBSECRET", public_code_exchange=True
    )
    code = emu.issue_code(public, world.alice, redirect_uri=REDIRECT, scopes=("LONG_ACCESS_TOKEN",))
    # parameters in the query string work too
    url = emu.url + "/oauth/token.do"
    query = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "777",
        "redirect_uri": REDIRECT,
    }
    async with world.http.post(url, params=query) as resp:
        assert resp.status == 200
        reply = await resp.json(content_type=None)
    assert len(reply["session_secret_key"]) == 32
    assert reply["expires_in"] == str(30 * 24 * 3600)
    access, ssk = reply["access_token"], reply["session_secret_key"]
    params = {"application_key": "PUBKEY", "method": "users.getLoggedInUser"}
    me, _, _ = await call(world, params, secret=ssk, access_token=access)
    assert me == "575662066926"

    # with the secret, a public app still works, without session_secret_key
    code = emu.issue_code(public, world.alice, redirect_uri=REDIRECT)
    status, reply = await token_do(
        world,
        grant_type="authorization_code",
        code=code,
        client_id="777",
        redirect_uri=REDIRECT,
        client_secret="PUBSECRET",
    )
    assert status == 200 and "session_secret_key" not in reply

    status, refreshed = await token_do(
        world, grant_type="refresh_token", refresh_token=reply["refresh_token"], client_id="777"
    )
    assert status == 200 and len(refreshed["session_secret_key"]) == 32


# ---------------------------------------------------------------- the dialog


class FormParser(HTMLParser):
    """Collects forms: action, method, inputs and named buttons; plus error divs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.images: list[str] = []
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "inputs": [],
                    "buttons": [],
                }
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(a)
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1]["buttons"].append(a["name"])
        elif tag == "div" and "__error" in a.get("class", "").split():
            self._in_error = True
        elif tag == "img":
            self.images.append(a.get("src", ""))

    def handle_data(self, data: str) -> None:
        if self._in_error and data.strip():
            self.errors.append(data.strip())
            self._in_error = False


def parse(text: str) -> FormParser:
    parser = FormParser()
    parser.feed(text)
    return parser


def form_fields(form: dict[str, Any], **values: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for inp in form["inputs"]:
        name = inp.get("name")
        if not name or inp.get("type") == "submit":
            continue
        if inp.get("type") == "checkbox" and "checked" not in inp:
            continue
        fields[name] = inp.get("value", "")
    fields.update(values)
    return fields


@pytest.fixture
async def browser(world: World) -> AsyncIterator[aiohttp.ClientSession]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


async def open_dialog(
    w: World, browser: aiohttp.ClientSession, response_type: str = "token", **extra: str
) -> str:
    """Authorize and follow the redirect; returns the login page HTML."""
    params = {
        "client_id": APP_ID,
        "scope": "VALUABLE_ACCESS;PHOTO_CONTENT",
        "response_type": response_type,
        "redirect_uri": w.emu.url + "/blank.html",
        "layout": "w",
        "state": "st 42",
        **extra,
    }
    async with browser.get(
        w.emu.url + "/oauth/authorize", params=params, allow_redirects=False
    ) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
        assert location == "/dk?st.cmd=OAuth2Login"
        assert "JSESSIONID" in resp.cookies
    async with browser.get(w.emu.url + location, allow_redirects=False) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        return await resp.text()


async def submit(
    w: World, browser: aiohttp.ClientSession, form: dict[str, Any], data: dict[str, str]
) -> tuple[int, str, str]:
    assert form["action"].startswith("/dk?")
    async with browser.post(w.emu.url + form["action"], data=data, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


async def login(w: World, browser: aiohttp.ClientSession, page: str) -> dict[str, Any]:
    """Log in as alice; returns the permissions form."""
    (form,) = parse(page).forms
    assert form["action"] == "/dk?cmd=OAuth2Login&st.cmd=OAuth2Login"
    names = [i.get("name") for i in form["inputs"]]
    assert {"fr.posted", "fr.email", "fr.password", "fr.remember", "fr.csrf"} <= set(names)
    data = form_fields(form, **{"fr.email": "alice@example.com", "fr.password": "pw"})
    status, location, _ = await submit(w, browser, form, data)
    assert (status, location) == (302, "/dk?st.cmd=OAuth2Permissions")
    async with browser.get(w.emu.url + location, allow_redirects=False) as resp:
        assert resp.status == 200
        page = await resp.text()
    assert "PHOTO_CONTENT" in page and "Alice" in page
    (perm_form,) = parse(page).forms
    assert perm_form["action"] == "/dk?st.cmd=OAuth2Permissions&cmd=OAuth2Permissions"
    assert perm_form["buttons"] == ["button_accept_request"]
    return perm_form


async def test_dialog_token_flow(world: World, browser: aiohttp.ClientSession) -> None:
    page = await open_dialog(world, browser)
    assert "&amp;st.cmd=OAuth2Login" in page
    perm_form = await login(world, browser, page)
    data = form_fields(perm_form, button_accept_request="")
    status, location, _ = await submit(world, browser, perm_form, data)
    assert status == 302
    url = urlsplit(location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == world.emu.url + "/blank.html"
    fragment = dict(parse_qsl(url.fragment))
    assert set(fragment) == {"access_token", "session_secret_key", "expires_in", "state"}
    assert fragment["state"] == "st 42"
    assert fragment["expires_in"] == "1800"
    tok = world.emu.tokens[fragment["access_token"]]
    assert tok.scopes == ("VALUABLE_ACCESS", "PHOTO_CONTENT")
    assert tok.refresh_token is None
    me, _, _ = await call(
        world,
        base("users.getCurrentUser"),
        secret=fragment["session_secret_key"],
        access_token=fragment["access_token"],
    )
    assert me["uid"] == "575662066926"
    assert world.emu.blank_hits == 0
    # the dialog is finished: its cookie no longer works
    status, _, text = await submit(world, browser, perm_form, data)
    assert status == 400 and not parse(text).forms


async def test_dialog_code_flow_and_exchange(world: World, browser: aiohttp.ClientSession) -> None:
    page = await open_dialog(world, browser, response_type="code", redirect_uri=REDIRECT + "?a=b")
    perm_form = await login(world, browser, page)
    status, location, _ = await submit(
        world, browser, perm_form, form_fields(perm_form, button_accept_request="")
    )
    assert status == 302 and location.startswith(REDIRECT + "?a=b&code=")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["state"] == "st 42"
    status, reply = await token_do(
        world,
        grant_type="authorization_code",
        code=query["code"],
        client_id=APP_ID,
        client_secret=APP_SECRET,
        redirect_uri=REDIRECT,
    )
    assert status == 200 and reply["refresh_token"]


async def test_dialog_denied(world: World, browser: aiohttp.ClientSession) -> None:
    perm_form = await login(world, browser, await open_dialog(world, browser))
    status, location, _ = await submit(world, browser, perm_form, form_fields(perm_form))
    assert status == 302
    assert dict(parse_qsl(urlsplit(location).fragment)) == {
        "error": "access_denied",
        "state": "st 42",
    }


async def test_dialog_wrong_password(world: World, browser: aiohttp.ClientSession) -> None:
    (form,) = parse(await open_dialog(world, browser)).forms
    data = form_fields(form, **{"fr.email": "alice@example.com", "fr.password": "bad"})
    status, _, text = await submit(world, browser, form, data)
    assert status == 200
    page = parse(text)
    assert page.errors == ["Неправильно указан логин и/или пароль"]
    (again,) = page.forms
    assert form_fields(again)["fr.email"] == "alice@example.com"
    # the same dialog can still succeed
    data = form_fields(again, **{"fr.password": "pw"})
    status, location, _ = await submit(world, browser, again, data)
    assert (status, location) == (302, "/dk?st.cmd=OAuth2Permissions")


async def test_dialog_captcha(world: World, browser: aiohttp.ClientSession) -> None:
    (form,) = parse(await open_dialog(world, browser)).forms
    data = form_fields(form, **{"fr.email": "carol@example.com", "fr.password": "pw3"})
    status, _, text = await submit(world, browser, form, data)
    assert status == 200
    page = parse(text)
    (captcha_form,) = page.forms
    assert "fr.captcha" in {i.get("name") for i in captcha_form["inputs"]}
    assert any(src.startswith("/captcha") for src in page.images)


async def test_dialog_dropped_hidden_input(world: World, browser: aiohttp.ClientSession) -> None:
    (form,) = parse(await open_dialog(world, browser)).forms
    data = {"fr.posted": "set", "fr.email": "alice@example.com", "fr.password": "pw"}
    status, location, text = await submit(world, browser, form, data)
    assert status == 403 and not location and not parse(text).forms


async def test_dialog_without_cookie(world: World) -> None:
    async with aiohttp.ClientSession() as anonymous:
        for http_method in ("GET", "POST"):
            async with anonymous.request(
                http_method, world.emu.url + "/dk?st.cmd=OAuth2Login", allow_redirects=False
            ) as resp:
                assert resp.status == 400
                assert not parse(await resp.text()).forms


async def test_dialog_permissions_before_login(
    world: World, browser: aiohttp.ClientSession
) -> None:
    await open_dialog(world, browser)
    url = world.emu.url + "/dk?st.cmd=OAuth2Permissions"
    async with browser.get(url, allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/dk?st.cmd=OAuth2Login"


async def test_authorize_rejects_bad_requests(world: World) -> None:
    emu = world.emu
    emu.add_app(app_id="55", app_key="K55", app_secret_key="S55", redirect_uris=[REDIRECT])
    cases = [
        {"client_id": "999", "response_type": "token", "redirect_uri": REDIRECT},
        {"client_id": APP_ID, "response_type": "bogus", "redirect_uri": REDIRECT},
        {"client_id": APP_ID, "response_type": "token"},
        {"client_id": "55", "response_type": "token", "redirect_uri": "https://evil.example/"},
    ]
    for params in cases:
        async with world.http.get(
            emu.url + "/oauth/authorize", params=params, allow_redirects=False
        ) as resp:
            assert resp.status == 400, params
            assert resp.content_type == "text/html"
            assert not parse(await resp.text()).forms
    params = {"client_id": "55", "response_type": "token", "redirect_uri": REDIRECT + "?q=1"}
    async with world.http.get(
        emu.url + "/oauth/authorize", params=params, allow_redirects=False
    ) as resp:
        assert resp.status == 302


async def test_blank_page_counts_hits(world: World) -> None:
    async with world.http.get(world.emu.url + "/blank.html") as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
    assert world.emu.blank_hits == 1
    async with world.http.get(world.emu.url + "/nothing") as resp:
        assert resp.status == 404
    assert [r.path for r in world.emu.requests] == ["/blank.html", "/nothing"]
    world.emu.clear_requests()
    assert world.emu.requests == []


# ---------------------------------------------------------------- lifecycle, demo


async def test_start_stop_and_demo() -> None:
    emu = OkEmulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    app, user = emu.seed_demo()
    assert emu.seed_demo() == (app, user)
    assert app.app_key == DEMO_APP_KEY and user.login == DEMO_LOGIN
    assert user.password == DEMO_PASSWORD and len(user.friends) == 1
    await emu.start()
    try:
        assert emu.url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError):
            await emu.start()
        async with aiohttp.ClientSession() as http:
            params = {"application_key": app.app_key, "method": "friends.get", "fid": user.uid}
            params["sig"] = sign_params(params, app.app_secret_key)
            async with http.get(emu.url + "/fb.do", params=params) as resp:
                assert await resp.json(content_type=None) == user.friends
        url = emu.url
        await emu.stop()
        await emu.stop()  # idempotent
        await emu.start()  # state kept, same port
        assert emu.url == url
        async with aiohttp.ClientSession() as http, http.get(url + "/blank.html") as resp:
            assert resp.status == 200
    finally:
        await emu.stop()


async def test_two_emulators_in_parallel() -> None:
    async with OkEmulator() as one, OkEmulator() as two:
        assert one.url != two.url
        await asyncio.sleep(0)


def test_main_arguments() -> None:
    args = _parse_args(["--port", "9999"])
    assert (args.host, args.port) == ("127.0.0.1", 9999)
