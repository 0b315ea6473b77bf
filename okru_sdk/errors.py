"""The SDK's exception tree.

``OkError`` is the root of everything the SDK raises on purpose. Messages name
the method and never contain a secret: values of parameters are not quoted,
and the raw payload is kept on the exception, not in its text.

The per-code subclasses of :class:`APIError` (``FloodBlocked``,
``SessionExpired``, ...) are generated from ``schema/errors.yaml`` and register
themselves here through ``__init_subclass__``. They are importable from this
module (``from okru_sdk.errors import FloodBlocked``, loaded on first use) and
name it as their module, so a traceback reads ``okru_sdk.errors.FloodBlocked``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ._generated.errors import *  # noqa: F403  (one class per OK.ru error code)

__all__ = [
    "APIError",
    "AuthError",
    "OkError",
    "ParameterValidationError",
    "RequestTimeout",
    "ResponseDecodeError",
    "TransportError",
]

_PREVIEW = 200


def preview(body: bytes | str) -> str:
    """A body for an error message: one line, ``secret=value`` pairs redacted, cut short."""
    from .redact import redact_text  # redact loads the catalogue's secret names

    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + "..."


def utf8_text(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (a lone surrogate) escaped.

    A reply's ``\\ud800`` decodes to a lone surrogate, which would make the
    message unprintable to a UTF-8 log or terminal.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class OkError(Exception):
    """Root of all errors raised by okru-sdk.

    Every SDK error pickles (process pools, task queues, result backends): the
    copy has the same type, text and public attributes, and is rebuilt without
    calling ``__init__``, so subclasses need no pickling code of their own.
    The texts travel as they are (they never hold a secret); the payloads are
    redacted as for a log line: in the bytes (``raw``, ``body``) and data kept
    on the error, values of secret-named fields (``"access_token": ...``,
    ``password=...``) become ``***``. An underlying exception kept as an
    attribute (``cause``) travels only if it is an SDK error itself; a
    decoder's or pydantic's error, which may quote the reply, arrives as
    ``None``. ``__cause__``, ``__context__`` and the traceback never travel,
    as with any pickled exception.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state = {name: _portable(value) for name, value in vars(self).items()}
        return (_rebuild, (type(self), self.args, state))


# -- pickling --------------------------------------------------------------------------------


def _rebuild(cls: type[OkError], args: tuple[Any, ...], state: dict[str, Any]) -> OkError:
    """Unpickle an SDK error: ``args`` and attributes back, ``__init__`` not called.

    Pickles name this function: keep its name and module, or old pickles break.
    """
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def _portable(value: Any) -> Any:
    """``value`` fit to leave the process: secret-named fields redacted, foreign errors dropped."""
    try:
        return _scrubbed(value)
    except RecursionError:
        return None  # nested too deep to check (or to pickle)


def _scrubbed(value: Any) -> Any:
    from .redact import REDACTED, SECRET_KEYS

    if isinstance(value, OkError):
        return value  # pickled by its own __reduce__
    if isinstance(value, BaseException):
        return None
    if isinstance(value, bytes):
        return _scrubbed_bytes(value)
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_KEYS else _scrubbed(v) for k, v in value.items()}
    if type(value) is list:
        return [_scrubbed(item) for item in value]
    if type(value) is tuple:
        return tuple(_scrubbed(item) for item in value)
    return value


def _scrubbed_bytes(body: bytes) -> bytes:
    """A JSON body re-serialised only if a secret was in it; other bodies as text."""
    import json

    from ._json import loads
    from .redact import redact_text

    try:
        decoded = loads(body)
        redacted = _scrubbed(decoded)
        if redacted == decoded:
            return body
        return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        text = body.decode("utf-8", "surrogateescape")
        scrubbed = redact_text(text)
        return body if scrubbed == text else scrubbed.encode("utf-8", "surrogateescape")


class AuthError(OkError):
    """Authorization failed, or the session cannot make the requested call."""


class ParameterValidationError(OkError, ValueError):
    """A call parameter does not fit the catalogue; raised before anything is sent."""

    def __init__(self, method: str, param: str, problem: str) -> None:
        self.method = method
        self.param = param
        super().__init__(f"{method}: parameter {param!r} {problem}")


class APIError(OkError):
    """OK.ru answered with an error body (``error_code``, ``error_msg``, ``error_data``).

    ``APIError.for_code(code)`` gives the class for a code; catching a family
    parent (for example the flood/limit family) catches all its codes.
    """

    #: the code a generated subclass stands for; ``None`` on family classes
    error_code: ClassVar[int | None] = None
    #: whether the catalogue marks the code as transient (worth retrying)
    transient: ClassVar[bool] = False
    _by_code: ClassVar[dict[int, type[APIError]]] = {}

    def __init_subclass__(cls, code: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == _GENERATED:
            # The public home of the generated classes (importable from here too).
            cls.__module__ = __name__
        cls.error_code = code
        if code is not None:
            APIError._by_code[code] = cls

    def __init__(
        self,
        code: int,
        msg: str = "",
        data: Any = None,
        *,
        method: str | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.code = code
        self.msg = msg
        self.data = data
        self.method = method
        self.raw = raw
        where = f" in {method}" if method else ""
        super().__init__(f"OK.ru error {code}{where}: {utf8_text(msg)}")

    @classmethod
    def for_code(cls, code: int) -> type[APIError]:
        """The most specific class known for ``code`` (``APIError`` when unknown)."""
        if not APIError._by_code:
            load_error_classes()
        return APIError._by_code.get(code, APIError)

    @classmethod
    def from_body(cls, body: bytes, *, method: str | None = None) -> APIError | None:
        """The error an OK.ru error body (``{"error_code": ...}``) stands for, else ``None``."""
        if b'"error_code"' not in body:
            return None
        from ._json import loads

        try:
            payload = loads(body)
        except ValueError:
            return None
        if isinstance(payload, dict) and "error_code" in payload:
            return APIError.from_payload(payload, method=method, raw=body)
        return None

    @classmethod
    def from_payload(
        cls, payload: dict[str, Any], *, method: str | None = None, raw: bytes | None = None
    ) -> APIError:
        """Build the right subclass from a decoded OK.ru error body."""
        raw_code = payload.get("error_code")
        try:
            code = int(raw_code)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            code = 1  # UNKNOWN: the body was an error without a usable code
        msg = payload.get("error_msg")
        return APIError.for_code(code)(
            code,
            msg if isinstance(msg, str) else "",
            payload.get("error_data"),
            method=method,
            raw=raw,
        )


#: the generated module of the per-code classes
_GENERATED = "okru_sdk._generated.errors"


def __getattr__(name: str) -> Any:
    # The generated per-code classes load on first use, as with ``okru_sdk.<name>``.
    from ._generated.error_names import NAMES

    if name in NAMES:
        return getattr(importlib.import_module(_GENERATED), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    from ._generated.error_names import NAMES

    return sorted({*globals(), *NAMES})


def load_error_classes() -> None:
    """Import the generated per-code classes (they register themselves on import).

    Done on the first lookup rather than with ``import okru_sdk``: a program
    that never meets an OK.ru error never pays for a hundred classes.
    """
    importlib.import_module(_GENERATED)


class TransportError(OkError):
    """The HTTP exchange failed: connection error, timeout, or an HTTP error status.

    ``reached_server`` is ``False`` only when the request provably never left
    (connection refused, DNS failure), ``True`` when a reply came, ``None``
    when it cannot be known (a dropped connection, a timeout).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        status: int | None = None,
        body: bytes | None = None,
        reached_server: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.status = status
        self.body = body
        self.reached_server = True if status is not None else reached_server
        #: seconds from a ``Retry-After`` header, when the server sent one
        self.retry_after = retry_after
        super().__init__(message)


class RequestTimeout(TransportError):
    """No complete reply arrived within the timeout."""


class ResponseDecodeError(OkError):
    """The reply could not be decoded: not JSON, or not the declared shape.

    ``body`` keeps the raw reply; ``cause`` the underlying decode or
    validation error (a pydantic ``ValidationError`` for typed methods).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        body: bytes = b"",
        cause: BaseException | None = None,
    ) -> None:
        self.method = method
        self.body = body
        self.cause = cause
        super().__init__(_describe(message, body))


def _describe(message: str, body: bytes) -> str:
    # A JSON body may carry tokens (token.do, auth.login), so only non-JSON
    # bodies (HTML error pages and the like) are previewed in the text.
    if not body:
        return f"{message} (empty body)"
    if body.lstrip()[:1] in (b"{", b"["):
        return f"{message} ({len(body)} bytes of JSON-like body, kept on .body)"
    return f"{message}; body starts: {preview(body)!r}"
