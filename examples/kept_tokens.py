"""Kept tokens: store users' tokens in a database and rebuild their sessions from it.

    python examples/kept_tokens.py [DATABASE]

Runs against the bundled emulator (nothing leaves 127.0.0.1). The parts to copy
are ``TokenTable`` and ``session_for``: sign in once with ``on_tokens=`` saving
the tokens, and later build a ``ServerSession`` from the row; it renews itself
when ``expires_at`` passes or OK.ru answers 102, and ``on_tokens`` writes the
new tokens back. The rows are secrets: keep the database as you keep passwords.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
from pathlib import Path

from okru_sdk import API, CodeServerSession, ServerSession
from okru_sdk.testing import OkEmulator
from okru_sdk.tokens import Tokens

SCHEMA = """
CREATE TABLE IF NOT EXISTS okru_tokens (
    user_id            TEXT PRIMARY KEY,
    access_token       TEXT NOT NULL,
    refresh_token      TEXT NOT NULL,
    session_secret_key TEXT NOT NULL,
    expires_at         REAL            -- Unix time; NULL: unknown
)
"""


class TokenTable:
    """The application's table of OK.ru tokens, one row per user (sqlite3 here).

    sqlite3 calls are short and blocking; with a networked database use its
    async driver (``on_tokens`` may be an ``async def``).
    """

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(SCHEMA)

    def save(self, user_id: str, tokens: Tokens) -> None:
        with self.db:  # one transaction
            self.db.execute(
                """
                INSERT INTO okru_tokens VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET
                    access_token = excluded.access_token,
                    refresh_token = excluded.refresh_token,
                    session_secret_key = excluded.session_secret_key,
                    expires_at = excluded.expires_at
                """,
                (
                    user_id,
                    tokens.access_token,
                    tokens.refresh_token,
                    tokens.session_secret_key,
                    tokens.expires_at,
                ),
            )

    def load(self, user_id: str) -> Tokens | None:
        row = self.db.execute(
            "SELECT access_token, refresh_token, session_secret_key, expires_at "
            "FROM okru_tokens WHERE user_id = ?",
            (user_id,),
        ).fetchone()
        return None if row is None else Tokens(*row)

    def close(self) -> None:
        self.db.close()


def session_for(
    table: TokenTable,
    user_id: str,
    app_id: str,
    app_key: str,
    app_secret_key: str,
    *,
    api_url: str = "https://api.ok.ru",
) -> ServerSession:
    """A session for a user whose tokens are in ``table``; renewals are written back."""
    tokens = table.load(user_id)
    if tokens is None:
        raise LookupError(f"no OK.ru tokens stored for user {user_id!r}: sign in first")
    return ServerSession(
        app_id,
        app_key,
        app_secret_key,
        tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        on_tokens=lambda new: table.save(user_id, new),
        api_url=api_url,
    )


async def demo(database: str) -> None:
    """Sign in, store, rebuild, renew: the whole recipe against the emulator."""
    async with OkEmulator() as emu:
        app = emu.add_app(app_id="1248", app_key="CBAKEY", app_secret_key="app-secret")
        alice = emu.add_user(login="alice@example.com", password="pw", first_name="Alice")
        redirect_uri = "https://example.com/okru/callback"
        # the code OK.ru's redirect brings back (see authorization_url/code_from_redirect)
        code = emu.issue_code(app, alice, redirect_uri)
        table = TokenTable(database)
        try:
            # 1. First sign-in: on_tokens stores the tokens.
            async with CodeServerSession(
                app.app_id,
                app.app_key,
                app.app_secret_key,
                code,
                redirect_uri,
                on_tokens=lambda tokens: table.save(alice.uid, tokens),
                api_url=emu.url,
            ) as session:
                me = await API(session).call("users.getCurrentUser")
            first = table.load(alice.uid)
            assert first is not None and first.refresh_token
            print(f"signed in as {me['name']}; stored {first!r}")

            # 2. Later, in another process: rebuild the session from the row.
            emu.expire_token(first.access_token)  # meanwhile the token expired
            async with session_for(
                table, alice.uid, app.app_id, app.app_key, app.app_secret_key, api_url=emu.url
            ) as rebuilt:
                me = await API(rebuilt).call("users.getCurrentUser")  # 102 -> renewed
            renewed = table.load(alice.uid)
            assert renewed is not None and renewed.access_token != first.access_token
            assert renewed.access_token == rebuilt.access_token
            print(f"renewed and stored again for {me['name']}: {renewed!r}")
        finally:
            table.close()


def main() -> None:
    if len(sys.argv) > 1:
        asyncio.run(demo(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(demo(str(Path(folder) / "tokens.sqlite3")))


if __name__ == "__main__":
    main()
