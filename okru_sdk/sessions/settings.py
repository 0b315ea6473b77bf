"""Keyword-only settings every session accepts."""

from __future__ import annotations

from typing import TypedDict

import aiohttp

from ..retry import RetryPolicy

__all__ = ["SessionSettings"]


class SessionSettings(TypedDict, total=False):
    #: API base URL (``fb.do``, ``oauth/token.do``); default ``https://api.ok.ru``
    api_url: str
    #: OAuth dialog base URL; default ``https://connect.ok.ru``
    connect_url: str
    #: seconds one HTTP attempt may take; default 30
    timeout: float
    #: retry rules and the total deadline of a call; default ``DEFAULT_RETRY``
    retry: RetryPolicy
    #: implicit and password flows: sign in again when the session expires
    reauthorize: bool
    #: client-side limit, calls per second (needs the ``ratelimit`` extra: aiolimiter)
    rate_limit: float | None
    #: cap on concurrent connections of the SDK-owned aiohttp session; default 100
    max_connections: int
    #: an aiohttp session to use; the SDK never closes one it was given
    http: aiohttp.ClientSession | None
    #: cap on one reply's size in bytes, after decompression; default 64 MiB
    max_reply_size: int
    #: allow plain http:// API and connect URLs to hosts other than loopback; default False
    allow_insecure_http: bool
    #: sign a legacy ``session_key`` parameter (OK.ru's JS SDK does); default False,
    #: as the current OK.ru text leaves it out of the signature
    sign_session_key: bool
