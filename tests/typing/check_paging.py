"""Item types of ``api.paginate``, checked by ``mypy --strict`` (not collected by pytest).

Run: ``.venv/bin/mypy tests/typing/check_paging.py`` (``make typecheck`` includes it).
Every ``type: ignore`` below must be needed (``warn_unused_ignores``), which proves
the error exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from typing_extensions import assert_type

from okru_sdk import API
from okru_sdk._generated.models.friends_get_relatives_v2_result import Relation
from okru_sdk._generated.models.group_get_user_groups_v2_result import (
    Group as UserGroupLink,
)
from okru_sdk.models import Album, Badge, Comment, MarketProduct, Photo, User


async def items_have_the_element_model(api: API) -> None:
    relations = api.paginate(api.friends.get_relatives_v2, uid="1", count=100)
    assert_type(relations, AsyncIterator[Relation])
    async for relation in relations:
        assert_type(relation, Relation)
        assert_type(relation.uids, list[str] | None)
    # the legacy pagingAnchor convention, and a nested list (category.badges)
    assert_type(api.paginate(api.photos.get_albums, count=10), AsyncIterator[Album])
    badges = api.paginate(api.badges.get_user_badge_category, category=7, fields=["id"])
    assert_type(badges, AsyncIterator[Badge])
    assert_type(api.paginate(api.photos.get_photos, aid="1"), AsyncIterator[Photo])
    assert_type(api.paginate(api.photos.get_photo_likes, photo_id="1"), AsyncIterator[User])
    assert_type(
        api.paginate(api.discussions.get_comments, discussion_id="1", discussion_type="SHARE"),
        AsyncIterator[Comment],
    )
    assert_type(api.paginate(api.market.get_products, gid="1"), AsyncIterator[MarketProduct])
    # a nested model class that shares its name with another model (Group)
    assert_type(api.paginate(api.group.get_user_groups_v2), AsyncIterator[UserGroupLink])
    assert_type(api.paginate(api.storage.get_keys), AsyncIterator[str])
    # an untyped (json) reply: the items are JSON objects, not Any
    assert_type(api.paginate(api.group.get_members, uid="1"), AsyncIterator[dict[str, Any]])
    assert_type(
        api.paginate(api.discussions.get_discussions, count=10), AsyncIterator[dict[str, Any]]
    )
    # limit=, the per-call settings and a starting anchor are accepted
    assert_type(
        api.paginate(
            api.friends.get_relatives_v2,
            uid="1",
            anchor="LTE=",
            direction="BACKWARD",
            timeout=5.0,
            extra_params={"x": 1},
            limit=250,
        ),
        AsyncIterator[Relation],
    )


def mistakes_are_errors(api: API) -> None:
    api.paginate(api.users.get_current_user)  # type: ignore[call-overload]
    api.paginate(api.friends.get)  # type: ignore[call-overload]
    api.paginate(api.friends.get_relatives_v2)  # type: ignore[call-overload]  # uid missing
    api.paginate(api.friends.get_relatives_v2, uid=1)  # type: ignore[call-overload]
    api.paginate(api.friends.get_relatives_v2, uid="1", cuont=10)  # type: ignore[call-overload]
    api.paginate(api.friends.get_relatives_v2, uid="1", limit="10")  # type: ignore[call-overload]
    api.paginate(api.photos.get_photos, mark_as_read="yes")  # type: ignore[call-overload]
    api.paginate(api.friends.get_relatives_v2, "1")  # type: ignore[call-overload]


async def items_are_not_any(api: API) -> None:
    async for relation in api.paginate(api.friends.get_relatives_v2, uid="1"):
        relation.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    async for member in api.paginate(api.group.get_members, uid="1"):
        member.userId  # type: ignore[attr-defined]  # noqa: B018
