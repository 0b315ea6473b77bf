"""Typed calls: the same wire as api.call, tolerant models, checks before sending."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from okru_sdk import API, ParameterValidationError, ServerSession
from okru_sdk.models import User
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App
from okru_sdk.testing.state import User as EmuUser


@pytest.fixture
async def api(emu: OkEmulator, app: App, user: EmuUser) -> AsyncIterator[API]:
    tok = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, tok.access_token, api_url=emu.url
    ) as session:
        yield API(session)


async def test_typed_call_sends_what_api_call_sends(emu: OkEmulator, api: API) -> None:
    friend = emu.add_user(first_name="Bob")
    await api.users.get_info(uids=[friend.uid, "1"], fields=["uid", "name"], empty_pictures=False)
    typed = emu.requests[-1].params
    await api.call("users.getInfo", uids=[friend.uid, "1"], fields="uid,name", emptyPictures=False)
    raw = emu.requests[-1].params
    assert typed == raw  # same parameters, same values, so the same signature too
    assert typed["emptyPictures"] == "false"


async def test_models_keep_fields_the_catalogue_does_not_know(
    emu: OkEmulator, api: API, user: EmuUser
) -> None:
    user.extra["brand_new_field"] = {"nested": [1, 2]}
    me = await api.users.get_current_user(fields=["uid", "name", "brand_new_field"])
    assert isinstance(me, User)
    assert me.uid == user.uid
    assert me.model_extra is not None
    assert me.model_extra["brand_new_field"] == {"nested": [1, 2]}


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"uids": "1,2,3", "fields": ["uid"]}, "pass a list"),
        ({"uids": [str(i) for i in range(101)], "fields": ["uid"]}, "at most 100"),
        ({"uids": [{"id": 1}], "fields": ["uid"]}, "items must be"),
        ({"uids": ["1"], "fields": ["uid"], "empty_pictures": "yes"}, "must be a bool"),
    ],
)
async def test_bad_parameters_fail_before_sending(
    emu: OkEmulator, api: API, kwargs: dict[str, object], problem: str
) -> None:
    before = len(emu.requests)
    with pytest.raises(ParameterValidationError, match=problem) as info:
        await api.users.get_info(**kwargs)  # type: ignore[arg-type]
    assert info.value.method == "users.getInfo"
    assert len(emu.requests) == before


async def test_unsigned_method_needs_no_secret_and_carries_no_sig(
    emu: OkEmulator, app: App, user: EmuUser
) -> None:
    from okru_sdk import ClientSession
    from okru_sdk.testing.catalogue import register_catalogue

    register_catalogue(emu, only=["sdk.init"])
    tok = emu.issue_token(app, user)
    # a client-side session has no application secret, and sdk.init needs none
    async with ClientSession(
        app.app_id, app.app_key, tok.session_secret_key, tok.access_token, api_url=emu.url
    ) as session:
        await API(session).sdk.init(session_data={"version": 2, "device_id": "d1"})
    sent = emu.requests[-1]
    assert sent.method == "sdk.init"
    assert "sig" not in sent.params and "access_token" not in sent.params
    assert sent.params["session_data"] == '{"version":2,"device_id":"d1"}'
