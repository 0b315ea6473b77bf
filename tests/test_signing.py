"""Signing: the published vectors and the circuit secrets."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from okru_sdk import ServerSession
from okru_sdk.encoding import encode_params
from okru_sdk.sessions.base import SessionMode
from okru_sdk.signing import (
    UNSIGNED_KEYS,
    application_secret,
    client_secret,
    server_secret,
    sign_params,
    sign_params_with_session_key,
)
from okru_sdk.transport import form_text

# From okru-protocol.md §2 (recomputed there with hashlib).
VECTOR_PARAMS = {"application_key": "ABCDEFGHIGKLMNOPK", "format": "json", "method": "events.get"}
VECTOR_TOKEN = "-s-84W-s3egarWUsbkq-IWTucuedzTKT8VUXIA.s4Xx8IW7"
VECTOR_APP_SECRET = "ABC123DEF456GHI789JKL123"
VECTOR_SESSION_SECRET = "ae5362b5b588cc7294c2414d71b74d5d"


def test_server_circuit_secret_vector() -> None:
    assert server_secret(VECTOR_TOKEN, VECTOR_APP_SECRET) == "b1a2b89707a94624c43afae67d59274c"


def test_server_circuit_sig_vector() -> None:
    secret = server_secret(VECTOR_TOKEN, VECTOR_APP_SECRET)
    assert sign_params(VECTOR_PARAMS, secret) == "232c8eb921951c4dba9b72606f9ddb4c"


def test_client_circuit_sig_vector() -> None:
    secret = client_secret(VECTOR_SESSION_SECRET)
    assert sign_params(VECTOR_PARAMS, secret) == "03a41413523ea8092507949d6e711963"


def test_access_token_and_sig_are_never_signed() -> None:
    assert frozenset({"sig", "access_token", "session_key"}) == UNSIGNED_KEYS
    secret = server_secret(VECTOR_TOKEN, VECTOR_APP_SECRET)
    with_extras = {**VECTOR_PARAMS, "access_token": VECTOR_TOKEN, "sig": "whatever"}
    assert sign_params(with_extras, secret) == "232c8eb921951c4dba9b72606f9ddb4c"


def test_session_key_is_left_out_by_default_and_signed_on_request() -> None:
    # The current OK.ru text removes session_key with access_token; the JS SDK signs it.
    secret = client_secret(VECTOR_SESSION_SECRET)
    with_key = {**VECTOR_PARAMS, "session_key": "k"}
    assert sign_params(with_key, secret) == sign_params(VECTOR_PARAMS, secret)
    assert sign_params_with_session_key(with_key, secret) != sign_params(VECTOR_PARAMS, secret)
    assert sign_params_with_session_key(VECTOR_PARAMS, secret) == sign_params(VECTOR_PARAMS, secret)


def test_application_circuit_uses_the_app_secret_as_is() -> None:
    expected = hashlib.md5(
        (
            "application_key=ABCDEFGHIGKLMNOPKformat=jsonmethod=events.get" + VECTOR_APP_SECRET
        ).encode()
    ).hexdigest()
    assert sign_params(VECTOR_PARAMS, application_secret(VECTOR_APP_SECRET)) == expected


def test_pairs_are_sorted_by_key_and_joined_without_separator() -> None:
    params = {"b": "2", "a": "1", "c": "3"}
    assert sign_params(params, "s") == hashlib.md5(b"a=1b=2c=3s").hexdigest()


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (["uid", "name"], "uid,name"),
        (True, "true"),
        ({"text": "Привет"}, '{"text":"Привет"}'),
        ([{"a": 1}, {"b": [1, 2]}], '[{"a":1},{"b":[1,2]}]'),
    ],
)
def test_signature_covers_the_encoded_value_utf8(value: object, wire: str) -> None:
    encoded = encode_params({"x": value})
    assert encoded == {"x": wire}
    expected = hashlib.md5(f"x={wire}secret".encode()).hexdigest()
    assert sign_params(encoded, "secret") == expected


@given(
    st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=6), max_size=6),
    st.booleans(),
)
@example({"session_key": "k", "a": "1"}, False)
@example({"session_key": "k", "a": "1"}, True)
@example({"fields": "uid,name", "text": "a b&c"}, False)
def test_the_form_joined_from_the_signed_pairs_is_the_whole_form(
    params: dict[str, str], sign_session_key: bool
) -> None:
    # A session signs, then joins the form from the signature's own key=value strings
    # when nothing needs quoting: the form must hold exactly the signed parameters.
    session = ServerSession(
        "1", "KEY", VECTOR_APP_SECRET, VECTOR_TOKEN, sign_session_key=sign_session_key
    )
    wire = dict(params)
    pairs = session._sign("users.getInfo", wire, SessionMode.REQUIRED, True)
    assert wire["access_token"] == VECTOR_TOKEN
    sign = sign_params_with_session_key if sign_session_key else sign_params
    assert wire["sig"] == sign(wire, server_secret(VECTOR_TOKEN, VECTOR_APP_SECRET))
    text = form_text(wire, pairs)
    assert sorted(parse_qsl(text, keep_blank_values=True)) == sorted(wire.items())


def test_the_signed_pairs_make_the_form_only_when_they_cover_it() -> None:
    session = ServerSession("1", "KEY", VECTOR_APP_SECRET, VECTOR_TOKEN)
    wire = {"method": "users.getInfo", "fields": "uid,name"}
    pairs = session._sign("users.getInfo", wire, SessionMode.REQUIRED, True)
    assert pairs is not None and form_text(wire, pairs) == "&".join(pairs)
    assert pairs[-2:] == [f"sig={wire['sig']}", f"access_token={VECTOR_TOKEN}"]
    # an unsigned parameter is not among the signature's strings: no pairs
    wire = {"method": "users.getInfo", "session_key": "k"}
    assert session._sign("users.getInfo", wire, SessionMode.REQUIRED, True) is None
