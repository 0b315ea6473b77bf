"""The OK.ru emulator: one aiohttp web server that plays both OK.ru hosts.

``emu.url`` serves the API host (``/fb.do``, ``/api/<group>/<method>``,
``/oauth/token.do``, ``/blank.html``) and the connect host (``/oauth/authorize``
and the ``/dk`` dialog pages). Every request goes through
:meth:`OkEmulator._handle`, which records it and then routes it; that single
path is where fault injection plugs in (``emu.faults``, see :mod:`.faults`).

API checks run in the order the real server applies them: application key
(101), method (3), session and signature (103/102/104), session mode
(453/451), required parameters (100). API errors are sent with HTTP 200, the
JSON error body and an ``invocation-error`` header.
"""

from __future__ import annotations

import inspect
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from ..batch import MAX_BATCH_CALLS
from ..signing import Circuit, server_secret, sign_params, sign_params_with_session_key
from . import methods as _methods
from . import oauth as _oauth
from .batch import register_batch
from .faults import FaultInjector
from .paging import PagedLists
from .responses import JSON_CONTENT_TYPE, api_error_response, json_response, read_params
from .state import (
    App,
    AuthCode,
    Dialog,
    EmulatorError,
    MethodCall,
    MethodHandler,
    MethodSpec,
    RecordedRequest,
    RefreshGrant,
    SessionMode,
    Token,
    User,
    new_access_token,
    new_secret_key,
)
from .uploads import UPLOAD_PATH_PREFIX, UploadServer

__all__ = [
    "DEMO_APP_ID",
    "DEMO_APP_KEY",
    "DEMO_APP_SECRET_KEY",
    "DEMO_FRIEND_UID",
    "DEMO_LOGIN",
    "DEMO_PASSWORD",
    "DEMO_UID",
    "JSON_CONTENT_TYPE",
    "OkEmulator",
]

DEMO_APP_ID = "512000384123"
DEMO_APP_KEY = "CBAFJIICABABABABA"
DEMO_APP_SECRET_KEY = "0123456789ABCDEF0123456789ABCDEF"
DEMO_LOGIN = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_UID = "575662066926"
DEMO_FRIEND_UID = "575662066927"

_DEFAULT_LIFETIME = 1800
#: ``LONG_ACCESS_TOKEN`` makes a token live 30 days
_LONG_LIFETIME = 30 * 24 * 3600
_CODE_LIFETIME = 600.0


class OkEmulator:
    """An in-process OK.ru server for tests and demos (loopback only by default).

    It serves every catalogued method (each answers its catalogue example,
    after OK.ru's checks), as ``python -m okru_sdk.testing`` does;
    ``catalogue=False`` gives one with only the built-in methods, for tests
    that register their own. State (apps, users, tokens) can be added before
    or after :meth:`start`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: int = _DEFAULT_LIFETIME,
        clock: Callable[[], float] = time.time,
        catalogue: bool = True,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        #: lifetime (seconds) of tokens minted by token.do and the dialog
        self.token_lifetime = token_lifetime
        #: the emulator's clock for token expiry; replace it to move time forward
        self.clock = clock
        self.apps: dict[str, App] = {}  # by application_key
        self.users: dict[str, User] = {}  # by uid
        self.tokens: dict[str, Token] = {}  # by access_token
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.codes: dict[str, AuthCode] = {}
        self.dialogs: dict[str, Dialog] = {}  # by cookie value
        self._methods: dict[str, MethodSpec] = {}  # by lower-case name
        #: every request received, in order
        self.requests: list[RecordedRequest] = []
        #: how many times ``/blank.html`` was fetched (a correct client never does)
        self.blank_hits = 0
        #: how many times each API method's handler actually ran, by registered name
        #: (requests stopped by a check or by a fault are not counted)
        self.handled: Counter[str] = Counter()
        #: fault injection: ``emu.faults.add(Fault.http(502), times=2)``
        self.faults = FaultInjector(self)
        #: the lists pageable methods page through (see :meth:`set_list`)
        self.lists = PagedLists()
        #: most calls one ``batch.execute`` takes (OK.ru documents none; 1200 above it)
        self.max_batch_calls = MAX_BATCH_CALLS
        _methods.register_builtins(self)
        register_batch(self)  # batch.execute runs its calls for real (see .batch)
        #: upload URLs that work and what arrived: ``emu.uploads.videos[video_id].sha256``
        self.uploads = UploadServer(self)
        self.uploads.register()
        if catalogue:
            from .catalogue import register_catalogue

            register_catalogue(self)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind ``host:port`` (a random free port by default) and serve."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        webapp = web.Application(client_max_size=64 * 1024 * 1024)
        webapp.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(webapp, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self.faults._open()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        # after a stop, come back on the same port so that clients keep working
        port = self._requested_port or self._port or 0
        try:
            if port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = sock.getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving; state is kept, and a later :meth:`start` reuses the same port.

        Requests held by a :meth:`Fault.hang <.faults.Fault.hang>` or a delay are
        disconnected at once, so this does not wait for them.
        """
        runner, self._runner = self._runner, None
        # hung and delayed requests are dropped first, so the shutdown does not wait for them
        self.faults._close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> OkEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator has not been started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------------ state

    def add_app(
        self,
        app_id: str | None = None,
        app_key: str | None = None,
        app_secret_key: str | None = None,
        public_code_exchange: bool = False,
        *,
        name: str = "Test application",
        redirect_uris: Iterable[str] | None = None,
    ) -> App:
        """Register an application; missing keys are generated."""
        app = App(
            app_id=app_id or str(512_000_000_000 + secrets.randbelow(999_999_999)),
            app_key=app_key or "CB" + secrets.token_hex(8).upper(),
            app_secret_key=app_secret_key or secrets.token_hex(16).upper(),
            public_code_exchange=public_code_exchange,
            name=name,
            redirect_uris=tuple(redirect_uris) if redirect_uris is not None else None,
        )
        if app.app_key in self.apps:
            raise ValueError(f"an app with key {app.app_key!r} exists already")
        if self.app_by_id(app.app_id) is not None:
            raise ValueError(f"an app with id {app.app_id!r} exists already")
        self.apps[app.app_key] = app
        return app

    def app_by_id(self, app_id: str) -> App | None:
        for app in self.apps.values():
            if app.app_id == app_id:
                return app
        return None

    def add_user(
        self,
        login: str | None = None,
        password: str = "password",
        uid: str | None = None,
        first_name: str = "Test",
        last_name: str = "User",
        captcha: bool = False,
        *,
        gender: str = "female",
        birthday: str = "1990-05-04",
        locale: str = "ru",
        city: str = "Москва",
        friends: Iterable[User | str] = (),
        **extra: Any,
    ) -> User:
        """Add a user. ``extra`` keyword arguments become extra profile fields."""
        uid = uid or str(570_000_000_000 + secrets.randbelow(9_999_999_999))
        if uid in self.users:
            raise ValueError(f"a user with uid {uid!r} exists already")
        user = User(
            uid=uid,
            login=login or f"user{uid}@example.com",
            password=password,
            first_name=first_name,
            last_name=last_name,
            gender=gender,
            birthday=birthday,
            locale=locale,
            city=city,
            captcha=captcha,
            extra=dict(extra),
        )
        self.users[uid] = user
        for friend in friends:
            self.make_friends(user, friend)
        return user

    def make_friends(self, a: User | str, b: User | str) -> None:
        """Make two users (objects or uids) friends of each other."""
        ua, ub = self._user(a), self._user(b)
        if ub.uid not in ua.friends:
            ua.friends.append(ub.uid)
        if ua.uid not in ub.friends:
            ub.friends.append(ua.uid)

    def _user(self, user: User | str) -> User:
        if isinstance(user, User):
            return user
        try:
            return self.users[user]
        except KeyError:
            raise KeyError(f"no user with uid {user!r}") from None

    def find_user(self, login: str) -> User | None:
        """The user whose login (case-insensitive) or uid is ``login``."""
        wanted = login.strip().lower()
        for user in self.users.values():
            if user.login.lower() == wanted or user.uid == wanted:
                return user
        return None

    def lifetime_for(self, scopes: Iterable[str]) -> int:
        """Token lifetime for a grant: 30 days with ``LONG_ACCESS_TOKEN``."""
        return _LONG_LIFETIME if "LONG_ACCESS_TOKEN" in scopes else self.token_lifetime

    def issue_token(
        self,
        app: App,
        user: User,
        scopes: Iterable[str] = ("VALUABLE_ACCESS",),
        expires_in: int | None = _DEFAULT_LIFETIME,
        refresh: bool = True,
        *,
        refresh_token: str | None = None,
    ) -> Token:
        """Mint an access token; ``expires_in=None`` never expires.

        ``refresh=True`` also mints a refresh token (unless ``refresh_token``
        names an existing one to attach).
        """
        scope_tuple = tuple(scopes)
        if refresh_token is None and refresh:
            refresh_token = f"{user.uid}_{secrets.token_hex(16)}_{secrets.token_hex(5)}"
            self.refresh_grants[refresh_token] = RefreshGrant(
                refresh_token=refresh_token, app=app, user=user, scopes=scope_tuple
            )
        token = Token(
            access_token=new_access_token(),
            session_secret_key=new_secret_key(),
            app=app,
            user=user,
            scopes=scope_tuple,
            expires_in=expires_in,
            refresh_token=refresh_token,
            expires_at=None if expires_in is None else self.clock() + expires_in,
        )
        self.tokens[token.access_token] = token
        return token

    def issue_code(
        self,
        app: App,
        user: User,
        redirect_uri: str,
        scopes: Iterable[str] = ("VALUABLE_ACCESS",),
    ) -> str:
        """Mint a one-time authorization code for ``oauth/token.do``."""
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            code=code,
            app=app,
            user=user,
            redirect_uri=redirect_uri,
            scopes=tuple(scopes),
            expires_at=self.clock() + _CODE_LIFETIME,
        )
        return code

    def expire_token(self, access_token: str) -> None:
        """Make a token expired; calls with it then get error 102."""
        try:
            self.tokens[access_token].revoked = True
        except KeyError:
            raise KeyError("unknown access token") from None

    def get_token(self, access_token: str) -> Token | None:
        return self.tokens.get(access_token)

    def clear_requests(self) -> None:
        self.requests.clear()

    def register_method(
        self,
        name: str,
        handler: MethodHandler,
        session: SessionMode = "optional",
        required_params: Iterable[str] = (),
        unsigned: bool = False,
    ) -> None:
        """Add (or replace) an API method; names are matched case-insensitively."""
        if session not in ("required", "optional", "prohibited"):
            raise ValueError(f"bad session mode {session!r}")
        self._methods[name.lower()] = MethodSpec(
            name=name,
            handler=handler,
            session=session,
            required_params=tuple(required_params),
            unsigned=unsigned,
        )

    def set_list(self, method: str, items: Iterable[Any], **where: object) -> None:
        """Page through ``items`` for a method the catalogue declares pageable.

        ``emu.set_list("group.getMembers", members, uid=gid)``: calls whose
        parameters have the ``where`` values (wire names) get ``items`` one page
        at a time, with real anchors (or offsets), ``has_more`` and totals, in
        the method's own convention; other calls answer the catalogue example.
        Setting a list again for the same ``where`` replaces it.
        """
        self.lists.set(method, items, where)

    def method_spec(self, name: str) -> MethodSpec | None:
        return self._methods.get(name.lower())

    def seed_demo(self) -> tuple[App, User]:
        """Add (once) the demo app and demo user used by ``python -m okru_sdk.testing``."""
        app = self.apps.get(DEMO_APP_KEY)
        if app is None:
            app = self.add_app(
                app_id=DEMO_APP_ID,
                app_key=DEMO_APP_KEY,
                app_secret_key=DEMO_APP_SECRET_KEY,
                name="okru-sdk demo",
            )
        user = self.users.get(DEMO_UID)
        if user is None:
            user = self.add_user(
                login=DEMO_LOGIN,
                password=DEMO_PASSWORD,
                uid=DEMO_UID,
                first_name="Алиса",
                last_name="Демидова",
            )
            friend = self.users.get(DEMO_FRIEND_UID) or self.add_user(
                login="bob@example.com",
                password="bob-password",
                uid=DEMO_FRIEND_UID,
                first_name="Борис",
                last_name="Петров",
                gender="male",
                birthday="1987-11-23",
            )
            self.make_friends(user, friend)
        return app, user

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """The single entry point of every request: record, intercept, route."""
        if request.path.startswith(UPLOAD_PATH_PREFIX):
            # upload bodies are streamed by the upload server, never parsed as a form
            return await self.uploads.handle(request)
        params = await read_params(request)
        record = RecordedRequest(
            path=request.path,
            http_method=request.method,
            params=params,
            method=None,
            circuit=None,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
        )
        self.requests.append(record)
        intercepted = await self._intercept(request, record)
        if intercepted is not None:
            return intercepted
        return await self._route(request, params, record)

    async def _intercept(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse | None:
        """Fault injection: a response short-circuits the request (see :mod:`.faults`)."""
        return await self.faults.intercept(request, record)

    async def _route(
        self, request: web.Request, params: dict[str, str], record: RecordedRequest
    ) -> web.StreamResponse:
        path = request.path
        if path == "/fb.do":
            return await self._api(request, params, record, params.get("method"))
        if path.startswith("/api/"):
            parts = path[len("/api/") :].strip("/").split("/")
            if len(parts) == 2 and all(parts):
                return await self._api(request, params, record, ".".join(parts))
        if path == "/oauth/token.do":
            return _oauth.token_endpoint(self, request, params)
        if path == "/oauth/authorize":
            return _oauth.authorize(self, request, params)
        if path == "/dk":
            return _oauth.dialog(self, request, params)
        if path == "/blank.html":
            self.blank_hits += 1
            return _oauth.blank_page()
        return web.Response(status=404, text="404 Not Found", content_type="text/plain")

    async def _api(
        self,
        request: web.Request,
        params: dict[str, str],
        record: RecordedRequest,
        method_name: str | None,
    ) -> web.StreamResponse:
        record.method = method_name
        try:
            result = await self._invoke(request, params, record, method_name)
        except EmulatorError as error:
            return api_error_response(error)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            # void methods (video.update, ...) answer with an empty body
            return web.Response(body=b"", headers={"Content-Type": JSON_CONTENT_TYPE})
        return json_response(result)

    async def _invoke(
        self,
        request: web.Request,
        params: dict[str, str],
        record: RecordedRequest,
        method_name: str | None,
    ) -> Any:
        app_key = params.get("application_key")
        if not app_key:
            raise EmulatorError(101, "PARAM_API_KEY : No application key")
        app = self.apps.get(app_key)
        if app is None:
            raise EmulatorError(101, "PARAM_API_KEY : Application not exist")
        if not method_name:
            raise EmulatorError(3, "METHOD : No method specified")
        spec = self.method_spec(method_name)
        if spec is None:
            raise EmulatorError(3, f"METHOD : Method {method_name} does not exist")
        token, circuit = self._authenticate(app, params, spec)
        record.circuit = circuit
        return await self.dispatch(
            spec, params, app=app, token=token, circuit=circuit, request=request
        )

    async def dispatch(
        self,
        spec: MethodSpec,
        params: dict[str, str],
        *,
        app: App,
        token: Token | None,
        circuit: Circuit | None,
        request: web.Request,
    ) -> Any:
        """Run one method for a caller already authenticated: the steps after the signature.

        Checks the session mode (453/451) and the required parameters (100),
        then calls the handler. ``batch.execute`` runs each of its calls here.
        """
        if spec.session == "required" and token is None:
            raise EmulatorError(453, "SESSION_REQUIRED : Session key is required for this method")
        if spec.session == "prohibited" and token is not None:
            raise EmulatorError(451, "NOT_SESSION_METHOD : Method must be called without a session")
        for name in spec.required_params:
            if not params.get(name):
                raise EmulatorError(100, f"PARAM : Missing required parameter {name}")
        call = MethodCall(
            method=spec.name,
            params=params,
            app=app,
            user=token.user if token is not None else None,
            token=token,
            circuit=circuit,
            emulator=self,
            request=request,
        )
        self.handled[spec.name] += 1
        result = spec.handler(call)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _session_token(self, app: App, key: str) -> Token:
        token = self.tokens.get(key)
        if token is None or token.app is not app:
            raise EmulatorError(103, "PARAM_SESSION_KEY : Invalid session key")
        if token.is_expired(self.clock()):
            raise EmulatorError(102, "PARAM_SESSION_EXPIRED : Session expired")
        return token

    def _authenticate(
        self, app: App, params: dict[str, str], spec: MethodSpec
    ) -> tuple[Token | None, Circuit | None]:
        """Resolve the session and check ``sig``; returns (token, circuit)."""
        sig = params.get("sig")
        sig = sig.lower() if sig else None
        key = params.get("access_token")
        if key is None:
            # a legacy session_key is a session too (and is itself signed)
            key = params.get("session_key") or None
        if key is not None:
            token = self._session_token(app, key)
            if sig is None:
                if spec.unsigned:
                    return token, None
                raise EmulatorError(104, "PARAM_SIGNATURE : No signature specified")
            if _signed_by(sig, params, server_secret(key, app.app_secret_key)):
                return token, Circuit.SERVER
            if _signed_by(sig, params, token.session_secret_key):
                return token, Circuit.CLIENT
            raise EmulatorError(104, "PARAM_SIGNATURE : Invalid signature")

        if sig is None:
            if spec.unsigned:
                return None, None
            raise EmulatorError(104, "PARAM_SIGNATURE : No signature specified")
        if _signed_by(sig, params, app.app_secret_key):
            return None, Circuit.APPLICATION
        # a client-server signature with no token in the request: find the session by its secret
        now = self.clock()
        matched_expired = False
        for token in self.tokens.values():
            if token.app is app and _signed_by(sig, params, token.session_secret_key):
                if not token.is_expired(now):
                    return token, Circuit.CLIENT
                matched_expired = True
        if matched_expired:
            raise EmulatorError(102, "PARAM_SESSION_EXPIRED : Session expired")
        raise EmulatorError(104, "PARAM_SIGNATURE : Invalid signature")


def _signed_by(sig: str, params: dict[str, str], secret: str) -> bool:
    """Whether ``sig`` signs ``params`` with ``secret``.

    A legacy ``session_key`` is accepted both left out of the signature (the
    current OK.ru text) and signed (OK.ru's JS SDK), as the SDK can do either.
    """
    if sig == sign_params(params, secret):
        return True
    return "session_key" in params and sig == sign_params_with_session_key(params, secret)
