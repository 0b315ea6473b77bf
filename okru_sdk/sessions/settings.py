"""Keyword-only settings every session accepts."""

from __future__ import annotations

from typing import TypedDict

import aiohttp

from ..ratelimit import RateLimitSetting
from ..retry import RetryPolicy
from ..tokens import TokensCallback, TokenStore

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
    #: client-side budget: calls per second in this process (needs the ``ratelimit``
    #: extra: aiolimiter), an object with ``async acquire()`` (such as
    #: ``okru_sdk.distributed.RedisRateLimiter``), or a mapping of method patterns
    #: (``"notifications.*"``) to either; see ``okru_sdk.ratelimit``
    rate_limit: RateLimitSetting | None
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
    #: send retry-safe calls with short queries as GET (as OK.ru's JS and iOS SDKs do);
    #: default True; False: every call is a POST
    get_reads: bool
    #: called with the new ``Tokens`` after every sign-in and renewal (plain or async);
    #: what it raises is logged, and the call goes on
    on_tokens: TokensCallback | None
    #: where the tokens are kept and renewals are coordinated (``TokenStore``);
    #: default: one in-memory store per process, used when ``token_key`` is given
    token_store: TokenStore | None
    #: the key of this session's tokens in the token store (one per application and user)
    token_key: str | None
