"""Regression tests for the security review of the implicit flow's OAuth dialog walk.

1. Credentials go only to the configured connect URL's scheme, host and port:
   forms and redirects to anywhere else, an https -> http downgrade, a GET
   login form and a malformed ``Location`` end as ``AuthError`` naming the
   refused target, before anything is sent there; a ``Secure`` cookie never
   travels over http.
2. A hostile dialog page can neither stall the event loop nor make the walk
   end with anything but an ``OkError``: pages are capped in size (read with
   a limit) and parsed off the loop by a linear-time parser.

Each test failed on the code before the fix. Every server is a real aiohttp
server on a loopback address started by the test; nothing reaches the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from okru_sdk import AuthError, ImplicitClientSession, OkError
from okru_sdk.sessions import dialog, implicit

LOGIN, PASSWORD = "victim@example.com", "hunter2-the-password"
REDIRECT_URI = "https://example.com/callback"  # never fetched: the walk stops at it

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- servers -------------------------------------------------------------------------


@dataclass
class Hit:
    """One request a server received."""

    method: str
    path_qs: str
    cookies: dict[str, str]
    body: str

    def carries(self, secret: str) -> bool:
        return secret in self.path_qs or secret in self.body or secret in str(self.cookies)


class Server:
    """A real aiohttp server on a loopback address recording every request."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._record])
        self.hits: list[Hit] = []
        self.url = ""

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.text()  # cached: request.post() still works afterwards
        self.hits.append(Hit(request.method, request.path_qs, dict(request.cookies), body))
        return await handler(request)

    def route(self, path: str, handler: Handler) -> None:
        self.app.router.add_route("*", path, handler)

    @asynccontextmanager
    async def running(
        self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
    ) -> AsyncIterator[str]:
        runner = web.AppRunner(self.app)
        await runner.setup()
        site = web.TCPSite(runner, host, 0, ssl_context=ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"{'https' if ssl_context else 'http'}://{host}:{port}"
        try:
            yield self.url
        finally:
            await runner.cleanup()


def html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html")


def redirect(location: str, *cookies: str) -> web.Response:
    response = web.Response(status=302, headers={"Location": location})
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie)
    return response


def login_page(action: str, method: str | None = "post") -> str:
    method_attr = "" if method is None else f' method="{method}"'
    return (
        "<html><body><h1>Одноклассники</h1>"
        f'<form action="{action}"{method_attr}>'
        '<input type="hidden" name="fr.posted" value="set">'
        '<input type="text" name="fr.email"><input type="password" name="fr.password">'
        '<input type="submit" value="Войти"></form></body></html>'
    )


def token_redirect(request: web.Request) -> web.Response:
    """The final redirect to the redirect URI, with a token in the fragment."""
    state = request.cookies.get("state", "")
    fragment = urlencode(
        {"access_token": "tkn", "session_secret_key": "ssk", "expires_in": "1800", "state": state}
    )
    return redirect(f"{REDIRECT_URI}#{fragment}")


async def serve_authorize_then(request: web.Request, location: str, *cookies: str) -> web.Response:
    """``/oauth/authorize``: keep the state in a cookie and redirect to ``location``."""
    return redirect(location, f"state={request.query.get('state', '')}; Path=/", *cookies)


# -- the session under test ----------------------------------------------------------


def implicit_session(url: str, http: aiohttp.ClientSession | None = None) -> ImplicitClientSession:
    return ImplicitClientSession(
        "512",
        "CBAKEY",
        LOGIN,
        PASSWORD,
        ["VALUABLE_ACCESS"],
        REDIRECT_URI,
        api_url=url,
        connect_url=url,
        timeout=10.0,
        http=http,
    )


def chain(exc: BaseException) -> list[BaseException]:
    """The exception and every exception it was raised from or while handling."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def sign_in_fails(url: str, http: aiohttp.ClientSession | None = None) -> OkError:
    """Sign in, expect an OkError whose text (chained errors too) has no credentials."""
    with pytest.raises(OkError) as info:
        async with implicit_session(url, http):
            pass
    for exc in chain(info.value):
        for text in (str(exc), repr(exc)):
            assert PASSWORD not in text
            assert LOGIN not in text
    return info.value


def no_credentials_reached(*servers: Server) -> None:
    for server in servers:
        for hit in server.hits:
            assert not hit.carries(PASSWORD), f"the password reached {server.url}: {hit}"
            assert not hit.carries(LOGIN), f"the login reached {server.url}: {hit}"


# -- 1. credentials stay on the connect URL's origin ---------------------------------


@pytest.mark.parametrize("elsewhere", ["other host", "other port", "protocol-relative"])
async def test_login_form_posting_elsewhere_is_refused(elsewhere: str) -> None:
    thief, dialog_server = Server(), Server()

    async def collect(request: web.Request) -> web.Response:
        return html("<p>thanks</p>")

    thief.route("/{tail:.*}", collect)
    thief_host = "127.0.0.1" if elsewhere == "other port" else "127.0.0.2"
    async with thief.running(thief_host) as thief_url:
        action = f"{thief_url}/steal?from=dialog"
        if elsewhere == "protocol-relative":
            action = action.removeprefix("http:")

        async def authorize(request: web.Request) -> web.Response:
            return html(login_page(action))

        dialog_server.route("/oauth/authorize", authorize)
        async with dialog_server.running() as url:
            error = await sign_in_fails(url)
    assert isinstance(error, AuthError)
    assert f"{thief_url}/steal" in str(error)
    assert "from=dialog" not in str(error)  # the target is named without its query
    assert thief.hits == []
    no_credentials_reached(dialog_server)


@pytest.mark.parametrize("elsewhere", ["other host", "other port", "other scheme"])
async def test_redirect_elsewhere_is_not_followed(elsewhere: str) -> None:
    thief, dialog_server = Server(), Server()

    async def thief_dialog(request: web.Request) -> web.Response:
        if request.method == "POST":
            return token_redirect(request)
        return html(login_page("/dk"))

    where: dict[str, str] = {}

    async def authorize(request: web.Request) -> web.Response:
        return await serve_authorize_then(request, f"{where['target']}?st.cmd=OAuth2Login")

    thief.route("/dk", thief_dialog)
    dialog_server.route("/oauth/authorize", authorize)
    thief_host = "127.0.0.1" if elsewhere == "other port" else "127.0.0.2"
    async with thief.running(thief_host) as thief_url, dialog_server.running() as url:
        target = f"{thief_url}/dk"
        if elsewhere == "other scheme":
            target = f"{url.replace('http:', 'https:')}/dk"
        where["target"] = target
        error = await sign_in_fails(url)
    assert isinstance(error, AuthError)
    assert f"refused to follow a redirect to {target}" in str(error)
    assert "st.cmd" not in str(error)
    assert thief.hits == []
    no_credentials_reached(dialog_server)


@pytest.mark.parametrize("method", ["get", "GET", None, "put"])
async def test_login_form_with_method_get_is_refused(method: str | None) -> None:
    """A GET login form would put the password in the URL (and in aiohttp's errors)."""
    server = Server()

    async def page(request: web.Request) -> web.Response:
        if "fr.password" in request.query:
            request.transport.close()  # type: ignore[union-attr]  # drop it: aiohttp errors
        return html(login_page("/dk?st.cmd=OAuth2Login", method))

    server.route("/oauth/authorize", page)
    server.route("/dk", page)
    async with server.running() as url:
        error = await sign_in_fails(url)
    assert isinstance(error, AuthError)
    assert f"{url}/dk" in str(error) and "GET" in str(error)
    assert "st.cmd" not in str(error)
    no_credentials_reached(server)


def self_signed_tls(directory: Path) -> ssl.SSLContext:
    """A server context with a throwaway self-signed certificate for 127.0.0.1."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@asynccontextmanager
async def one_port_two_schemes(tls_port: int, plain_port: int) -> AsyncIterator[int]:
    """A port on 127.0.0.1 that speaks https and http: TLS to one backend, plain to the other.

    ``https://127.0.0.1:P`` and ``http://127.0.0.1:P`` then differ in nothing but
    the scheme, as ``https://connect.ok.ru`` and ``http://connect.ok.ru`` do.
    """
    tasks: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            first = await reader.read(1)
            if first:
                backend = tls_port if first == b"\x16" else plain_port  # 0x16: TLS handshake
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
                up_writer.write(first)
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a test certificate")
async def test_https_to_http_downgrade_is_refused_and_sends_nothing(tmp_path: Path) -> None:
    tls_server, plain_server = Server(), Server()
    port: dict[str, int] = {}

    async def authorize(request: web.Request) -> web.Response:
        return await serve_authorize_then(
            request,
            f"http://127.0.0.1:{port['shared']}/dk?st.cmd=OAuth2Login",
            "JSESSIONID=dialog-cookie; Secure; HttpOnly; Path=/",
        )

    async def plain_dialog(request: web.Request) -> web.Response:
        if request.method == "POST":
            return token_redirect(request)
        return html(login_page("/dk"))

    tls_server.route("/oauth/authorize", authorize)
    plain_server.route("/dk", plain_dialog)
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=False), cookie_jar=aiohttp.DummyCookieJar()
    )
    try:
        async with (
            tls_server.running(ssl_context=self_signed_tls(tmp_path)) as tls_url,
            plain_server.running() as plain_url,
            one_port_two_schemes(
                int(tls_url.rsplit(":", 1)[1]), int(plain_url.rsplit(":", 1)[1])
            ) as shared,
        ):
            port["shared"] = shared
            error = await sign_in_fails(f"https://127.0.0.1:{shared}", http=http)
    finally:
        await http.close()
    assert isinstance(error, AuthError)
    assert f"refused to follow a redirect to http://127.0.0.1:{shared}/dk" in str(error)
    assert len(tls_server.hits) == 1  # the authorize request went over TLS
    assert plain_server.hits == []  # neither the dialog cookie nor the login went over http


async def test_secure_cookie_is_never_sent_over_http() -> None:
    server = Server()

    async def authorize(request: web.Request) -> web.Response:
        return await serve_authorize_then(
            request,
            "/dk?st.cmd=OAuth2Login",
            "JSESSIONID=dialog-cookie; HttpOnly; Path=/",
            "guard=https-only; Secure; Path=/",
        )

    async def dk(request: web.Request) -> web.Response:
        if request.method == "POST":
            return token_redirect(request)
        return html(login_page("/dk?st.cmd=OAuth2Login"))

    server.route("/oauth/authorize", authorize)
    server.route("/dk", dk)
    async with server.running() as url, implicit_session(url) as session:
        assert session.access_token == "tkn"
    after_authorize = server.hits[1:]
    assert [hit.method for hit in after_authorize] == ["GET", "POST"]
    for hit in after_authorize:
        assert hit.cookies.get("JSESSIONID") == "dialog-cookie"
        assert "guard" not in hit.cookies


@pytest.mark.parametrize(
    "location",
    ["http://[::1", "http://127.0.0.1:99999/dk", "http://[bad-ipv6]/dk", "http://127.0.0.1:x/"],
)
async def test_malformed_location_is_an_auth_error(location: str) -> None:
    server = Server()

    async def authorize(request: web.Request) -> web.Response:
        return redirect(location)

    server.route("/oauth/authorize", authorize)
    async with server.running() as url:
        error = await sign_in_fails(url)
    assert isinstance(error, AuthError)
    assert "malformed" in str(error)


# -- 2. hostile pages: size cap, a responsive loop, only OkErrors --------------------


async def endless_page(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    chunk = b"<p>" + b"x" * 65533
    with contextlib.suppress(ConnectionError):
        for _ in range(4096):  # 256 MiB at most, far past any cap
            await response.write(chunk)
    return response


async def announced_page(request: web.Request) -> web.Response:
    return html("<p>" + "x" * (implicit.MAX_DIALOG_PAGE + 1024))


async def gzip_bomb(request: web.Request) -> web.Response:
    body = gzip.compress(b"<p>" + b"x" * (8 * implicit.MAX_DIALOG_PAGE))  # ~4 KiB on the wire
    return web.Response(
        body=body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}
    )


@pytest.mark.parametrize(
    "page",
    [announced_page, endless_page, gzip_bomb],
    ids=["content-length", "endless-stream", "gzip-bomb"],
)
async def test_oversized_page_is_refused(page: Handler) -> None:
    server = Server()
    server.route("/oauth/authorize", page)
    async with server.running() as url:
        error = await sign_in_fails(url)
    assert isinstance(error, AuthError)
    assert f"{implicit.MAX_DIALOG_PAGE} bytes" in str(error)
    assert f"{url}/oauth/authorize" in str(error)


async def test_event_loop_keeps_running_while_a_hostile_page_is_read() -> None:
    """~200 KiB that CPython's html.parser takes seconds over (quadratic) stalls nothing."""
    filler = "<p>filler text</p>\n" * 9_800  # benign markup, about 182 KiB
    hostile = filler + "<a " * 6_000  # an unclosed run html.parser rescans again and again
    assert 190 * 1024 < len(hostile.encode()) < 210 * 1024
    server = Server()

    async def authorize(request: web.Request) -> web.Response:
        return html(hostile)

    server.route("/oauth/authorize", authorize)
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def ticker() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        async with server.running() as url:
            error = await sign_in_fails(url)
    finally:
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking
    assert isinstance(error, AuthError)
    assert "unexpected page" in str(error)
    assert gaps and max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"


@pytest.mark.parametrize(
    "page",
    [
        "<![foo[ x ]]>",  # html.parser: AssertionError (unknown marked section)
        "<!DOCTYPE html><![if IE]><p>old</p><![endif]><![CDATA[x]]><![junk",
        "<div>" * 100_000,  # deep nesting
        "<form>" * 50_000 + "<input name=a>" * 10_000,  # forms in forms
        '<form method=post><input name="fr.password" value="' + "x" * 400_000,  # unterminated
        "<script>" + "</scrip" * 50_000,
        "&#x110000;&#0;&#xd800;&" + "amp;" * 50_000,  # invalid character references
        "\x00\ud800<\udfff a=\x00>" * 1000,  # NULs and lone surrogates (UTF-8 "replace"d)
    ],
    ids=[
        "marked-section",
        "declarations",
        "nesting",
        "nested-forms",
        "unterminated",
        "script",
        "charrefs",
        "odd-chars",
    ],
)
async def test_hostile_page_ends_as_an_ok_error(page: str) -> None:
    server = Server()

    async def authorize(request: web.Request) -> web.Response:
        return web.Response(body=page.encode("utf-8", "surrogatepass"), content_type="text/html")

    server.route("/oauth/authorize", authorize)
    async with server.running() as url:
        error = await sign_in_fails(url)
    assert isinstance(error, AuthError)


@pytest.mark.parametrize(
    "unit",
    ["<a ", "<a a=", "</a ", "</a a=", "<!--", "<!", "<?", "</$", "<![CDATA[", "<!doctype"],
)
def test_parser_is_linear_where_html_parser_is_quadratic(unit: str) -> None:
    """Inputs from CPython's gh-135462 at the size cap (html.parser: hours; here: <1 s).

    No time is asserted: a quadratic parser simply does not finish.
    """
    page = unit * (implicit.MAX_DIALOG_PAGE // len(unit))
    assert dialog.parse_page(page).forms == []


def test_parser_reads_forms_as_a_browser_does() -> None:
    page = dialog.parse_page(
        "<title>Вход &amp; доступ</title><script>var f = '<form action=/x>';</script>"
        '<FORM Action="/dk?a=1&amp;b=2" METHOD=Post action="/ignored">'
        "<form action=/nested><input name=one value='1'>"
        "<input type=checkbox name=keep checked><input type=checkbox name=drop>"
        "<button name=go value=yes>Go</button></input></form>"
        "<form action=/second method=dialog><textarea name=t><input name=not-a-control>"
        "</textarea><input name=after"
    )
    first, second = page.forms
    assert (first.action, first.method) == ("/dk?a=1&b=2", "POST")
    assert first.fields == {"one": "1", "keep": "on"}
    assert first.buttons == {"go": "yes"}
    assert first.names == {"one", "keep", "drop", "go"}
    assert (second.action, second.method) == ("/second", "GET")
    assert second.names == {"t"}  # textarea content is text; a tag cut by the end is dropped
    assert page.text.startswith("Вход & доступ")
    assert "var f" not in page.text
