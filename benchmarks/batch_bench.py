"""The batch case of ``make bench``: N small calls in one batch against N separate typed calls.

Both sides make the same N typed calls (N different small methods, so that
they fit one ``batch.execute`` request) against ``benchmarks/server.py``:
(s) one after another as ``await api.<group>.<method>(...)``; (b) inside
``async with api.batch()``, then ``handle.result()`` for each. The figure is
the client process's CPU per set of N calls (``time.process_time()``), median
of the rounds, the two sides interleaved in every round. Target: (b) cheaper
than (s) for N >= 3.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

#: set sizes measured
BATCH_SIZES = (1, 3, 5, 10)

#: (group, method, kwargs): small read calls, each a different method
SMALL_CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("users", "get_current_user", {"fields": ["uid", "name"]}),
    ("users", "get_logged_in_user", {}),
    ("users", "is_app_user", {}),
    ("friends", "get_online", {}),
    ("friends", "get_app_users", {}),
    ("interests", "get", {}),
    ("users", "get_mobile_operator", {}),
    ("payment", "get_user_account_balance", {}),
    ("events", "get_type_info", {}),
    ("stream", "is_subscribed", {}),
)
#: the wire names of SMALL_CALLS, for the server to serve
SMALL_METHODS = (
    "users.getCurrentUser",
    "users.getLoggedInUser",
    "users.isAppUser",
    "friends.getOnline",
    "friends.getAppUsers",
    "interests.get",
    "users.getMobileOperator",
    "payment.getUserAccountBalance",
    "events.getTypeInfo",
    "stream.isSubscribed",
)


async def measure_batch(
    info: dict[str, Any], rounds: int, log: Callable[[str], None], seconds: float = 0.3
) -> dict[int, dict[str, float]]:
    """CPU and wall µs per set of N calls, for (s) separate calls and (b) one batch."""
    from okru_sdk import API, ServerSession

    async with ServerSession(
        info["app_id"],
        info["app_key"],
        info["app_secret_key"],
        info["access_token"],
        api_url=info["url"],
    ) as session:
        api = API(session)

        def separate(n: int) -> Callable[[], Any]:
            calls = [
                (getattr(getattr(api, group), method), kwargs)
                for group, method, kwargs in SMALL_CALLS[:n]
            ]

            async def run() -> list[Any]:
                return [await method(**kwargs) for method, kwargs in calls]

            return run

        def batched(n: int) -> Callable[[], Any]:
            wanted = SMALL_CALLS[:n]

            async def run() -> list[Any]:
                async with api.batch() as batch:
                    handles = [
                        getattr(getattr(batch, group), method)(**kwargs)
                        for group, method, kwargs in wanted
                    ]
                return [handle.result() for handle in handles]

            return run

        cases = {"s": separate, "b": batched}
        sets: dict[int, int] = {}
        for n in BATCH_SIZES:
            # the same results either way (checked once, outside the timing)
            same = await separate(n)()
            if await batched(n)() != same:
                raise AssertionError(f"batch of {n}: results differ from the separate calls")
            wall = await _run(separate(n), 10)
            sets[n] = int(min(max(10 * seconds / wall[0], 10), 5000))
        samples: dict[tuple[int, str], list[tuple[float, float]]] = {
            (n, c): [] for n in BATCH_SIZES for c in cases
        }
        for r in range(rounds):
            for n in BATCH_SIZES:
                order = ("s", "b") if r % 2 == 0 else ("b", "s")
                for case in order:
                    seconds_wall, seconds_cpu = await _run(cases[case](n), sets[n])
                    samples[n, case].append(
                        (seconds_wall / sets[n] * 1e6, seconds_cpu / sets[n] * 1e6)
                    )
            log(f"batch round {r + 1}/{rounds} done")
    return {
        n: {
            "sets": sets[n],
            **{
                f"{case}_{what}": statistics.median(s[i] for s in samples[n, case])
                for case in cases
                for i, what in enumerate(("wall_us", "cpu_us"))
            },
        }
        for n in BATCH_SIZES
    }


async def _run(make_set: Callable[[], Any], sets: int) -> tuple[float, float]:
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(sets):
        await make_set()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def render_batch(results: dict[int, dict[str, float]]) -> str:
    """The "Batch" section of RESULTS.md, with its target."""
    lines = [
        "## Batch",
        "",
        "N small typed calls (N different methods) made (s) one after another, awaited, and "
        "(b) in one `async with api.batch()` block, then `handle.result()` each. Client CPU "
        "and wall time per set of N calls, medians of the rounds; x CPU = (s) CPU / (b) CPU "
        "(above 1 = the batch is cheaper).",
        "",
        "| N | (s) CPU µs | (b) CPU µs | x CPU | (s) wall µs | (b) wall µs | sets per round |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, row in results.items():
        lines.append(
            f"| {n} | {row['s_cpu_us']:,.0f} | {row['b_cpu_us']:,.0f} | "
            f"{row['s_cpu_us'] / row['b_cpu_us']:.2f}x | {row['s_wall_us']:,.0f} | "
            f"{row['b_wall_us']:,.0f} | {row['sets']:.0f} |"
        )
    ratios = {n: row["s_cpu_us"] / row["b_cpu_us"] for n, row in results.items() if n >= 3}
    measured = ", ".join(f"N={n}: {ratio:.2f}x" for n, ratio in ratios.items())
    verdict = "**met**" if all(ratio > 1 for ratio in ratios.values()) else "**missed**"
    lines += [
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| (b) CPU < (s) CPU for every N >= 3 | {measured} | {verdict} |",
        "",
    ]
    return "\n".join(lines)
