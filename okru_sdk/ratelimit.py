"""Client-side rate budgets: what ``rate_limit=`` accepts and how a call waits for one.

``rate_limit=`` on a session takes

- a number: calls per second in this process (aiolimiter, the ``ratelimit`` extra);
- any object with ``async acquire()`` (:class:`RateLimiter`), such as
  :class:`okru_sdk.distributed.RedisRateLimiter`, a budget shared by processes;
- a mapping of method patterns to either of those: per-method budgets.

In a mapping, patterns are :func:`fnmatch.fnmatchcase` patterns over the wire
method name (``"notifications.*"``, ``"users.getInfo"``, ``"*"``). A call waits
for *every* budget whose pattern matches it, in the mapping's order, so
``{"*": 20, "notifications.*": shared}`` spends one of the 20 calls per second
and one of the shared budget on each ``notifications`` call, and only the first
on the others. A call no pattern matches is not limited. The OAuth token
endpoint is matched as ``oauth/token.do`` and the implicit flow's dialog pages
as ``OAuth dialog``.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Protocol, runtime_checkable

__all__ = [
    "MethodLimits",
    "RateLimit",
    "RateLimitSetting",
    "RateLimiter",
    "local_limiter",
    "make_limits",
]


@runtime_checkable
class RateLimiter(Protocol):
    """Anything a call can wait on for its turn: ``await limiter.acquire()``.

    ``aiolimiter.AsyncLimiter`` and :class:`okru_sdk.distributed.RedisRateLimiter`
    fit. ``acquire`` returns when the call may go; the wait counts against the
    attempt's timeout and the call's total deadline.
    """

    async def acquire(self) -> None: ...


#: one budget: calls per second in this process, or a limiter object
RateLimit = float | RateLimiter
#: what ``rate_limit=`` accepts: one budget for every call, or budgets by method pattern
RateLimitSetting = float | RateLimiter | Mapping[str, RateLimit]


def local_limiter(rate: float) -> RateLimiter:
    """A budget of ``rate`` calls per second in this process (aiolimiter).

    A bucket of one second's worth of calls: bursts up to ``rate``, then steady.
    """
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
        raise ValueError(f"rate_limit must be a positive number of calls per second, got {rate!r}")
    try:
        from aiolimiter import AsyncLimiter
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "a numeric rate_limit needs aiolimiter: pip install 'okru-sdk[ratelimit]'"
        ) from None
    return AsyncLimiter(max_rate=rate, time_period=1.0)


def _one(value: object, where: str) -> RateLimiter:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return local_limiter(value)
    if isinstance(value, RateLimiter):
        return value
    raise TypeError(
        f"{where} must be a number of calls per second or an object with an async "
        f"acquire() method, got {type(value).__name__}"
    )


class MethodLimits:
    """The budgets of one session; :meth:`acquire` waits for those matching a call."""

    __slots__ = ("_matches", "_rules")

    def __init__(self, rules: list[tuple[str, RateLimiter]]) -> None:
        self._rules = rules
        #: method name -> the limiters that apply (patterns are matched once per name)
        self._matches: dict[str, tuple[RateLimiter, ...]] = {}

    def limiters_for(self, name: str) -> tuple[RateLimiter, ...]:
        found = self._matches.get(name)
        if found is None:
            found = tuple(limiter for pattern, limiter in self._rules if fnmatchcase(name, pattern))
            if len(self._matches) < 4096:  # names come from code, but stay bounded anyway
                self._matches[name] = found
        return found

    async def acquire(self, name: str) -> None:
        for limiter in self.limiters_for(name):
            await limiter.acquire()


def make_limits(setting: object) -> MethodLimits | None:
    """The session's budgets from its ``rate_limit=`` setting (``None``: no limit)."""
    if setting is None:
        return None
    if isinstance(setting, Mapping):
        rules: list[tuple[str, RateLimiter]] = []
        for pattern, value in setting.items():
            if not isinstance(pattern, str) or not pattern:
                raise TypeError(
                    f"rate_limit keys must be method name patterns (str), got {pattern!r}"
                )
            rules.append((pattern, _one(value, f"rate_limit[{pattern!r}]")))
        return MethodLimits(rules)
    return MethodLimits([("*", _one(setting, "rate_limit"))])
