"""``api.paginate`` against the emulator: each convention, the end of a list, ``limit=``,
errors mid-way, and the emulator's own paging (``emu.set_list``)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okru_sdk import API, APIError, ResponseDecodeError, RetryPolicy, ServerSession
from okru_sdk.api import MethodSpec
from okru_sdk.models import Album, Badge, User
from okru_sdk.paging import Paging
from okru_sdk.testing import Fault, MethodCall, OkEmulator
from okru_sdk.testing.paging import encode_anchor
from okru_sdk.testing.state import App
from okru_sdk.testing.state import User as EmuUser

FAST_RETRY = RetryPolicy(backoff=0.01, backoff_max=0.01, flood_backoff=0.01)


@pytest.fixture
async def api(emu: OkEmulator, app: App, user: EmuUser) -> AsyncIterator[API]:
    token = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        token.access_token,
        api_url=emu.url,
        retry=FAST_RETRY,
    ) as session:
        yield API(session)


def _calls(emu: OkEmulator, method: str) -> list[dict[str, str]]:
    return [r.params for r in emu.requests if r.method == method]


def _relations(n: int) -> list[dict[str, Any]]:
    return [{"type_id": "CLASSMATE", "uids": [str(575_000_000_000 + i)]} for i in range(n)]


# -- the anchor convention ---------------------------------------------------------------


async def test_anchor_pages_to_the_end_and_stops_on_has_more(
    emu: OkEmulator, api: API, user: EmuUser
) -> None:
    emu.set_list("friends.getRelativesV2", _relations(25))
    got = [r async for r in api.paginate(api.friends.get_relatives_v2, uid=user.uid, count=10)]
    assert [r.uids for r in got] == [[str(575_000_000_000 + i)] for i in range(25)]
    calls = _calls(emu, "friends.getRelativesV2")
    # three pages; has_more false on the third, so no fourth request
    assert len(calls) == 3
    assert "anchor" not in calls[0]
    assert [c["anchor"] for c in calls[1:]] == [encode_anchor(10), encode_anchor(20)]
    assert all(c["count"] == "10" and c["uid"] == user.uid for c in calls)


async def test_items_are_the_element_model(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("photos.getPhotoLikes", [{"uid": str(i), "first_name": f"U{i}"} for i in range(3)])
    likers = [u async for u in api.paginate(api.photos.get_photo_likes, photo_id="1", count=2)]
    assert all(isinstance(u, User) for u in likers)
    assert [u.first_name for u in likers] == ["U0", "U1", "U2"]


async def test_without_has_more_an_empty_page_ends_the_list(emu: OkEmulator, api: API) -> None:
    # photos.getPhotoLikes has no has_more: the client asks once more and gets an empty page
    emu.set_list("photos.getPhotoLikes", [{"uid": str(i)} for i in range(4)])
    got = [u.uid async for u in api.paginate(api.photos.get_photo_likes, photo_id="1", count=2)]
    assert got == ["0", "1", "2", "3"]
    anchors = [c.get("anchor") for c in _calls(emu, "photos.getPhotoLikes")]
    assert anchors == [None, encode_anchor(2), encode_anchor(4)]


async def test_an_empty_list_is_one_request(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("friends.getRelativesV2", [])
    assert [r async for r in api.paginate(api.friends.get_relatives_v2, uid=user.uid)] == []
    assert len(_calls(emu, "friends.getRelativesV2")) == 1


async def test_a_nested_list_and_the_server_page_size(emu: OkEmulator, api: API) -> None:
    # badges.getUserBadgeCategory keeps its list, anchor and has_more under "category"
    emu.set_list("badges.getUserBadgeCategory", [{"id": i, "title": f"B{i}"} for i in range(23)])
    badges = [
        b async for b in api.paginate(api.badges.get_user_badge_category, category=7, fields=["id"])
    ]
    assert all(isinstance(b, Badge) for b in badges)
    assert [b.id for b in badges] == list(range(23))
    # no count sent: the emulator's default page size (10) applies
    assert len(_calls(emu, "badges.getUserBadgeCategory")) == math.ceil(23 / 10)


async def test_backward_from_the_end(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("friends.getRelativesV2", _relations(5))
    got = [
        r.uids[0][-1:]
        async for r in api.paginate(
            api.friends.get_relatives_v2, uid=user.uid, count=2, direction="BACKWARD"
        )
        if r.uids
    ]
    # pages [3, 4], [1, 2], [0]: each page in list order, the pages from the end
    assert got == ["3", "4", "1", "2", "0"]
    assert all(c["direction"] == "BACKWARD" for c in _calls(emu, "friends.getRelativesV2"))


async def test_a_starting_anchor_is_kept(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("friends.getRelativesV2", _relations(6))
    got = [
        r
        async for r in api.paginate(
            api.friends.get_relatives_v2, uid=user.uid, count=2, anchor=encode_anchor(3)
        )
    ]
    assert len(got) == 3
    assert _calls(emu, "friends.getRelativesV2")[0]["anchor"] == encode_anchor(3)


# -- the legacy anchor and the offset conventions -------------------------------------------


async def test_legacy_paging_anchor(emu: OkEmulator, api: API) -> None:
    emu.set_list("photos.getAlbums", [{"aid": str(i), "title": f"A{i}"} for i in range(5)])
    albums = [a async for a in api.paginate(api.photos.get_albums, count=2)]
    assert all(isinstance(a, Album) for a in albums)
    assert [a.aid for a in albums] == ["0", "1", "2", "3", "4"]
    calls = _calls(emu, "photos.getAlbums")
    assert len(calls) == 3  # hasMore false on the third page
    assert [c.get("pagingAnchor") for c in calls] == [None, encode_anchor(2), encode_anchor(4)]
    assert not any("anchor" in c for c in calls)


async def test_offset_pages_until_an_empty_page(emu: OkEmulator, api: API) -> None:
    emu.set_list("discussions.getDiscussions", [{"object_id": str(i)} for i in range(7)])
    got = [d["object_id"] async for d in api.paginate(api.discussions.get_discussions, count=3)]
    assert got == [str(i) for i in range(7)]
    offsets = [c.get("offset") for c in _calls(emu, "discussions.getDiscussions")]
    assert offsets == [None, "3", "6", "7"]  # the last page is empty: the end of the list


async def test_an_untyped_reply_pages_by_the_example_names_and_lists_are_per_params(
    emu: OkEmulator, api: API
) -> None:
    emu.set_list("group.getMembers", [{"userId": f"a{i}"} for i in range(3)], uid="100")
    emu.set_list("group.getMembers", [{"userId": f"b{i}"} for i in range(4)], uid="200")
    first = [m["userId"] async for m in api.paginate(api.group.get_members, uid="100", count=2)]
    second = [m["userId"] async for m in api.paginate(api.group.get_members, uid="200", count=2)]
    assert first == ["a0", "a1", "a2"]
    assert second == ["b0", "b1", "b2", "b3"]


# -- limit= --------------------------------------------------------------------------------


async def test_limit_stops_without_fetching_more(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("friends.getRelativesV2", _relations(50))
    got = [
        r
        async for r in api.paginate(api.friends.get_relatives_v2, uid=user.uid, count=10, limit=12)
    ]
    assert len(got) == 12
    assert len(_calls(emu, "friends.getRelativesV2")) == 2
    emu.clear_requests()
    got = [
        r
        async for r in api.paginate(api.friends.get_relatives_v2, uid=user.uid, count=10, limit=10)
    ]
    assert len(got) == 10
    assert len(_calls(emu, "friends.getRelativesV2")) == 1  # the page boundary: no second page
    emu.clear_requests()
    assert [
        r async for r in api.paginate(api.friends.get_relatives_v2, uid=user.uid, limit=0)
    ] == []
    assert _calls(emu, "friends.getRelativesV2") == []


async def test_limit_past_the_end_yields_the_whole_list(
    emu: OkEmulator, api: API, user: EmuUser
) -> None:
    emu.set_list("friends.getRelativesV2", _relations(7))
    got = [
        r
        async for r in api.paginate(api.friends.get_relatives_v2, uid=user.uid, count=5, limit=100)
    ]
    assert len(got) == 7


@pytest.mark.parametrize(
    ("limit", "error"), [(-1, ValueError), ("3", TypeError), (True, TypeError)]
)
async def test_bad_limit(api: API, limit: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="limit"):
        api.paginate(api.friends.get_relatives_v2, uid="1", limit=limit)


# -- errors ---------------------------------------------------------------------------------


async def test_an_error_mid_way_propagates(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("friends.getRelativesV2", _relations(30))
    got: list[Any] = []
    with pytest.raises(APIError) as info:
        async for relation in api.paginate(api.friends.get_relatives_v2, uid=user.uid, count=10):
            got.append(relation)
            if len(got) == 10:  # the first page is in: the second request fails
                emu.faults.add(Fault.api_error(100), method="friends.getRelativesV2", times=1)
    assert len(got) == 10
    assert info.value.code == 100 and info.value.method == "friends.getRelativesV2"
    assert len(_calls(emu, "friends.getRelativesV2")) == 2


async def test_a_transient_error_mid_way_is_retried_by_the_typed_call(
    emu: OkEmulator, api: API, user: EmuUser
) -> None:
    emu.set_list("friends.getRelativesV2", _relations(30))
    got: list[Any] = []
    async for relation in api.paginate(api.friends.get_relatives_v2, uid=user.uid, count=10):
        got.append(relation)
        if len(got) == 10:
            emu.faults.add(Fault.http(502), method="friends.getRelativesV2", times=1)
    assert len(got) == 30  # the session's retry policy repeated the failed page


async def test_a_bad_parameter_fails_before_anything_is_sent(emu: OkEmulator, api: API) -> None:
    from okru_sdk import ParameterValidationError

    before = len(emu.requests)
    bad: Any = ["NO_SUCH_KIND"]  # a value mypy would refuse, sent anyway
    pages = api.paginate(api.friends.get_relatives_v2, uid="1", reltypes=bad)
    with pytest.raises(ParameterValidationError, match="reltypes"):
        await pages.__anext__()
    assert len(emu.requests) == before


async def test_a_method_that_does_not_page_is_a_type_error(emu: OkEmulator, api: API) -> None:
    before = len(emu.requests)
    with pytest.raises(TypeError, match=r"api\.users\.get_current_user does not page"):
        api.paginate(api.users.get_current_user)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"api\.friends\.get does not page"):
        api.paginate(api.friends.get)  # type: ignore[call-overload]

    async def not_a_method(**params: Any) -> Any:
        return {}

    with pytest.raises(TypeError, match="not_a_method does not page"):
        api.paginate(not_a_method)
    assert len(emu.requests) == before


async def test_a_method_of_another_api_is_refused(emu: OkEmulator, api: API) -> None:
    other = API(api.session)
    with pytest.raises(TypeError, match="another API object"):
        api.paginate(other.friends.get_relatives_v2, uid="1")


# -- what ends a list, with replies the emulator would not send ---------------------------


async def test_an_unchanged_anchor_ends_the_list(emu: OkEmulator, api: API) -> None:
    def same_page(call: MethodCall) -> Any:
        return {"relations": _relations(2), "anchor": "U0FNRQ==", "has_more": True}

    emu.register_method("friends.getRelativesV2", same_page, required_params=("uid",))
    got = [r async for r in api.paginate(api.friends.get_relatives_v2, uid="1")]
    assert len(got) == 4  # the second reply repeats the anchor it was sent: stop
    assert len(_calls(emu, "friends.getRelativesV2")) == 2


async def test_a_missing_anchor_ends_the_list(emu: OkEmulator, api: API) -> None:
    def no_anchor(call: MethodCall) -> Any:
        return {"relations": _relations(3), "has_more": True}

    emu.register_method("friends.getRelativesV2", no_anchor, required_params=("uid",))
    assert len([r async for r in api.paginate(api.friends.get_relatives_v2, uid="1")]) == 3
    assert len(_calls(emu, "friends.getRelativesV2")) == 1


async def test_has_more_true_with_an_empty_page_goes_on(emu: OkEmulator, api: API) -> None:
    # OK.ru may filter a page down to nothing (removed items) and still say more follow
    pages = {
        None: {"relations": [], "anchor": "MQ==", "has_more": True},
        "MQ==": {"relations": _relations(1), "anchor": "Mg==", "has_more": False},
    }

    def filtered(call: MethodCall) -> Any:
        return pages[call.params.get("anchor")]

    emu.register_method("friends.getRelativesV2", filtered, required_params=("uid",))
    assert len([r async for r in api.paginate(api.friends.get_relatives_v2, uid="1")]) == 1


async def test_an_items_field_that_is_not_a_list_is_a_decode_error(
    emu: OkEmulator, api: API
) -> None:
    # an untyped reply is not validated: a page whose list is something else is refused
    def odd(call: MethodCall) -> Any:
        return {"members": "none today", "anchor": "MQ=="}

    emu.register_method("group.getMembers", odd, required_params=("uid",))
    with pytest.raises(ResponseDecodeError, match="'members' is not a list") as info:
        [m async for m in api.paginate(api.group.get_members, uid="1")]
    assert info.value.method == "group.getMembers"
    assert b"none today" in info.value.body


class _FakeGroup:
    """A method group shaped like the generated ones, for the offset total (no catalogued
    offset method declares a total field)."""

    def __init__(self, api: API, pages: list[dict[str, Any]]) -> None:
        self._api = api
        self.pages = pages
        self.offsets: list[Any] = []

    async def list_posts(self, *, offset: int | None = None, count: int = 2) -> Any:
        self.offsets.append(offset)
        return self.pages[len(self.offsets) - 1]


_FakeGroup._PAGEABLE = {  # type: ignore[attr-defined]
    "list_posts": MethodSpec(
        "posts.list",
        paging=Paging("offset", items="posts", offset_param="offset", total_field="total"),
    )
}


async def test_offset_past_the_total_ends_the_list(api: API) -> None:
    group = _FakeGroup(api, [{"posts": [1, 2], "total": 3}, {"posts": [3], "total": 3}])
    got = [p async for p in api.paginate(group.list_posts)]  # type: ignore[call-overload]
    assert got == [1, 2, 3]
    assert group.offsets == [None, 2]  # offset 3 reached the total: no third request


# -- the emulator's paging ------------------------------------------------------------------


async def test_emulator_refuses_a_bad_anchor(emu: OkEmulator, api: API, user: EmuUser) -> None:
    emu.set_list("friends.getRelativesV2", _relations(3))
    with pytest.raises(APIError) as info:
        await api.friends.get_relatives_v2(uid=user.uid, anchor="not an anchor")
    assert info.value.code == 100 and "anchor" in info.value.msg
    with pytest.raises(APIError):
        await api.friends.get_relatives_v2(uid=user.uid, anchor=encode_anchor(99))
    with pytest.raises(APIError):
        await api.friends.get_relatives_v2(uid=user.uid, count=0)


async def test_emulator_reply_keeps_the_example_and_sets_the_paging_fields(
    emu: OkEmulator, api: API, user: EmuUser
) -> None:
    emu.set_list("friends.getRelativesV2", _relations(3))
    page = await api.friends.get_relatives_v2(uid=user.uid, count=2)
    assert page.has_more is True and page.total_count == 3 and page.anchor == encode_anchor(2)
    assert page.relations is not None and len(page.relations) == 2
    last = await api.friends.get_relatives_v2(uid=user.uid, count=2, anchor=page.anchor)
    assert last.has_more is False and last.relations is not None and len(last.relations) == 1


async def test_without_a_list_the_emulator_answers_the_example(
    emu: OkEmulator, api: API, user: EmuUser
) -> None:
    page = await api.friends.get_relatives_v2(uid=user.uid)
    assert page.anchor == "LTE=" and page.total_count == 3  # the catalogue example


def test_set_list_checks_the_method_and_the_parameters(emu: OkEmulator) -> None:
    with pytest.raises(ValueError, match=r"friends\.get does not page"):
        emu.set_list("friends.get", [])
    with pytest.raises(ValueError, match="no parameter 'gid'"):
        emu.set_list("group.getMembers", [], gid="1")
