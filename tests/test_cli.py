"""The ``okru`` command, run as a subprocess (its console script) against the emulator."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from okru_sdk.cli import parse_call_params, read_env_file
from okru_sdk.testing import DEMO_UID, OkEmulator

#: the console script of this environment (pip install -e . puts it beside python)
OKRU = Path(sys.executable).parent / "okru"


@dataclass
class Run:
    status: int
    out: str
    err: str


async def okru(*args: str, env: dict[str, str] | None = None) -> Run:
    """Run the command; the test's event loop keeps serving the emulator meanwhile."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OKRU_")}
    proc = await asyncio.create_subprocess_exec(
        str(OKRU),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**base, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


@pytest.fixture
async def demo() -> AsyncIterator[tuple[OkEmulator, dict[str, str]]]:
    async with OkEmulator() as emu:
        app, user = emu.seed_demo()
        token = emu.issue_token(app, user, expires_in=None)
        yield (
            emu,
            {
                "OKRU_APP_ID": app.app_id,
                "OKRU_APP_KEY": app.app_key,
                "OKRU_APP_SECRET_KEY": app.app_secret_key,
                "OKRU_ACCESS_TOKEN": token.access_token,
                "OKRU_API_URL": emu.url,
                "OKRU_CONNECT_URL": emu.url,
            },
        )


def test_the_console_script_is_installed() -> None:
    assert OKRU.is_file(), "pip install -e . installs the okru console script"


async def test_help_lists_the_commands() -> None:
    run = await okru("--help")
    assert run.status == 0
    for command in ("call", "methods", "auth", "emulator"):
        assert command in run.out
    assert "OKRU_APP_ID" in run.out


async def test_call_prints_the_json_reply(demo: tuple[OkEmulator, dict[str, str]]) -> None:
    emu, env = demo
    run = await okru("call", "users.getCurrentUser", "fields=uid,name", env=env)
    assert run.status == 0, run.err
    assert json.loads(run.out) == {"uid": DEMO_UID, "name": "Алиса Демидова"}
    assert emu.requests[-1].params["fields"] == "uid,name"
    assert emu.requests[-1].headers["User-Agent"].startswith("okru-sdk/")


async def test_call_json_values_and_raw_body(demo: tuple[OkEmulator, dict[str, str]]) -> None:
    emu, env = demo
    run = await okru(
        "call", "users.getCurrentUser", 'fields:=["uid","first_name"]', "--raw", env=env
    )
    assert run.status == 0, run.err
    assert emu.requests[-1].params["fields"] == "uid,first_name"  # a JSON list, comma-joined
    assert run.out == '{"uid":"' + DEMO_UID + '","first_name":"Алиса"}'  # as sent, not re-indented


async def test_an_okru_error_is_one_line_with_the_code_and_exit_1(
    demo: tuple[OkEmulator, dict[str, str]],
) -> None:
    _, env = demo
    run = await okru("call", "users.getInfo", "fields=uid", env=env)  # uids is required
    assert run.status == 1
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "OK.ru error 100" in lines[0] and "users.getInfo" in lines[0]
    assert "InvalidParameter" in lines[0]
    assert "Traceback" not in run.err


async def test_no_secret_in_the_error_line(demo: tuple[OkEmulator, dict[str, str]]) -> None:
    _, env = demo
    run = await okru("call", "users.getCurrentUser", env={**env, "OKRU_ACCESS_TOKEN": "wrong"})
    assert run.status == 1
    assert "103" in run.err
    assert env["OKRU_APP_SECRET_KEY"] not in run.err


async def test_debug_shows_the_traceback(demo: tuple[OkEmulator, dict[str, str]]) -> None:
    _, env = demo
    run = await okru("--debug", "call", "users.getInfo", "fields=uid", env=env)
    assert run.status == 1
    assert "Traceback" in run.err
    assert run.err.strip().splitlines()[-1].startswith("okru: OK.ru error 100")


async def test_transport_error_exits_3() -> None:
    async with OkEmulator() as gone:
        url = gone.url
    env = {
        "OKRU_APP_ID": "1",
        "OKRU_APP_KEY": "k",
        "OKRU_APP_SECRET_KEY": "s",
        "OKRU_ACCESS_TOKEN": "t",
        "OKRU_API_URL": url,
    }
    run = await okru("call", "users.getCurrentUser", "--timeout", "5", env=env)
    assert run.status == 3
    assert len(run.err.strip().splitlines()) == 1
    assert "TransportError" in run.err and "Traceback" not in run.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["call", "users.getCurrentUser", "fields"], "expected key=value"),
        (["call", "users.getCurrentUser", "a:=[1,"], "not valid JSON"),
        (["call", "users.getCurrentUser", "a=1", "a=2"], "given twice"),
        (["call", "getCurrentUser"], "group.method"),
        (["call", "users.getCurrentUser", "--timeout", "0"], "positive"),
        (["methods", "no.suchMethod"], "no catalogued method"),
        (["nonsense"], "invalid choice"),
    ],
)
async def test_usage_errors_exit_2(
    args: list[str], needle: str, demo: tuple[OkEmulator, dict[str, str]]
) -> None:
    _, env = demo
    run = await okru(*args, env=env)
    assert run.status == 2, run
    assert needle in run.err
    assert "Traceback" not in run.err


async def test_missing_credentials_are_a_usage_error() -> None:
    run = await okru("call", "users.getCurrentUser", env={"OKRU_APP_ID": "1"})
    assert run.status == 2
    assert "OKRU_APP_KEY" in run.err
    run = await okru("call", "users.getCurrentUser", env={"OKRU_APP_ID": "1", "OKRU_APP_KEY": "k"})
    assert run.status == 2
    assert "OKRU_ACCESS_TOKEN" in run.err and "OKRU_SESSION_SECRET_KEY" in run.err


async def test_env_file_gives_the_credentials(
    demo: tuple[OkEmulator, dict[str, str]], tmp_path: Path
) -> None:
    _, env = demo
    env_file = tmp_path / "okru.env"
    lines = ["# demo credentials", *(f"export {k}='{v}'" for k, v in env.items())]
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the file wins over a stale environment value
    run = await okru(
        "call",
        "users.getCurrentUser",
        "--env-file",
        str(env_file),
        env={"OKRU_ACCESS_TOKEN": "stale"},
    )
    assert run.status == 0, run.err
    assert json.loads(run.out)["uid"] == DEMO_UID
    missing = await okru("--env-file", str(tmp_path / "nope.env"), "call", "users.getCurrentUser")
    assert missing.status == 2 and "cannot read --env-file" in missing.err


async def test_client_server_credentials(demo: tuple[OkEmulator, dict[str, str]]) -> None:
    emu, env = demo
    token = next(iter(emu.tokens.values()))
    client_env = {k: v for k, v in env.items() if k != "OKRU_APP_SECRET_KEY"}
    client_env["OKRU_SESSION_SECRET_KEY"] = token.session_secret_key
    run = await okru("call", "users.getCurrentUser", env=client_env)
    assert run.status == 0, run.err
    assert str(emu.requests[-1].circuit) == "Circuit.CLIENT"


async def test_methods_lists_with_python_names() -> None:
    run = await okru("methods", "users")
    assert run.status == 0
    lines = run.out.splitlines()
    assert lines and all(line.startswith("users.") for line in lines)
    current = next(line for line in lines if line.startswith("users.getCurrentUser "))
    assert "api.users.get_current_user" in current
    assert len(current.split("api.users.get_current_user", 1)[1].strip()) > 10  # the summary
    substring = await okru("methods", "badgesinfo")
    assert {line.split()[0] for line in substring.out.splitlines()} == {
        "badges.getBadgesInfo",
        "badges.getUsersBadgesInfo",
    }
    everything = await okru("methods")
    from okru_sdk._generated.index import METHOD_INDEX

    listed = {line.split()[0] for line in everything.out.splitlines()}
    assert listed == set(METHOD_INDEX)


async def test_methods_shows_one_method() -> None:
    run = await okru("methods", "users.getInfo")
    assert run.status == 0
    out = run.out
    assert out.startswith("users.getInfo  (api.users.get_info)")
    assert "session optional" in out and "VALUABLE_ACCESS" in out
    assert "returns: list[User]" in out
    assert re.search(r"^  uids: Sequence\[str\], required$", out, re.M)
    assert re.search(r"^  empty_pictures \(wire emptyPictures\): bool, optional$", out, re.M)
    assert "https://apiok.ru/dev/methods/rest/users/users.getInfo" in out
    same = await okru("methods", "api.users.get_info")
    assert same.out == out


async def test_auth_url_has_a_fresh_state() -> None:
    args = ["auth", "url", "--scope", "VALUABLE_ACCESS;LONG_ACCESS_TOKEN"]
    args += ["--redirect-uri", "https://example.com/cb", "--app-id", "42"]
    one, two = await okru(*args), await okru(*args)
    assert one.status == two.status == 0
    query = parse_qs(urlsplit(one.out.strip()).query)
    assert query["client_id"] == ["42"]
    assert query["scope"] == ["VALUABLE_ACCESS;LONG_ACCESS_TOKEN"]
    assert query["redirect_uri"] == ["https://example.com/cb"]
    state = query["state"][0]
    assert len(state) >= 16 and f"state: {state}" in one.err
    assert parse_qs(urlsplit(two.out.strip()).query)["state"][0] != state
    assert one.out.startswith("https://connect.ok.ru/oauth/authorize?")


async def test_emulator_prints_demo_credentials_that_work() -> None:
    proc = await asyncio.create_subprocess_exec(
        str(OKRU), "emulator", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Press Ctrl+C"):
            raw = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert raw, "the emulator stopped"
            lines.append(raw.decode().strip())
        env: dict[str, str] = {}
        for line in lines:
            if line.startswith("export "):
                for pair in line.removeprefix("export ").split():
                    key, _, value = pair.partition("=")
                    env[key] = value
        assert {"OKRU_API_URL", "OKRU_APP_ID", "OKRU_ACCESS_TOKEN"} <= set(env)
        run = await okru("call", "users.getCurrentUser", "fields=uid", env=env)
        assert run.status == 0, run.err
        assert json.loads(run.out) == {"uid": DEMO_UID}
    finally:
        proc.terminate()
        await proc.wait()


def test_call_params_parsing() -> None:
    assert parse_call_params(["a=1", "b=x,y", "c:=[1,2]", 'd:={"k": "v"}', "e=", "f=a=b"]) == {
        "a": "1",
        "b": "x,y",
        "c": [1, 2],
        "d": {"k": "v"},
        "e": "",
        "f": "a=b",
    }


def test_env_file_format(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        '# c\n\nexport OKRU_APP_ID=1\nOKRU_APP_KEY = "k v"\nOKRU_API_URL=http://x # note\n',
        encoding="utf-8",
    )
    assert read_env_file(path) == {
        "OKRU_APP_ID": "1",
        "OKRU_APP_KEY": "k v",
        "OKRU_API_URL": "http://x",
    }


async def test_upload_photos_with_a_progress_bar(
    demo: tuple[OkEmulator, dict[str, str]], tmp_path: Path
) -> None:
    emu, env = demo
    first, second = tmp_path / "one.jpg", tmp_path / "two.jpg"
    first.write_bytes(b"\xff\xd8\xff\xe0" + b"1" * 70_000)
    second.write_bytes(b"\xff\xd8\xff\xe0" + b"2" * 30_000)
    run = await okru("upload", "photo", str(first), str(second), "--progress", "always", env=env)
    assert run.status == 0, run.err
    photos = json.loads(run.out)
    assert [p["file_name"] for p in photos] == ["one.jpg", "two.jpg"]
    assert [emu.uploads.photos[p["photo_id"]].size for p in photos] == [70_004, 30_004]
    assert "2 photos [" in run.err and "100.0%" in run.err
    quiet = await okru("upload", "photo", str(first), env=env)  # stderr is not a terminal
    assert quiet.status == 0 and quiet.err == ""


async def test_upload_video_with_a_title(
    demo: tuple[OkEmulator, dict[str, str]], tmp_path: Path
) -> None:
    emu, env = demo
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(bytes(range(256)) * 4000)
    args = ["upload", "video", str(clip), "--title", "Our trip", "--progress", "always"]
    run = await okru(*args, env=env)
    assert run.status == 0, run.err
    video = json.loads(run.out)
    assert video["size"] == 1_024_000 and video["file_name"] == "clip.mp4"
    stored = emu.uploads.videos[video["video_id"]]
    assert stored.size == 1_024_000 and stored.title == "Our trip"
    assert "clip.mp4 [" in run.err and "100.0%" in run.err
    missing = await okru("upload", "video", str(tmp_path / "nope.mp4"), "--title", "T", env=env)
    assert missing.status == 2 and "no such file" in missing.err
    untitled = await okru("upload", "video", str(clip), env=env)
    assert untitled.status == 2 and "--title" in untitled.err
