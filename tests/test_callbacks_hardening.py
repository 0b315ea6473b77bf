"""callbacks.payment hardening: freshness window, hostile input, always-200 handler, log limits."""

from __future__ import annotations

import logging
import string
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okru_sdk import callbacks
from okru_sdk.callbacks import (
    MOSCOW_TIME,
    TRANSACTION_TIME_FORMAT,
    PaymentCallback,
    PaymentCallbackError,
    parse_payment_callback,
    payment_handler,
)
from okru_sdk.signing import sign_params

APP_KEY = "CBAHARDENINGKEY"
APP_SECRET = "HARDENING-APP-SECRET-0123456789"

#: the moment the tests pretend it is: 12:30 UTC, 15:30 in Moscow
NOW = datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc)


def msk(moment: datetime) -> str:
    """``moment`` as OK.ru writes ``transaction_time`` (Moscow time)."""
    return moment.astimezone(MOSCOW_TIME).strftime(TRANSACTION_TIME_FORMAT)


def signed(params: dict[str, str], secret: str = APP_SECRET) -> dict[str, str]:
    return {**params, "sig": sign_params(params, secret)}


def payment(**overrides: str) -> dict[str, str]:
    params = {
        "uid": "575662066926",
        "transaction_id": "4711",
        "transaction_time": msk(NOW),
        "product_code": "gold_100",
        "amount": "100",
        "application_key": APP_KEY,
    }
    params.update(overrides)
    return params


def parse(query: dict[str, str], **kwargs: Any) -> PaymentCallback:
    kwargs.setdefault("now", NOW)
    return parse_payment_callback(query, app_key=APP_KEY, app_secret_key=APP_SECRET, **kwargs)


def rejected(query: dict[str, str], **kwargs: Any) -> PaymentCallbackError:
    with pytest.raises(PaymentCallbackError) as caught:
        parse(query, **kwargs)
    return caught.value


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# --- B: freshness window ---------------------------------------------------------------------


def test_defaults_are_minutes() -> None:
    assert timedelta(minutes=15) == callbacks.DEFAULT_MAX_AGE
    assert timedelta(minutes=2) == callbacks.MAX_CLOCK_SKEW


def test_replayed_old_callback_is_refused_by_default() -> None:
    # A correctly signed notification from long ago, replayed: the default
    # arguments (no injected time) must refuse it.
    old = signed(payment(transaction_time="2024-03-01 15:30:00"))
    with pytest.raises(PaymentCallbackError) as caught:
        parse_payment_callback(old, app_key=APP_KEY, app_secret_key=APP_SECRET)
    assert caught.value.code == 1001
    assert "transaction_time" in caught.value.message


@pytest.mark.parametrize(
    ("age", "fresh"),
    [
        (timedelta(0), True),
        (timedelta(minutes=14, seconds=59), True),
        (timedelta(minutes=15), True),
        (timedelta(minutes=15, seconds=1), False),
        (timedelta(days=3), False),
        (-timedelta(minutes=2), True),  # the sender's clock a little ahead of ours
        (-timedelta(minutes=2, seconds=1), False),
        (-timedelta(days=1), False),
    ],
)
def test_window_is_measured_on_transaction_time(age: timedelta, fresh: bool) -> None:
    query = signed(payment(transaction_time=msk(NOW - age)))
    if fresh:
        assert parse(query).uid == "575662066926"
    else:
        error = rejected(query)
        assert error.code == 1001
        assert error.name == "CALLBACK_INVALID_PAYMENT"


def test_transaction_time_is_moscow_time() -> None:
    # 15:30 in Moscow is 12:30 UTC: fresh. Read as UTC it would be 3 h ahead.
    assert parse(signed(payment(transaction_time="2024-03-01 15:30:00"))).amount == 100
    assert rejected(signed(payment(transaction_time="2024-03-01 12:30:00"))).code == 1001


def test_max_age_can_be_changed_or_disabled() -> None:
    half_hour_old = signed(payment(transaction_time=msk(NOW - timedelta(minutes=30))))
    assert rejected(half_hour_old).code == 1001
    assert parse(half_hour_old, max_age=timedelta(hours=1)).amount == 100
    assert parse(half_hour_old, max_age=None).amount == 100
    # disabled: neither the age nor the presence of transaction_time is checked
    params = payment()
    del params["transaction_time"]
    assert parse(signed(params), max_age=None).transaction_time is None


def test_missing_transaction_time_is_refused_while_the_window_is_on() -> None:
    params = payment()
    del params["transaction_time"]
    error = rejected(signed(params))
    assert error.code == 1001
    assert "'transaction_time'" in error.message


def test_signature_is_checked_before_the_age() -> None:
    # An unsigned old callback is a signature problem, not a freshness one.
    old = payment(transaction_time=msk(NOW - timedelta(days=1)))
    assert rejected({**old, "sig": "0" * 32}).code == 104


def test_bad_window_arguments_are_programming_errors() -> None:
    query = signed(payment())
    with pytest.raises(ValueError):
        parse(query, max_age=timedelta(0))
    with pytest.raises(ValueError):
        parse(query, max_age=timedelta(minutes=-1))
    with pytest.raises(ValueError):
        parse(query, now=datetime(2024, 3, 1, 12, 30))  # naive


# --- C: hostile input never escapes as anything but PaymentCallbackError ---------------------


def test_deeply_nested_extra_attributes_are_1001() -> None:
    error = rejected(signed(payment(extra_attributes=nested(100_000))))
    assert error.code == 1001
    assert "'extra_attributes'" in error.message


def test_extra_attributes_nesting_is_capped() -> None:
    assert parse(signed(payment(extra_attributes=nested(10)))).extra_attributes is not None
    assert rejected(signed(payment(extra_attributes=nested(64)))).code == 1001


def test_lone_surrogates_are_answered_not_raised() -> None:
    # Not encodable as UTF-8: cannot be signed, so a signature problem.
    query = signed(payment())
    assert rejected({**query, "product_code": "\ud800"}).code == 104
    assert rejected({**query, "sig": "\udcff" * 32}).code == 104


def test_non_string_keys_and_values_are_1001() -> None:
    query: dict[Any, Any] = signed(payment())
    assert rejected({**query, 1: "x"}).code == 1001
    assert rejected({**query, "amount": object()}).code == 1001
    assert rejected({**query, None: None}).code == 1001


def test_huge_numbers_are_1001() -> None:
    assert rejected(signed(payment(amount="9" * 10_000))).code == 1001


def test_dates_at_the_edge_of_the_calendar_are_1001() -> None:
    for moment in ("0001-01-01 00:00:00", "9999-12-31 23:59:59"):
        assert rejected(signed(payment(transaction_time=moment))).code == 1001


_text = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("{}[]\"':,\\"), max_size=40)
_fields = st.sampled_from(
    [
        "uid",
        "amount",
        "transaction_id",
        "transaction_time",
        "extra_attributes",
        "trial_days",
        "card_promo",
        "application_key",
        "product_code",
        "other",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(
        _fields,
        _text | st.sampled_from([nested(5000), "[" * 5000, "1" * 5000, "", "2024-13-01 00:00:00"]),
    ),
    sign=st.booleans(),
    drop=st.lists(_fields, max_size=3),
)
def test_any_query_gives_a_callback_or_a_payment_callback_error(
    changes: dict[str, str], sign: bool, drop: list[str]
) -> None:
    params = payment(**changes)
    for name in drop:
        params.pop(name, None)
    query = signed(params) if sign else {**params, "sig": "".join(reversed(string.hexdigits))}
    try:
        parse(query)
    except PaymentCallbackError as exc:
        assert exc.code in (104, 1001)


# --- the aiohttp handler over a real socket -------------------------------------------------

OnPayment = Callable[[PaymentCallback], Awaitable[None]]
Serve = Callable[..., Awaitable[str]]


class FakeClock:
    """Wall-clock seconds, moved by hand."""

    def __init__(self, at: datetime = NOW) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start ``payment_handler`` on 127.0.0.1 (a free port); gives the payment URL."""
    runners: list[web.AppRunner] = []

    async def start(on_payment: OnPayment, **options: Any) -> str:
        app = web.Application()
        app.router.add_get(
            "/ok/payment",
            payment_handler(on_payment, app_key=APP_KEY, app_secret_key=APP_SECRET, **options),
        )
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/ok/payment"

    yield start
    for runner in runners:
        await runner.cleanup()


async def get(url: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as client, client.get(url, params=query) as response:
        return response.status, await response.read(), dict(response.headers)


async def never_called(callback: PaymentCallback) -> None:
    raise AssertionError("on_payment must not be called")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "okru_sdk.callbacks" and r.levelno == logging.WARNING
    ]


async def test_handler_refuses_a_replayed_old_callback(serve: Serve) -> None:
    calls: list[PaymentCallback] = []

    async def on_payment(callback: PaymentCallback) -> None:
        calls.append(callback)

    url = await serve(on_payment)  # the real clock: 2024 is long past
    status, body, headers = await get(url, signed(payment(transaction_time="2024-03-01 15:30:00")))
    assert status == 200
    assert headers["Invocation-error"] == "1001"
    assert b"<error_code>1001</error_code>" in body
    assert calls == []


async def test_handler_window_follows_the_injected_clock(serve: Serve) -> None:
    calls: list[PaymentCallback] = []

    async def on_payment(callback: PaymentCallback) -> None:
        calls.append(callback)

    clock = FakeClock()
    url = await serve(on_payment, clock=clock)
    query = signed(payment())
    status, _, headers = await get(url, query)
    assert (status, "Invocation-error" in headers) == (200, False)
    clock.advance(16 * 60)  # the same notification, replayed 16 minutes later
    status, _, headers = await get(url, query)
    assert (status, headers["Invocation-error"]) == (200, "1001")
    assert len(calls) == 1
    # disabled on request
    lax = await serve(on_payment, clock=clock, max_age=None)
    status, _, headers = await get(lax, query)
    assert (status, "Invocation-error" in headers) == (200, False)
    assert len(calls) == 2


async def test_handler_answers_deep_nesting_200_with_1001(serve: Serve) -> None:
    url = await serve(never_called, clock=FakeClock())
    status, body, headers = await get(url, signed(payment(extra_attributes="[" * 2000)))
    assert status == 200
    assert headers["Content-Type"] == "application/xml"
    assert headers["Invocation-error"] == "1001"
    assert b"<error_code>1001</error_code>" in body


async def test_handler_answers_200_when_its_own_parsing_breaks(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    query = signed(payment())

    def broken(*args: object, **kwargs: object) -> PaymentCallback:
        raise RuntimeError(f"internal bug; key {APP_SECRET} sig={query['sig']}")

    monkeypatch.setattr(callbacks, "parse_payment_callback", broken)
    url = await serve(never_called, clock=FakeClock())
    with caplog.at_level(logging.DEBUG, logger="okru_sdk.callbacks"):
        status, body, headers = await get(url, query)
    assert status == 200
    assert headers["Content-Type"] == "application/xml"
    assert headers["Invocation-error"] == "2"
    assert b"<error_code>2</error_code>" in body
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert APP_SECRET not in logged
    assert query["sig"] not in logged


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("database down"),
        RecursionError("too deep"),
        _Unprintable(),
        KeyError("secret"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_handler_answers_200_with_2_whatever_on_payment_raises(
    serve: Serve, failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    async def on_payment(callback: PaymentCallback) -> None:
        raise failure

    url = await serve(on_payment, clock=FakeClock())
    with caplog.at_level(logging.DEBUG, logger="okru_sdk.callbacks"):
        status, body, headers = await get(url, signed(payment()))
    assert status == 200
    assert headers["Invocation-error"] == "2"
    assert b"<error_code>2</error_code>" in body
    assert any(type(failure).__name__ in r.getMessage() for r in caplog.records)


async def test_handler_answers_200_when_the_users_error_cannot_make_a_reply(
    serve: Serve,
) -> None:
    async def on_payment(callback: PaymentCallback) -> None:
        error = PaymentCallbackError(1001, "no such product")
        error.code = 1002  # not a callback code: its reply() raises
        raise error

    url = await serve(on_payment, clock=FakeClock())
    status, body, headers = await get(url, signed(payment()))
    assert status == 200
    assert headers["Content-Type"] == "application/xml"
    assert headers["Invocation-error"] == "2"
    assert b"<error_code>2</error_code>" in body


async def test_handler_answers_200_when_on_payment_is_not_async(serve: Serve) -> None:
    def on_payment(callback: PaymentCallback) -> None:
        return None

    url = await serve(on_payment, clock=FakeClock())
    status, _, headers = await get(url, signed(payment()))
    assert (status, headers["Invocation-error"]) == (200, "2")


# --- D: the rejection warning is rate-limited ------------------------------------------------


async def test_rejection_warnings_are_rate_limited_per_reason(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    url = await serve(never_called, clock=clock)
    forged = {**signed(payment()), "amount": "1"}  # tampered: 104
    stale = signed(payment(transaction_time=msk(NOW - timedelta(hours=1))))  # 1001
    with caplog.at_level(logging.WARNING, logger="okru_sdk.callbacks"):
        for _ in range(5):
            status, _, headers = await get(url, forged)
            assert (status, headers["Invocation-error"]) == (200, "104")
        assert len(warnings_of(caplog)) == 1
        assert "signature" in warnings_of(caplog)[0]

        # another reason has its own budget
        for _ in range(3):
            await get(url, stale)
        assert len(warnings_of(caplog)) == 2

        clock.advance(59)
        await get(url, forged)
        assert len(warnings_of(caplog)) == 2

        clock.advance(1)  # 60 s after the first line: one more, with the count
        await get(url, forged)
        lines = warnings_of(caplog)
        assert len(lines) == 3
        assert "signature" in lines[2]
        assert "5 similar" in lines[2]  # 4 in the first burst, 1 at 59 s

        clock.advance(60)
        await get(url, stale)
        lines = warnings_of(caplog)
        assert len(lines) == 4
        assert "2 similar" in lines[3]

        clock.advance(60)
        await get(url, forged)
        lines = warnings_of(caplog)
        assert len(lines) == 5
        assert "similar" not in lines[4]  # nothing was suppressed meanwhile


async def test_every_rejection_is_still_answered_while_its_log_line_is_suppressed(
    serve: Serve,
) -> None:
    url = await serve(never_called, clock=FakeClock())
    for _ in range(3):
        status, body, headers = await get(url, payment())  # no sig at all
        assert (status, headers["Invocation-error"]) == (200, "104")
        assert b"<error_code>104</error_code>" in body


async def test_rejection_reasons_do_not_multiply_with_the_parameters_named(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    # 31 combinations of bad parameters are one reason, not 31 log budgets.
    url = await serve(never_called, clock=FakeClock())
    fields = ["amount", "trial_days", "card_promo", "extra_attributes", "transaction_time"]
    with caplog.at_level(logging.WARNING, logger="okru_sdk.callbacks"):
        for mask in range(1, 2 ** len(fields)):
            bad = {name: "!" for i, name in enumerate(fields) if mask >> i & 1}
            _, _, headers = await get(url, signed(payment(**bad)))
            assert headers["Invocation-error"] == "1001"
    assert len(warnings_of(caplog)) == 1
