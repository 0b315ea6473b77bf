"""``async with api.batch() as batch:`` against the emulator, whose batch.execute runs each call."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okru_sdk import API, APIError, ParameterValidationError, ServerSession, TransportError
from okru_sdk.api import MethodSpec
from okru_sdk.batch import MAX_BATCH_CALLS, BatchHandle, BatchUsageError, plan_requests
from okru_sdk.errors import ResponseDecodeError
from okru_sdk.models import User
from okru_sdk.retry import RetryPolicy
from okru_sdk.sessions import SessionMode
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.catalogue import register_catalogue
from okru_sdk.testing.faults import Fault
from okru_sdk.testing.state import App, EmulatorError, MethodCall
from okru_sdk.testing.state import User as EmuUser

FAST_RETRY = RetryPolicy(backoff=0.01, flood_backoff=0.01)


@pytest.fixture
def friend(emu: OkEmulator, user: EmuUser) -> EmuUser:
    friend = emu.add_user(first_name="Bob", last_name="Builder")
    emu.make_friends(user, friend)
    return friend


@pytest.fixture
async def api(emu: OkEmulator, app: App, user: EmuUser) -> AsyncIterator[API]:
    register_catalogue(emu)  # every other method answers its catalogue example
    token = emu.issue_token(app, user, expires_in=None)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        token.access_token,
        api_url=emu.url,
        retry=FAST_RETRY,
    ) as session:
        yield API(session)


def batch_requests(emu: OkEmulator) -> list[list[dict[str, Any]]]:
    """The calls of every batch.execute request the emulator received, in order."""
    return [json.loads(r.params["methods"]) for r in emu.requests if r.method == "batch.execute"]


# -- results --------------------------------------------------------------------------------


async def test_mixed_calls_go_in_one_request_and_resolve_to_typed_results(
    emu: OkEmulator, api: API, user: EmuUser, friend: EmuUser
) -> None:
    async with api.batch() as batch:
        me = batch.users.get_current_user(fields=["uid", "name"])
        friends = batch.friends.get()
        infos = batch.users.get_info(uids=[friend.uid], fields=["uid", "first_name"])
        removed = batch.video.delete(vid=1)  # a method whose reply is empty
        assert not me.done()

    sent = batch_requests(emu)
    assert sent == [
        [
            {"method": "users.getCurrentUser", "params": {"fields": "uid,name"}},
            {"method": "friends.get", "params": {}},
            {
                "method": "users.getInfo",
                "params": {"uids": friend.uid, "fields": "uid,first_name"},
            },
            {"method": "video.delete", "params": {"vid": "1"}},
        ]
    ]
    # each call ran for real in the emulator, once
    assert emu.handled["users.getCurrentUser"] == emu.handled["friends.get"] == 1
    assert me.done()
    assert isinstance(me.result(), User)
    assert me.result() == await api.users.get_current_user(fields=["uid", "name"])
    assert me.result().name == "Alice Liddell"
    assert friends.result() == [friend.uid]
    assert [u.first_name for u in infos.result()] == ["Bob"]
    assert removed.result() is None


async def test_an_error_affects_only_its_own_handle(
    emu: OkEmulator, api: API, user: EmuUser, friend: EmuUser
) -> None:
    async with api.batch() as batch:
        me = batch.users.get_current_user()
        missing = batch.friends.get(fid="404")
        infos = batch.users.get_info(uids=[friend.uid], fields=["uid"])

    assert len(batch_requests(emu)) == 1
    with pytest.raises(APIError) as info:
        missing.result()
    error = info.value
    assert type(error) is APIError.for_code(110)  # the per-code class, as a direct call raises
    assert error.code == 110
    assert error.method == "friends.get"
    assert "Invalid user id" in str(error)
    with pytest.raises(type(error)):
        await api.friends.get(fid="404")  # the same class as the typed call
    assert me.result().uid == user.uid
    assert [u.uid for u in infos.result()] == [friend.uid]


async def test_session_rules_of_each_call_apply_inside_the_batch(emu: OkEmulator, api: API) -> None:
    body = await api.session.request(
        "batch.execute",
        {"methods": [{"method": "users.getCurrentUser", "params": {}}]},
        mode=SessionMode.PROHIBITED,  # the batch itself goes without a session
    )
    reply = json.loads(body)
    assert reply["users_getCurrentUser_response"]["error_code"] == 453
    assert emu.handled["users.getCurrentUser"] == 0


# -- splitting --------------------------------------------------------------------------------


async def test_calls_over_the_limit_are_split_over_few_requests(
    emu: OkEmulator, api: API, user: EmuUser, friend: EmuUser
) -> None:
    emu.max_batch_calls = 2  # the emulator refuses bigger batches with 1200
    async with api.batch(max_calls=2) as batch:
        handles = [
            batch.users.get_current_user(fields=["uid"]),
            batch.friends.get(),
            batch.users.get_logged_in_user(),
            batch.users.is_app_user(),
            batch.friends.get_online(),
        ]
    sent = batch_requests(emu)
    assert [len(calls) for calls in sent] == [2, 2, 1]  # ceil(5 / 2) requests
    assert sorted(c["method"] for calls in sent for c in calls) == sorted(h.method for h in handles)
    assert handles[0].result().uid == user.uid
    assert handles[1].result() == [friend.uid]
    assert handles[2].result() == user.uid
    assert all(h.done() for h in handles)


async def test_the_emulator_refuses_a_batch_over_its_limit(emu: OkEmulator, api: API) -> None:
    emu.max_batch_calls = 2
    calls = [{"method": m} for m in ("friends.get", "users.isAppUser", "friends.getOnline")]
    with pytest.raises(APIError) as info:
        await api.batch_raw.execute(methods=calls)
    assert info.value.code == 1200
    assert "at most 2" in str(info.value)


async def test_repeated_methods_go_to_separate_requests_in_order(
    emu: OkEmulator, api: API, user: EmuUser, friend: EmuUser
) -> None:
    # the reply has one key per method, so a method can appear once per request
    third = emu.add_user(first_name="Carol")
    emu.make_friends(friend, third)
    async with api.batch() as batch:
        mine = batch.friends.get(fid=user.uid)
        me = batch.users.get_current_user()
        friends_of_friend = batch.friends.get(fid=friend.uid)
        friends_of_third = batch.friends.get(fid=third.uid)
    sent = batch_requests(emu)
    assert [[c["method"] for c in calls] for calls in sent] == [
        ["friends.get", "users.getCurrentUser"],
        ["friends.get"],
        ["friends.get"],
    ]
    assert [calls[0]["params"]["fid"] for calls in sent] == [user.uid, friend.uid, third.uid]
    assert mine.result() == [friend.uid]
    assert sorted(friends_of_friend.result()) == sorted([user.uid, third.uid])
    assert friends_of_third.result() == [friend.uid]
    assert me.result().uid == user.uid


async def test_the_emulator_refuses_a_method_twice_in_one_batch(api: API) -> None:
    with pytest.raises(APIError) as info:
        await api.batch_raw.execute(methods=[{"method": "friends.get"}, {"method": "friends.get"}])
    assert info.value.code == 1200


def _handles(*methods: str) -> list[BatchHandle[Any]]:
    return [BatchHandle(MethodSpec[Any](m, Any), {}) for m in methods]


@pytest.mark.parametrize(
    ("methods", "max_calls", "expected"),
    [
        ("abc", 25, ["abc"]),
        ("aabb", 2, ["ab", "ab"]),
        # first-come packing would need 4 requests here ([b c] [a] [a] [a])
        ("bcaaa", 2, ["ba", "ca", "a"]),
        ("abcde", 2, ["ad", "be", "c"]),
        ("aaab", 25, ["ab", "a", "a"]),
    ],
)
def test_plan_requests_uses_the_fewest_requests(
    methods: str, max_calls: int, expected: list[str]
) -> None:
    handles = _handles(*methods)
    plan = plan_requests(handles, max_calls)
    assert ["".join(h.method for h in request) for request in plan] == expected


def test_plan_requests_meets_both_limits_with_the_fewest_requests() -> None:
    # 60 calls of 7 methods (one of them 9 times) with at most 8 per request
    methods = [f"m{i % 7}" for i in range(54)] + ["m0"] * 6
    handles = _handles(*methods)
    plan = plan_requests(handles, 8)
    most_repeated = max(methods.count(m) for m in set(methods))
    assert len(plan) == max(-(-len(methods) // 8), most_repeated)
    assert sorted(id(h) for request in plan for h in request) == sorted(map(id, handles))
    for request in plan:
        assert len(request) <= 8
        assert len({h.method for h in request}) == len(request)
        positions = [handles.index(h) for h in request]
        assert positions == sorted(positions)  # the order of the calls is kept
    # a method's calls go out in their order, requests being sent one by one
    order = [h for request in plan for h in request if h.method == "m0"]
    assert [handles.index(h) for h in order] == sorted(handles.index(h) for h in order)


def test_the_default_limit_is_written_down() -> None:
    assert MAX_BATCH_CALLS == 25
    assert OkEmulator().max_batch_calls == MAX_BATCH_CALLS


# -- nothing sent ------------------------------------------------------------------------------


async def test_an_empty_batch_sends_nothing(emu: OkEmulator, api: API) -> None:
    async with api.batch():
        pass
    assert emu.requests == []


async def test_an_exception_in_the_block_sends_nothing(emu: OkEmulator, api: API) -> None:
    with pytest.raises(KeyError):
        async with api.batch() as batch:
            me = batch.users.get_current_user()
            raise KeyError("boom")
    assert emu.requests == []
    with pytest.raises(BatchUsageError, match="block raised KeyError, so no call"):
        me.result()
    assert not me.done()


async def test_a_bad_parameter_fails_at_its_call_and_nothing_is_sent(
    emu: OkEmulator, api: API
) -> None:
    with pytest.raises(ParameterValidationError, match=r"users\.getInfo: parameter 'uids'"):
        async with api.batch() as batch:
            batch.friends.get()
            batch.users.get_info(uids="1,2", fields=["uid"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        async with api.batch() as batch:
            batch.users.get_info(fields=["uid"])  # uids is required
    assert emu.requests == []


# -- misuse ----------------------------------------------------------------------------------


async def test_result_before_the_block_ends_is_a_clear_error(api: API) -> None:
    async with api.batch() as batch:
        me = batch.users.get_current_user()
        with pytest.raises(BatchUsageError, match="read result\\(\\) after the block"):
            me.result()
    assert me.result().uid


async def test_batch_methods_cannot_be_batched(emu: OkEmulator, api: API) -> None:
    async with api.batch() as batch:
        with pytest.raises(BatchUsageError, match=r"batch\.execute cannot go into a batch"):
            batch.batch_raw.execute(methods=[{"method": "friends.get"}])
    assert emu.requests == []


async def test_calls_needing_and_forbidding_a_session_cannot_share_a_batch(api: API) -> None:
    async with api.batch() as batch:
        batch.users.get_current_user()  # session required
        batch.friends.get()  # session optional: fits either way
        with pytest.raises(BatchUsageError) as info:
            batch.apps.send_game_push(message="hi")  # session prohibited
    text = str(info.value)
    assert "users.getCurrentUser needs a user session" in text
    assert "apps.sendGamePush must be called without one" in text


async def test_timeout_is_per_batch_not_per_call(api: API) -> None:
    async with api.batch(timeout=5.0) as batch:
        with pytest.raises(BatchUsageError, match=r"api.batch\(timeout=...\)"):
            batch.friends.get(timeout=1.0)


async def test_a_batch_is_used_once_and_only_inside_its_block(api: API) -> None:
    batch = api.batch()
    with pytest.raises(BatchUsageError, match=r"inside `async with api\.batch"):
        batch.friends.get()
    async with batch:
        batch.friends.get()
    with pytest.raises(BatchUsageError, match="this batch has ended"):
        batch.friends.get()
    with pytest.raises(BatchUsageError, match="used once"):
        async with batch:
            pass


async def test_unknown_groups_and_methods_are_attribute_errors(api: API) -> None:
    async with api.batch() as batch:
        with pytest.raises(AttributeError, match="no method group 'session'"):
            batch.session  # noqa: B018
        with pytest.raises(AttributeError, match=r"batch\.users has no method 'nope'"):
            batch.users.nope  # noqa: B018
    with pytest.raises(ValueError, match="max_calls"):
        api.batch(max_calls=0)


async def test_batched_methods_keep_their_names_and_docs(api: API) -> None:
    batch = api.batch()
    assert batch.users.get_current_user.__doc__ == api.users.get_current_user.__doc__
    assert batch.users.get_current_user.__name__ == "get_current_user"
    assert "get_current_user" in dir(batch.users)


# -- a request that fails as a whole ---------------------------------------------------------


async def test_a_failed_request_is_every_calls_error(emu: OkEmulator, api: API) -> None:
    emu.faults.add(Fault.http(502), method="batch.execute", times=1)
    async with api.batch() as batch:
        post = batch.mediatopic.post(attachment={"media": []})  # a write: not retried
        me = batch.users.get_current_user()
    assert len(batch_requests(emu)) == 1
    for handle in (post, me):
        with pytest.raises(TransportError):
            handle.result()


async def test_a_batch_of_reads_is_retried(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.faults.add(Fault.http(502), method="batch.execute", times=1)
    async with api.batch() as batch:
        me = batch.users.get_current_user()
        friends = batch.friends.get()
    assert len(batch_requests(emu)) == 2
    assert me.result().uid == user.uid
    assert friends.result() == []


async def test_reply_shapes_the_sdk_does_not_expect_fail_the_handles(
    emu: OkEmulator, api: API
) -> None:
    replies: list[Any] = [{"users_getCurrentUser_response": {"uid": "1"}}, ["not", "an", "object"]]

    def fake_batch(call: MethodCall) -> Any:
        return replies.pop(0)

    emu.register_method("batch.execute", fake_batch, required_params=("methods",))
    async with api.batch() as batch:
        me = batch.users.get_current_user()
        friends = batch.friends.get()  # no key for it in the reply
    assert me.result().uid == "1"
    with pytest.raises(ResponseDecodeError, match="has no friends_get_response"):
        friends.result()
    async with api.batch() as batch:
        me = batch.users.get_current_user()
    with pytest.raises(ResponseDecodeError, match="not a JSON object"):
        me.result()


# -- the emulator's batch ---------------------------------------------------------------------


async def test_a_supplier_feeds_an_earlier_output_into_a_later_call(
    emu: OkEmulator, api: API, friend: EmuUser
) -> None:
    emu.register_method("test.pickUsers", lambda call: {"ids": [friend.uid]})
    reply = await api.batch_raw.execute(
        methods=[
            {"method": "test.pickUsers", "params": {}},
            {
                "method": "users.getInfo",
                "params": {"uids": {"supplier": "test.pickUsers.ids"}, "fields": "first_name"},
            },
            {"method": "friends.get", "params": {"fid": {"supplier": "test.pickUsers.nope"}}},
        ]
    )
    assert reply["users_getInfo_response"] == [{"uid": friend.uid, "first_name": "Bob"}]
    assert reply["friends_get_response"]["error_code"] == 100


async def test_secrets_of_batched_calls_stay_out_of_logs_and_errors(
    emu: OkEmulator, api: API, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "UPLOAD-TOKEN-0123456789"

    def commit(call: MethodCall) -> Any:
        raise EmulatorError(100, f"PARAM : Invalid token {call.params['token']}")

    emu.register_method("photosV2.commit", commit)
    caplog.set_level(logging.DEBUG, logger="okru_sdk")
    async with api.batch() as batch:
        committed = batch.photos_v2.commit(photo_id="1", token=secret)
    assert secret in emu.requests[-1].params["methods"]  # it did go out
    with pytest.raises(APIError) as info:
        committed.result()
    assert info.value.code == 100
    assert secret not in str(info.value)
    assert secret.encode() not in (info.value.raw or b"")
    assert caplog.records  # the request and the reply were logged
    assert secret not in caplog.text
