"""Typed results validated in the shape of the fields asked for (okru_sdk._shaped)."""

from __future__ import annotations

import json
import pickle
from typing import Any

from okru_sdk import API, ServerSession
from okru_sdk.api import MethodSpec, list_of, load_model
from okru_sdk.models import GeoLocation, User
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App
from okru_sdk.testing.state import User as EmulatedUser


def users_spec() -> MethodSpec[list[User]]:
    return MethodSpec("users.getInfo", result_factory=lambda: list_of(load_model("user", "User")))


def reply(**extra: Any) -> bytes:
    item = {
        "uid": 575662066926,  # a number where a string is declared: becomes "575662066926"
        "first_name": "Alice",
        "age": 30,
        "current_location": {"city": "Moscow", "cellId": 7},
        "brand_new_field": [1, 2],
        **extra,
    }
    return json.dumps([item, {**item, "first_name": "Bob"}]).encode()


def test_a_shaped_item_reads_exactly_as_a_fully_validated_one() -> None:
    body = reply()
    shaped = users_spec().parse(body, "first_name,age,current_location")
    full = users_spec().parse(body)
    for a, b in zip(shaped, full, strict=True):
        assert isinstance(a, User)
        for name in User.model_fields:
            assert getattr(a, name) == getattr(b, name), name
        assert a.model_extra == b.model_extra == {"brand_new_field": [1, 2]}
        # the dump shows what arrived (nested models dump whole, as in b)
        arrived = b.model_fields_set | set(b.model_extra or {})
        assert a.model_dump() == {k: v for k, v in b.model_dump().items() if k in arrived}
        assert a.model_fields_set == b.model_fields_set
    first = shaped[0]
    assert first.uid == "575662066926"  # arrived unasked: still validated, coerced to str
    assert isinstance(first.current_location, GeoLocation)
    assert first.current_location.cell_id == 7  # wire alias cellId
    assert first.email is None and first.pic190x190 is None  # declared, absent


def test_an_unasked_declared_field_is_validated_not_left_among_extras() -> None:
    spec = users_spec()
    items = spec.parse(reply(location={"city": "Kazan"}), "first_name")
    assert items[0].location is not None and items[0].location.city == "Kazan"
    assert "location" not in (items[0].model_extra or {})
    # the wider shape is remembered for the next call with the same fields
    again = spec.parse(reply(location={"city": "Kazan"}), "first_name")
    assert again[1].location is not None and again[1].location.city == "Kazan"


def test_an_unasked_field_on_a_later_item_alone_is_found() -> None:
    # no item carries unknown fields, and only the last one a declared field not asked for
    items = [{"uid": "1", "first_name": "Alice"}, {"uid": "2", "first_name": "Bob", "age": 41}]
    got = users_spec().parse(json.dumps(items).encode(), "uid,first_name")
    assert got[1].age == 41 and not got[1].model_extra
    assert got[0].age is None


def test_a_single_object_result_is_shaped_too() -> None:
    spec: MethodSpec[User] = MethodSpec(
        "users.getCurrentUser", result_factory=lambda: load_model("user", "User")
    )
    body = json.dumps({"uid": 7, "first_name": "Alice", "gender": "female"}).encode()
    user = spec.parse(body, ["uid", "first_name"])
    assert isinstance(user, User) and type(user) is not User  # a shaped instance
    assert user.uid == "7" and user.gender == "female" and not user.model_extra
    assert user.email is None


def test_unknown_attributes_still_raise() -> None:
    item = users_spec().parse(reply(), ["first_name"])[0]
    try:
        item.not_a_field  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "not_a_field" in str(exc)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")


def test_a_pickled_shaped_item_comes_back_as_a_plain_model() -> None:
    item = users_spec().parse(reply(), "first_name,age")[0]
    back = pickle.loads(pickle.dumps(item))
    assert type(back) is User
    assert back.first_name == "Alice" and back.age == 30 and back.email is None
    assert back.model_extra == {"brand_new_field": [1, 2]}


def test_fields_that_match_no_declared_field_fall_back_to_full_validation() -> None:
    items = users_spec().parse(reply(), "*")
    assert type(items[0]) is User
    items = users_spec().parse(reply(), [object()])  # not strings: nothing to shape by
    assert type(items[0]) is User


async def test_typed_users_get_info_over_the_emulator(
    emu: OkEmulator, app: App, user: EmulatedUser
) -> None:
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.access_token, api_url=emu.url
    ) as session:
        api = API(session)
        shaped = await api.users.get_info(uids=[user.uid], fields=["first_name", "last_name"])
        full = await api.users.get_info(uids=[user.uid], fields=["*"])
    assert isinstance(shaped[0], User)
    assert shaped[0].first_name == full[0].first_name == "Alice"
    assert shaped[0].uid == user.uid
    assert shaped[0].email is None
