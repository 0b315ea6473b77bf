"""Typed attachments (``okru_sdk.inputs``), checked by ``mypy --strict`` (not collected by pytest).

Run: ``.venv/bin/mypy tests/typing/check_attachments.py`` (``make typecheck`` includes it).
Every ``type: ignore`` below must be needed (``warn_unused_ignores``), which proves
the error exists: a misspelt media type or key, a wrong value type, a block
another method takes.
"""

from __future__ import annotations

from typing import Any

from okru_sdk import API
from okru_sdk.inputs import MediaTopicAttachment, PhotoMedia, ProductAttachment, TopicMedia


async def good_attachments(api: API) -> None:
    await api.mediatopic.post(
        type="GROUP_THEME",
        gid="53038939046008",
        attachment={
            "media": [
                {"type": "text", "text": "Привет"},
                {"type": "link", "url": "https://apiok.ru"},
                {"type": "photo", "list": [{"id": "upload-token"}, {"id": "889104567234"}]},
                {"type": "movie", "list": [{"id": "5544332211"}]},
                {
                    "type": "poll",
                    "question": "Do you like it?",
                    "answers": [{"text": "Yes"}, {"text": "No"}],
                    "options": "SingleChoice,AnonymousVoting",
                },
            ],
            "publishAt": "2030-01-01 12:00:00",
            "onBehalfOfGroup": "true",
            "disableComments": "false",
        },
    )
    # built up in steps, with the public names
    photos: PhotoMedia = {"type": "photo", "list": [{"id": "t1"}]}
    blocks: list[TopicMedia] = [{"type": "text", "text": "hi"}, photos]
    attachment: MediaTopicAttachment = {"media": blocks, "publishAtMs": 1_900_000_000_000}
    await api.mediatopic.post(attachment=attachment)
    product: ProductAttachment = {
        "media": [
            {"type": "text", "text": "Ceramic mug"},
            {"type": "photo", "list": [{"id": "t1"}, {"existing_photo_id": "1", "group": True}]},
            {"type": "product", "price": 10, "currency": "USD", "lifetime": 30},
        ]
    }
    await api.market.add(type="GROUP_PRODUCT", attachment=product)
    await api.market.edit(product_id="1", attachment=product)


async def bad_attachments(api: API) -> None:
    post = api.mediatopic.post
    await post(attachment={"media": [{"type": "txt", "text": "hi"}]})  # type: ignore[typeddict-item]
    await post(attachment={"media": [{"type": "text", "txt": "hi"}]})  # type: ignore[list-item]
    await post(attachment={"media": [{"type": "text"}]})  # type: ignore[list-item]
    await post(attachment={"madia": []})  # type: ignore[typeddict-unknown-key, typeddict-item]
    await post(attachment={"media": [], "onBehalfOfGroup": True})  # type: ignore[typeddict-item]
    await post(attachment={"media": [], "disableComments": "yes"})  # type: ignore[typeddict-item]
    poll: TopicMedia = {"type": "poll", "question": "q"}  # type: ignore[assignment]
    photo: PhotoMedia = {"type": "photo", "list": [{"id": 1}]}  # type: ignore[typeddict-item]
    movie: TopicMedia = {"type": "movie", "list": [{"url": "x"}]}  # type: ignore[misc, assignment]
    # a product block is market's, not a topic's
    product: TopicMedia = {"type": "product", "price": 1}  # type: ignore[assignment]
    untyped: dict[str, Any] = {"media": []}
    await post(attachment=untyped)  # type: ignore[arg-type]
    no_price: ProductAttachment = {"media": [{"type": "product"}]}  # type: ignore[list-item]
    del poll, photo, movie, product, no_price
