"""Sign in with every session class and print the current user through each.

Without configuration this starts the bundled OK.ru emulator in-process on
127.0.0.1 and talks to it. With OKRU_APP_ID, OKRU_APP_KEY, OKRU_APP_SECRET_KEY
and OKRU_ACCESS_TOKEN set, it talks to the real OK.ru with the token sessions
instead (the grant flows need a browser or a first-party application there).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

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
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.emulator import DEMO_LOGIN, DEMO_PASSWORD
from okru_sdk.testing.state import App

SCOPE = ["VALUABLE_ACCESS", "LONG_ACCESS_TOKEN"]
REDIRECT_URI = "https://example.com/okru/callback"


async def show(label: str, session: TokenSession) -> None:
    """Print the current user as seen through one session."""
    async with session:
        api = API(session)
        me = await api.users.get_current_user(fields=["uid", "name", "locale"])
        print(f"{label:<24} {session.circuit.value:<14} uid={me.uid} name={me.name}")


async def against_emulator() -> None:
    async with OkEmulator() as emu:
        app, user = emu.seed_demo()
        # An application allowed to exchange codes without its secret key
        # (the client variants of the code and refresh flows need one).
        public = emu.add_app(
            app_id="512000384999",
            app_key="CBAPUBLICDEMOKEY",
            app_secret_key="FEDCBA9876543210FEDCBA9876543210",
            public_code_exchange=True,
        )
        url: SessionSettings = {"api_url": emu.url, "connect_url": emu.url}
        print(f"OK.ru emulator at {emu.url}\n")

        def token(for_app: App = app) -> tuple[str, str, str]:
            issued = emu.issue_token(for_app, user, scopes=SCOPE, refresh=True)
            return issued.access_token, issued.session_secret_key, issued.refresh_token or ""

        access, secret, _ = token()
        key, sk = app.app_key, app.app_secret_key
        pkey = public.app_key

        sessions: list[tuple[str, Callable[[], TokenSession]]] = [
            ("TokenSession", lambda: TokenSession(app.app_id, key, sk, access, **url)),
            ("ServerSession", lambda: ServerSession(app.app_id, key, sk, access, **url)),
            ("ClientSession", lambda: ClientSession(app.app_id, key, secret, access, **url)),
            (
                "CodeSession",
                lambda: CodeSession(
                    app.app_id,
                    key,
                    sk,
                    emu.issue_code(app, user, REDIRECT_URI),
                    REDIRECT_URI,
                    **url,
                ),
            ),
            (
                "CodeServerSession",
                lambda: CodeServerSession(
                    app.app_id,
                    key,
                    sk,
                    emu.issue_code(app, user, REDIRECT_URI),
                    REDIRECT_URI,
                    **url,
                ),
            ),
            (
                "CodeClientSession",
                lambda: CodeClientSession(
                    public.app_id,
                    pkey,
                    emu.issue_code(public, user, REDIRECT_URI),
                    REDIRECT_URI,
                    **url,
                ),
            ),
            (
                "ImplicitSession",
                lambda: ImplicitSession(
                    app.app_id, key, sk, DEMO_LOGIN, DEMO_PASSWORD, SCOPE, **url
                ),
            ),
            (
                "ImplicitServerSession",
                lambda: ImplicitServerSession(
                    app.app_id, key, sk, DEMO_LOGIN, DEMO_PASSWORD, SCOPE, **url
                ),
            ),
            (
                "ImplicitClientSession",
                lambda: ImplicitClientSession(
                    app.app_id, key, DEMO_LOGIN, DEMO_PASSWORD, SCOPE, **url
                ),
            ),
            (
                "PasswordSession",
                lambda: PasswordSession(
                    app.app_id, key, sk, DEMO_LOGIN, DEMO_PASSWORD, SCOPE, **url
                ),
            ),
            (
                "PasswordServerSession",
                lambda: PasswordServerSession(
                    app.app_id, key, sk, DEMO_LOGIN, DEMO_PASSWORD, SCOPE, **url
                ),
            ),
            (
                "PasswordClientSession",
                lambda: PasswordClientSession(app.app_id, key, DEMO_LOGIN, DEMO_PASSWORD, **url),
            ),
            ("RefreshSession", lambda: RefreshSession(app.app_id, key, sk, token()[2], **url)),
            (
                "RefreshServerSession",
                lambda: RefreshServerSession(app.app_id, key, sk, token()[2], **url),
            ),
            (
                "RefreshClientSession",
                lambda: RefreshClientSession(public.app_id, pkey, token(public)[2], **url),
            ),
        ]
        for label, make in sessions:
            await show(label, make())


async def against_real_okru() -> None:
    env = os.environ
    app_id, key = env["OKRU_APP_ID"], env["OKRU_APP_KEY"]
    sk, access = env["OKRU_APP_SECRET_KEY"], env["OKRU_ACCESS_TOKEN"]
    print("Talking to the real OK.ru (api.ok.ru)\n")
    await show("TokenSession", TokenSession(app_id, key, sk, access))
    await show("ServerSession", ServerSession(app_id, key, sk, access))


@asynccontextmanager
async def reporting_errors() -> AsyncIterator[None]:
    try:
        yield
    except OkError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


async def main() -> None:
    real = all(
        os.environ.get(name)
        for name in ("OKRU_APP_ID", "OKRU_APP_KEY", "OKRU_APP_SECRET_KEY", "OKRU_ACCESS_TOKEN")
    )
    async with reporting_errors():
        await (against_real_okru() if real else against_emulator())


if __name__ == "__main__":
    asyncio.run(main())
