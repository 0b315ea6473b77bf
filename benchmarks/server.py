"""The benchmark server: an :class:`~okru_sdk.testing.OkEmulator` in its own process.

``python benchmarks/server.py --port 0`` binds 127.0.0.1, seeds one app, one
user and one never-expiring token with fixed keys, and prints one JSON line
(``{"url": ..., "app_id": ..., ...}``) on stdout once it is serving. It stops on
SIGTERM, SIGINT or when its stdin is closed.

Two methods are replaced so that the server does as little as possible per
call (its CPU is not what is measured, but it bounds calls/s):

- ``users.getCurrentUser`` answers one user object (15 fields);
- ``users.getInfo`` answers 100 user objects when ``uids`` holds 100 ids (the
  most OK.ru takes), else a list of 1,000 user objects (a stress case, larger
  than any real reply).

Both replies are serialized once at start-up. Signatures, the session and the
required parameters are still checked by the emulator on every call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from aiohttp import web
from batch_bench import SMALL_METHODS  # benchmarks/batch_bench.py, beside this file
from paging_bench import METHOD as PAGED_METHOD  # benchmarks/paging_bench.py
from paging_bench import relations

from okru_sdk.testing import JSON_CONTENT_TYPE, MethodCall, OkEmulator, RecordedRequest, Token
from okru_sdk.testing.catalogue import register_catalogue
from okru_sdk.testing.methods import user_object
from okru_sdk.testing.state import User

APP_ID = "512000000042"
APP_KEY = "CBABENCHMARKAAAAA"
APP_SECRET_KEY = "BENCH0123456789ABCDEF0123456789A"
UID = "575000000001"
ACCESS_TOKEN = "-s-benchmark-access-token-0000000000000000000000"
SESSION_SECRET_KEY = "0123456789abcdef0123456789abcdef"

#: the fields every client asks for (and the server answers)
FIELDS = (
    "uid",
    "first_name",
    "last_name",
    "name",
    "gender",
    "birthday",
    "age",
    "locale",
    "location",
    "online",
    "last_online_ms",
    "pic50x50",
    "pic190x190",
    "url_profile",
    "has_email",
)
LIST_SIZE = 1000
HUNDRED = 100
_PICTURES = "https://i.mycdn.me"


class BenchEmulator(OkEmulator):
    """The emulator without its request log (it would grow for the whole run)."""

    async def _intercept(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse | None:
        self.requests.clear()
        return None


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fake_user(n: int) -> User:
    return User(
        uid=str(575_000_000_000 + n),
        login=f"user{n}@example.com",
        password="-",
        first_name=f"Имя{n}",
        last_name=f"Фамилия{n}",
        gender="male" if n % 2 else "female",
        birthday=f"19{70 + n % 30}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        online=n % 3 == 0,
        last_online_ms=1_700_000_000_000 + n * 1000,
    )


def build_replies() -> tuple[bytes, bytes, bytes]:
    """The one-user, 100-user and 1,000-user replies, as JSON bytes."""
    fields = list(FIELDS)
    one = user_object(_fake_user(1), fields, _PICTURES)
    many = [user_object(_fake_user(n), fields, _PICTURES) for n in range(1, LIST_SIZE + 1)]
    return _encode(one), _encode(many[:HUNDRED]), _encode(many)


async def serve(port: int) -> None:
    one_body, hundred_body, list_body = build_replies()
    headers = {"Content-Type": JSON_CONTENT_TYPE}

    def current_user(call: MethodCall) -> web.Response:
        return web.Response(body=one_body, headers=headers)

    def user_list(call: MethodCall) -> web.Response:
        hundred = call.params["uids"].count(",") == HUNDRED - 1
        return web.Response(body=hundred_body if hundred else list_body, headers=headers)

    emu = BenchEmulator(port=port)
    app = emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET_KEY)
    user = emu.add_user(login="bench@example.com", uid=UID, first_name="Bench", last_name="User")
    emu.tokens[ACCESS_TOKEN] = Token(
        access_token=ACCESS_TOKEN,
        session_secret_key=SESSION_SECRET_KEY,
        app=app,
        user=user,
        scopes=("VALUABLE_ACCESS",),
        expires_in=None,
        refresh_token=None,
        expires_at=None,
    )
    emu.register_method("users.getCurrentUser", current_user, session="required")
    emu.register_method(
        "users.getInfo", user_list, session="optional", required_params=("uids", "fields")
    )
    # group.getInfo answers its catalogue example: the first-call measurement uses
    # it to warm pydantic up with another group before timing api.users
    register_catalogue(emu, only=["group.getInfo"])
    # the small methods of the batch case (benchmarks/batch_bench.py), if not served yet
    register_catalogue(emu, only=SMALL_METHODS)
    # the paging case (benchmarks/paging_bench.py): a list the emulator pages through
    register_catalogue(emu, only=[PAGED_METHOD])
    emu.set_list(PAGED_METHOD, relations())

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # the parent closing our stdin (or dying) stops the server too
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)

    await emu.start()
    try:
        info = {
            "url": emu.url,
            "app_id": APP_ID,
            "app_key": APP_KEY,
            "app_secret_key": APP_SECRET_KEY,
            "access_token": ACCESS_TOKEN,
            "session_secret_key": SESSION_SECRET_KEY,
            "fields": list(FIELDS),
            "list_size": LIST_SIZE,
            "hundred_size": HUNDRED,
            "hundred_bytes": len(hundred_body),
            "one_bytes": len(one_body),
            "list_bytes": len(list_body),
        }
        print(json.dumps(info), flush=True)
        await stop.wait()
    finally:
        await emu.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free)")
    args = parser.parse_args()
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
