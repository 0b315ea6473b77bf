"""``python -m okru_sdk.testing``: run the emulator standalone with demo data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from .catalogue import register_catalogue
from .emulator import DEMO_LOGIN, DEMO_PASSWORD, OkEmulator


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m okru_sdk.testing",
        description="Run the OK.ru emulator, seeded with a demo app and a demo user.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to bind (0 = any free port)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )
    return parser.parse_args(argv)


async def _serve(host: str, port: int) -> None:
    emu = OkEmulator(host=host, port=port)
    app, user = emu.seed_demo()
    served = register_catalogue(emu)  # every catalogued method answers its example
    token = emu.issue_token(app, user, expires_in=None)
    await emu.start()
    try:
        print(f"OK.ru emulator listening on {emu.url}")
        print(f"  API server         {emu.url}/  (fb.do, api/<group>/<method>, oauth/token.do)")
        print(f"  methods            the built-in ones and {len(served)} from the catalogue")
        print(f"  OAuth dialog       {emu.url}/oauth/authorize")
        print(f"  application_id     {app.app_id}")
        print(f"  application_key    {app.app_key}")
        print(f"  application_secret {app.app_secret_key}")
        print(f"  login / password   {DEMO_LOGIN} / {DEMO_PASSWORD}")
        print(f"  user uid           {user.uid}")
        print(f"  access_token       {token.access_token}  (never expires)")
        print(f"  session_secret_key {token.session_secret_key}")
        print("Press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
