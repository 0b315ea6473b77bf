"""Keyword-only settings every session accepts."""

from __future__ import annotations

from typing import TypedDict

import aiohttp

__all__ = ["SessionSettings"]


class SessionSettings(TypedDict, total=False):
    #: API base URL (``fb.do``, ``oauth/token.do``); default ``https://api.ok.ru``
    api_url: str
    #: OAuth dialog base URL; default ``https://connect.ok.ru``
    connect_url: str
    #: seconds one HTTP attempt may take; default 30
    timeout: float
    #: an aiohttp session to use; the SDK never closes one it was given
    http: aiohttp.ClientSession | None
