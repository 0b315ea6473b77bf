"""The paging case of ``make bench``: ``api.paginate`` against the same pages fetched by hand.

Both sides walk the same list of ``friends.getRelativesV2`` on
``benchmarks/server.py`` (the emulator pages through ``PAGES`` x ``PAGE_SIZE``
relations with real anchors), touching every item:

- (t) N direct typed calls: ``page = await api.friends.get_relatives_v2(uid=...,
  count=..., anchor=anchor)``, a ``for`` loop over ``page.relations``, then
  ``anchor = page.anchor`` until ``has_more`` is false;
- (p) ``async for relation in api.paginate(api.friends.get_relatives_v2, uid=...,
  count=...)``.

Both send the same N requests. The figure is the client process's CPU per page
(``time.process_time()``), median of the rounds, the two sides interleaved in
every round. Target: (p) at most 5% over (t).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

#: the method paged, and the list the server pages through
METHOD = "friends.getRelativesV2"
PAGES = 10
PAGE_SIZE = 100
UID = "575000000001"
#: (p) may cost at most this much more client CPU per page than (t)
TARGET = 1.05


def relations() -> list[dict[str, Any]]:
    """The list the server serves (``emu.set_list(METHOD, relations())``)."""
    return [
        {"type_id": "CLASSMATE", "subtype_id": "CLASSMATE", "uids": [str(575_100_000_000 + n)]}
        for n in range(PAGES * PAGE_SIZE)
    ]


async def measure_paging(
    info: dict[str, Any], rounds: int, log: Callable[[str], None], seconds: float = 1.0
) -> dict[str, float]:
    """CPU and wall µs per page for (t) typed calls by hand and (p) ``api.paginate``."""
    from okru_sdk import API, NOT_GIVEN, ServerSession

    async with ServerSession(
        info["app_id"],
        info["app_key"],
        info["app_secret_key"],
        info["access_token"],
        api_url=info["url"],
    ) as session:
        api = API(session)
        method = api.friends.get_relatives_v2

        async def by_hand() -> int:
            pages = items = 0
            anchor: Any = NOT_GIVEN
            while True:
                page = await method(uid=UID, count=PAGE_SIZE, anchor=anchor)
                pages += 1
                for _relation in page.relations or ():
                    items += 1
                if not page.has_more:
                    return pages * 10_000 + items
                anchor = page.anchor

        async def paginated() -> int:
            items = 0
            async for _relation in api.paginate(method, uid=UID, count=PAGE_SIZE):
                items += 1
            return PAGES * 10_000 + items

        cases = {"t": by_hand, "p": paginated}
        # the same walk either way: PAGES pages, every item (checked once, outside the timing)
        for name, walk in cases.items():
            if await walk() != PAGES * 10_000 + PAGES * PAGE_SIZE:
                raise AssertionError(f"paging case {name}: not the whole list")
        start = time.perf_counter()
        for _ in range(3):
            await by_hand()
        walks = int(min(max(seconds / ((time.perf_counter() - start) / 3), 3), 500))
        samples: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
        for r in range(rounds):
            # the two sides alternate walk by walk, so a change in the machine's load
            # (two shared cores) falls on both alike
            totals = {case: [0.0, 0.0] for case in cases}
            gc.collect()
            for i in range(walks):
                for case in ("t", "p") if (i + r) % 2 == 0 else ("p", "t"):
                    wall0, cpu0 = time.perf_counter(), time.process_time()
                    await cases[case]()
                    totals[case][0] += time.perf_counter() - wall0
                    totals[case][1] += time.process_time() - cpu0
            pages = walks * PAGES
            for case, (wall, cpu) in totals.items():
                samples[case].append((wall / pages * 1e6, cpu / pages * 1e6))
            log(f"paging round {r + 1}/{rounds} done")
    return {
        "walks": walks,
        **{
            f"{case}_{what}": statistics.median(s[i] for s in samples[case])
            for case in cases
            for i, what in enumerate(("wall_us", "cpu_us"))
        },
        # the ratio of each round, then the median: steadier than a ratio of medians
        "ratio": statistics.median(
            p[1] / t[1] for t, p in zip(samples["t"], samples["p"], strict=True)
        ),
    }


def render_paging(result: dict[str, float]) -> str:
    """The "Paging" section of RESULTS.md, with its target."""
    ratio = result["ratio"]
    verdict = "**met**" if ratio <= TARGET else "**missed**"
    return "\n".join(
        [
            "## Paging",
            "",
            f"`{METHOD}` over {PAGES} pages of {PAGE_SIZE} relations (real anchors from the "
            "emulator), every item touched: (t) the typed method called page after page by "
            "hand (`anchor = page.anchor` until `has_more` is false) and (p) "
            "`async for ... in api.paginate(...)`. Client CPU and wall time per page, medians "
            "of the rounds (the two sides alternate walk by walk); (p)/(t): the median of the "
            "rounds' CPU ratios, above 1 = paginate costs more.",
            "",
            "| case | CPU µs/page | wall µs/page |",
            "|---|---:|---:|",
            f"| (t) typed calls by hand | {result['t_cpu_us']:,.0f} | {result['t_wall_us']:,.0f} |",
            f"| (p) `api.paginate` | {result['p_cpu_us']:,.0f} | {result['p_wall_us']:,.0f} |",
            "",
            "| target | measured | |",
            "|---|---|---|",
            f"| (p) CPU per page <= {TARGET:.2f}x (t) | {ratio:.3f}x | {verdict} |",
            "",
        ]
    )


def main() -> int:
    """``python benchmarks/paging_bench.py``: this case alone, against its own server."""
    import asyncio
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    from run import bench_server

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with bench_server() as info:
        result = asyncio.run(measure_paging(info, 5, log))
    print(render_paging(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
