"""Implicit flow: the OAuth dialog walked as a browser would walk it.

``GET {connect_url}/oauth/authorize`` with ``response_type=token``, then the
login form (``fr.email``, ``fr.password``, every other input kept), then the
permissions form (submitted with ``button_accept_request``), following
redirects and keeping cookies per host. The walk stops at the redirect to the
redirect URI and reads the token from its fragment; the redirect URI itself
is never fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urljoin, urlsplit

from typing_extensions import Unpack

from ..errors import AuthError
from ..signing import Circuit
from ..transport import HttpReply
from .base import TokenSession
from .oauth import join_scope, new_state, parse_expires_in
from .settings import SessionSettings

if TYPE_CHECKING:
    from .dialog import Form

__all__ = ["ImplicitClientSession", "ImplicitServerSession", "ImplicitSession"]

_MAX_STEPS = 12
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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
        # The HTML parser is loaded only by sessions that walk the dialog.
        from .dialog import page_text, parse_forms

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
        walk = _DialogWalk(self)
        reply = await walk.get(authorize, query)
        login_sent = False
        for _ in range(_MAX_STEPS):
            if reply.status in _REDIRECTS:
                target = urljoin(reply.url, reply.headers.get("Location", ""))
                if _same_endpoint(target, self.redirect_uri):
                    self._adopt_fragment(target, state)
                    self._authorized = True
                    return
                reply = await walk.get(target, None)
                continue
            if reply.status != 200:
                raise AuthError(
                    f"OAuth dialog: unexpected HTTP {reply.status} from {_where(reply)}"
                )
            html = reply.body.decode("utf-8", "replace")
            forms = parse_forms(html)
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
                reply = await walk.submit(reply, login_form, fields)
                login_sent = True
                continue
            accept = _find(forms, lambda f: "button_accept_request" in f.buttons)
            if accept is not None:
                fields = dict(accept.fields)
                fields["button_accept_request"] = accept.buttons["button_accept_request"]
                reply = await walk.submit(reply, accept, fields)
                continue
            raise AuthError(
                f"OAuth dialog: unexpected page at {_where(reply)}: {page_text(html)[:160]!r}"
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
    """HTTP hops of one dialog, with cookies kept per host."""

    def __init__(self, session: TokenSession) -> None:
        self._transport = session._transport
        self._cookies: dict[str, dict[str, str]] = {}

    async def get(self, url: str, query: dict[str, str] | None) -> HttpReply:
        return await self._hop("GET", url, query=query)

    async def submit(self, page: HttpReply, form: Form, fields: dict[str, str]) -> HttpReply:
        action = urljoin(page.url, form.action or page.url)
        if form.method == "POST":
            return await self._hop("POST", action, data=fields)
        return await self._hop("GET", action, query=fields)

    async def _hop(
        self,
        http_method: str,
        url: str,
        *,
        query: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> HttpReply:
        host = urlsplit(url).netloc
        jar = self._cookies.setdefault(host, {})
        reply = await self._transport.request(
            http_method,
            url,
            what="OAuth dialog",
            params=query,
            data=data,
            cookies=jar,
        )
        jar.update(reply.cookies)
        return reply


def _find(forms: list[Form], test: Callable[[Form], bool]) -> Form | None:
    return next((form for form in forms if test(form)), None)


def _same_endpoint(url: str, redirect_uri: str) -> bool:
    a, b = urlsplit(url), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def _where(reply: HttpReply) -> str:
    return urlsplit(reply.url)._replace(query="", fragment="").geturl()


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
