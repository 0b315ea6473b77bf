"""Every ``python`` block of README.md (and of the guide pages of the docs site) runs.

Each block runs in a fresh namespace holding placeholder credentials of an
application and a user the emulator knows (``app_id``, ``app_key``, ...,
``code`` freshly issued for each block, ``emu`` the emulator itself), with
top-level ``await`` allowed (a block without one, such as a whole program
ending in ``asyncio.run(main())``, runs in a thread of its own), and with the
sessions' default ``api_url`` and
``connect_url`` pointed at the emulator, so that a README example written for
OK.ru (no URL arguments) talks to 127.0.0.1. A block marked
``<!-- not run: reason -->`` on the line before it is listed, not run.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import okru_sdk.sessions
from okru_sdk.sessions.base import TokenSession
from okru_sdk.testing import OkEmulator

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: the pages checked: the README, and the docs site's guide pages
PAGES = [README, *sorted((ROOT / "docs" / "guide").glob("*.md"))]

NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    code: str
    not_run: str | None  # the reason, for a block marked not to run


def python_blocks(path: Path) -> list[Block]:
    """The fenced ``python`` blocks of a Markdown file (top-level fences only)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python" and not lines[i].startswith(" "):
            start = i
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise AssertionError(f"{path.name}:{start + 1}: unclosed python block")
            before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            marker = NOT_RUN.match(before.strip())
            blocks.append(
                Block(path, start + 1, "\n".join(body) + "\n", marker["reason"] if marker else None)
            )
        i += 1
    return blocks


BLOCKS = [block for page in PAGES for block in python_blocks(page)]
TO_RUN = [b for b in BLOCKS if b.not_run is None]
NOT_RUN_BLOCKS = [b for b in BLOCKS if b.not_run is not None]

APP_ID = "512000000777"
APP_KEY = "CBAREADMEKEY"
APP_SECRET = "README-APP-SECRET-0123456789"
LOGIN = "reader@example.com"
PASSWORD = "readme-password"
REDIRECT_URI = "https://example.com/callback"


@pytest.fixture
async def readme_world(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    async with OkEmulator() as emu:
        app = emu.add_app(APP_ID, APP_KEY, APP_SECRET, public_code_exchange=True)
        user = emu.add_user(login=LOGIN, password=PASSWORD, first_name="Reader")
        token = emu.issue_token(app, user, expires_in=None)
        # Sessions built without api_url/connect_url (as the README's are) talk to the emulator.
        for cls in vars(okru_sdk.sessions).values():
            init = getattr(cls, "__init__", None) if inspect.isclass(cls) else None
            defaults = getattr(init, "__kwdefaults__", None) or {}
            for name in ("api_url", "connect_url"):
                if name in defaults:
                    monkeypatch.setitem(defaults, name, emu.url)
        assert (TokenSession.__init__.__kwdefaults__ or {}).get("api_url") == emu.url
        auth_url_defaults = okru_sdk.sessions.authorization_url.__kwdefaults__
        assert auth_url_defaults is not None
        monkeypatch.setitem(auth_url_defaults, "connect_url", emu.url)
        yield {
            "emu": emu,
            "app_id": app.app_id,
            "app_key": app.app_key,
            "app_secret_key": app.app_secret_key,
            "access_token": token.access_token,
            "session_secret_key": token.session_secret_key,
            "refresh_token": token.refresh_token,
            "code": emu.issue_code(app, user, REDIRECT_URI),
            "redirect_uri": REDIRECT_URI,
            "login": LOGIN,
            "passwd": PASSWORD,
            "scope": ["VALUABLE_ACCESS"],
        }


def _where(block: Block) -> str:
    return f"{block.path.relative_to(ROOT)}:{block.line}"


def test_the_readme_has_python_blocks_and_says_why_any_is_not_run() -> None:
    in_readme = [b for b in TO_RUN if b.path == README]
    assert len(in_readme) >= 10, [b.line for b in in_readme]
    for block in NOT_RUN_BLOCKS:
        assert len(block.not_run or "") >= 10, f"{_where(block)}: give a reason"
    # the list, for the log of a verbose run (pytest -s)
    print("blocks not run:", [(_where(b), b.not_run) for b in NOT_RUN_BLOCKS])


def test_the_block_finder_sees_fences_and_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\nx = 1\n```\n\n<!-- not run: a server that runs forever -->\n"
        "```python\nserve()\n```\n\n```sh\nmake\n```\n",
        encoding="utf-8",
    )
    blocks = python_blocks(page)
    assert [(b.path, b.line, b.code, b.not_run) for b in blocks] == [
        (page, 3, "x = 1\n", None),
        (page, 8, "serve()\n", "a server that runs forever"),
    ]


@pytest.mark.parametrize("block", TO_RUN, ids=[_where(b) for b in TO_RUN])
async def test_readme_block_runs(block: Block, readme_world: dict[str, Any]) -> None:
    # Line numbers in a traceback are those of the Markdown file.
    source = "\n" * block.line + block.code
    code = compile(
        source, str(block.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    namespace = dict(readme_world)
    if code.co_flags & inspect.CO_COROUTINE:
        # top-level await: run in this event loop, beside the emulator
        result = eval(code, namespace)  # our own Markdown files
        if inspect.isawaitable(result):
            await result
    else:
        # a whole program (asyncio.run(main()) and the like) runs in a thread of its own,
        # so that it may start its own event loop while this one keeps serving `emu`
        await asyncio.to_thread(exec, code, namespace)
