"""When and how long to wait before trying a call again.

The defaults follow what the best API clients do: two retries, exponential
backoff from 0.5 s with full jitter, capped; a longer backoff for OK.ru's
flood control; and a total deadline that bounds every attempt and pause of a
call together. Subclass :class:`RetryPolicy` and override :meth:`RetryPolicy.decide`
for another rule.
"""

from __future__ import annotations

import dataclasses
import math
import random

from .errors import APIError, OkError, RequestTimeout, TransportError

__all__ = ["DEFAULT_RETRY", "NO_RETRY", "RetryPolicy"]

#: OK.ru's "blocked for flooding" code: wait longer before the next attempt
FLOOD_BLOCKED = 8


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Retry rules for one session, or for one call (``retry=`` on a call)."""

    #: retries after the first attempt (so ``max_retries=2`` means at most 3 attempts)
    max_retries: int = 2
    #: base of the exponential backoff, seconds
    backoff: float = 0.5
    #: upper bound of one pause, seconds
    backoff_max: float = 8.0
    #: base of the backoff after a FLOOD_BLOCKED (8) error, seconds
    flood_backoff: float = 2.0
    #: deadline for all attempts and pauses of one call together, seconds
    total_timeout: float = 120.0
    #: honour a ``Retry-After`` header on HTTP errors, up to ``backoff_max``
    respect_retry_after: bool = True

    def __post_init__(self) -> None:
        for name in ("backoff", "backoff_max", "flood_backoff"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")
        if self.max_retries < 0:
            raise ValueError("RetryPolicy.max_retries must not be negative")
        if not (self.total_timeout > 0 and math.isfinite(self.total_timeout)):
            raise ValueError(
                "RetryPolicy.total_timeout must be a positive, finite number of seconds, "
                f"got {self.total_timeout!r}"
            )

    def decide(self, error: OkError, *, attempt: int, retry_safe: bool) -> str | None:
        """Why ``error`` is worth another attempt, or ``None`` to give up.

        ``attempt`` counts from 1. ``retry_safe`` is false for writes the
        catalogue marks unsafe: those are retried only when the request
        provably never reached the server.
        """
        if attempt > self.max_retries:
            return None
        if isinstance(error, TransportError) and error.reached_server is False:
            return "connection failed before sending"
        if not retry_safe:
            return None
        if isinstance(error, RequestTimeout):
            return "timeout"
        if isinstance(error, TransportError):
            if error.status is None:
                return "connection error"
            if error.status >= 500 or error.status == 429:
                return f"HTTP {error.status}"
            return None
        if isinstance(error, APIError) and type(error).transient:
            return f"OK.ru error {error.code}"
        return None

    def delay(self, error: OkError, *, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (full jitter)."""
        if self.respect_retry_after and isinstance(error, TransportError):
            hinted = error.retry_after
            if hinted is not None:
                return min(hinted, self.backoff_max)
        base = self.backoff
        if isinstance(error, APIError) and error.code == FLOOD_BLOCKED:
            base = self.flood_backoff
        ceiling = min(self.backoff_max, base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


#: two retries, 0.5 s exponential backoff with full jitter, 120 s deadline
DEFAULT_RETRY = RetryPolicy()
#: one attempt only
NO_RETRY = RetryPolicy(max_retries=0)
