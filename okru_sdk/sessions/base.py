"""TokenSession: credentials, circuit choice, signing and one API request.

Every session class derives from :class:`TokenSession`. The token sessions
(``TokenSession``, ``ClientSession``, ``ServerSession``) are usable at once;
the grant-flow sessions obtain their token in :meth:`TokenSession.authorize`,
which ``async with`` runs on entry and the first API call runs otherwise.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import ipaddress
import logging
import math
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, TypeVar, overload
from urllib.parse import urlsplit

import aiohttp
from typing_extensions import Self

from ..encoding import encode_params
from ..errors import APIError, AuthError, OkError, RequestTimeout, TransportError
from ..ratelimit import RateLimitSetting
from ..redact import redact_body, redact_params, scrub, secret_values
from ..retry import DEFAULT_RETRY, RetryPolicy
from ..signing import (
    JS_SDK_UNSIGNED_KEYS,
    UNSIGNED_KEYS,
    Circuit,
    application_secret,
    client_secret,
    server_secret,
    signature_of,
    signed_pairs,
)
from ..tokens import DEFAULT_TOKEN_STORE, Tokens, TokensCallback, TokenStore, check_expires_at
from ..transport import DEFAULT_MAX_REPLY_SIZE, HttpReply, HttpTransport, form_text

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_CONNECT_URL",
    "DEFAULT_TIMEOUT",
    "SessionMode",
    "TokenSession",
    "check_seconds",
    "check_url",
]

DEFAULT_API_URL = "https://api.ok.ru"
DEFAULT_CONNECT_URL = "https://connect.ok.ru"
#: seconds one HTTP attempt may take
DEFAULT_TIMEOUT = 30.0
#: the longest query a retry-safe call is sent as a GET with (characters, percent-encoded);
#: longer ones POST, well inside the URL limits of servers and proxies
MAX_GET_QUERY = 1500
#: OK.ru's "session expired" code: renew the token once and repeat the call
SESSION_EXPIRED = 102

log = logging.getLogger("okru_sdk")

T = TypeVar("T")


def check_seconds(value: Any, name: str) -> float:
    """``value`` as seconds, or ``ValueError``: a positive, finite number.

    aiohttp reads 0, negative and NaN timeouts as "wait forever", so they are
    refused rather than passed on; an explicit ``None`` never means "no limit".
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    seconds = float(value)
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return seconds


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, name: str, *, allow_insecure_http: bool) -> str:
    """``url`` without a trailing slash; refuse plain http to anything but loopback.

    Tokens, secret keys and passwords travel to these URLs, so cleartext is
    allowed only for tests on 127.0.0.1 / ::1 / localhost, or when the caller
    says ``allow_insecure_http=True``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{name} must be an https:// URL with a host, got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"{name} {url!r} is plain http to a host that is not loopback: credentials would "
            "travel in cleartext; use https, or pass allow_insecure_http=True if you must"
        )
    return url.rstrip("/")


def _consume(task: asyncio.Future[Any]) -> None:
    # A shared attempt whose waiters all gave up still ends; read its outcome so
    # asyncio does not warn about an exception nobody retrieved.
    if not task.cancelled():
        task.exception()


class SessionMode(enum.Enum):
    """Whether a method needs, allows or forbids a user session (catalogue term)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    PROHIBITED = "prohibited"


class TokenSession:
    """A session holding an access token (and the keys to sign with it).

    By default the circuit is inferred from the keys given:

    - ``app_secret_key`` and ``access_token`` non-empty -> server-server;
    - else ``session_secret_key`` non-empty -> client-server;
    - else :class:`~okru_sdk.AuthError` at construction.

    :class:`ServerSession` and :class:`ClientSession` pin the circuit.
    """

    #: a pinned circuit; ``None`` means "infer from the keys"
    pinned_circuit: ClassVar[Circuit | None] = None
    #: grant-flow sessions obtain their token in ``authorize()``
    needs_authorization: ClassVar[bool] = False

    def __init__(
        self,
        app_id: str | int,
        app_key: str,
        app_secret_key: str = "",
        access_token: str = "",
        session_secret_key: str = "",
        *,
        api_url: str = DEFAULT_API_URL,
        connect_url: str = DEFAULT_CONNECT_URL,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        reauthorize: bool = False,
        rate_limit: RateLimitSetting | None = None,
        max_connections: int = 100,
        http: aiohttp.ClientSession | None = None,
        max_reply_size: int = DEFAULT_MAX_REPLY_SIZE,
        allow_insecure_http: bool = False,
        sign_session_key: bool = False,
        get_reads: bool = True,
        refresh_token: str = "",
        expires_at: float | datetime | None = None,
        on_tokens: TokensCallback | None = None,
        token_store: TokenStore | None = None,
        token_key: str | None = None,
    ) -> None:
        timeout = check_seconds(timeout, "timeout")
        if not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        if not isinstance(refresh_token, str):
            raise TypeError(f"refresh_token must be a str, got {type(refresh_token).__name__}")
        if on_tokens is not None and not callable(on_tokens):
            raise TypeError(
                f"on_tokens must be a callable taking Tokens, got {type(on_tokens).__name__}"
            )
        if token_key is not None and (not isinstance(token_key, str) or not token_key):
            raise ValueError(f"token_key must be a non-empty str, got {token_key!r}")
        if token_store is not None:
            if token_key is None:
                raise ValueError(
                    "token_store needs token_key: the key under which this session's "
                    "tokens are kept (one per application and user)"
                )
            if not isinstance(token_store, TokenStore):
                raise TypeError(
                    "token_store must have async load(key), async save(key, tokens) and "
                    f"lock(key) (the TokenStore protocol), got {type(token_store).__name__}"
                )
        self.app_id = str(app_id)
        self.app_key = app_key
        self._app_secret_key = app_secret_key
        self._access_token = access_token
        self._session_secret_key = session_secret_key
        self._refresh_token = refresh_token
        self.expires_at: float | None = check_expires_at(expires_at)
        self._on_tokens = on_tokens
        #: where the tokens are kept beyond this session (``None``: only here)
        self.token_store: TokenStore | None = (
            None
            if token_key is None
            else (DEFAULT_TOKEN_STORE if token_store is None else token_store)
        )
        self.token_key = token_key
        #: bumped whenever the tokens change, so a waiter can tell a renewal happened
        self._generation = 0
        self.api_url = check_url(api_url, "api_url", allow_insecure_http=allow_insecure_http)
        self.connect_url = check_url(
            connect_url, "connect_url", allow_insecure_http=allow_insecure_http
        )
        #: sign a legacy ``session_key`` parameter as OK.ru's JS SDK does (the
        #: current OK.ru text leaves it out of the signature, as with access_token)
        self.sign_session_key = sign_session_key
        #: retry-safe calls go as GET with short queries (see ``_send``); False: always POST
        self.get_reads = get_reads
        self.retry = retry
        #: grant-flow sessions without a refresh token sign in again on 102 when true
        self.reauthorize = reauthorize
        self._transport = HttpTransport(
            timeout=float(timeout),
            http=http,
            max_connections=max_connections,
            rate_limit=rate_limit,
            max_reply_size=max_reply_size,
        )
        self._fb_do = self.api_url + "/fb.do"
        self._signing_secret: str | None = None
        self._authorized = not self.needs_authorization
        #: signed in and the token store read: calls may go
        self._ready = self._authorized and self.token_store is None
        #: the one sign-in / renewal in flight; every concurrent caller awaits it
        self._auth_task: asyncio.Future[None] | None = None
        self._renew_task: asyncio.Future[None] | None = None
        if self._authorized:
            self._signing_secret = self._secret_for(self.circuit)

    # -- token state (readable, never printed) ---------------------------------

    @property
    def access_token(self) -> str:
        return self._access_token

    @property
    def session_secret_key(self) -> str:
        return self._session_secret_key

    @property
    def refresh_token(self) -> str:
        return self._refresh_token

    @property
    def app_secret_key(self) -> str:
        return self._app_secret_key

    @property
    def tokens(self) -> Tokens:
        """The tokens held now, as :class:`~okru_sdk.tokens.Tokens` (secret material)."""
        return Tokens(
            access_token=self._access_token,
            refresh_token=self._refresh_token,
            session_secret_key=self._session_secret_key,
            expires_at=self.expires_at,
        )

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    @property
    def authorized(self) -> bool:
        return self._authorized

    def _set_tokens(
        self,
        *,
        access_token: str,
        session_secret_key: str = "",
        refresh_token: str = "",
        expires_in: float | None = None,
    ) -> None:
        self._access_token = access_token
        self._session_secret_key = session_secret_key
        if refresh_token:
            self._refresh_token = refresh_token
        self.expires_at = None if expires_in is None else time.time() + expires_in
        self._signing_secret = self._secret_for(self.circuit)
        self._generation += 1

    def _adopt(self, tokens: Tokens) -> None:
        """Hold ``tokens`` read from the token store (another session obtained them)."""
        self._access_token = tokens.access_token
        self._session_secret_key = tokens.session_secret_key
        if tokens.refresh_token:
            self._refresh_token = tokens.refresh_token
        self.expires_at = tokens.expires_at
        self._signing_secret = self._secret_for(self.circuit)
        self._generation += 1

    def _usable(self, tokens: Tokens | None) -> bool:
        """Whether stored ``tokens`` can serve calls (now, or after a renewal)."""
        if tokens is None or not tokens.access_token:
            return False
        return not tokens.expired() or bool(tokens.refresh_token or self._refresh_token)

    # -- circuit ---------------------------------------------------------------

    @property
    def circuit(self) -> Circuit:
        """The circuit user-session calls are signed with."""
        pinned = self.pinned_circuit
        if pinned is not None:
            return pinned
        if self._app_secret_key and self._access_token:
            return Circuit.SERVER
        if self._session_secret_key:
            return Circuit.CLIENT
        raise AuthError(
            f"{type(self).__name__}: cannot choose a signature circuit: give app_secret_key "
            "and access_token (server-server) or session_secret_key (client-server)"
        )

    def _secret_for(self, circuit: Circuit) -> str:
        name = type(self).__name__
        if circuit is Circuit.SERVER:
            if not (self._app_secret_key and self._access_token):
                raise AuthError(
                    f"{name}: the server-server circuit needs app_secret_key and access_token"
                )
            return server_secret(self._access_token, self._app_secret_key)
        if circuit is Circuit.CLIENT:
            if not self._session_secret_key:
                raise AuthError(f"{name}: the client-server circuit needs session_secret_key")
            return client_secret(self._session_secret_key)
        if not self._app_secret_key:
            raise AuthError(f"{name}: the session-less circuit needs app_secret_key")
        return application_secret(self._app_secret_key)

    # -- lifecycle ---------------------------------------------------------------

    async def authorize(self) -> None:
        """Obtain the access token (grant-flow sessions); a no-op for token sessions."""
        self._authorized = True

    async def _sign_in(self) -> None:
        """First use: read the token store, and sign in when the session must.

        A grant-flow session signs in under the store's lock for its key, after
        reading the store again: a sign-in another session or process already
        made is used instead (a code, for one, is good for one exchange only).
        """
        store, key = self.token_store, self.token_key
        # a grant-flow session whose authorize() the caller ran directly
        signed_in = self.needs_authorization and self._authorized
        if store is None or key is None:
            if not self._authorized:
                await self.authorize()
                signed_in = True
        elif signed_in:
            async with store.lock(key):
                await store.save(key, self.tokens)
        else:
            stored = await store.load(key)
            if self._usable(stored):
                assert stored is not None
                self._adopt(stored)
            elif not self._authorized:
                async with store.lock(key):
                    stored = await store.load(key)
                    if self._usable(stored):
                        assert stored is not None
                        self._adopt(stored)
                    else:
                        await self.authorize()
                        await store.save(key, self.tokens)
                        signed_in = True
        self._authorized = True
        self._ready = True
        if signed_in:
            await self._report_tokens()

    async def _ensure_authorized(self, deadline: float | None = None) -> None:
        if self._ready:
            return
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.retry.total_timeout
        await self._single_flight("_auth_task", self._sign_in, deadline, "signing in")

    async def _single_flight(
        self, slot: str, attempt: Callable[[], Awaitable[None]], deadline: float, what: str
    ) -> None:
        """Join the attempt in flight in ``slot`` (or start one) and share its outcome.

        Every concurrent caller gets the one attempt's result, its error
        included, so ten calls on a bad password send one login, not ten.
        Each caller waits only until its own ``deadline``; the attempt itself
        goes on for the others (it is bounded by the session's timeout).
        """
        task: asyncio.Future[None] | None = getattr(self, slot)
        if task is None or task.done():
            self._transport.check_open()
            task = asyncio.ensure_future(attempt())
            task.add_done_callback(_consume)
            setattr(self, slot, task)
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise RequestTimeout(f"{type(self).__name__}: the deadline passed before {what}")
        try:
            await asyncio.wait_for(asyncio.shield(task), remaining)
        except asyncio.TimeoutError:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception() from None  # type: ignore[misc]
            raise RequestTimeout(
                f"{type(self).__name__}: the call's deadline passed while {what}"
            ) from None

    async def close(self) -> None:
        """Close the aiohttp session if this SDK session created it.

        A closed session refuses further calls with :class:`~okru_sdk.SessionClosed`.
        """
        for slot in ("_auth_task", "_renew_task"):
            task: asyncio.Future[None] | None = getattr(self, slot)
            if task is not None and not task.done():
                task.cancel()
        await self._transport.close()

    async def __aenter__(self) -> Self:
        try:
            await self._ensure_authorized()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        try:
            circuit = self.circuit.value
        except AuthError:
            circuit = "not yet known"
        state = "authorized" if self._authorized else "not authorized"
        return (
            f"<{type(self).__name__} app_id={self.app_id!r} circuit={circuit} {state} "
            f"api_url={self.api_url!r}>"
        )

    __str__ = __repr__

    # -- requests ----------------------------------------------------------------

    @overload
    async def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        mode: SessionMode = ...,
        timeout: float | None = ...,
        retry_safe: bool = ...,
        retry: RetryPolicy | None = ...,
        signed: bool = ...,
        decode: None = ...,
    ) -> bytes: ...

    @overload
    async def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        mode: SessionMode = ...,
        timeout: float | None = ...,
        retry_safe: bool = ...,
        retry: RetryPolicy | None = ...,
        signed: bool = ...,
        decode: Callable[[bytes], T],
    ) -> T: ...

    async def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        mode: SessionMode = SessionMode.OPTIONAL,
        timeout: float | None = None,
        retry_safe: bool = True,
        retry: RetryPolicy | None = None,
        signed: bool = True,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Sign and send one API call to ``fb.do``; return the raw reply body.

        With ``decode``, return ``decode(body)`` instead: the typed calls decode
        here, which spares every call one more coroutine level to pass through.

        ``params`` are encoded once (see :func:`okru_sdk.encoding.encode_params`)
        and signed again for each attempt. ``timeout`` bounds one attempt;
        the policy's ``total_timeout`` bounds all attempts and pauses. A 102
        (session expired) renews the token once when the session can, and the
        call is repeated. An OK.ru error body raises the matching
        :class:`~okru_sdk.APIError`.
        """
        policy = self.retry if retry is None else retry
        if timeout is None:
            per_attempt = self._transport.timeout
        else:
            per_attempt = check_seconds(timeout, "timeout")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.total_timeout
        if not self._authorized:
            await self._ensure_authorized(deadline)
        encoded = encode_params(params)
        encoded["application_key"] = self.app_key
        encoded["format"] = "json"
        encoded["method"] = method
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            if self._expired() and not renewed:
                renewed = await self._renew(self._access_token, deadline)
            wire = encoded  # _sign replaces sig and access_token, so a retry can reuse it
            pairs = self._sign(method, wire, mode, signed)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise RequestTimeout(
                    f"{method}: the total deadline of {policy.total_timeout:g} s has passed",
                    method=method,
                )
            error: OkError
            try:
                # what _send does, inline: one coroutine level less on every call
                verb, text = self._outgoing(method, wire, retry_safe, pairs)
                reply = await self._transport.api_request(
                    verb, self._fb_do, text, what=method, timeout=min(per_attempt, remaining)
                )
                body = self._body_of(method, wire, reply)
            except APIError as exc:
                if exc.code == SESSION_EXPIRED and not renewed:
                    renewed = await self._renew(wire.get("access_token", ""), deadline)
                    if renewed:
                        attempt -= 1  # a renewal is not a retry
                        continue
                error = exc
            except TransportError as exc:
                error = exc
            else:
                return body if decode is None else decode(body)
            reason = policy.decide(error, attempt=attempt, retry_safe=retry_safe)
            if reason is None:
                raise error
            pause = policy.delay(error, attempt=attempt)
            if loop.time() + pause >= deadline:
                raise error
            log.info(
                "retrying %s: attempt %d of %d in %.2f s after %s",
                method,
                attempt + 1,
                policy.max_retries + 1,
                pause,
                reason,
            )
            await asyncio.sleep(pause)

    async def _send(
        self, method: str, wire: dict[str, str], timeout: float | None, *, read: bool = False
    ) -> bytes:
        """Send ready (encoded and signed) parameters to ``fb.do``; return the checked body."""
        verb, text = self._outgoing(method, wire, read)
        reply = await self._transport.api_request(
            verb, self._fb_do, text, what=method, timeout=timeout
        )
        return self._body_of(method, wire, reply)

    def _outgoing(
        self, method: str, wire: dict[str, str], read: bool, pairs: list[str] | None = None
    ) -> tuple[str, str]:
        """The HTTP method and the query or form text of a call about to go out.

        A retry-safe call (``read``) goes as a GET with its parameters in the
        query, as OK.ru's own JS and iOS SDKs send calls: aiohttp's POST costs
        about a third more client CPU per call. Writes, long queries and
        sessions made with ``get_reads=False`` POST a form body. ``pairs``: what
        :meth:`_sign` returned.
        """
        if log.isEnabledFor(logging.DEBUG):
            log.debug("-> %s %s", method, redact_params(wire))
        text = form_text(wire, pairs)  # the query or the body, built once
        if read and self.get_reads and len(text) <= MAX_GET_QUERY:
            return "GET", text
        return "POST", text

    def _body_of(self, method: str, wire: dict[str, str], reply: HttpReply) -> bytes:
        """The reply's body, or the OK.ru error it carries raised (secrets scrubbed)."""
        if log.isEnabledFor(logging.DEBUG):
            body = scrub(reply.body, secret_values(wire, *self._secret_values()))
            log.debug("<- %s HTTP %d %s", method, reply.status, redact_body(body))
        if 200 <= reply.status < 300 and b'"error_code"' not in reply.body:
            return reply.body  # the common case, without building the error path's closure
        return check_api_reply(method, reply, lambda: secret_values(wire, *self._secret_values()))

    def _secret_values(self) -> tuple[str, ...]:
        """Secrets this session holds, scrubbed from any reply an error is built from."""
        return (
            self._app_secret_key,
            self._access_token,
            self._session_secret_key,
            self._refresh_token,
            self._signing_secret or "",
        )

    # -- renewal -------------------------------------------------------------------

    @property
    def can_renew(self) -> bool:
        """Whether an expired token can be replaced without the user."""
        return bool(self._refresh_token) or (self.reauthorize and self.needs_authorization)

    def _expired(self) -> bool:
        expires_at = self.expires_at
        return expires_at is not None and time.time() >= expires_at and self.can_renew

    async def _renew(self, stale_token: str, deadline: float) -> bool:
        """Replace the access token ``stale_token``; concurrent callers share one renewal.

        Returns whether the session now holds other tokens than before. A
        failed renewal fails every call that waited for it. A session with a
        token store also looks there, so a token renewed elsewhere is used
        even by a session that cannot renew by itself.
        """
        if not self.can_renew and self.token_store is None:
            return False
        if self._access_token != stale_token:
            return True  # another call renewed it already
        generation = self._generation
        await self._single_flight(
            "_renew_task", lambda: self._renew_now(stale_token), deadline, "renewing the token"
        )
        return self._generation != generation

    async def _renew_now(self, stale_token: str) -> None:
        store, key = self.token_store, self.token_key
        if store is None or key is None:
            await self._obtain_new_tokens()
        else:
            async with store.lock(key):
                # Read again under the lock: another session or process may have
                # renewed already, and its token is as good as a new one.
                stored = await store.load(key)
                if (
                    stored is not None
                    and stored.access_token
                    and stored.access_token != stale_token
                    and not stored.expired()
                ):
                    self._adopt(stored)
                    return
                if stored is not None and stored.refresh_token and not self._refresh_token:
                    self._refresh_token = stored.refresh_token
                if not self.can_renew:
                    return  # nothing to renew with: the call ends with its error
                await self._obtain_new_tokens()
                await store.save(key, self.tokens)
        await self._report_tokens()

    async def _obtain_new_tokens(self) -> None:
        if self._refresh_token:
            from .oauth import refresh_access_token

            await refresh_access_token(self)
        else:
            log.info("%s: signing in again after the session expired", type(self).__name__)
            await self.authorize()

    async def _report_tokens(self) -> None:
        """Hand the new tokens to ``on_tokens``; its failure is logged, not raised.

        The session already holds (and the token store already has) the new
        tokens, so the call that caused the renewal goes on; the log line says
        what the callback raised, with every token scrubbed from it.
        """
        callback = self._on_tokens
        if callback is None:
            return
        tokens = self.tokens
        try:
            result = callback(tokens)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            secrets = secret_values(
                {}, *self._secret_values(), tokens.refresh_token, tokens.session_secret_key
            )
            text = scrub(text.encode("utf-8", "surrogatepass"), secrets).decode("utf-8", "replace")
            log.error(
                "%s: on_tokens raised; the session keeps the new tokens and the call goes on:\n%s",
                type(self).__name__,
                text.rstrip(),
            )

    def _sign(
        self, method: str, wire: dict[str, str], mode: SessionMode, signed: bool
    ) -> list[str] | None:
        """Put ``sig`` (and ``access_token``) into ``wire``.

        Returns every parameter of ``wire`` as ``key=value`` when the signature's
        own strings cover them all (the form is then joined from them, see
        :func:`~okru_sdk.transport.form_text`); ``None`` otherwise.
        """
        wire.pop("sig", None)
        wire.pop("access_token", None)
        if not signed:
            # OK.ru wants a few methods unsigned (sdk.init); the token goes only
            # where a user session is allowed.
            if mode is not SessionMode.PROHIBITED and self._access_token:
                wire["access_token"] = self._access_token
            return None
        if mode is SessionMode.PROHIBITED or (
            mode is SessionMode.OPTIONAL and not self._access_token and not self._session_secret_key
        ):
            if not self._app_secret_key:
                raise AuthError(
                    f"{method} is called without a user session and must be signed with the "
                    f"application secret key, which this {type(self).__name__} does not have"
                )
            return self._add_signature(wire, application_secret(self._app_secret_key), None)
        if mode is SessionMode.REQUIRED and not self._access_token:
            raise AuthError(
                f"{method} needs a user session, and this {type(self).__name__} has no access token"
            )
        secret = self._signing_secret
        if secret is None:
            secret = self._signing_secret = self._secret_for(self.circuit)
        return self._add_signature(wire, secret, self._access_token or None)

    def _add_signature(
        self, wire: dict[str, str], secret: str, access_token: str | None
    ) -> list[str] | None:
        unsigned = JS_SDK_UNSIGNED_KEYS if self.sign_session_key else UNSIGNED_KEYS
        pairs = signed_pairs(wire, unsigned)
        sig = wire["sig"] = signature_of(pairs, secret)
        covered = len(pairs) == len(wire) - 1  # nothing unsigned (session_key) in wire
        pairs.append(f"sig={sig}")
        if access_token is not None:
            wire["access_token"] = access_token
            pairs.append(f"access_token={access_token}")
        return pairs if covered else None


def check_api_reply(
    method: str,
    reply: HttpReply,
    secrets: Callable[[], list[str]] | None = None,
) -> bytes:
    """Raise for an OK.ru error body or a non-2xx HTTP status; return the body.

    ``secrets`` gives the secret values of the request; they are scrubbed from
    the reply before an error is built from it (OK.ru's signature error, for
    one, quotes the signed string, password included).
    """
    body = reply.body
    status = reply.status
    if b'"error_code"' in body:
        if secrets is not None:
            body = scrub(body, secrets())
        error = APIError.from_body(body, method=method)
        if error is not None:
            raise error
    if not 200 <= status < 300:
        if secrets is not None:
            body = scrub(body, secrets())
        kind = "a redirect" if 300 <= status < 400 else "an error status"
        raise TransportError(
            f"{method}: HTTP {status} ({kind}) without an OK.ru error body",
            method=method,
            status=status,
            body=body,
            retry_after=_retry_after(reply.headers.get("Retry-After")),
        )
    return body


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: not worth parsing for OK.ru
    return seconds if seconds >= 0 else None
