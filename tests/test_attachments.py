"""Typed attachments at run time: plain dicts go out as they are; the check stays "a mapping".

The static side (a misspelt media type or key is a mypy error) is proven by
``tests/typing/check_attachments.py``.
"""

from __future__ import annotations

import json
import typing
from collections.abc import AsyncIterator
from typing import Any

import pytest

from okru_sdk import API, ParameterValidationError, ServerSession
from okru_sdk import inputs as shapes
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App
from okru_sdk.testing.state import User as EmuUser


@pytest.fixture
async def api(emu: OkEmulator, app: App, user: EmuUser) -> AsyncIterator[API]:
    token = emu.issue_token(app, user)
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, token.access_token, api_url=emu.url
    ) as session:
        yield API(session)


async def test_a_typed_attachment_is_sent_as_compact_json(emu: OkEmulator, api: API) -> None:
    attachment: shapes.MediaTopicAttachment = {
        "media": [
            {"type": "text", "text": "Привет"},
            {"type": "photo", "list": [{"id": "token-1"}]},
            {
                "type": "poll",
                "question": "?",
                "answers": [{"text": "Да"}],
                "options": "SingleChoice",
            },
        ],
        "onBehalfOfGroup": "true",
    }
    topic = await api.mediatopic.post(type="GROUP_THEME", gid="1", attachment=attachment)
    assert topic == "67612345678901"
    sent = emu.requests[-1].params["attachment"]
    assert json.loads(sent) == attachment
    assert "Привет" in sent and ", " not in sent


async def test_plain_dicts_beyond_the_typed_blocks_still_work(emu: OkEmulator, api: API) -> None:
    # a block type no source documents for posting: not typed, but nothing refuses it at run time
    untyped: dict[str, Any] = {"media": [{"type": "music", "list": [{"id": "1"}]}]}
    await api.mediatopic.post(attachment=untyped)  # type: ignore[arg-type]
    assert json.loads(emu.requests[-1].params["attachment"]) == untyped


async def test_product_attachment(emu: OkEmulator, api: API) -> None:
    product: shapes.ProductAttachment = {
        "media": [
            {"type": "text", "text": "Mug"},
            {"type": "photo", "list": [{"existing_photo_id": "5", "group": True}]},
            {"type": "product", "price": 10, "currency": "USD"},
        ]
    }
    await api.market.add(type="GROUP_PRODUCT", gid="1", attachment=product)
    assert json.loads(emu.requests[-1].params["attachment"]) == product


async def test_a_non_mapping_is_refused_before_sending(emu: OkEmulator, api: API) -> None:
    before = len(emu.requests)
    with pytest.raises(ParameterValidationError, match="attachment") as info:
        await api.mediatopic.post(attachment=5)  # type: ignore[arg-type]
    assert info.value.method == "mediatopic.post"
    assert len(emu.requests) == before


def test_the_union_of_topic_blocks_is_told_apart_by_tag() -> None:
    tags = {}
    for member in typing.get_args(shapes.TopicMedia):
        hints = typing.get_type_hints(member)
        (tag,) = typing.get_args(hints["type"])
        tags[tag] = member.__name__
    assert tags == {
        "text": "TextMedia",
        "link": "LinkMedia",
        "photo": "PhotoMedia",
        "movie": "MovieMedia",
        "poll": "PollMedia",
    }
    assert shapes.MediaTopicAttachment.__required_keys__ == frozenset({"media"})
