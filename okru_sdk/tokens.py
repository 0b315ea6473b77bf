"""Tokens you keep: the :class:`Tokens` a session reports and the stores that hold them.

A session reports its tokens after every sign-in and renewal to ``on_tokens=``
(a plain or ``async`` callable taking a :class:`Tokens`), and, when it has a
``token_key=``, keeps them in a :class:`TokenStore`: it reads the current
tokens from the store on first use, writes them after every sign-in and
renewal, and renews under the store's lock for that key, reading the store
again once it holds the lock, so that a renewal another session (or process)
already made is used instead of a second ``token.do``.

:class:`MemoryTokenStore` keeps tokens in this process; a session given a
``token_key`` but no ``token_store`` uses one in-memory store shared by the
whole process. :class:`okru_sdk.distributed.RedisTokenStore` shares them
between processes. See ``docs/tokens.md``.

Tokens are secrets. :class:`Tokens` keeps them out of its ``repr``, but a
pickle of it, or what a :class:`TokenSerializer` writes, carries them in
full: treat those as you treat the tokens themselves.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "JsonTokenSerializer",
    "MemoryTokenStore",
    "TokenSerializer",
    "TokenStore",
    "Tokens",
    "TokensCallback",
    "check_expires_at",
]


def check_expires_at(value: object, name: str = "expires_at") -> float | None:
    """``value`` as a Unix time in seconds (or ``None``), or a clear error.

    Accepts a number (seconds since the epoch, as ``time.time()`` gives) or a
    timezone-aware :class:`~datetime.datetime`; a naive datetime is refused,
    since it cannot say which moment it means.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{name} must be a timezone-aware datetime (or a Unix time in seconds), "
                f"got a naive datetime {value.isoformat()!r}"
            )
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{name} must be a Unix time in seconds, an aware datetime or None, "
            f"got {type(value).__name__}"
        )
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ValueError(f"{name} must be a finite Unix time in seconds, got {value!r}")
    return seconds


def _shown(value: str) -> str:
    return "<set>" if value else "<empty>"


@dataclass(frozen=True)
class Tokens:
    """The tokens of one grant, as a session holds them after a sign-in or renewal.

    ``expires_at`` is a Unix time in seconds (``None``: unknown or never).
    Secrets stay out of ``repr`` and ``str``; a pickle (and ``dataclasses.asdict``)
    carries them in full, which is what storing them needs: keep such copies
    where you would keep the tokens.
    """

    access_token: str
    refresh_token: str = ""
    session_secret_key: str = ""
    expires_at: float | None = None

    def __post_init__(self) -> None:
        for name in ("access_token", "refresh_token", "session_secret_key"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"Tokens.{name} must be a str, got {type(value).__name__}")
        object.__setattr__(
            self, "expires_at", check_expires_at(self.expires_at, "Tokens.expires_at")
        )

    def expired(self, now: float | None = None) -> bool:
        """Whether ``expires_at`` has passed (never, when it is ``None``)."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (secrets included), for a database row or JSON."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "session_secret_key": self.session_secret_key,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        """The inverse of :meth:`to_dict`; missing optional fields are empty."""
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ValueError("stored tokens carry no access_token")
        return cls(
            access_token=access_token,
            refresh_token=data.get("refresh_token") or "",
            session_secret_key=data.get("session_secret_key") or "",
            expires_at=data.get("expires_at"),
        )

    def __repr__(self) -> str:
        return (
            f"Tokens(access_token={_shown(self.access_token)}, "
            f"refresh_token={_shown(self.refresh_token)}, "
            f"session_secret_key={_shown(self.session_secret_key)}, "
            f"expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


#: what ``on_tokens=`` accepts: called with the new tokens, plain or ``async``
TokensCallback = Callable[[Tokens], Awaitable[None] | None]


@runtime_checkable
class TokenStore(Protocol):
    """Where sessions keep the tokens of a key (one grant: an application and a user).

    ``lock(key)`` returns an async context manager held while a session renews
    that key's tokens; it must end by itself if its holder dies (a timeout), or
    one crashed worker stops every other. Errors of the store propagate to the
    call unchanged: the SDK does not guess at tokens it could not read.
    """

    async def load(self, key: str) -> Tokens | None: ...

    async def save(self, key: str, tokens: Tokens) -> None: ...

    def lock(self, key: str) -> AbstractAsyncContextManager[object]: ...


class MemoryTokenStore:
    """Tokens kept in this process's memory, with an :class:`asyncio.Lock` per key.

    Sessions of one process sharing a key share its tokens and renew once.
    Locks are per event loop (an :class:`asyncio.Lock` belongs to one loop).
    """

    def __init__(self) -> None:
        self._tokens: dict[str, Tokens] = {}
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    async def load(self, key: str) -> Tokens | None:
        return self._tokens.get(key)

    async def save(self, key: str, tokens: Tokens) -> None:
        if not isinstance(tokens, Tokens):
            raise TypeError(f"a token store keeps Tokens, got {type(tokens).__name__}")
        self._tokens[key] = tokens

    def lock(self, key: str) -> AbstractAsyncContextManager[object]:
        return self._hold(key)

    @asynccontextmanager
    async def _hold(self, key: str) -> AsyncIterator[object]:
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        lock = locks.get(key)
        if lock is None:
            lock = locks[key] = asyncio.Lock()
        async with lock:
            yield lock

    def __repr__(self) -> str:
        return f"<MemoryTokenStore keys={len(self._tokens)}>"


#: used by sessions given a ``token_key`` and no ``token_store``
DEFAULT_TOKEN_STORE = MemoryTokenStore()


@runtime_checkable
class TokenSerializer(Protocol):
    """Turns :class:`Tokens` into bytes and back; the place for encryption at rest."""

    def dumps(self, tokens: Tokens) -> bytes: ...

    def loads(self, data: bytes) -> Tokens: ...


class JsonTokenSerializer:
    """Tokens as compact JSON: readable by whoever can read the store.

    Supply your own :class:`TokenSerializer` to encrypt them (``docs/tokens.md``
    shows one with ``cryptography``'s Fernet).
    """

    def dumps(self, tokens: Tokens) -> bytes:
        return json.dumps(tokens.to_dict(), separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Tokens:
        try:
            payload = json.loads(data)
        except ValueError:
            raise ValueError("the stored tokens are not JSON") from None
        if not isinstance(payload, dict):
            raise ValueError("the stored tokens are not a JSON object")
        return Tokens.from_dict(payload)

    def __repr__(self) -> str:
        return "JsonTokenSerializer()"
