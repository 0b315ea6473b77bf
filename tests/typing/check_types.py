"""Types users see, checked by ``mypy --strict`` (not collected by pytest).

Run: ``.venv/bin/mypy tests/typing/check_types.py``. Every ``type: ignore``
below must be needed (``warn_unused_ignores``), which proves the error exists.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from okru_sdk import API, NOT_GIVEN, APIError
from okru_sdk.models import Group, PhotoUploadUrl, User


async def users_see_models(api: API) -> None:
    assert_type(await api.users.get_current_user(), User)
    assert_type(await api.users.get_current_user(fields=["uid", "name"]), User)
    assert_type(await api.users.get_info(uids=["1"], fields=["uid"]), list[User])
    assert_type(await api.group.get_info(uids=["1"], fields=["uid"]), list[Group])
    assert_type(await api.photos_v2.get_upload_url(count=2), PhotoUploadUrl)
    assert_type(await api.friends.get(), list[str])
    assert_type(await api.mediatopic.post(attachment={"media": []}), str)
    assert_type(await api.notifications.send_simple(uid="1", text="hi"), bool)
    assert_type(await api.video.delete(vid=1), None)
    batch = await api.batch_raw.execute(methods=[{"method": "users.getCurrentUser"}])
    assert_type(batch, dict[str, Any])
    assert_type(await api.users.get_current_user(timeout=5.0, extra_params={"x": 1}), User)
    assert_type(await api.users.get_current_user(fields=NOT_GIVEN), User)
    # known field names are offered, and any other string is still accepted
    assert_type(await api.users.get_current_user(fields=["uid", "a_field_of_2027"]), User)
    me = await api.users.get_current_user()
    assert_type(me.uid, str | None)
    assert_type(APIError.for_code(8), type[APIError])


async def mistakes_are_errors(api: API) -> None:
    await api.users.get_current_user(feilds=["uid"])  # type: ignore[call-arg]
    await api.users.get_current_user(fields=1)  # type: ignore[arg-type]
    await api.users.get_info(fields=["uid"])  # type: ignore[call-arg]
    await api.users.get_current_user(["uid"])  # type: ignore[call-arg]
    await api.mediatopic.post(attachment={"media": []}, type="NOT_A_TYPE")  # type: ignore[arg-type]
    await api.friends.get(sort_type="ALPHABET")  # type: ignore[arg-type]
    await api.photos_v2.get_upload_url(count="2")  # type: ignore[arg-type]
    api.no_such_group  # type: ignore[attr-defined]  # noqa: B018
