"""``python -m okru_sdk.testing``: run the emulator standalone with demo data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from .catalogue import catalogued_methods
from .emulator import DEMO_LOGIN, DEMO_PASSWORD, OkEmulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the standalone emulator (shared with ``okru emulator``)."""
    parser.add_argument("--port", type=int, default=8765, help="port to bind (0 = any free port)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m okru_sdk.testing",
        description="Run the OK.ru emulator, seeded with a demo app and a demo user.",
    )
    add_arguments(parser)
    return parser.parse_args(argv)


async def serve(host: str, port: int) -> None:
    """Run the demo emulator until cancelled, printing its address and demo credentials."""
    emu = OkEmulator(host=host, port=port)  # every catalogued method answers its example
    app, user = emu.seed_demo()
    token = emu.issue_token(app, user, expires_in=None)
    await emu.start()
    try:
        print(f"OK.ru emulator listening on {emu.url}")
        print(f"  API server         {emu.url}/  (fb.do, api/<group>/<method>, oauth/token.do)")
        print(
            f"  methods            the built-in ones and all {len(catalogued_methods())} catalogued"
        )
        print(f"  OAuth dialog       {emu.url}/oauth/authorize")
        print(f"  application_id     {app.app_id}")
        print(f"  application_key    {app.app_key}")
        print(f"  application_secret {app.app_secret_key}")
        print(f"  login / password   {DEMO_LOGIN} / {DEMO_PASSWORD}")
        print(f"  user uid           {user.uid}")
        print(f"  access_token       {token.access_token}  (never expires)")
        print(f"  session_secret_key {token.session_secret_key}")
        print("For the okru command (or your own code) in another shell:")
        print(f"  export OKRU_API_URL={emu.url} OKRU_CONNECT_URL={emu.url}")
        print(f"  export OKRU_APP_ID={app.app_id} OKRU_APP_KEY={app.app_key}")
        print(f"  export OKRU_APP_SECRET_KEY={app.app_secret_key}")
        print(f"  export OKRU_ACCESS_TOKEN={token.access_token}")
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
