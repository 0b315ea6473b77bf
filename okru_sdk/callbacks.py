"""The ``callbacks.payment`` notification: check it, read it, answer it.

``callbacks.payment`` is not a method the app calls: OK.ru calls the app's
payment URL (HTTP GET, up to 3 tries 5 s apart) when an in-game payment
completes, and the app answers in XML. This module holds the pieces a web
handler needs and does no I/O itself:

- :func:`parse_payment_callback` checks the signature (session-less circuit:
  the application secret key), the application key and the age of the
  notification, and returns a typed, frozen :class:`PaymentCallback`; problems
  (whatever the query holds) raise :class:`PaymentCallbackError` whose
  ``code`` is the OK.ru code to answer with;
- :func:`payment_ok_reply` and :func:`payment_error_reply` build the XML
  answers (body and headers);
- :func:`is_okru_callback_address` tells whether an address is one OK.ru
  documents as a source of these calls;
- :func:`payment_handler` wires it all into an aiohttp handler (optional;
  aiohttp is imported only when it is called) that answers every request
  with HTTP 200 and XML.

See ``docs/callbacks.md``.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import OkError
from .redact import redact_body, scrub
from .signing import UNSIGNED_KEYS, application_secret, sign_params

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "DEFAULT_MAX_AGE",
    "MAX_CLOCK_SKEW",
    "MOSCOW_TIME",
    "OKRU_CALLBACK_NETWORKS",
    "PAYMENT_ERROR_NAMES",
    "TRANSACTION_TIME_FORMAT",
    "XML_CONTENT_TYPE",
    "PaymentCallback",
    "PaymentCallbackError",
    "is_okru_callback_address",
    "parse_payment_callback",
    "payment_error_reply",
    "payment_handler",
    "payment_ok_reply",
]

log = logging.getLogger("okru_sdk.callbacks")

#: the Content-Type OK.ru requires for the answer
XML_CONTENT_TYPE = "application/xml"

#: the codes OK.ru documents for a ``callbacks.payment`` answer, with their names
PAYMENT_ERROR_NAMES: Mapping[int, str] = {
    1: "UNKNOWN",
    2: "SERVICE",
    104: "PARAM_SIGNATURE",
    1001: "CALLBACK_INVALID_PAYMENT",
    9999: "SYSTEM",
}

_DEFAULT_MESSAGES: Mapping[int, str] = {
    1: "Unknown error",
    2: "Service temporarily unavailable",
    104: "Invalid signature",
    1001: "Payment is invalid and can not be processed",
    9999: "Critical system error",
}

#: source networks of ``callbacks.payment`` requests, as OK.ru documents them
OKRU_CALLBACK_NETWORKS: tuple[ipaddress.IPv4Network, ...] = (
    ipaddress.IPv4Network("217.20.145.192/28"),
    ipaddress.IPv4Network("217.20.151.160/28"),
    ipaddress.IPv4Network("217.20.153.48/28"),
)

#: ``transaction_time`` as OK.ru sends it (``yyyy-mm-dd HH:MM:SS``)
TRANSACTION_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

#: Moscow time; a fixed UTC+3, which it has been all year round since 26 October 2014
MOSCOW_TIME = timezone(timedelta(hours=3), "MSK")

#: how old (by ``transaction_time``) a notification may be and still be processed
DEFAULT_MAX_AGE = timedelta(minutes=15)
#: how far ``transaction_time`` may lie in the future (the two clocks disagree a little)
MAX_CLOCK_SKEW = timedelta(minutes=2)

_NAMESPACE = "http://api.forticom.com/1.0/"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_OK_BODY = (
    f'{_XML_DECLARATION}<callbacks_payment_response xmlns="{_NAMESPACE}">'
    "true</callbacks_payment_response>"
).encode()

# Characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DIGITS = re.compile(r"[0-9]+")
_SIG = re.compile(r"[0-9a-fA-F]{32}")
_QUOTE = "'"

#: deepest nesting of ``extra_attributes`` accepted (OK.ru passes a flat object)
_MAX_JSON_DEPTH = 32

#: a rejection reason is logged at most once per this many seconds
_LOG_INTERVAL = 60.0
#: distinct rejection reasons tracked; beyond it they share one budget
_MAX_LOG_REASONS = 64

#: parameters that must be present (and non-empty) in every callback
_REQUIRED = ("uid", "amount")


class PaymentCallbackError(OkError):
    """A ``callbacks.payment`` request that must be answered with an error.

    ``code`` is the OK.ru code to answer with (one of :data:`PAYMENT_ERROR_NAMES`):
    104 for a missing or wrong signature, 1001 for a missing or invalid
    parameter or a notification too old (or too far in the future) to be
    processed. An ``on_payment`` function may raise it too, for example
    ``PaymentCallbackError(1001, "unknown product")`` when ``product_code`` and
    ``amount`` do not match the price list. The text never holds the secret
    key nor the ``sig``.
    """

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.name = _error_name(code)
        self.message = message if message else _DEFAULT_MESSAGES[code]
        super().__init__(f"{self.name} ({code}): {self.message}")

    def reply(self) -> tuple[bytes, dict[str, str]]:
        """The XML error answer for this error (see :func:`payment_error_reply`)."""
        return payment_error_reply(self.code, self.message)


def _error_name(code: int) -> str:
    name = PAYMENT_ERROR_NAMES.get(code) if not isinstance(code, bool) else None
    if name is None:
        known = ", ".join(str(c) for c in PAYMENT_ERROR_NAMES)
        raise ValueError(f"{code!r} is not a callbacks.payment error code (known: {known})")
    return name


class PaymentCallback(BaseModel):
    """One checked ``callbacks.payment`` notification.

    Only ``uid`` and ``amount`` are always there; ``transaction_id`` is
    checked by :func:`parse_payment_callback` unless told otherwise (OK.ru
    may leave it out for a trial start or an unsubscription). Parameters this
    model does not know are kept (``model_extra``); ``sig`` is not kept.

    ``transaction_time`` is the string as sent (``yyyy-mm-dd HH:MM:SS``,
    Moscow time, checked to parse); :attr:`transaction_datetime` is the same
    moment as an aware ``datetime``.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    uid: str
    transaction_id: str | None = None
    transaction_time: str | None = None
    product_code: str | None = None
    product_option: str | None = None
    #: total in OK virtual currency
    amount: int
    currency: str | None = None
    payment_system: str | None = None
    #: the key/value pairs the app passed to ``FAPI.UI.showPayment``, decoded
    extra_attributes: dict[str, Any] | None = None
    trial_days: int | None = None
    card_promo: bool | None = None
    application_key: str | None = None

    @field_validator("transaction_time")
    @classmethod
    def _check_time(cls, value: str | None) -> str | None:
        if value is not None:
            datetime.strptime(value, TRANSACTION_TIME_FORMAT)
        return value

    @field_validator("amount", "trial_days", mode="before")
    @classmethod
    def _parse_count(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not _DIGITS.fullmatch(value):
                raise ValueError("not a non-negative whole number")
            return int(value)
        return value

    @field_validator("extra_attributes", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except RecursionError:
                raise ValueError("nested too deeply") from None
            if not isinstance(decoded, dict):
                raise ValueError("not a JSON object")
            if _nesting(decoded) > _MAX_JSON_DEPTH:
                raise ValueError("nested too deeply")
            return decoded
        return value

    @field_validator("card_promo", mode="before")
    @classmethod
    def _parse_flag(cls, value: Any) -> Any:
        if isinstance(value, str):
            flag = value.lower()
            if flag not in ("true", "false"):
                raise ValueError("not true or false")
            return flag == "true"
        return value

    @property
    def transaction_datetime(self) -> datetime | None:
        """``transaction_time`` as an aware ``datetime`` in Moscow time (UTC+3)."""
        if self.transaction_time is None:
            return None
        parsed = datetime.strptime(self.transaction_time, TRANSACTION_TIME_FORMAT)
        return parsed.replace(tzinfo=MOSCOW_TIME)


def parse_payment_callback(
    query: Mapping[str, str],
    *,
    app_key: str,
    app_secret_key: str,
    require_transaction_id: bool = True,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    now: datetime | None = None,
) -> PaymentCallback:
    """Check a ``callbacks.payment`` query and return it typed.

    ``query`` holds the decoded query parameters, each once. Checks, in order:
    the ``sig`` (session-less circuit, ``app_secret_key``; a missing or wrong
    one raises :class:`PaymentCallbackError` with code 104), then that
    ``application_key`` is ``app_key``, then the parameters (code 1001 for a
    missing or malformed one), then the age. ``transaction_id`` is required
    unless ``require_transaction_id`` is false (subscription apps, whose trial
    start and unsubscription notifications may come without one).

    ``max_age`` refuses (1001) a notification whose ``transaction_time`` is
    older than that, or more than :data:`MAX_CLOCK_SKEW` in the future, as a
    replay; ``transaction_time`` is then required. ``None`` turns the check
    off. ``now`` (an aware ``datetime``) is the time to judge against, the
    current time by default.

    Whatever the query holds, the only exception it raises is
    :class:`PaymentCallbackError`; ``ValueError`` and ``TypeError`` are kept
    for wrong arguments (empty keys, a bad ``max_age`` or ``now``).
    """
    if not app_key or not app_secret_key:
        raise ValueError("app_key and app_secret_key must not be empty")
    _check_max_age(max_age)
    if now is None:
        now = datetime.now(timezone.utc)
    elif not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    try:
        return _parse(query, app_key, app_secret_key, require_transaction_id, max_age, now)
    except PaymentCallbackError:
        raise
    except Exception:
        # Whatever else a hostile query manages to break is a malformed request.
        raise PaymentCallbackError(1001, "malformed request") from None


def _check_max_age(max_age: timedelta | None) -> None:
    if max_age is None:
        return
    if not isinstance(max_age, timedelta):
        raise TypeError(f"max_age must be a timedelta or None, got {type(max_age).__name__}")
    if max_age <= timedelta(0):
        raise ValueError(f"max_age must be positive, got {max_age}")


def _parse(
    query: Mapping[str, str],
    app_key: str,
    app_secret_key: str,
    require_transaction_id: bool,
    max_age: timedelta | None,
    now: datetime,
) -> PaymentCallback:
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in query.items()):
        raise PaymentCallbackError(1001, "malformed query: names and values must be strings")
    sig = query.get("sig")
    if not sig:
        raise PaymentCallbackError(104, "missing signature")
    try:
        expected = sign_params(query, application_secret(app_secret_key))
    except UnicodeError:
        expected = None  # a value UTF-8 cannot carry (a lone surrogate): OK.ru did not sign it
    if (
        expected is None
        or not _SIG.fullmatch(sig)
        or not hmac.compare_digest(sig.lower(), expected)
    ):
        raise PaymentCallbackError(104, "signature does not match")

    received_key = query.get("application_key")
    if not received_key:
        raise PaymentCallbackError(1001, "missing required parameter 'application_key'")
    if not hmac.compare_digest(received_key.encode("utf-8"), app_key.encode("utf-8")):
        raise PaymentCallbackError(1001, "application_key is not this application's")

    required = list(_REQUIRED)
    if require_transaction_id:
        required.append("transaction_id")
    if max_age is not None:
        required.append("transaction_time")
    missing = [name for name in required if not query.get(name)]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise PaymentCallbackError(1001, f"missing required parameter(s) {names}")

    # Empty values count as absent; sig (and access_token, never sent) are not kept.
    fields = {key: value for key, value in query.items() if value and key not in UNSIGNED_KEYS}
    try:
        callback = PaymentCallback.model_validate(fields)
    except ValidationError as exc:
        # Name the parameters only: pydantic's own messages quote the values.
        bad = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        names = ", ".join(repr(name) for name in bad) or "?"
        raise PaymentCallbackError(1001, f"invalid parameter(s) {names}") from None
    if max_age is not None and callback.transaction_time is not None:
        _check_age(callback.transaction_time, max_age, now)
    return callback


def _check_age(transaction_time: str, max_age: timedelta, now: datetime) -> None:
    # Both sides as naive Moscow wall-clock times: no overflow at the calendar's ends.
    sent = datetime.strptime(transaction_time, TRANSACTION_TIME_FORMAT)
    age = now.astimezone(MOSCOW_TIME).replace(tzinfo=None) - sent
    if age > max_age:
        raise PaymentCallbackError(
            1001, f"too old: transaction_time is more than {_span(max_age)} ago (late or replayed)"
        )
    if age < -MAX_CLOCK_SKEW:
        raise PaymentCallbackError(
            1001, f"transaction_time is more than {_span(MAX_CLOCK_SKEW)} in the future"
        )


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"


def _nesting(value: Any) -> int:
    """How many levels of objects and arrays ``value`` has (counted without recursion)."""
    depth, level = 0, [value]
    while True:
        level = [v for v in level if isinstance(v, (dict, list))]
        if not level:
            return depth
        depth += 1
        level = [item for v in level for item in (v.values() if isinstance(v, dict) else v)]


def payment_ok_reply() -> tuple[bytes, dict[str, str]]:
    """Body and headers of the success answer (send them with HTTP status 200)."""
    return _OK_BODY, {"Content-Type": XML_CONTENT_TYPE}


def payment_error_reply(code: int, message: str | None = None) -> tuple[bytes, dict[str, str]]:
    """Body and headers of an error answer (send them with HTTP status 200).

    ``code`` must be one of :data:`PAYMENT_ERROR_NAMES` (``ValueError``
    otherwise); ``error_msg`` becomes ``"<NAME> : <message>"``, with OK.ru's
    own description when ``message`` is empty. The message is XML-escaped and
    characters XML cannot carry become U+FFFD. The ``Invocation-error`` header
    carries the code.
    """
    name = _error_name(code)
    text = _NOT_XML_CHAR.sub("\ufffd", f"{name} : {message or _DEFAULT_MESSAGES[code]}")
    body = (
        f'{_XML_DECLARATION}<ns2:error_response xmlns:ns2="{_NAMESPACE}">'
        f"<error_code>{code}</error_code><error_msg>{escape(text)}</error_msg>"
        "</ns2:error_response>"
    ).encode()
    return body, {"Content-Type": XML_CONTENT_TYPE, "Invocation-error": str(code)}


def is_okru_callback_address(ip: str) -> bool:
    """Whether ``ip`` lies in one of :data:`OKRU_CALLBACK_NETWORKS`.

    IPv4-mapped IPv6 addresses (``::ffff:217.20.145.193``) count as their IPv4
    address; anything that is not an address gives ``False``.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return False
        address = address.ipv4_mapped
    return any(address in network for network in OKRU_CALLBACK_NETWORKS)


def payment_handler(
    on_payment: Callable[[PaymentCallback], Awaitable[None]],
    *,
    app_key: str,
    app_secret_key: str,
    check_source_ip: bool = False,
    require_transaction_id: bool = True,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    clock: Callable[[], float] = time.time,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for the app's payment URL (register it with ``add_get``).

    It parses the query with :func:`parse_payment_callback`, awaits
    ``on_payment`` and answers success. A :class:`PaymentCallbackError`,
    raised by the check or by ``on_payment``, is answered with its code; any
    other exception from ``on_payment``, or anything else that goes wrong in
    the handler, with 2 (SERVICE, "try again later"), and is logged on the
    ``okru_sdk.callbacks`` logger with the secret key, the ``sig`` and
    ``secret=value`` pairs scrubbed. Every answer is XML with HTTP status 200.

    A rejected request is logged as a WARNING, at most once per minute per
    reason; the next line says how many were left out. ``max_age`` is passed
    on to :func:`parse_payment_callback`; ``clock`` gives the current time in
    seconds since the epoch (``time.time``; tests inject their own).

    With ``check_source_ip`` the request must come from
    :data:`OKRU_CALLBACK_NETWORKS` (``request.remote``; behind a reverse proxy
    make aiohttp see the client's address first), else it is answered 1001.
    ``on_payment`` must be idempotent per ``transaction_id``: OK.ru repeats a
    notification it got no answer to, and ``max_age`` only bounds how long a
    replay stays possible.
    """
    from aiohttp import web

    if not app_key or not app_secret_key:
        raise ValueError("app_key and app_secret_key must not be empty")
    _check_max_age(max_age)
    throttled = _ThrottledLog(log, _LOG_INTERVAL, clock)
    try_again = payment_error_reply(2, "Service temporarily unavailable, try again")

    def respond(reply: tuple[bytes, dict[str, str]]) -> web.Response:
        body, headers = reply
        return web.Response(status=200, body=body, headers=headers)

    async def answer(request: web.Request) -> tuple[bytes, dict[str, str]]:
        try:
            if check_source_ip and not is_okru_callback_address(request.remote or ""):
                raise PaymentCallbackError(1001, "request did not come from an OK.ru address")
            if len(set(request.query)) != len(request.query):
                raise PaymentCallbackError(1001, "a parameter is repeated")
            callback = parse_payment_callback(
                dict(request.query),
                app_key=app_key,
                app_secret_key=app_secret_key,
                require_transaction_id=require_transaction_id,
                max_age=max_age,
                now=datetime.fromtimestamp(clock(), timezone.utc),
            )
        except PaymentCallbackError as exc:
            # One reason per kind of problem: the parameter names a message quotes do not count.
            reason = f"{exc.code} {exc.message.partition(_QUOTE)[0]}"
            throttled.log(
                logging.WARNING,
                reason,
                "callbacks.payment from %s rejected: %s",
                request.remote,
                exc,
            )
            return exc.reply()

        try:
            await on_payment(callback)
        except PaymentCallbackError as exc:
            log.warning(
                "callbacks.payment transaction %s of uid %s refused: %s",
                callback.transaction_id,
                callback.uid,
                exc,
            )
            return exc.reply()
        except Exception as exc:
            log.error(
                "callbacks.payment transaction %s of uid %s failed, answered 2 (SERVICE):\n%s",
                callback.transaction_id,
                callback.uid,
                _scrub(_traceback(exc), app_secret_key, _sig_of(request)),
            )
            return try_again
        return payment_ok_reply()

    async def handle(request: web.Request) -> web.Response:
        try:
            return respond(await answer(request))
        except Exception as exc:
            # The last line: whatever broke, OK.ru gets XML with HTTP 200, never a 500.
            with contextlib.suppress(Exception):  # nor may a failing log line
                throttled.log(
                    logging.ERROR,
                    "handler failure",
                    "callbacks.payment handler failed, answered 2 (SERVICE):\n%s",
                    _scrub(_traceback(exc), app_secret_key, _sig_of(request)),
                )
            return respond(try_again)

    return handle


class _ThrottledLog:
    """At most one line per ``interval`` seconds per reason; the next one counts those left out."""

    def __init__(self, logger: logging.Logger, interval: float, clock: Callable[[], float]) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        #: reason -> (when its last line was written, lines left out since)
        self._last: dict[str, tuple[float, int]] = {}

    def log(self, level: int, reason: str, msg: str, *args: object) -> None:
        if not self._logger.isEnabledFor(level):
            return
        now = self._clock()
        if reason not in self._last and len(self._last) >= _MAX_LOG_REASONS:
            reason = "(other reasons)"
        last = self._last.get(reason)
        if last is not None and 0 <= now - last[0] < self._interval:
            self._last[reason] = (last[0], last[1] + 1)
            return
        self._last[reason] = (now, 0)
        if last is not None and last[1]:
            msg += " [%d similar line(s) left out in the last %.0f s]"
            args = (*args, last[1], now - last[0])
        self._logger.log(level, msg, *args)


def _traceback(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:
        return f"{type(exc).__name__} (no traceback: it could not be formatted)"


def _sig_of(request: web.Request) -> str:
    try:
        return request.query.get("sig", "")
    except Exception:
        return ""


def _scrub(text: str, *secrets: str) -> str:
    """``text`` with the given values (in any spelling) and any ``key=value`` secret as ``***``."""
    raw = scrub(text.encode("utf-8", "backslashreplace"), [s for s in secrets if s])
    return redact_body(raw, limit=20_000)
