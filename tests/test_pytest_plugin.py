"""The fixtures okru-sdk offers to its users' own tests."""

from __future__ import annotations

from okru_sdk import API, Circuit, ServerSession
from okru_sdk.models import User
from okru_sdk.testing import DEMO_UID, Fault, OkEmulator


async def test_fixtures_give_a_working_typed_api(
    okru_api: API, okru_session: ServerSession, okru_emulator: OkEmulator
) -> None:
    me = await okru_api.users.get_current_user()
    assert isinstance(me, User) and me.uid == DEMO_UID
    assert okru_emulator.requests[-1].circuit is Circuit.SERVER
    assert okru_api.session is okru_session


async def test_catalogued_methods_answer_their_examples(okru_api: API) -> None:
    groups = await okru_api.group.get_info(uids=["1"], fields=["uid", "name"])
    assert isinstance(groups, list)


async def test_faults_work_through_the_fixtures(okru_api: API, okru_emulator: OkEmulator) -> None:
    okru_emulator.faults.add(Fault.http(503), method="users.getCurrentUser", times=1)
    me = await okru_api.users.get_current_user()  # retried after the 503
    assert me.uid == DEMO_UID
    assert okru_emulator.faults.fired == [("users.getCurrentUser", "http_503")]
