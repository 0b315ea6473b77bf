"""The implicit flow against the OAuth dialog pages exactly as ok.ru serves them.

A small aiohttp server on 127.0.0.1 replays the two captured pages of
``shared/reference/okru-pages`` (relative, HTML-escaped form actions; a
``<button>`` as the accept control; the redirect context kept by the server
behind a cookie), so the dialog walk is tested against ok.ru's markup and not
only against the emulator's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import web

from okru_sdk import AuthError, ImplicitClientSession
from okru_sdk.sessions.dialog import parse_forms

PAGES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "okru-pages"
pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason="shared/reference/okru-pages absent")

LOGIN, PASSWORD = "user@example.com", "s3cret-pass"
PERMISSION_TOKEN = "o176W4DYRip1ge0wQtgFmxsIDnUxkwFj"  # fr.token of the captured page
COOKIE = "JSESSIONID"


def test_parser_reads_the_captured_login_page() -> None:
    (form,) = parse_forms((PAGES / "oauth2-login.html").read_text(encoding="utf-8"))
    assert form.method == "POST"
    assert form.action == "/dk?cmd=OAuth2Login&st.cmd=OAuth2Login"  # &amp; decoded
    assert form.fields == {
        "fr.posted": "set",
        "fr.email": "",
        "fr.remember": "on",
        "fr.password": "",
    }
    assert {"fr.email", "fr.password"} <= form.names


def test_parser_reads_the_captured_permissions_page() -> None:
    (form,) = parse_forms((PAGES / "oauth2-permissions.html").read_text(encoding="utf-8"))
    assert form.action == "/dk?st.cmd=OAuth2Permissions&cmd=OAuth2Permissions"
    assert form.fields == {"fr.posted": "set", "fr.token": PERMISSION_TOKEN}
    assert "button_accept_request" in form.buttons


@pytest.fixture
async def okru_like() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in for connect.ok.ru serving the captured pages; yields (url, posts)."""
    posts: list[dict[str, str]] = []
    state: dict[str, str] = {}

    async def authorize(request: web.Request) -> web.Response:
        state.update(request.query)
        raise web.HTTPFound(
            "/dk?st.cmd=OAuth2Login", headers={"Set-Cookie": f"{COOKIE}=abc; Path=/"}
        )

    async def dk(request: web.Request) -> web.Response:
        if request.cookies.get(COOKIE) != "abc":
            return web.Response(status=400, text="no dialog")
        cmd = request.query.get("st.cmd")
        if request.method == "GET":
            page = "oauth2-login.html" if cmd == "OAuth2Login" else "oauth2-permissions.html"
            return web.Response(
                text=(PAGES / page).read_text(encoding="utf-8"), content_type="text/html"
            )
        form = {k: str(v) for k, v in (await request.post()).items()}
        posts.append(form)
        if cmd == "OAuth2Login":
            if form.get("fr.email") == LOGIN and form.get("fr.password") == PASSWORD:
                raise web.HTTPFound("/dk?st.cmd=OAuth2Permissions")
            page = (PAGES / "oauth2-login.html").read_text(encoding="utf-8")
            return web.Response(text=page, content_type="text/html")  # the form again
        if form.get("fr.token") == PERMISSION_TOKEN and "button_accept_request" in form:
            fragment = urlencode(
                {
                    "access_token": "tkn-from-okru-pages",
                    "session_secret_key": "ssk-from-okru-pages",
                    "expires_in": "1800",
                    "state": state["state"],
                }
            )
            raise web.HTTPFound(f"{state['redirect_uri']}#{fragment}")
        return web.Response(status=403, text="bad permissions form")

    app = web.Application()
    app.router.add_get("/oauth/authorize", authorize)
    app.router.add_route("*", "/dk", dk)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", posts
    finally:
        await runner.cleanup()


async def test_implicit_flow_walks_the_real_pages(
    okru_like: tuple[str, list[dict[str, str]]],
) -> None:
    url, posts = okru_like
    async with ImplicitClientSession(
        "512", "CBAKEY", LOGIN, PASSWORD, ["VALUABLE_ACCESS"], api_url=url, connect_url=url
    ) as session:
        assert session.access_token == "tkn-from-okru-pages"
        assert session.session_secret_key == "ssk-from-okru-pages"
    login, permissions = posts
    # every input of the login form is kept, the two filled in
    assert login == {
        "fr.posted": "set",
        "fr.email": LOGIN,
        "fr.password": PASSWORD,
        "fr.remember": "on",
    }
    assert permissions == {
        "fr.posted": "set",
        "fr.token": PERMISSION_TOKEN,
        "button_accept_request": "",
    }


async def test_wrong_password_on_the_real_login_page(
    okru_like: tuple[str, list[dict[str, str]]],
) -> None:
    url, _ = okru_like
    with pytest.raises(AuthError, match="wrong login or password"):
        async with ImplicitClientSession(
            "512", "CBAKEY", LOGIN, "nope", ["VALUABLE_ACCESS"], api_url=url, connect_url=url
        ):
            pass
