"""Profile the typed call path against the hand-written baseline.

``.venv/bin/python benchmarks/profile_typed.py [--calls N] [--payload one|list] [--case c]``
starts ``server.py`` like ``run.py`` does, warms up, then runs ``N`` calls one
at a time under cProfile and prints the functions with the most own time, and
the share of client time per area (aiohttp, asyncio, pydantic, okru_sdk modules).
With ``--pyinstrument`` it prints a pyinstrument call tree instead (if installed).

``--ab`` instead measures the client CPU per call of the typed call with parts of
the SDK replaced *in this process only* (monkeypatched, see ``VARIANTS``),
interleaved in rounds, to put a number on what each proposed change saves.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import Clients, bench_server, run_calls

_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def encode_form(data: Mapping[str, str]) -> bytes:
    """What aiohttp's FormData makes of a dict of strings, without FormData."""
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in data.items()).encode()


@contextmanager
def variant(name: str) -> Iterator[None]:
    """Apply one variant (monkeypatches in this process), undo it on exit."""
    import okru_sdk.api

    undo: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, attr: str, value: Any) -> None:
        undo.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, value)

    if name == "no check_params":
        patch(okru_sdk.api, "check_params", lambda *args: None)
    elif name != "as is":
        raise ValueError(name)
    try:
        yield
    finally:
        for obj, attr, old in reversed(undo):
            setattr(obj, attr, old)


VARIANTS = (
    "as is",
    "no check_params",
)


async def ab(args: argparse.Namespace, info: dict[str, Any]) -> None:
    clients = Clients(info)
    await clients.start()
    try:
        cases: list[tuple[str, str]] = [("c", v) for v in VARIANTS]
        cases += [("a", "as is"), ("a", "baseline with pre-encoded form"), ("b", "as is")]
        cpu: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        for r in range(args.rounds):
            for case, name in cases[r % len(cases) :] + cases[: r % len(cases)]:
                if case == "a" and name != "as is":
                    raw = clients.raw

                    async def pre(method: str, params: dict[str, str], *, get: bool) -> Any:
                        return await raw_pre(clients, method, params)

                    clients.raw = pre  # type: ignore[method-assign]
                    call = clients.call_for("a", args.payload)
                    clients.raw = raw  # type: ignore[method-assign]
                    with variant("as is"):
                        await run_calls(call, 20, 1)
                        _, spent = await run_calls(call, args.calls, 1)
                else:
                    call = clients.call_for(case, args.payload)
                    with variant(name):
                        await run_calls(call, 20, 1)
                        _, spent = await run_calls(call, args.calls, 1)
                cpu[case, name].append(spent / args.calls * 1e6)
        base = statistics.median(cpu["c", "as is"])
        print(f"payload {args.payload}, 1 in flight, {args.rounds} rounds x {args.calls} calls")
        print(f"{'case':4} {'variant':34} {'CPU µs/call':>12} {'vs (c) as is':>13}")
        for (case, name), values in cpu.items():
            value = statistics.median(values)
            print(f"{case:4} {name:34} {value:12.0f} {value - base:+13.0f}")
    finally:
        await clients.close()


async def raw_pre(clients: Clients, method: str, params: dict[str, str]) -> Any:
    """The baseline (a) with the form encoded by hand instead of by FormData."""
    import hashlib
    import json

    wire = {
        "application_key": clients.info["app_key"],
        "format": "json",
        "method": method,
        **params,
    }
    payload = "".join(f"{key}={wire[key]}" for key in sorted(wire))
    wire["sig"] = hashlib.md5((payload + clients.secret).encode()).hexdigest()
    wire["access_token"] = clients.info["access_token"]
    async with clients.raw_http.post(
        clients.fb_do, data=encode_form(wire), headers=_FORM_HEADERS
    ) as resp:
        body = await resp.read()
    return json.loads(body)


def area(filename: str, func: str) -> str:
    if "okru_sdk" in filename:
        return "okru_sdk/" + filename.split("okru_sdk/", 1)[1]
    for name in ("aiohttp", "yarl", "multidict", "pydantic", "httpx", "httpcore", "asyncio"):
        if f"/{name}/" in filename:
            return name
    if filename == "~":
        return "builtins: " + func.split(" of ")[0].strip("<>{}")
    return Path(filename).name


async def profile(args: argparse.Namespace, info: dict[str, object]) -> None:
    clients = Clients(info)  # type: ignore[arg-type]
    await clients.start()
    try:
        call = clients.call_for(args.case, args.payload)
        for _ in range(50 if args.payload == "one" else 5):
            await call()
        if args.pyinstrument:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            for _ in range(args.calls):
                await call()
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
            return
        prof = cProfile.Profile()
        cpu0 = time.process_time()
        prof.enable()
        await run_calls(call, args.calls, args.inflight)
        prof.disable()
        cpu = time.process_time() - cpu0
        stats = pstats.Stats(prof)
        print(
            f"case {args.case}, payload {args.payload}: {args.calls} calls, "
            f"{cpu / args.calls * 1e6:.0f} µs CPU per call under cProfile"
        )
        totals: dict[str, float] = defaultdict(float)
        total = 0.0
        for (filename, _line, func), row in stats.stats.items():  # type: ignore[attr-defined]
            tottime = row[2]
            totals[area(filename, func)] += tottime
            total += tottime
        print("\nown time by area (share of profiled time):")
        for name, value in sorted(totals.items(), key=lambda kv: -kv[1])[:25]:
            print(f"  {value / total:6.1%}  {value / args.calls * 1e6:8.1f} µs/call  {name}")
        print()
        stats.sort_stats("tottime").print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
    finally:
        await clients.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--payload", choices=("one", "list"), default="one")
    parser.add_argument("--case", choices=("a", "a'", "b", "c", "d"), default="c")
    parser.add_argument("--inflight", type=int, default=1, help="calls in flight (cProfile)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--callers", help="also print the callers of functions matching this")
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--ab", action="store_true", help="measure the variants instead")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of --ab")
    args = parser.parse_args()
    with bench_server() as info:
        asyncio.run(ab(args, info) if args.ab else profile(args, info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
