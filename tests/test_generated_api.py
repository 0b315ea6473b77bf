"""Typed, generated methods against the real emulator over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

import okru_sdk
from okru_sdk import API, APIError, AuthError, ServerSession
from okru_sdk._generated import CATALOGUE_SHA256, METHOD_COUNT
from okru_sdk._generated.emulator_data import METHODS
from okru_sdk.models import Group, PhotoUploadUrl, User
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.catalogue import register_catalogue

APP_ID, APP_KEY, APP_SECRET = "1248", "CBAABCABC", "S3CRET-app-secret"


@dataclass
class Env:
    emu: OkEmulator
    api: API
    uid: str


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with OkEmulator() as emu:
        app = emu.add_app(
            app_id=APP_ID,
            app_key=APP_KEY,
            app_secret_key=APP_SECRET,
            public_code_exchange=False,
        )
        user = emu.add_user(
            login="ivan@example.com",
            password="pw",
            uid="571234567890",
            first_name="Ivan",
            last_name="Petrov",
        )
        register_catalogue(emu)
        token = emu.issue_token(app, user)
        async with ServerSession(
            APP_ID, APP_KEY, APP_SECRET, token.access_token, api_url=emu.url
        ) as session:
            yield Env(emu, API(session), user.uid)


async def test_get_current_user_is_a_user_model(env: Env) -> None:
    me = await env.api.users.get_current_user(fields=["uid", "first_name", "last_name"])
    assert isinstance(me, User)
    assert (me.uid, me.first_name, me.last_name) == (env.uid, "Ivan", "Petrov")
    request = env.emu.requests[-1]
    assert request.method == "users.getCurrentUser"
    assert request.params["fields"] == "uid,first_name,last_name"


async def test_list_params_and_list_results(env: Env) -> None:
    users = await env.api.users.get_info(uids=[env.uid], fields=["uid", "name"])
    assert [u.uid for u in users] == [env.uid]
    assert env.emu.requests[-1].params["uids"] == env.uid


async def test_wire_names_booleans_and_not_given(env: Env) -> None:
    groups = await env.api.group.get_info(uids=["1", "2"], fields=["uid"], move_to_top=False)
    assert isinstance(groups[0], Group)
    params = env.emu.requests[-1].params
    assert params["uids"] == "1,2"
    assert params["move_to_top"] == "false"
    url = await env.api.photos_v2.get_upload_url(count=2)
    assert isinstance(url, PhotoUploadUrl)
    params = env.emu.requests[-1].params
    assert params["count"] == "2"
    assert "aid" not in params  # not given -> not sent


async def test_json_param_and_string_result(env: Env) -> None:
    topic_id = await env.api.mediatopic.post(
        type="USER_NOTE", attachment={"media": [{"type": "text", "text": "hello"}]}
    )
    assert topic_id == METHODS["mediatopic.post"].example
    params = env.emu.requests[-1].params
    assert params["attachment"] == '{"media":[{"type":"text","text":"hello"}]}'
    assert params["type"] == "USER_NOTE"


async def test_extra_params_reach_the_wire(env: Env) -> None:
    await env.api.friends.get(extra_params={"newParam": "x"})
    assert env.emu.requests[-1].params["newParam"] == "x"


async def test_prohibited_method_goes_without_session(env: Env) -> None:
    ok = await env.api.notifications.send_simple(uid=env.uid, text="hi")
    assert ok is True
    params = env.emu.requests[-1].params
    assert "access_token" not in params


async def test_empty_result_is_none(env: Env) -> None:
    env.emu.register_method("video.delete", lambda call: None, session="optional")
    await env.api.video.delete(vid=1)
    assert env.emu.requests[-1].params["vid"] == "1"


async def test_required_param_missing_on_the_wire_is_an_api_error(env: Env) -> None:
    with pytest.raises(APIError):
        await env.api.users.get_info(uids=[env.uid], fields=[], extra_params={"uids": None})


async def test_required_session_without_token() -> None:
    async with OkEmulator() as emu:
        emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        register_catalogue(emu)
        session = okru_sdk.TokenSession(APP_ID, APP_KEY, APP_SECRET, session_secret_key="x")
        async with session:
            with pytest.raises(AuthError):
                await API(session).users.get_current_user()


async def test_every_catalogued_method_is_registered(env: Env) -> None:
    for name, facts in METHODS.items():
        spec = env.emu.method_spec(name)
        assert spec is not None, name
        if spec.handler.__module__ == "okru_sdk.testing.catalogue":
            assert spec.session == facts.session
            assert spec.required_params == facts.required_params


def test_generated_facts() -> None:
    assert len(METHODS) == METHOD_COUNT
    assert len(CATALOGUE_SHA256) == 64
    assert APIError.for_code(8).__name__ == "FloodBlocked"
    assert APIError.for_code(8).transient is True
    assert APIError.for_code(2).transient is True
    assert APIError.for_code(102).__name__ == "SessionExpired"
    assert APIError.for_code(104).__name__ == "InvalidSignature"
    assert APIError.for_code(11).transient is False


def test_groups_are_cached_and_lazy() -> None:
    session = okru_sdk.ServerSession(APP_ID, APP_KEY, APP_SECRET, "token")
    api = API(session)
    assert api.users is api.users
    assert type(api.photos_v2).__name__ == "PhotosV2Methods"
