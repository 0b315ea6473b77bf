"""Correctly signed ``callbacks.payment`` requests, for tests of your own payment handler.

OK.ru calls the application's payment URL with an HTTP GET whose query is
signed with the application secret key (the session-less circuit).
:func:`signed_payment_callback` builds such a query, so a test can send it to
the handler under test exactly as OK.ru would::

    from okru_sdk.testing import signed_payment_callback

    query = signed_payment_callback(
        app_key=APP_KEY, app_secret_key=APP_SECRET_KEY, uid="575662066926",
        amount=100, product_code="gold_100",
    )
    resp = await client.get("/ok/payment", params=query)  # aiohttp's test client

Change a value after signing (``query["amount"] = "1"``) to test that the
handler refuses a forged request.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..callbacks import MOSCOW_TIME, TRANSACTION_TIME_FORMAT
from ..signing import application_secret, sign_params

__all__ = ["signed_payment_callback"]


def _wire(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False, separators=(",", ":"))
    kind = type(value).__name__
    raise TypeError(f"{name} must be a str, an int, a bool or a mapping, got {kind}")


def signed_payment_callback(
    *,
    app_key: str,
    app_secret_key: str,
    uid: str,
    amount: int,
    product_code: str | None = None,
    transaction_id: str | None = None,
    transaction_time: datetime | str | None = None,
    extra_attributes: Mapping[str, Any] | None = None,
    **params: Any,
) -> dict[str, str]:
    """The query of one ``callbacks.payment`` notification, signed as OK.ru signs it.

    ``transaction_id`` defaults to a fresh random id and ``transaction_time`` to
    now, so the notification passes :func:`~okru_sdk.callbacks.parse_payment_callback`'s
    age check; a ``datetime`` (aware) is converted to Moscow time, a string is
    sent as it is. ``extra_attributes`` is sent as JSON. Any other keyword
    (``currency``, ``payment_system``, ``product_option``, ``trial_days``,
    ``card_promo``, ...) is sent too: booleans as ``true``/``false``, numbers
    as digits, mappings as JSON. The result maps names to the strings of the
    query, ``sig`` included.
    """
    if not app_key or not app_secret_key:
        raise ValueError("app_key and app_secret_key must not be empty")
    if transaction_time is None:
        transaction_time = datetime.now(timezone.utc)
    if isinstance(transaction_time, datetime):
        if transaction_time.utcoffset() is None:
            raise ValueError("transaction_time must be a timezone-aware datetime")
        transaction_time = transaction_time.astimezone(MOSCOW_TIME).strftime(
            TRANSACTION_TIME_FORMAT
        )
    query: dict[str, str] = {
        "application_key": app_key,
        "uid": str(uid),
        "amount": _wire("amount", amount),
        "transaction_id": transaction_id or str(secrets.randbelow(10**15) + 10**14),
        "transaction_time": transaction_time,
    }
    if product_code is not None:
        query["product_code"] = product_code
    if extra_attributes is not None:
        query["extra_attributes"] = _wire("extra_attributes", extra_attributes)
    for name, value in params.items():
        if name == "sig":
            raise ValueError("sig is computed here; change it after signing to test a forgery")
        if value is not None:
            query[name] = _wire(name, value)
    query["sig"] = sign_params(query, application_secret(app_secret_key))
    return query
