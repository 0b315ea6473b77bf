"""Soak: many calls at high concurrency against the emulator, with faults mixed in.

    python benchmarks/soak.py [--calls 20000] [--concurrency 200]

The emulator runs in a second process (loopback only), so what is measured
here is the client alone. Reads go through a typed method, writes through an
unsafe-to-retry call carrying a unique ``write_id``; every call carries a
unique ``call_id`` so the emulator can say which faults each call met.

Reported, each with the bound it must meet:
- reads that failed although a retry should have saved them (0): a read
  that met only retryable faults, fewer than the policy's attempts;
- writes performed twice (0), counted by the emulator's handler;
- file descriptors and sockets after close, against the start (equal);
- RSS growth between the end of the second quarter and the end (< 10%).
Exit status 1 when a bound is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from okru_sdk import API, OkError, ServerSession
from okru_sdk.retry import RetryPolicy

APP_ID, APP_KEY, APP_SECRET = "512000000777", "CBASOAKKEY", "SOAK-APP-SECRET"
#: faults a read may meet and still be saved by a retry
RETRYABLE = {"http_500", "http_502", "http_503", "api_error_2", "api_error_8", "drop", "hang"}
#: faults that end a read at once, by design (not retried)
FINAL = {"truncated", "html_200"}
FAULT_MIX = [
    ("http", 500),
    ("http", 502),
    ("http", 503),
    ("api_error", 2),
    ("api_error", 8),
    ("drop", 0),
    ("hang", 0),
    ("truncated", 0),
]


# -- the emulator process ----------------------------------------------------------------


async def serve() -> None:
    from okru_sdk.testing import EmulatorError, Fault, OkEmulator
    from okru_sdk.testing.state import MethodCall

    async with OkEmulator() as emu:
        app = emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        user = emu.add_user(login="soak@example.com", password="pw", first_name="Soak")
        token = emu.issue_token(app, user, expires_in=None)
        writes: Counter[str] = Counter()

        def write(call: MethodCall) -> str:
            writes[call.params["write_id"]] += 1
            return call.params["write_id"]

        def add_faults(call: MethodCall) -> int:
            rng = random.Random(int(call.params["seed"]))
            for _ in range(int(call.params["count"])):
                kind, arg = rng.choice(FAULT_MIX)
                if kind == "http":
                    fault = Fault.http(arg)
                elif kind == "api_error":
                    fault = Fault.api_error(arg)
                else:
                    fault = {"drop": Fault.drop, "hang": Fault.hang, "truncated": Fault.truncated}[
                        kind
                    ]()
                method = rng.choice(["users.getCurrentUser", "soak.write"])
                emu.faults.add(fault, method=method, times=1)
            emu.clear_requests()  # keep the emulator's own memory flat
            return len(emu.faults.pending)

        def stats(call: MethodCall) -> dict[str, Any]:
            if call.params.get("final") == "true":
                emu.faults.clear()
            return {
                "writes": dict(writes),
                "fired_by_call": emu.faults.fired_by_call,
                "pending": len(emu.faults.pending),
            }

        def unused(call: MethodCall) -> None:
            raise EmulatorError(3, "METHOD : unused")

        emu.register_method("soak.write", write, session="required", required_params=("write_id",))
        emu.register_method("soak.addFaults", add_faults)
        emu.register_method("soak.stats", stats)
        emu.register_method("soak.unused", unused)
        print(json.dumps({"url": emu.url, "token": token.access_token}), flush=True)
        await asyncio.Event().wait()  # until the driver kills the process


# -- the client ----------------------------------------------------------------------------


def open_fds() -> tuple[int, int]:
    """(file descriptors, sockets) of this process."""
    fds = os.listdir("/proc/self/fd")
    sockets = 0
    for fd in fds:
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            sockets += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return len(fds), sockets


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def drive(url: str, token: str, calls: int, concurrency: int) -> dict[str, Any]:
    policy = RetryPolicy(backoff=0.02, flood_backoff=0.05, total_timeout=10.0)
    fds_before = open_fds()
    failed_reads: dict[str, str] = {}
    failed_writes: dict[str, str] = {}
    outcomes: Counter[str] = Counter()
    rss: list[int] = []
    quarter = max(1, calls // 4)
    session = ServerSession(
        APP_ID, APP_KEY, APP_SECRET, token, api_url=url, timeout=0.5, retry=policy
    )
    async with session:
        api = API(session)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            call_id = str(i)
            async with gate:
                try:
                    if i % 5 == 4:
                        await session.request(
                            "soak.write",
                            {"write_id": f"w{i}", "call_id": call_id},
                            retry_safe=False,
                        )
                        outcomes["write ok"] += 1
                    else:
                        await api.users.get_current_user(extra_params={"call_id": call_id})
                        outcomes["read ok"] += 1
                except OkError as exc:
                    kind = "write" if i % 5 == 4 else "read"
                    outcomes[f"{kind} failed: {type(exc).__name__}"] += 1
                    (failed_writes if kind == "write" else failed_reads)[call_id] = repr(exc)

        started = time.monotonic()
        for block_start in range(0, calls, 1000):
            block = range(block_start, min(calls, block_start + 1000))
            await api.call("soak.addFaults", seed=block_start, count=len(block) // 25)
            await asyncio.gather(*(one(i) for i in block))
            for q in (2, 4):
                if block_start < q * quarter <= block.stop:
                    gc.collect()
                    rss.append(rss_bytes())
        elapsed = time.monotonic() - started
        stats = await api.call("soak.stats", final=True)
    await asyncio.sleep(0.1)  # let closed sockets go
    gc.collect()
    fds_after = open_fds()

    attempts = policy.max_retries + 1
    unsaved = []
    for call_id in failed_reads:
        met = stats["fired_by_call"].get(call_id, [])
        if not FINAL.intersection(met) and len(met) < attempts:
            unsaved.append(call_id)
    twice = {w: n for w, n in stats["writes"].items() if n > 1}
    return {
        "calls": calls,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "calls_per_second": round(calls / elapsed),
        "faults_fired": sum(len(v) for v in stats["fired_by_call"].values()),
        "outcomes": dict(sorted(outcomes.items())),
        "reads_a_retry_should_have_saved": len(unsaved),
        "writes_performed_twice": len(twice),
        "fds_before_after": [fds_before[0], fds_after[0]],
        "sockets_before_after": [fds_before[1], fds_after[1]],
        "rss_q2_mb": round(rss[0] / 2**20, 1) if rss else None,
        "rss_end_mb": round(rss[-1] / 2**20, 1) if rss else None,
        "rss_growth": round(rss[-1] / rss[0] - 1, 4) if len(rss) == 2 else None,
        "examples_unsaved": [failed_reads[c] for c in unsaved[:3]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return 0
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        hello = json.loads(server.stdout.readline())
        report = asyncio.run(drive(hello["url"], hello["token"], args.calls, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    problems = []
    if report["reads_a_retry_should_have_saved"]:
        problems.append("reads that a retry should have saved failed")
    if report["writes_performed_twice"]:
        problems.append("writes were performed twice")
    if report["fds_before_after"][0] != report["fds_before_after"][1]:
        problems.append("file descriptors left open")
    if report["sockets_before_after"][0] != report["sockets_before_after"][1]:
        problems.append("sockets left open")
    growth = report["rss_growth"]
    if growth is not None and growth >= 0.10:
        problems.append(f"memory grew {growth:.1%} between the second and the last quarter")
    for problem in problems:
        print(f"SOAK FAILED: {problem}", file=sys.stderr)
    if not problems:
        print("soak passed: 0 unsaved reads, 0 double writes, descriptors back, memory flat")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
