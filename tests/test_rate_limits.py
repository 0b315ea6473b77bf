"""rate_limit=: a number, any object with async acquire(), or budgets by method pattern."""

from __future__ import annotations

import asyncio

import pytest

from okru_sdk import API, NO_RETRY, RequestTimeout, ServerSession
from okru_sdk.ratelimit import RateLimiter, make_limits
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, User

from .conftest import REDIRECT_URI


class Counting:
    """A limiter that lets every call go and counts them."""

    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1


class Closed:
    """A limiter whose budget never comes."""

    async def acquire(self) -> None:
        await asyncio.Event().wait()


def session(emu: OkEmulator, app: App, user: User, **settings: object) -> ServerSession:
    tok = emu.issue_token(app, user, expires_in=None)
    return ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        tok.access_token,
        api_url=emu.url,
        **settings,  # type: ignore[arg-type]
    )


async def test_an_object_with_async_acquire_is_a_budget(
    emu: OkEmulator, app: App, user: User
) -> None:
    limiter = Counting()
    assert isinstance(limiter, RateLimiter)
    async with session(emu, app, user, rate_limit=limiter) as s:
        await asyncio.gather(*(API(s).call("users.getCurrentUser") for _ in range(7)))
    assert limiter.acquired == 7 == len(emu.requests)


async def test_every_matching_pattern_is_waited_for_and_others_are_not(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    everything, users, tokens = Counting(), Counting(), Counting()
    budgets = {"*": everything, "users.*": users, "oauth/token.do": tokens}
    async with session(emu, app, user, rate_limit=budgets) as s:
        await API(s).call("users.getCurrentUser")
        await API(s).call("friends.get")
    assert (everything.acquired, users.acquired, tokens.acquired) == (2, 1, 0)
    code = emu.issue_code(app, user, REDIRECT_URI)
    from okru_sdk import CodeServerSession

    async with CodeServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        code,
        REDIRECT_URI,
        rate_limit=budgets,
        **urls,
    ):
        pass
    assert (everything.acquired, tokens.acquired) == (3, 1)  # the token.do request


async def test_a_numeric_budget_in_a_mapping_is_a_local_limiter(
    emu: OkEmulator, app: App, user: User
) -> None:
    async with session(
        emu, app, user, rate_limit={"users.*": 1000.0}, timeout=1.0, retry=NO_RETRY
    ) as s:
        await asyncio.gather(*(API(s).call("users.getCurrentUser") for _ in range(5)))


async def test_a_budget_that_never_comes_ends_within_the_attempt_timeout(
    emu: OkEmulator, app: App, user: User
) -> None:
    async with session(
        emu, app, user, rate_limit={"users.*": Closed()}, timeout=0.2, retry=NO_RETRY
    ) as s:
        await API(s).call("friends.get")  # not limited
        with pytest.raises(RequestTimeout, match=r"users\.getCurrentUser: no complete reply"):
            await asyncio.wait_for(API(s).call("users.getCurrentUser"), 10)
    assert [r.method for r in emu.requests] == ["friends.get"]


@pytest.mark.parametrize(
    ("setting", "error", "text"),
    [
        (0, ValueError, "positive number of calls per second"),
        (-5.0, ValueError, "positive number of calls per second"),
        (True, TypeError, "got bool"),
        ("10", TypeError, "got str"),
        (object(), TypeError, "async acquire"),
        ({"users.*": "fast"}, TypeError, r"rate_limit\['users.\*'\]"),
        ({"": 10}, TypeError, "method name patterns"),
        ({1: 10}, TypeError, "method name patterns"),
    ],
)
def test_bad_rate_limits_are_refused_with_what_was_wrong(
    setting: object, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        make_limits(setting)
    with pytest.raises(error, match=text):
        ServerSession("1", "k", "s", "t", rate_limit=setting)  # type: ignore[arg-type]
