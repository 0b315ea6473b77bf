"""Reading request parameters and writing replies the way OK.ru does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .state import EmulatorError

__all__ = ["JSON_CONTENT_TYPE", "api_error_response", "json_response", "read_params"]

#: Content type of every JSON reply, spelled as the real server spells it.
JSON_CONTENT_TYPE = "application/json;charset=utf-8"

_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_response(
    value: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON reply with the exact content type OK.ru uses."""
    all_headers = {"Content-Type": JSON_CONTENT_TYPE}
    if headers:
        all_headers.update(headers)
    return web.Response(
        status=status, body=_json_encode(value).encode("utf-8"), headers=all_headers
    )


def api_error_response(error: EmulatorError) -> web.Response:
    """An API error: HTTP 200, JSON body, ``invocation-error`` header."""
    return json_response(error.to_json(), headers={"invocation-error": str(error.code)})


async def read_params(request: web.Request) -> dict[str, str]:
    """Query string and url-encoded (or multipart) form body merged; the body wins."""
    params: dict[str, str] = dict(request.query)
    if request.method in ("POST", "PUT") and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
    return params
