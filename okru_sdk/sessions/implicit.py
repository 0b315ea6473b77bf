"""Implicit flow: the OAuth dialog walked as a browser would walk it.

``GET {connect_url}/oauth/authorize`` with ``response_type=token``, then the
login form (``fr.email``, ``fr.password``, every other input kept), then the
permissions form (submitted with ``button_accept_request``), following
redirects and keeping cookies per origin. The walk stops at the redirect to the
redirect URI and reads the token from its fragment; the redirect URI itself
is never fetched.

The walk trusts one origin, the configured connect URL's scheme, host and
port, and never leaves it: a request, a redirect to follow or a form to submit
anywhere else ends the walk with :class:`~okru_sdk.AuthError` naming the
refused target, before anything is sent there (the session's constructor
already refuses a plain-http connect URL to a host other than loopback unless
told otherwise). The login form must be a ``POST`` form, so the password
never goes into a URL. Cookies are kept per origin and a ``Secure`` cookie is
never sent over ``http``. A dialog page is read up to :data:`MAX_DIALOG_PAGE`
bytes and parsed off the event loop, in a worker thread, by a parser whose
time is linear in the page's size (see :mod:`okru_sdk.sessions.dialog`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urljoin, urlsplit

from typing_extensions import Unpack
from yarl import URL

from ..errors import AuthError
from ..signing import Circuit
from ..transport import HttpReply, ReplyTooLarge, UnsendableRequest
from .base import TokenSession
from .oauth import join_scope, new_state, parse_expires_in
from .settings import SessionSettings

if TYPE_CHECKING:
    from .dialog import Form, Page

__all__ = [
    "MAX_DIALOG_PAGE",
    "ImplicitClientSession",
    "ImplicitServerSession",
    "ImplicitSession",
]

#: the largest dialog page (after decompression) the walk reads, bytes; ok.ru's
#: pages are about 10 KiB, a larger one is refused with AuthError
MAX_DIALOG_PAGE = 512 * 1024

_MAX_STEPS = 12
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_WHAT = "OAuth dialog"
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}

#: (scheme, host, port) of a URL
_Origin = tuple[str, str, int]


class ImplicitSession(TokenSession):
    """Signs in through the OAuth dialog with a login and password.

    ``redirect_uri`` defaults to ``{api_url}/blank.html``, the page OK.ru
    offers to external applications.
    """

    needs_authorization = True

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str,
        login: str,
        passwd: str,
        scope: str | Iterable[str],
        redirect_uri: str | None = None,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, app_secret_key, **settings)
        self.login = login
        self._passwd = passwd
        self.scope = join_scope(scope)
        self.redirect_uri = redirect_uri or f"{self.api_url}/blank.html"

    async def authorize(self) -> None:
        origin = _trusted_origin(self.connect_url)
        state = new_state()
        authorize = f"{self.connect_url}/oauth/authorize"
        query = {
            "client_id": self.app_id,
            "scope": self.scope,
            "response_type": "token",
            "redirect_uri": self.redirect_uri,
            "layout": "w",
            "state": state,
        }
        walk = _DialogWalk(self, origin)
        reply = await walk.get(authorize, query, "the authorize request")
        login_sent = False
        for _ in range(_MAX_STEPS):
            if reply.status in _REDIRECTS:
                target = _redirect_target(reply)
                if _same_endpoint(target, self.redirect_uri):
                    self._adopt_fragment(target, state)
                    self._authorized = True
                    return
                reply = await walk.get(target, None, "to follow a redirect")
                continue
            if reply.status != 200:
                raise AuthError(
                    f"OAuth dialog: unexpected HTTP {reply.status} from {_where(reply)}"
                )
            page = await _read_page(reply)
            forms = page.forms
            if any("captcha" in name.lower() for form in forms for name in form.names):
                raise AuthError(
                    "OAuth dialog: OK.ru asks for a captcha, which this flow cannot answer"
                )
            login_form = _find(forms, lambda f: "fr.password" in f.names)
            if login_form is not None:
                if login_sent:
                    raise AuthError(f"OAuth dialog: wrong login or password for {self.login!r}")
                fields = dict(login_form.fields)
                fields["fr.email"] = self.login
                fields["fr.password"] = self._passwd
                reply = await walk.submit(reply, login_form, fields, login=True)
                login_sent = True
                continue
            accept = _find(forms, lambda f: "button_accept_request" in f.buttons)
            if accept is not None:
                fields = dict(accept.fields)
                fields["button_accept_request"] = accept.buttons["button_accept_request"]
                reply = await walk.submit(reply, accept, fields, login=False)
                continue
            raise AuthError(
                f"OAuth dialog: unexpected page at {_where(reply)}: {page.text[:160]!r}"
            )
        raise AuthError(f"OAuth dialog: no redirect to the redirect URI after {_MAX_STEPS} steps")

    def _adopt_fragment(self, target: str, state: str) -> None:
        parts = urlsplit(target)
        values = {k: v[0] for k, v in parse_qs(parts.fragment or parts.query).items()}
        if "error" in values:
            raise AuthError(f"OAuth dialog: OK.ru answered error {values['error']!r}")
        if values.get("state") != state:
            raise AuthError("OAuth dialog: the redirect's state does not match the one sent")
        access_token = values.get("access_token", "")
        if not access_token:
            raise AuthError("OAuth dialog: the redirect carries no access_token")
        secret = values.get("session_secret_key", "")
        if self.pinned_circuit is Circuit.CLIENT and not secret:
            raise AuthError("OAuth dialog: the redirect carries no session_secret_key")
        self._set_tokens(
            access_token=access_token,
            session_secret_key=secret,
            refresh_token=values.get("refresh_token", ""),
            expires_in=parse_expires_in(values.get("expires_in")),
        )


class _DialogWalk:
    """HTTP hops of one dialog, all to one origin, with cookies kept per origin."""

    def __init__(self, session: TokenSession, origin: _Origin) -> None:
        self._transport = session._transport
        self._origin = origin
        #: origin -> cookie name -> (value, Secure)
        self._cookies: dict[_Origin, dict[str, tuple[str, bool]]] = {}

    async def get(self, target: str, query: dict[str, str] | None, purpose: str) -> HttpReply:
        return await self._hop("GET", self._pin(target, purpose), query=query)

    async def submit(
        self, page: HttpReply, form: Form, fields: dict[str, str], *, login: bool
    ) -> HttpReply:
        purpose = "to send the login form" if login else "to submit the dialog form"
        action = self._pin(_join(page, form.action.strip() or page.url, "form action"), purpose)
        if form.method == "POST":
            return await self._hop("POST", action, data=fields)
        if login:
            raise AuthError(
                f"OAuth dialog: refused to send the login form to {_describe(action)} with "
                "method GET, which puts the password in the URL; only a POST form is used"
            )
        return await self._hop("GET", action, query=fields)

    def _pin(self, target: str, purpose: str) -> URL:
        """``target`` as the URL to request, if it is on the trusted origin."""
        try:
            url = URL(target)
            origin = _origin_of(url)
        except ValueError:
            raise AuthError(f"OAuth dialog: refused {purpose}: malformed URL") from None
        if origin != self._origin:
            raise AuthError(
                f"OAuth dialog: refused {purpose} to {_describe(url)}: the dialog stays on "
                f"{_describe_origin(self._origin)}, the connect URL's scheme, host and port"
            )
        return url

    async def _hop(
        self,
        http_method: str,
        url: URL,
        *,
        query: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> HttpReply:
        origin = self._origin  # every URL here went through _pin
        jar = self._cookies.setdefault(origin, {})
        secure = origin[0] == "https"
        cookies = {name: value for name, (value, only) in jar.items() if secure or not only}
        where = _describe(url)
        try:
            return await self._transport.request(
                http_method,
                url,
                what=_WHAT,
                params=query,
                data=data,
                cookies=cookies or None,
                max_size=MAX_DIALOG_PAGE,
                on_cookies=lambda received: _keep_cookies(jar, received),
            )
        except ReplyTooLarge:
            raise AuthError(
                f"OAuth dialog: the page at {where} is larger than {MAX_DIALOG_PAGE} bytes, "
                "the most a dialog page may have"
            ) from None
        except UnsendableRequest:
            raise AuthError(f"{_WHAT}: cannot send the request to {where}") from None


def _keep_cookies(jar: dict[str, tuple[str, bool]], cookies: SimpleCookie) -> None:
    for name, morsel in cookies.items():
        try:
            expired = bool(morsel["max-age"]) and int(morsel["max-age"]) <= 0
        except ValueError:
            expired = False
        if expired:
            jar.pop(name, None)
        else:
            jar[name] = (morsel.value, bool(morsel["secure"]))


def _parse(body: bytes) -> Page:
    from .dialog import parse_page

    return parse_page(body.decode("utf-8", "replace"))


async def _read_page(reply: HttpReply) -> Page:
    """The page's forms and text, parsed in a worker thread (the loop keeps running)."""
    try:
        return await asyncio.to_thread(_parse, reply.body)
    except Exception as exc:  # whatever a hostile page makes the parser trip on
        raise AuthError(
            f"OAuth dialog: cannot read the page at {_where(reply)}: {type(exc).__name__}"
        ) from exc


def _origin_of(url: URL) -> _Origin | None:
    """(scheme, host, port) of an absolute http(s) URL without user info; else None."""
    scheme, host, port = url.scheme.lower(), url.raw_host, url.port
    if scheme not in ("http", "https") or not host or port is None:
        return None
    if url.raw_user is not None or url.raw_password is not None:
        return None
    return scheme, host.lower(), port


def _trusted_origin(connect_url: str) -> _Origin:
    """The one origin the dialog may use: the connect URL's scheme, host and port."""
    try:
        origin = _origin_of(URL(connect_url))
    except ValueError:
        origin = None
    if origin is None:
        raise AuthError(
            "OAuth dialog: connect_url must be an absolute http(s) URL without user info"
        )
    return origin


def _describe_origin(origin: _Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _describe(url: URL) -> str:
    """scheme://host:port/path of a URL: no user info, query or fragment."""
    host, port = url.raw_host, url.port
    if not url.scheme or not host:
        return f"{url.scheme}:{url.raw_path}"[:200] if url.scheme else "a relative URL"
    origin = f"[{host}]" if ":" in host else host
    if port is not None:
        origin += f":{port}"
    return f"{url.scheme.lower()}://{origin}{url.raw_path}"[:300]


def _join(page: HttpReply, reference: str, what: str) -> str:
    try:
        target = urljoin(page.url, reference)
        urlsplit(target).port  # noqa: B018 - raises ValueError on a bad port or IPv6 literal
    except ValueError:
        raise AuthError(f"OAuth dialog: malformed {what} on {_where(page)}") from None
    return target


def _redirect_target(reply: HttpReply) -> str:
    location = reply.headers.get("Location", "").strip()
    if not location:
        raise AuthError(
            f"OAuth dialog: HTTP {reply.status} redirect without a Location from {_where(reply)}"
        )
    return _join(reply, location, f"Location in the HTTP {reply.status} redirect")


def _find(forms: list[Form], test: Callable[[Form], bool]) -> Form | None:
    return next((form for form in forms if test(form)), None)


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    a, b = urlsplit(url), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _where(reply: HttpReply) -> str:
    try:
        return _describe(URL(reply.url))
    except ValueError:
        return "the dialog"


class ImplicitClientSession(ImplicitSession):
    """Implicit flow; calls signed with the session secret key from the redirect."""

    pinned_circuit = Circuit.CLIENT

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        login: str,
        passwd: str,
        scope: str | Iterable[str],
        redirect_uri: str | None = None,
        **settings: Unpack[SessionSettings],
    ) -> None:
        super().__init__(app_id, app_key, "", login, passwd, scope, redirect_uri, **settings)


class ImplicitServerSession(ImplicitSession):
    """Implicit flow; calls signed with md5(access_token + app secret key)."""

    pinned_circuit = Circuit.SERVER
