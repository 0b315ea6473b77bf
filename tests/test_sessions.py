"""Every session class against the emulator over real sockets."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from okru_sdk import (
    API,
    APIError,
    AuthError,
    Circuit,
    ClientSession,
    CodeClientSession,
    CodeServerSession,
    CodeSession,
    ImplicitClientSession,
    ImplicitServerSession,
    ImplicitSession,
    PasswordClientSession,
    PasswordServerSession,
    PasswordSession,
    RefreshClientSession,
    RefreshServerSession,
    RefreshSession,
    ServerSession,
    TokenSession,
    authorization_url,
)
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, RecordedRequest, User

from .conftest import LOGIN, PASSWORD, REDIRECT_URI

SCOPE = ("VALUABLE_ACCESS", "PHOTO_CONTENT")


def api_calls(emu: OkEmulator, method: str) -> list[RecordedRequest]:
    return [r for r in emu.requests if r.method == method]


def token_requests(emu: OkEmulator) -> list[RecordedRequest]:
    return [r for r in emu.requests if r.path.endswith("/oauth/token.do")]


async def current_uid(session: TokenSession) -> str:
    me = await API(session).call("users.getCurrentUser", fields=["uid", "name"])
    assert isinstance(me, dict)
    return str(me["uid"])


# -- circuit inference --------------------------------------------------------


def test_token_session_infers_server_circuit_from_app_secret_and_token() -> None:
    session = TokenSession("1", "key", "app-secret", "token", "session-secret")
    assert session.circuit is Circuit.SERVER


def test_token_session_infers_client_circuit_from_session_secret_key() -> None:
    assert TokenSession("1", "key", "", "token", "session-secret").circuit is Circuit.CLIENT
    # An app secret without a token is not enough for server-server.
    assert TokenSession("1", "key", "app-secret", "", "session-secret").circuit is Circuit.CLIENT


@pytest.mark.parametrize(
    "args",
    [("1", "key"), ("1", "key", "app-secret"), ("1", "key", "", "token"), ("1", "key", "s", "")],
)
def test_token_session_without_a_usable_circuit_fails_at_construction(
    args: tuple[str, ...],
) -> None:
    with pytest.raises(AuthError, match="circuit"):
        TokenSession(*args)


def test_pinned_sessions_check_their_keys_at_construction() -> None:
    with pytest.raises(AuthError, match="server-server"):
        ServerSession("1", "key", "", "token")
    with pytest.raises(AuthError, match="client-server"):
        ClientSession("1", "key", "")


# -- token sessions -------------------------------------------------------------


async def test_token_session_server_circuit(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user)
    async with TokenSession(
        app.app_id, app.app_key, app.app_secret_key, tok.access_token, **urls
    ) as s:
        assert await current_uid(s) == user.uid
    call = api_calls(emu, "users.getCurrentUser")[-1]
    assert call.circuit is Circuit.SERVER
    assert call.params["access_token"] == tok.access_token


async def test_token_session_client_circuit(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user)
    session = TokenSession(
        app.app_id, app.app_key, "", tok.access_token, tok.session_secret_key, **urls
    )
    try:  # token sessions work without ``async with`` too
        assert await current_uid(session) == user.uid
    finally:
        await session.close()
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.CLIENT


async def test_server_and_client_sessions(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.access_token, **urls
    ) as s:
        assert await current_uid(s) == user.uid
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.SERVER
    async with ClientSession(
        app.app_id, app.app_key, tok.session_secret_key, tok.access_token, **urls
    ) as c:
        assert await current_uid(c) == user.uid
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.CLIENT


# -- authorization code -----------------------------------------------------------


async def test_code_server_session_sends_client_secret(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, **urls
    ) as s:
        assert s.refresh_token
        assert s.expires_at is not None
        assert await current_uid(s) == user.uid
    (exchange,) = token_requests(emu)
    assert exchange.params["grant_type"] == "authorization_code"
    assert exchange.params["client_secret"] == app.app_secret_key
    assert exchange.params["redirect_uri"] == REDIRECT_URI
    assert exchange.params["client_id"] == app.app_id
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.SERVER


async def test_code_session_infers_the_circuit(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, **urls
    ) as s:
        assert await current_uid(s) == user.uid
        assert s.circuit is Circuit.SERVER


async def test_code_client_session_sends_no_client_secret(
    emu: OkEmulator, public_app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(public_app, user, REDIRECT_URI)
    async with CodeClientSession(
        public_app.app_id, public_app.app_key, code, REDIRECT_URI, **urls
    ) as s:
        assert s.session_secret_key
        assert await current_uid(s) == user.uid
    (exchange,) = token_requests(emu)
    assert "client_secret" not in exchange.params
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.CLIENT


async def test_code_client_session_on_a_confidential_app_says_use_the_server_variant(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    with pytest.raises(AuthError, match="CodeServerSession"):
        async with CodeClientSession(app.app_id, app.app_key, code, REDIRECT_URI, **urls):
            pass


async def test_bad_or_reused_code_is_an_auth_error(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    with pytest.raises(AuthError, match=r"token\.do"):
        async with CodeServerSession(
            app.app_id, app.app_key, app.app_secret_key, "no-such-code", REDIRECT_URI, **urls
        ):
            pass
    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, **urls
    ):
        pass
    with pytest.raises(AuthError):
        async with CodeServerSession(
            app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, **urls
        ):
            pass


def test_authorization_url_has_every_parameter() -> None:
    url = authorization_url(
        1248, ["VALUABLE_ACCESS", "PHOTO_CONTENT"], REDIRECT_URI, state="xyz", layout="m"
    )
    assert url.startswith("https://connect.ok.ru/oauth/authorize?")
    for part in (
        "client_id=1248",
        "scope=VALUABLE_ACCESS%3BPHOTO_CONTENT",
        "response_type=code",
        "redirect_uri=https%3A%2F%2Fexample.com%2Fcallback",
        "layout=m",
        "state=xyz",
    ):
        assert part in url


# -- implicit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "circuit"),
    [
        (ImplicitServerSession, Circuit.SERVER),
        (ImplicitClientSession, Circuit.CLIENT),
        (ImplicitSession, Circuit.SERVER),
    ],
)
async def test_implicit_sessions_walk_the_dialog(
    emu: OkEmulator,
    app: App,
    user: User,
    urls: SessionSettings,
    cls: type[ImplicitSession],
    circuit: Circuit,
) -> None:
    args: tuple[Any, ...] = (app.app_id, app.app_key)
    if cls is not ImplicitClientSession:
        args += (app.app_secret_key,)
    async with cls(*args, LOGIN, PASSWORD, SCOPE, **urls) as s:
        assert s.access_token and s.session_secret_key
        assert await current_uid(s) == user.uid
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is circuit
    authorize = next(r for r in emu.requests if r.path == "/oauth/authorize")
    assert authorize.params["scope"] == "VALUABLE_ACCESS;PHOTO_CONTENT"
    assert authorize.params["response_type"] == "token"
    assert authorize.params["redirect_uri"] == f"{emu.url}/blank.html"
    assert authorize.params["layout"] == "w"
    assert authorize.params["state"]
    assert emu.blank_hits == 0  # the redirect URI is never fetched


async def test_implicit_wrong_password_is_an_auth_error_without_the_password(
    app: App, user: User, urls: SessionSettings
) -> None:
    with pytest.raises(AuthError, match="wrong login or password") as info:
        async with ImplicitClientSession(
            app.app_id, app.app_key, LOGIN, "not the password", SCOPE, **urls
        ):
            pass
    assert "not the password" not in str(info.value)


async def test_implicit_captcha_is_an_auth_error(
    emu: OkEmulator, app: App, urls: SessionSettings
) -> None:
    emu.add_user(login="bot@example.com", password="pw", captcha=True)
    with pytest.raises(AuthError, match="captcha"):
        async with ImplicitClientSession(
            app.app_id, app.app_key, "bot@example.com", "pw", SCOPE, **urls
        ):
            pass


async def test_implicit_unknown_application_is_an_auth_error(
    app: App, user: User, urls: SessionSettings
) -> None:
    with pytest.raises(AuthError, match="OAuth dialog"):
        async with ImplicitClientSession("999", app.app_key, LOGIN, PASSWORD, SCOPE, **urls):
            pass


# -- password ------------------------------------------------------------------------


async def test_password_server_session_signs_auth_login_with_the_app_secret(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    async with PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, SCOPE, **urls
    ) as s:
        assert await current_uid(s) == user.uid
    (login,) = api_calls(emu, "auth.login")
    assert login.circuit is Circuit.APPLICATION
    assert login.params["user_name"] == LOGIN
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.SERVER


async def test_password_client_session_sends_auth_login_unsigned(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    async with PasswordClientSession(app.app_id, app.app_key, LOGIN, PASSWORD, **urls) as s:
        assert await current_uid(s) == user.uid
    (login,) = api_calls(emu, "auth.login")
    assert "sig" not in login.params
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.CLIENT


async def test_password_session_infers_server_circuit(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    async with PasswordSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, **urls
    ) as s:
        assert await current_uid(s) == user.uid
        assert s.circuit is Circuit.SERVER


async def test_password_wrong_password_and_captcha(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    with pytest.raises(AuthError, match="wrong login or password") as info:
        async with PasswordClientSession(app.app_id, app.app_key, LOGIN, "nope-nope", **urls):
            pass
    assert "nope-nope" not in str(info.value)
    assert isinstance(info.value.__cause__, APIError) and info.value.__cause__.code == 401
    emu.add_user(login="bot@example.com", password="pw", captcha=True)
    with pytest.raises(AuthError, match="captcha"):
        async with PasswordClientSession(app.app_id, app.app_key, "bot@example.com", "pw", **urls):
            pass


# -- refresh -----------------------------------------------------------------------------


async def test_refresh_server_session(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user, refresh=True)
    assert tok.refresh_token
    async with RefreshServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.refresh_token, **urls
    ) as s:
        assert s.access_token != tok.access_token
        assert s.refresh_token == tok.refresh_token  # kept: the reply brings no new one
        assert await current_uid(s) == user.uid
    (refresh,) = token_requests(emu)
    assert refresh.params["grant_type"] == "refresh_token"
    assert refresh.params["client_secret"] == app.app_secret_key
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.SERVER


async def test_refresh_session_infers_the_circuit(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user, refresh=True)
    assert tok.refresh_token
    async with RefreshSession(
        app.app_id, app.app_key, app.app_secret_key, tok.refresh_token, **urls
    ) as s:
        assert await current_uid(s) == user.uid
        assert s.circuit is Circuit.SERVER


async def test_refresh_client_session(
    emu: OkEmulator, public_app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(public_app, user, refresh=True)
    assert tok.refresh_token
    async with RefreshClientSession(
        public_app.app_id, public_app.app_key, tok.refresh_token, **urls
    ) as s:
        assert await current_uid(s) == user.uid
    (refresh,) = token_requests(emu)
    assert "client_secret" not in refresh.params
    assert api_calls(emu, "users.getCurrentUser")[-1].circuit is Circuit.CLIENT


async def test_unknown_refresh_token_is_an_auth_error(app: App, urls: SessionSettings) -> None:
    with pytest.raises(AuthError, match="refresh_token"):
        async with RefreshServerSession(
            app.app_id, app.app_key, app.app_secret_key, "nope", **urls
        ):
            pass


# -- lifecycle --------------------------------------------------------------------------


async def test_flow_session_authorizes_on_first_call_without_async_with(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    session = PasswordServerSession(
        app.app_id, app.app_key, app.app_secret_key, LOGIN, PASSWORD, **urls
    )
    assert not session.authorized
    try:
        assert await current_uid(session) == user.uid
        assert await current_uid(session) == user.uid
    finally:
        await session.close()
    assert len(api_calls(emu, "auth.login")) == 1


async def test_user_supplied_http_session_is_used_and_never_closed(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    tok = emu.issue_token(app, user)
    async with aiohttp.ClientSession() as http:
        async with ServerSession(
            app.app_id, app.app_key, app.app_secret_key, tok.access_token, http=http, **urls
        ) as s:
            assert await current_uid(s) == user.uid
        assert not http.closed
        # a failing authorization does not close it either
        with pytest.raises(AuthError):
            async with PasswordClientSession(
                app.app_id, app.app_key, LOGIN, "wrong", http=http, **urls
            ):
                pass
        assert not http.closed


async def test_failed_authorization_closes_the_sdk_owned_http_session(
    app: App, user: User, urls: SessionSettings
) -> None:
    session = PasswordClientSession(app.app_id, app.app_key, LOGIN, "wrong", **urls)
    with pytest.raises(AuthError):
        await session.__aenter__()
    http = session._transport._http
    assert http is not None and http.closed


def test_repr_and_str_hide_every_secret() -> None:
    secrets = ["APP-SECRET-XYZ", "ACCESS-TOKEN-XYZ", "SESSION-SECRET-XYZ", "PASSWORD-XYZ"]
    sessions: list[TokenSession] = [
        TokenSession("1", "k", secrets[0], secrets[1], secrets[2]),
        ServerSession("1", "k", secrets[0], secrets[1]),
        ClientSession("1", "k", secrets[2], secrets[1]),
        CodeServerSession("1", "k", secrets[0], "CODE-XYZ", REDIRECT_URI),
        ImplicitServerSession("1", "k", secrets[0], LOGIN, secrets[3], SCOPE),
        PasswordServerSession("1", "k", secrets[0], LOGIN, secrets[3]),
        RefreshServerSession("1", "k", secrets[0], "REFRESH-XYZ"),
    ]
    for session in sessions:
        text = repr(session) + str(session) + repr(API(session))
        for secret in [*secrets, "CODE-XYZ", "REFRESH-XYZ"]:
            assert secret not in text, (type(session).__name__, secret)


async def test_the_leak_guard_catches_an_unclosed_aiohttp_session() -> None:
    from .conftest import unclosed_aiohttp_reports

    async with unclosed_aiohttp_reports() as reports:
        leaked: aiohttp.ClientSession | None = aiohttp.ClientSession()
        del leaked
    assert any("Unclosed client session" in r for r in reports)


async def test_sessions_that_are_never_used_open_no_http_session(app: App) -> None:
    session = ServerSession(app.app_id, app.app_key, app.app_secret_key, "token")
    assert session._transport._http is None  # created on first use only
    await session.close()
