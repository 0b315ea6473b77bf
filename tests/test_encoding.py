"""The one parameter encoder used for the signature and the wire."""

from __future__ import annotations

import enum
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okru_sdk.encoding import NOT_GIVEN, encode_params, encode_value
from okru_sdk.transport import encode_form


class Color(enum.Enum):
    RED = "red"


def test_lists_tuples_and_sets_are_comma_joined() -> None:
    assert encode_value(["a", "b", 3]) == "a,b,3"
    assert encode_value(("x",)) == "x"
    assert encode_value({"b", "a"}) == "a,b"
    assert encode_value([]) == ""


def test_booleans_are_lowercase_words() -> None:
    assert encode_value(True) == "true"
    assert encode_value(False) == "false"
    assert encode_value([True, False]) == "true,false"


def test_numbers_and_enums() -> None:
    assert encode_value(0) == "0"
    assert encode_value(12345678901234) == "12345678901234"
    assert encode_value(1.5) == "1.5"
    assert encode_value(Color.RED) == "red"


def test_dicts_and_lists_of_dicts_are_compact_json_keeping_non_ascii() -> None:
    assert encode_value({"media": [{"type": "text", "text": "Привет, мир"}]}) == (
        '{"media":[{"type":"text","text":"Привет, мир"}]}'
    )
    assert encode_value([{"method": "users.getCurrentUser", "params": {}}]) == (
        '[{"method":"users.getCurrentUser","params":{}}]'
    )


def test_none_and_not_given_are_left_out_but_falsy_values_are_sent() -> None:
    wire = encode_params(
        {"a": None, "b": NOT_GIVEN, "__online": False, "count": 0, "text": "", "list": []}
    )
    assert wire == {"__online": "false", "count": "0", "text": "", "list": ""}


def test_not_given_is_falsy_and_prints_its_name() -> None:
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


def test_pydantic_models_become_json() -> None:
    from pydantic import BaseModel, Field

    class Attachment(BaseModel):
        publish_at: str | None = Field(default=None, alias="publishAt")
        text: str

    assert encode_value(Attachment(text="hi")) == '{"text":"hi"}'
    assert encode_value(Attachment(text="hi", publishAt="2026-01-01 10:00:00")) == (
        '{"publishAt":"2026-01-01 10:00:00","text":"hi"}'
    )


def test_unencodable_value_names_its_type() -> None:
    with pytest.raises(TypeError, match="object"):
        encode_value(object())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=6))
def test_form_body_decodes_to_the_same_pairs(data: dict[str, str]) -> None:
    # What urlencode makes, except that "," stays as it is (RFC 3986 allows it in a
    # query; form parsers take it literally), so comma-joined lists need no quoting.
    body = encode_form(data)
    assert body == urlencode(data).replace("%2C", ",").encode()
    assert parse_qsl(body.decode(), keep_blank_values=True) == list(data.items())


def test_form_text_quotes_only_what_needs_it() -> None:
    from okru_sdk.transport import form_text

    plain = {"fields": "uid,first_name", "method": "users.getInfo", "sig": "0a1b", "n": "1.5~_-"}
    assert form_text(plain) == "fields=uid,first_name&method=users.getInfo&sig=0a1b&n=1.5~_-"
    # one value that needs quoting: every pair still comes out right
    mixed = {"uids": "1,2", "text": "a b&c=d é", "k y": "v"}
    assert form_text(mixed) == "uids=1,2&text=a+b%26c%3Dd+%C3%A9&k+y=v"
    assert parse_qsl(form_text(mixed)) == list(mixed.items())
