"""What reaches the wire: encoded once, signed exactly as sent."""

from __future__ import annotations

import pytest

from okru_sdk import API, Circuit, ClientSession, ServerSession
from okru_sdk.testing import OkEmulator
from okru_sdk.testing.state import App, User


@pytest.mark.parametrize("circuit", [Circuit.SERVER, Circuit.CLIENT])
async def test_lists_booleans_json_and_non_ascii_are_signed_as_sent(
    emu: OkEmulator, app: App, user: User, circuit: Circuit
) -> None:
    emu.register_method("test.echo", lambda call: call.params)
    tok = emu.issue_token(app, user)
    session = (
        ServerSession(
            app.app_id, app.app_key, app.app_secret_key, tok.access_token, api_url=emu.url
        )
        if circuit is Circuit.SERVER
        else ClientSession(
            app.app_id, app.app_key, tok.session_secret_key, tok.access_token, api_url=emu.url
        )
    )
    async with session:
        await API(session).call(
            "test.echo",
            uids=["1", "2", "3"],
            __online=False,
            count=0,
            text="Привет, мир & друзья",
            attachment={"media": [{"type": "text", "text": "ёжик"}]},
            empty="",
            skipped=None,
        )
    sent = emu.requests[-1]
    assert sent.circuit is circuit  # the emulator accepted the signature
    assert sent.params["uids"] == "1,2,3"
    assert sent.params["__online"] == "false"
    assert sent.params["count"] == "0"
    assert sent.params["text"] == "Привет, мир & друзья"
    assert sent.params["attachment"] == '{"media":[{"type":"text","text":"ёжик"}]}'
    assert sent.params["empty"] == ""
    assert "skipped" not in sent.params
    assert sent.params["access_token"] == tok.access_token
    assert sent.params["format"] == "json"
    assert sent.params["method"] == "test.echo"
    assert sent.http_method == "POST" and sent.path == "/fb.do"
