"""Types of batches as users see them, checked by ``mypy --strict`` (not collected by pytest).

Run: ``.venv/bin/mypy tests/typing/check_batch.py``. Every ``type: ignore``
below must be needed (``warn_unused_ignores``), which proves the error exists.

``_UsersGroup`` is a method group written the way the generated groups are
meant to be (``MethodGroup[CallerT]`` and ``@batchable``, see
``okru_sdk/batch.py``): bound to an ``API`` its method is a coroutine of the
result type, bound to a ``Batch`` it returns a ``BatchHandle`` of that type,
and both keep the method's keyword parameters.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any

from typing_extensions import assert_type

from okru_sdk import API, NOT_GIVEN, NotGiven
from okru_sdk.api import MethodSpec
from okru_sdk.batch import Batch, BatchHandle, CallerT, MethodGroup, batchable
from okru_sdk.models import Group, User

_SPEC = MethodSpec[User]("users.getCurrentUser", User)


class _UsersGroup(MethodGroup[CallerT]):
    __slots__ = ()

    @batchable
    async def get_current_user(
        self,
        *,
        fields: Sequence[str] | NotGiven = NOT_GIVEN,
        timeout: float | NotGiven = NOT_GIVEN,
    ) -> User:
        params: dict[str, Any] = {"fields": fields}
        return await self._api._call(_SPEC, params, timeout=timeout)


async def batches_are_typed(api: API) -> None:
    assert_type(api.batch(), Batch)
    assert_type(api.batch(max_calls=10, timeout=5.0), Batch)
    async with api.batch() as batch:
        assert_type(batch, Batch)
        handle = _UsersGroup(batch).get_current_user(fields=["uid"])
    assert_type(handle, BatchHandle[User])
    assert_type(handle.result(), User)
    assert_type(handle.done(), bool)
    assert_type(handle.method, str)
    # the same group bound to the API: a coroutine of the same type
    call = _UsersGroup(api).get_current_user(fields=["uid"])
    _ = assert_type(call, Coroutine[Any, Any, User])  # (a bare coroutine statement is flagged)
    assert_type(await call, User)


async def mistakes_are_errors(api: API, batch: Batch, handle: BatchHandle[User]) -> None:
    _UsersGroup(batch).get_current_user(feilds=["uid"])  # type: ignore[call-arg]
    _UsersGroup(batch).get_current_user(fields=1)  # type: ignore[arg-type]
    _UsersGroup(batch).get_current_user(["uid"])  # type: ignore[call-arg]
    await handle  # type: ignore[misc]
    _uid: int = handle.result()  # type: ignore[assignment]
    api.batch(max_calls="10")  # type: ignore[arg-type]
    await _UsersGroup(api).get_current_user(feilds=["uid"])  # type: ignore[call-arg]


async def generated_groups_are_typed_by_their_owner(api: API) -> None:
    # The generated groups themselves, bound to a batch: handles of the method's result type.
    async with api.batch() as batch:
        me = batch.users.get_current_user(fields=["uid", "name"])
        groups = batch.group.get_info(uids=["53038939046008"], fields=["name"])
    assert_type(me, BatchHandle[User])
    assert_type(groups, BatchHandle[list[Group]])
    assert_type(me.result(), User)
    # bound to the API: coroutines of the same types
    assert_type(await api.users.get_current_user(fields=["uid"]), User)
    assert_type(await api.group.get_info(uids=["1"], fields=["name"]), list[Group])


async def generated_group_mistakes_are_errors(batch: Batch) -> None:
    batch.users.get_current_user(feilds=["uid"])  # type: ignore[call-arg]
    batch.group.get_info(uids=["1"])  # type: ignore[call-arg]
    batch.no_such_group  # type: ignore[attr-defined]  # noqa: B018
    await batch.users.get_current_user()  # type: ignore[misc]
