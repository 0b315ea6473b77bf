"""Kept tokens: refresh_token= / expires_at= on token sessions, on_tokens=, the token store."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import pickle
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import pytest

from okru_sdk import (
    API,
    APIError,
    ClientSession,
    CodeServerSession,
    PasswordServerSession,
    RefreshServerSession,
    ServerSession,
    TokenSession,
)
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, User
from okru_sdk.tokens import JsonTokenSerializer, MemoryTokenStore, Tokens, TokenStore

from .conftest import LOGIN, PASSWORD, REDIRECT_URI


def token_do_calls(emu: OkEmulator) -> int:
    return sum(1 for r in emu.requests if r.path.endswith("token.do"))


# -- Tokens --------------------------------------------------------------------------------


def test_tokens_keep_their_secrets_out_of_repr_and_str() -> None:
    tokens = Tokens("ACCESS-SECRET", "REFRESH-SECRET", "SSK-SECRET", 1_700_000_000.0)
    for text in (repr(tokens), str(tokens), f"{tokens}", repr([tokens])):
        assert "SECRET" not in text
    assert "access_token=<set>" in repr(tokens) and "1700000000.0" in repr(tokens)
    assert "refresh_token=<empty>" in repr(Tokens("A"))


def test_tokens_are_frozen_and_pickle_whole_as_the_secret_material_they_are() -> None:
    tokens = Tokens("A", "R", "S", 12.5)
    with pytest.raises(AttributeError):
        tokens.access_token = "other"  # type: ignore[misc]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(tokens, protocol)) == tokens
    assert Tokens.from_dict(tokens.to_dict()) == tokens
    serializer = JsonTokenSerializer()
    assert serializer.loads(serializer.dumps(tokens)) == tokens


def test_bad_tokens_are_refused_with_the_field_named() -> None:
    with pytest.raises(TypeError, match=r"Tokens\.access_token must be a str"):
        Tokens(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Tokens\.expires_at must be a finite"):
        Tokens("A", expires_at=float("nan"))
    with pytest.raises(ValueError, match="no access_token"):
        Tokens.from_dict({"refresh_token": "R"})
    with pytest.raises(ValueError, match="not JSON"):
        JsonTokenSerializer().loads(b"\x00garbage")


def test_expires_at_takes_a_unix_time_or_an_aware_datetime() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    s = ServerSession("1", "k", "secret", "token", expires_at=moment)
    assert s.expires_at == moment.timestamp()
    assert ServerSession("1", "k", "secret", "token", expires_at=1234).expires_at == 1234.0
    with pytest.raises(ValueError, match="timezone-aware"):
        ServerSession("1", "k", "secret", "token", expires_at=datetime(2030, 1, 1))
    with pytest.raises(TypeError, match="expires_at must be a Unix time"):
        ServerSession("1", "k", "secret", "token", expires_at="soon")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="refresh_token must be a str"):
        ServerSession("1", "k", "secret", "token", refresh_token=None)  # type: ignore[arg-type]


def test_store_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="token_store needs token_key"):
        ServerSession("1", "k", "secret", "token", token_store=MemoryTokenStore())
    with pytest.raises(TypeError, match="TokenStore protocol"):
        ServerSession("1", "k", "s", "t", token_store=object(), token_key="a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="token_key must be a non-empty str"):
        ServerSession("1", "k", "secret", "token", token_key="")
    with pytest.raises(TypeError, match="on_tokens must be a callable"):
        ServerSession("1", "k", "secret", "token", on_tokens="print")  # type: ignore[arg-type]
    assert isinstance(MemoryTokenStore(), TokenStore)


# -- a token session built from stored tokens ----------------------------------------------


async def test_a_stored_token_renews_itself_on_102_and_reports_through_on_tokens(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    reported: list[Tokens] = []
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        on_tokens=reported.append,
        **urls,
    ) as s:
        emu.expire_token(stored.access_token)
        before = time.time()
        me = await API(s).call("users.getCurrentUser")
    assert me["uid"] == user.uid
    assert token_do_calls(emu) == 1
    (tokens,) = reported
    assert tokens.access_token == s.access_token != stored.access_token
    assert tokens.refresh_token == stored.refresh_token  # OK.ru keeps the refresh token
    assert tokens.expires_at is not None and tokens.expires_at >= before + 1800 - 5
    assert tokens == s.tokens


async def test_expires_at_in_the_past_renews_before_the_call(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        expires_at=time.time() - 1,
        **urls,
    ) as s:
        await API(s).call("users.getCurrentUser")
    assert [r.path.endswith("token.do") for r in emu.requests] == [True, False]
    assert emu.requests[1].params["access_token"] == s.access_token != stored.access_token


async def test_expires_at_in_the_future_sends_no_renewal(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        expires_at=datetime.now(timezone.utc) + timedelta(minutes=5),
        **urls,
    ) as s:
        await API(s).call("users.getCurrentUser")
        assert s.access_token == stored.access_token
    assert token_do_calls(emu) == 0


async def test_a_client_session_renews_with_its_refresh_token_too(
    emu: OkEmulator, public_app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(public_app, user, refresh=True)
    reported: list[Tokens] = []
    async with ClientSession(
        public_app.app_id,
        public_app.app_key,
        stored.session_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        on_tokens=reported.append,
        **urls,
    ) as s:
        emu.expire_token(stored.access_token)
        assert (await API(s).call("users.getCurrentUser"))["uid"] == user.uid
    (tokens,) = reported
    assert tokens.session_secret_key and tokens.session_secret_key != stored.session_secret_key


# -- on_tokens -----------------------------------------------------------------------------


async def test_an_async_on_tokens_is_awaited_after_the_sign_in_and_each_renewal(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    reported: list[Tokens] = []

    async def keep(tokens: Tokens) -> None:
        await asyncio.sleep(0.01)  # as a database write would
        reported.append(tokens)

    code = emu.issue_code(app, user, REDIRECT_URI)
    async with CodeServerSession(
        app.app_id, app.app_key, app.app_secret_key, code, REDIRECT_URI, on_tokens=keep, **urls
    ) as s:
        assert [t.access_token for t in reported] == [s.access_token]  # the sign-in
        assert reported[0].refresh_token
        emu.expire_token(s.access_token)
        await asyncio.gather(*(API(s).call("users.getCurrentUser") for _ in range(5)))
        assert [t.access_token for t in reported][1:] == [s.access_token]  # one renewal
    assert token_do_calls(emu) == 2


async def test_a_password_sign_in_is_reported(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    reported: list[Tokens] = []
    async with PasswordServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        LOGIN,
        PASSWORD,
        on_tokens=reported.append,
        **urls,
    ) as s:
        pass
    assert [t.access_token for t in reported] == [s.access_token]
    assert reported[0].refresh_token == ""


async def test_an_on_tokens_that_raises_is_logged_without_secrets_and_the_call_succeeds(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings, caplog: pytest.LogCaptureFixture
) -> None:
    stored = emu.issue_token(app, user, refresh=True)

    def broken(tokens: Tokens) -> None:
        raise RuntimeError(f"database down while saving {tokens.access_token}")

    caplog.set_level(logging.ERROR, logger="okru_sdk")
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        on_tokens=broken,
        **urls,
    ) as s:
        emu.expire_token(stored.access_token)
        me = await API(s).call("users.getCurrentUser")
        new_token = s.access_token
    assert me["uid"] == user.uid
    (record,) = [r for r in caplog.records if "on_tokens raised" in r.getMessage()]
    text = record.getMessage()
    assert record.levelno == logging.ERROR
    assert "RuntimeError: database down while saving ***" in text
    for secret in (new_token, stored.refresh_token or "", app.app_secret_key):
        assert secret not in text


async def test_a_sign_in_that_fails_reports_nothing(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    reported: list[Tokens] = []
    session = PasswordServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        LOGIN,
        "wrong",
        on_tokens=reported.append,
        **urls,
    )
    with pytest.raises(Exception, match="wrong login or password"):
        async with session:
            pass
    assert reported == []


# -- the token store, in memory ------------------------------------------------------------


async def test_sessions_sharing_a_key_in_one_process_renew_once(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    store = MemoryTokenStore()

    def session() -> ServerSession:
        return ServerSession(
            app.app_id,
            app.app_key,
            app.app_secret_key,
            stored.access_token,
            refresh_token=stored.refresh_token or "",
            token_store=store,
            token_key="alice",
            **urls,
        )

    emu.expire_token(stored.access_token)
    sessions = [session() for _ in range(3)]
    try:
        calls = [API(s).call("users.getCurrentUser") for s in sessions for _ in range(4)]
        results = await asyncio.gather(*calls)
    finally:
        for s in sessions:
            await s.close()
    assert all(r["uid"] == user.uid for r in results)
    assert token_do_calls(emu) == 1
    assert len({s.access_token for s in sessions}) == 1
    kept = await store.load("alice")
    assert kept is not None and kept.access_token == sessions[0].access_token


async def test_a_token_key_alone_uses_the_process_store(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    key = f"process-store-{stored.access_token[:8]}"
    first = ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        expires_at=time.time() - 1,
        token_key=key,
        **urls,
    )
    async with first:
        await API(first).call("users.getCurrentUser")
    # a later session of the same process starts from the renewed token
    async with ServerSession(
        app.app_id, app.app_key, app.app_secret_key, stored.access_token, token_key=key, **urls
    ) as second:
        assert second.access_token == first.access_token != stored.access_token
        await API(second).call("users.getCurrentUser")
    assert token_do_calls(emu) == 1


async def test_a_session_that_cannot_renew_uses_a_token_renewed_by_another(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    store = MemoryTokenStore()
    renewing = ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        refresh_token=stored.refresh_token or "",
        token_store=store,
        token_key="bot",
        **urls,
    )
    plain = ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        token_store=store,
        token_key="bot",
        **urls,
    )
    async with renewing, plain:
        await API(plain).call("users.getCurrentUser")  # reads the (empty) store
        emu.expire_token(stored.access_token)
        await API(renewing).call("users.getCurrentUser")  # renews, writes the store
        assert (await API(plain).call("users.getCurrentUser"))["uid"] == user.uid
        assert plain.access_token == renewing.access_token
    assert token_do_calls(emu) == 1


async def test_without_a_store_a_session_that_cannot_renew_still_raises_102(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    store = MemoryTokenStore()
    async with ServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.access_token,
        token_store=store,
        token_key="bot",
        **urls,
    ) as s:
        emu.expire_token(stored.access_token)
        with pytest.raises(APIError) as info:
            await API(s).call("users.getCurrentUser")
    assert info.value.code == 102
    assert token_do_calls(emu) == 0


async def test_flow_sessions_sharing_a_key_exchange_the_code_once(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    code = emu.issue_code(app, user, REDIRECT_URI)
    store = MemoryTokenStore()
    reported: list[Tokens] = []
    sessions = [
        CodeServerSession(
            app.app_id,
            app.app_key,
            app.app_secret_key,
            code,
            REDIRECT_URI,
            token_store=store,
            token_key="alice",
            on_tokens=reported.append,
            **urls,
        )
        for _ in range(3)
    ]
    try:
        results = await asyncio.gather(*(API(s).call("users.getCurrentUser") for s in sessions))
    finally:
        for s in sessions:
            await s.close()
    assert all(r["uid"] == user.uid for r in results)
    assert token_do_calls(emu) == 1  # a code is good for one exchange: the others read the store
    assert len(reported) == 1
    assert {s.access_token for s in sessions} == {reported[0].access_token}


async def test_a_refresh_session_starts_from_stored_tokens(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    stored = emu.issue_token(app, user, refresh=True)
    store = MemoryTokenStore()
    kept = Tokens(stored.access_token, stored.refresh_token or "", "", time.time() + 600)
    await store.save("alice", kept)
    async with RefreshServerSession(
        app.app_id,
        app.app_key,
        app.app_secret_key,
        stored.refresh_token or "",
        token_store=store,
        token_key="alice",
        **urls,
    ) as s:
        assert s.access_token == stored.access_token
        await API(s).call("users.getCurrentUser")
    assert token_do_calls(emu) == 0


def test_token_state_is_readable_but_never_printed() -> None:
    s = TokenSession("1", "k", "APP-SECRET", "ACCESS-SECRET", refresh_token="REFRESH-SECRET")
    assert s.tokens == Tokens("ACCESS-SECRET", "REFRESH-SECRET", "", None)
    assert "SECRET" not in repr(s) and "SECRET" not in repr(s.tokens)
    assert s.can_renew


# -- the recipe of docs/tokens.md ----------------------------------------------------------


def load_example(name: str) -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_database_recipe_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "tokens.sqlite3"
    await load_example("kept_tokens").demo(str(database))
    out = capsys.readouterr().out
    assert "signed in as" in out and "renewed and stored again" in out
    # the row holds the renewed tokens, and nothing printed shows a secret
    row = sqlite3.connect(database).execute("SELECT access_token FROM okru_tokens").fetchone()
    assert row[0] and row[0] not in out


def docs_blocks() -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "tokens.md").read_text("utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.M | re.S)


def test_the_recipe_in_docs_is_the_example_the_tests_run() -> None:
    root = Path(__file__).resolve().parent.parent
    quoted = [b for b in docs_blocks() if b.startswith("# examples/")]
    assert len(quoted) >= 4
    for block in quoted:
        first, _, code = block.partition("\n")
        source = (root / first.removeprefix("# ")).read_text("utf-8")
        assert code in source, f"docs/tokens.md quotes {first[2:]} out of date:\n{code}"


def test_the_fernet_serializer_of_the_docs_encrypts() -> None:
    pytest.importorskip("cryptography")
    (block,) = [b for b in docs_blocks() if b.startswith("# a Fernet serializer")]
    namespace: dict[str, object] = {}
    exec(block, namespace)  # our own docs
    from cryptography.fernet import Fernet

    serializer = namespace["FernetTokenSerializer"](Fernet.generate_key())  # type: ignore[operator]
    tokens = Tokens("ACCESS-SECRET", "REFRESH-SECRET", "", 12.0)
    data = serializer.dumps(tokens)
    assert b"SECRET" not in data
    assert serializer.loads(data) == tokens
