"""callbacks.payment: signature and field checks, XML answers, source addresses, aiohttp handler."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web

from okru_sdk.callbacks import (
    OKRU_CALLBACK_NETWORKS,
    PAYMENT_ERROR_NAMES,
    PaymentCallback,
    PaymentCallbackError,
    is_okru_callback_address,
    parse_payment_callback,
    payment_error_reply,
    payment_handler,
    payment_ok_reply,
)
from okru_sdk.errors import OkError
from okru_sdk.signing import sign_params

APP_KEY = "CBACALLBACKKEY"
APP_SECRET = "CALLBACK-APP-SECRET-0123456789"

OK_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<callbacks_payment_response xmlns="http://api.forticom.com/1.0/">true'
    b"</callbacks_payment_response>"
)
INVALID_PAYMENT_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ns2:error_response xmlns:ns2="http://api.forticom.com/1.0/">'
    b"<error_code>1001</error_code>"
    b"<error_msg>CALLBACK_INVALID_PAYMENT : Payment is invalid and can not be processed"
    b"</error_msg></ns2:error_response>"
)


def signed(params: dict[str, str], secret: str = APP_SECRET) -> dict[str, str]:
    """``params`` plus the ``sig`` OK.ru would send (session-less circuit)."""
    return {**params, "sig": sign_params(params, secret)}


def payment(**overrides: str) -> dict[str, str]:
    params = {
        "uid": "575662066926",
        "transaction_id": "4711",
        "transaction_time": "2024-03-01 15:30:00",
        "product_code": "gold_100",
        "amount": "100",
        "application_key": APP_KEY,
    }
    params.update(overrides)
    return params


def parse(query: dict[str, str], **kwargs: bool) -> PaymentCallback:
    # These fixed-date callbacks skip the freshness window (tested in test_callbacks_hardening.py).
    return parse_payment_callback(
        query, app_key=APP_KEY, app_secret_key=APP_SECRET, max_age=None, **kwargs
    )


def rejected(query: dict[str, str]) -> PaymentCallbackError:
    with pytest.raises(PaymentCallbackError) as caught:
        parse(query)
    return caught.value


# --- signature -----------------------------------------------------------------------------


def test_signature_is_the_session_less_circuit() -> None:
    # Spelled out like the published vectors: sorted key=value, no separator, + app secret.
    params = {"uid": "1", "amount": "5", "application_key": APP_KEY, "transaction_id": "t"}
    text = f"amount=5application_key={APP_KEY}transaction_id=tuid=1{APP_SECRET}"
    sig = hashlib.md5(text.encode()).hexdigest()
    callback = parse({**params, "sig": sig})
    assert (callback.uid, callback.amount, callback.transaction_id) == ("1", 5, "t")


def test_good_signature_gives_a_typed_callback() -> None:
    callback = parse(
        signed(
            payment(
                product_option="x2",
                currency="RUB",
                payment_system="CARD",
                extra_attributes='{"level": 7, "name": "Щит"}',
                trial_days="30",
                card_promo="true",
            )
        )
    )
    assert callback.uid == "575662066926"
    assert callback.transaction_id == "4711"
    assert callback.product_code == "gold_100"
    assert callback.product_option == "x2"
    assert callback.amount == 100
    assert callback.currency == "RUB"
    assert callback.payment_system == "CARD"
    assert callback.extra_attributes == {"level": 7, "name": "Щит"}
    assert callback.trial_days == 30
    assert callback.card_promo is True
    assert callback.application_key == APP_KEY
    assert callback.transaction_time == "2024-03-01 15:30:00"
    moscow = timezone(timedelta(hours=3))
    assert callback.transaction_datetime == datetime(2024, 3, 1, 15, 30, tzinfo=moscow)
    assert callback.transaction_datetime == datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc)


def test_sig_is_accepted_in_upper_case() -> None:
    query = signed(payment())
    assert parse({**query, "sig": query["sig"].upper()}).amount == 100


def test_wrong_signature_is_104() -> None:
    query = signed(payment())
    error = rejected({**query, "amount": "1"})  # tampered after signing
    assert error.code == 104
    assert error.name == "PARAM_SIGNATURE"


def test_signature_made_with_another_secret_is_104() -> None:
    assert rejected(signed(payment(), secret="SOMEBODY-ELSE")).code == 104


def test_missing_or_empty_signature_is_104() -> None:
    assert rejected(payment()).code == 104
    assert rejected({**payment(), "sig": ""}).code == 104


def test_non_ascii_signature_is_104_not_a_crash() -> None:
    assert rejected({**payment(), "sig": "подпись"}).code == 104


def test_error_text_holds_neither_secret_nor_sig() -> None:
    query = signed(payment())
    bad = {**query, "sig": "0123456789abcdef0123456789abcdef"}
    for query_, code in ((bad, 104), (signed(payment(amount="lots")), 1001)):
        error = rejected(query_)
        assert error.code == code
        for text in (str(error), repr(error), error.message, error.reply()[0].decode()):
            assert APP_SECRET not in text
            assert query_["sig"] not in text
    # nor the callback itself
    callback = parse(query)
    assert query["sig"] not in repr(callback)
    assert "sig" not in callback.model_dump()


# --- application key and fields ------------------------------------------------------------


def test_application_key_of_another_app_is_1001() -> None:
    error = rejected(signed(payment(application_key="OTHERAPPKEY")))
    assert error.code == 1001
    assert "application_key" in error.message


def test_missing_application_key_is_1001() -> None:
    params = payment()
    del params["application_key"]
    assert rejected(signed(params)).code == 1001


@pytest.mark.parametrize("name", ["uid", "amount", "transaction_id"])
def test_missing_required_field_is_1001(name: str) -> None:
    params = payment()
    del params[name]
    error = rejected(signed(params))
    assert error.code == 1001
    assert error.name == "CALLBACK_INVALID_PAYMENT"
    assert repr(name) in error.message
    # an empty value counts as missing
    assert rejected(signed(payment(**{name: ""}))).code == 1001


def test_transaction_id_may_be_optional() -> None:
    params = payment(trial_days="7")
    del params["transaction_id"]
    callback = parse(signed(params), require_transaction_id=False)
    assert callback.transaction_id is None
    assert callback.trial_days == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount", "ten"),
        ("amount", "-5"),
        ("amount", "1.5"),
        ("amount", "1e2"),
        ("trial_days", "a week"),
        ("transaction_time", "01.03.2024 15:30"),
        ("extra_attributes", "{not json"),
        ("extra_attributes", "[1, 2]"),
        ("card_promo", "yes"),
    ],
)
def test_invalid_field_is_1001_and_names_only_the_field(name: str, value: str) -> None:
    error = rejected(signed(payment(**{name: value})))
    assert error.code == 1001
    assert repr(name) in error.message
    assert value not in str(error)


def test_optional_fields_absent_or_empty_are_none() -> None:
    callback = parse(signed(payment(currency="", card_promo="", extra_attributes="")))
    assert callback.currency is None
    assert callback.card_promo is None
    assert callback.extra_attributes is None
    assert callback.trial_days is None
    assert callback.product_option is None
    assert parse(signed(payment(card_promo="false"))).card_promo is False


def test_unknown_parameters_are_kept_and_signed() -> None:
    callback = parse(signed(payment(new_thing="42")))
    assert callback.model_extra == {"new_thing": "42"}
    unsigned_extra = {**signed(payment()), "new_thing": "42"}
    assert rejected(unsigned_extra).code == 104


def test_callback_is_frozen() -> None:
    callback = parse(signed(payment()))
    with pytest.raises(ValueError, match="frozen"):
        callback.amount = 1


def test_empty_credentials_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_payment_callback(signed(payment()), app_key=APP_KEY, app_secret_key="")
    with pytest.raises(ValueError):
        parse_payment_callback(signed(payment()), app_key="", app_secret_key=APP_SECRET)


def test_error_class() -> None:
    error = PaymentCallbackError(1001)
    assert isinstance(error, OkError)
    assert error.message == "Payment is invalid and can not be processed"
    assert str(error) == (
        "CALLBACK_INVALID_PAYMENT (1001): Payment is invalid and can not be processed"
    )
    assert error.reply() == payment_error_reply(1001)
    with pytest.raises(ValueError):
        PaymentCallbackError(100, "not a callback code")


# --- XML answers ---------------------------------------------------------------------------


def test_ok_reply_is_byte_exact() -> None:
    body, headers = payment_ok_reply()
    assert body == OK_BODY
    assert headers == {"Content-Type": "application/xml"}


def test_error_reply_is_byte_exact() -> None:
    expected_headers = {"Content-Type": "application/xml", "Invocation-error": "1001"}
    assert payment_error_reply(1001) == (INVALID_PAYMENT_BODY, expected_headers)
    documented = payment_error_reply(1001, "Payment is invalid and can not be processed")
    assert documented == (INVALID_PAYMENT_BODY, expected_headers)


@pytest.mark.parametrize(("code", "name"), sorted(PAYMENT_ERROR_NAMES.items()))
def test_error_reply_takes_the_name_from_the_code(code: int, name: str) -> None:
    body, headers = payment_error_reply(code, "why")
    assert f"<error_code>{code}</error_code>".encode() in body
    assert f"<error_msg>{name} : why</error_msg>".encode() in body
    assert headers["Invocation-error"] == str(code)


def test_error_reply_names() -> None:
    assert PAYMENT_ERROR_NAMES == {
        1: "UNKNOWN",
        2: "SERVICE",
        104: "PARAM_SIGNATURE",
        1001: "CALLBACK_INVALID_PAYMENT",
        9999: "SYSTEM",
    }


def test_error_reply_escapes_the_message() -> None:
    body, _ = payment_error_reply(1001, 'price <b>&</b> "code" ünïcode \x00\x1b end')
    assert body.endswith(
        "<error_msg>CALLBACK_INVALID_PAYMENT : price &lt;b&gt;&amp;&lt;/b&gt; "
        '"code" ünïcode \ufffd\ufffd end</error_msg></ns2:error_response>'.encode()
    )


def test_error_reply_is_well_formed_xml() -> None:
    import xml.etree.ElementTree as ET

    body, _ = payment_error_reply(9999, "a < b && c > d ]]> \ud800")
    root = ET.fromstring(body)
    assert root.tag == "{http://api.forticom.com/1.0/}error_response"
    assert root.findtext("error_code") == "9999"
    assert root.findtext("error_msg") == "SYSTEM : a < b && c > d ]]> \ufffd"
    ok = ET.fromstring(payment_ok_reply()[0])
    assert (ok.tag, ok.text) == ("{http://api.forticom.com/1.0/}callbacks_payment_response", "true")


@pytest.mark.parametrize("code", [0, 3, 100, 1000, 10000, True])
def test_error_reply_rejects_other_codes(code: int) -> None:
    with pytest.raises(ValueError):
        payment_error_reply(code, "no")


# --- source addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "217.20.145.192",
        "217.20.145.207",
        "217.20.151.160",
        "217.20.151.175",
        "217.20.153.48",
        "217.20.153.63",
        "::ffff:217.20.153.50",
    ],
)
def test_okru_addresses(ip: str) -> None:
    assert is_okru_callback_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "217.20.145.191",
        "217.20.145.208",
        "217.20.151.176",
        "217.20.153.47",
        "217.20.153.64",
        "127.0.0.1",
        "::1",
        "2001:db8::1",
        "",
        "not an address",
        "217.20.145.192/28",
    ],
)
def test_other_addresses(ip: str) -> None:
    assert not is_okru_callback_address(ip)


def test_networks_are_the_documented_ones() -> None:
    assert [str(n) for n in OKRU_CALLBACK_NETWORKS] == [
        "217.20.145.192/28",
        "217.20.151.160/28",
        "217.20.153.48/28",
    ]


# --- aiohttp handler over a real socket ----------------------------------------------------

OnPayment = Callable[[PaymentCallback], Awaitable[None]]
Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start ``payment_handler`` on 127.0.0.1 (a free port); gives the payment URL."""
    runners: list[web.AppRunner] = []

    async def start(on_payment: OnPayment, **options: bool) -> str:
        app = web.Application()
        app.router.add_get(
            "/ok/payment",
            payment_handler(
                on_payment, app_key=APP_KEY, app_secret_key=APP_SECRET, max_age=None, **options
            ),
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


async def test_handler_answers_ok_and_passes_the_callback(serve: Serve) -> None:
    seen: list[PaymentCallback] = []

    async def on_payment(callback: PaymentCallback) -> None:
        seen.append(callback)

    url = await serve(on_payment)
    # values that need URL encoding: Cyrillic, spaces, &, =, +, JSON
    query = signed(
        payment(product_code="зелье & щит=2+1", extra_attributes='{"slot": "a b", "n": 1}')
    )
    status, body, headers = await get(url, query)
    assert status == 200
    assert body == OK_BODY
    assert headers["Content-Type"] == "application/xml"
    assert "Invocation-error" not in headers
    [callback] = seen
    assert callback.product_code == "зелье & щит=2+1"
    assert callback.extra_attributes == {"slot": "a b", "n": 1}
    assert callback.amount == 100


async def test_handler_bad_signature_is_104_and_skips_on_payment(serve: Serve) -> None:
    calls: list[PaymentCallback] = []

    async def on_payment(callback: PaymentCallback) -> None:
        calls.append(callback)

    url = await serve(on_payment)
    status, body, headers = await get(url, {**signed(payment()), "amount": "1"})
    assert status == 200
    assert headers["Invocation-error"] == "104"
    assert headers["Content-Type"] == "application/xml"
    assert b"<error_code>104</error_code>" in body
    assert b"PARAM_SIGNATURE : " in body
    assert calls == []


async def test_handler_missing_field_is_1001(serve: Serve) -> None:
    async def on_payment(callback: PaymentCallback) -> None:
        raise AssertionError("must not be called")

    url = await serve(on_payment)
    params = payment()
    del params["uid"]
    _, body, headers = await get(url, signed(params))
    assert headers["Invocation-error"] == "1001"
    assert b"<error_code>1001</error_code>" in body


async def test_handler_repeated_parameter_is_1001(serve: Serve) -> None:
    async def on_payment(callback: PaymentCallback) -> None:
        raise AssertionError("must not be called")

    url = await serve(on_payment)
    query = signed(payment())
    async with (
        aiohttp.ClientSession() as client,
        client.get(url, params=[*query.items(), ("amount", "1")]) as response,
    ):
        assert response.headers["Invocation-error"] == "1001"


async def test_handler_passes_on_the_code_on_payment_raises(serve: Serve) -> None:
    async def on_payment(callback: PaymentCallback) -> None:
        raise PaymentCallbackError(1001, f"{callback.product_code} does not cost {callback.amount}")

    url = await serve(on_payment)
    status, body, headers = await get(url, signed(payment()))
    assert status == 200
    assert headers["Invocation-error"] == "1001"
    assert b"CALLBACK_INVALID_PAYMENT : gold_100 does not cost 100" in body


async def test_handler_other_exception_is_2_and_logged_without_secrets(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    query = signed(payment())

    async def on_payment(callback: PaymentCallback) -> None:
        raise RuntimeError(f"database down; key {APP_SECRET} sig={query['sig']}")

    url = await serve(on_payment)
    with caplog.at_level(logging.DEBUG, logger="okru_sdk.callbacks"):
        status, body, headers = await get(url, query)
    assert status == 200
    assert headers["Invocation-error"] == "2"
    assert b"<error_code>2</error_code>" in body
    assert b"SERVICE : " in body
    assert APP_SECRET.encode() not in body
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError: database down" in logged
    assert "4711" in logged  # the transaction id, to find it again
    assert APP_SECRET not in logged
    assert query["sig"] not in logged
    assert all(record.exc_info is None for record in caplog.records)


async def test_handler_source_ip_check(serve: Serve) -> None:
    calls: list[PaymentCallback] = []

    async def on_payment(callback: PaymentCallback) -> None:
        calls.append(callback)

    checked = await serve(on_payment, check_source_ip=True)
    _, body, headers = await get(checked, signed(payment()))
    assert headers["Invocation-error"] == "1001"  # 127.0.0.1 is not OK.ru
    assert calls == []

    unchecked = await serve(on_payment)  # the default: no address check
    _, body, _ = await get(unchecked, signed(payment()))
    assert body == OK_BODY
    assert len(calls) == 1


def test_handler_needs_credentials() -> None:
    async def on_payment(callback: PaymentCallback) -> None:
        return None

    with pytest.raises(ValueError):
        payment_handler(on_payment, app_key=APP_KEY, app_secret_key="")
