"""No secret in DEBUG logs, exception text or repr, for every session class and error path."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from okru_sdk import (
    API,
    ClientSession,
    CodeClientSession,
    CodeServerSession,
    CodeSession,
    ImplicitClientSession,
    ImplicitServerSession,
    ImplicitSession,
    OkError,
    PasswordClientSession,
    PasswordServerSession,
    PasswordSession,
    RefreshClientSession,
    RefreshServerSession,
    RefreshSession,
    ServerSession,
    TokenSession,
)
from okru_sdk.retry import RetryPolicy
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, User

from .conftest import LOGIN, PASSWORD, REDIRECT_URI

SCOPE = ["VALUABLE_ACCESS"]
WRONG_PASSWORD = "wrong-password-that-must-not-leak"


async def exercise(session: TokenSession, seen: list[str]) -> None:
    """Sign in, make a good call and a failing one; keep every text produced."""
    try:
        async with session:
            api = API(session)
            await api.call("users.getCurrentUser", fields="uid,name")
            try:
                await api.call("no.suchMethod")
            except OkError as exc:
                seen.extend(texts_of(exc))
            seen.append(repr(session))
            seen.append(repr(api))
    except OkError as exc:
        seen.extend(texts_of(exc))
    seen.append(repr(session))


def texts_of(exc: BaseException | None) -> list[str]:
    out: list[str] = []
    while exc is not None:
        out += [str(exc), repr(exc), repr(exc.args)]
        exc = exc.__cause__ or exc.__context__
    return out


async def test_secrets_never_reach_logs_errors_or_repr(
    emu: OkEmulator,
    app: App,
    public_app: App,
    user: User,
    urls: SessionSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fast: SessionSettings = {**urls, "retry": RetryPolicy(backoff=0.01)}
    sk = app.app_secret_key
    seen: list[str] = []

    def tok(for_app: App = app) -> tuple[str, str, str]:
        t = emu.issue_token(for_app, user, refresh=True)
        return t.access_token, t.session_secret_key, t.refresh_token or ""

    access, ssk, _ = tok()
    code = lambda a=app: emu.issue_code(a, user, REDIRECT_URI)  # noqa: E731
    factories: list[Callable[[], TokenSession]] = [
        lambda: TokenSession(app.app_id, app.app_key, sk, access, **fast),
        lambda: ServerSession(app.app_id, app.app_key, sk, access, **fast),
        lambda: ClientSession(app.app_id, app.app_key, ssk, access, **fast),
        lambda: CodeSession(app.app_id, app.app_key, sk, code(), REDIRECT_URI, **fast),
        lambda: CodeServerSession(app.app_id, app.app_key, sk, code(), REDIRECT_URI, **fast),
        lambda: CodeClientSession(
            public_app.app_id, public_app.app_key, code(public_app), REDIRECT_URI, **fast
        ),
        lambda: ImplicitSession(app.app_id, app.app_key, sk, LOGIN, PASSWORD, SCOPE, **fast),
        lambda: ImplicitServerSession(app.app_id, app.app_key, sk, LOGIN, PASSWORD, SCOPE, **fast),
        lambda: ImplicitClientSession(app.app_id, app.app_key, LOGIN, PASSWORD, SCOPE, **fast),
        lambda: PasswordSession(app.app_id, app.app_key, sk, LOGIN, PASSWORD, **fast),
        lambda: PasswordServerSession(app.app_id, app.app_key, sk, LOGIN, PASSWORD, **fast),
        lambda: PasswordClientSession(app.app_id, app.app_key, LOGIN, PASSWORD, **fast),
        lambda: RefreshSession(app.app_id, app.app_key, sk, tok()[2], **fast),
        lambda: RefreshServerSession(app.app_id, app.app_key, sk, tok()[2], **fast),
        lambda: RefreshClientSession(
            public_app.app_id, public_app.app_key, tok(public_app)[2], **fast
        ),
        # failing sign-ins
        lambda: ImplicitClientSession(
            app.app_id, app.app_key, LOGIN, WRONG_PASSWORD, SCOPE, **fast
        ),
        lambda: PasswordServerSession(app.app_id, app.app_key, sk, LOGIN, WRONG_PASSWORD, **fast),
        lambda: CodeServerSession(app.app_id, app.app_key, sk, "bad-code", REDIRECT_URI, **fast),
        lambda: CodeClientSession(app.app_id, app.app_key, code(), REDIRECT_URI, **fast),
        lambda: RefreshServerSession(app.app_id, app.app_key, sk, "bad-refresh", **fast),
        lambda: ServerSession(app.app_id, app.app_key, "wrong-app-secret", access, **fast),
    ]
    for make in factories:
        await exercise(make(), seen)

    # an expired token and a renewal, logged at DEBUG too
    t = emu.issue_token(app, user, refresh=True)
    assert t.refresh_token
    renewing = RefreshServerSession(app.app_id, app.app_key, sk, t.refresh_token, **fast)
    async with renewing:
        emu.expire_token(renewing.access_token)
        await API(renewing).call("users.getCurrentUser")

    secrets: set[str] = {PASSWORD, WRONG_PASSWORD, "wrong-app-secret", "bad-code", "bad-refresh"}
    for a in emu.apps.values():
        secrets.add(a.app_secret_key)
    for token in emu.tokens.values():
        secrets.update({token.access_token, token.session_secret_key})
        if token.refresh_token:
            secrets.add(token.refresh_token)
    secrets.update(emu.codes)
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert "users.getCurrentUser" in log_text  # DEBUG logging did run
    everything = log_text + "\n" + "\n".join(seen)
    leaked = sorted(s for s in secrets if s and s in everything)
    assert not leaked, f"{len(leaked)} secret(s) leaked"
