"""okru-sdk benchmarks: ``make bench`` (or ``.venv/bin/python benchmarks/run.py``).

Starts ``benchmarks/server.py`` (the OK.ru emulator) as a second process on
127.0.0.1, so that the CPU time of this process is the client's alone, then
measures in one run:

1. calls/s and client CPU per call of five clients, measured in paired passes:
   (a) hand-written aiohttp POST, (a') the same with GET, (b) ``api.call``,
   (c) the typed methods, (d) aiookru 1.0.0; with 1 and 50 calls in flight;
   with a one-user reply and a 1,000-user reply; then N small calls in one
   ``api.batch()`` against N separate typed calls (``benchmarks/batch_bench.py``);
   ``api.paginate`` against the same pages fetched by hand (``benchmarks/paging_bench.py``);
2. import cost, the first call into a new method group, loading every model;
3. the time of ``python -m codegen`` (into a temporary folder);
4. a video upload from disk (``--upload-mb``, default 256 MiB) with ``api.upload.video``
   against a hand-written aiohttp streaming upload (``benchmarks/upload_bench.py``,
   which writes its own section of the results).

The results go to ``benchmarks/RESULTS.md`` (see ``benchmarks/README.md``).
Only the standard library is imported at the top: the measured packages are
imported where they are measured, and the child processes of parts 2 and 3
stay clean.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import gc
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable

#: client cases, in the order of the table
CASES = ("a", "a'", "b", "c", "d")
CASE_LABELS = {
    "a": "(a) aiohttp POST + json.loads (baseline)",
    "a'": "(a') aiohttp GET + json.loads",
    "b": "(b) `api.call` (untyped)",
    "c": "(c) typed method",
    "d": "(d) aiookru 1.0.0 (httpx)",
}
PAYLOADS = ("one", "hundred", "list")
PAYLOAD_LABELS = {"one": "1 user", "hundred": "100 users", "list": "1,000 users"}
INFLIGHT = (1, 50)

Call = Callable[[], Awaitable[Any]]


# --------------------------------------------------------------------------- server


def bench_server() -> AbstractContextManager[dict[str, Any]]:
    """Run ``server.py`` in its own process; yield what it prints (url and keys)."""
    return server_process([str(HERE / "server.py"), "--port", "0"], "the benchmark server")


@contextmanager
def server_process(args: Sequence[str], what: str) -> Iterator[dict[str, Any]]:
    """Run ``python <args>`` until the block ends; yield the JSON line it prints first.

    The server stops on SIGTERM (killed after 10 s) and when its stdin closes.
    """
    proc = subprocess.Popen(
        [PYTHON, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{what} did not start")
        yield json.loads(line)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


# --------------------------------------------------------------------------- clients


class Clients:
    """The five clients, each with one long-lived HTTP connection pool."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.fields: list[str] = list(info["fields"])
        self.fields_wire = ",".join(self.fields)
        #: what the 1,000-user call asks for (the server answers 1,000 users whatever they are)
        self.uids = [str(575_000_000_001 + n) for n in range(3)]
        self.uids_wire = ",".join(self.uids)
        #: the 100-user call asks for 100 ids (OK.ru's most) and gets those 100 users
        self.uids100 = [str(575_000_000_001 + n) for n in range(100)]
        self.uids100_wire = ",".join(self.uids100)
        self._closers: list[Callable[[], Awaitable[Any]]] = []

    async def start(self) -> None:
        import aiohttp
        import aiookru

        from okru_sdk import API, ServerSession

        info = self.info
        self.raw_http = aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(), connector=aiohttp.TCPConnector(limit=100)
        )
        self._closers.append(self.raw_http.close)
        self.fb_do = info["url"] + "/fb.do"
        self.secret = hashlib.md5(
            (info["access_token"] + info["app_secret_key"]).encode()
        ).hexdigest()

        self.session = ServerSession(
            info["app_id"],
            info["app_key"],
            info["app_secret_key"],
            info["access_token"],
            api_url=info["url"],
        )
        self._closers.append(self.session.close)
        self.api = API(self.session)

        self.ookru = aiookru.API(
            info["access_token"], info["app_key"], application_secret_key=info["app_secret_key"]
        )
        # aiookru 1.0.0 hard-codes base_url="https://api.ok.ru" in Session.__init__;
        # httpx lets us replace it on the client instance (nothing is patched globally).
        self.ookru.session.client.base_url = info["url"]
        self._closers.append(self.ookru.session.client.aclose)

    async def close(self) -> None:
        for close in reversed(self._closers):
            await close()

    # (a) and (a'): the hand-written baseline -------------------------------------

    async def raw(self, method: str, params: dict[str, str], *, get: bool) -> Any:
        wire = {
            "application_key": self.info["app_key"],
            "format": "json",
            "method": method,
            **params,
        }
        payload = "".join(f"{key}={wire[key]}" for key in sorted(wire))
        wire["sig"] = hashlib.md5((payload + self.secret).encode()).hexdigest()
        wire["access_token"] = self.info["access_token"]
        if get:
            async with self.raw_http.get(self.fb_do, params=wire) as resp:
                body = await resp.read()
        else:
            async with self.raw_http.post(self.fb_do, data=wire) as resp:
                body = await resp.read()
        return json.loads(body)

    def call_for(self, case: str, payload: str) -> Call:
        """A zero-argument coroutine function making one call of ``case``."""
        fields, fields_wire = self.fields, self.fields_wire
        if payload == "hundred":
            uids, uids_wire = self.uids100, self.uids100_wire
        else:
            uids, uids_wire = self.uids, self.uids_wire
        one = payload == "one"
        if case in ("a", "a'"):
            get = case == "a'"
            if one:
                return lambda: self.raw("users.getCurrentUser", {"fields": fields_wire}, get=get)
            return lambda: self.raw(
                "users.getInfo", {"uids": uids_wire, "fields": fields_wire}, get=get
            )
        if case == "b":
            if one:
                return lambda: self.api.call("users.getCurrentUser", fields=fields)
            return lambda: self.api.call("users.getInfo", uids=uids, fields=fields)
        if case == "c":
            users = self.api.users
            if one:
                return lambda: users.get_current_user(fields=fields)
            return lambda: users.get_info(uids=uids, fields=fields)
        if case == "d":
            ookru_users = self.ookru.users
            if one:
                return lambda: ookru_users.getCurrentUser(fields=fields_wire)
            return lambda: ookru_users.getInfo(uids=uids_wire, fields=fields_wire)
        raise ValueError(case)


def check_reply(case: str, payload: str, reply: Any, info: dict[str, Any]) -> None:
    """Every client must get the same data back (checked once, outside the timing)."""
    items = [reply] if payload == "one" else list(reply)
    size = {"one": 1, "hundred": info["hundred_size"], "list": info["list_size"]}[payload]
    if len(items) != size:
        raise AssertionError(f"{case}/{payload}: {len(items)} items")
    first = items[0]
    uid = first.uid if hasattr(first, "uid") else first["uid"]
    if not uid:
        raise AssertionError(f"{case}/{payload}: no uid in {first!r}")


# --------------------------------------------------------------------------- throughput


@dataclasses.dataclass
class Cell:
    case: str
    payload: str
    inflight: int
    calls: int = 0
    #: one value per pass, in pass order: entry i of every cell of a group was
    #: measured in the same pass, within a second or so of each other
    rates: list[float] = dataclasses.field(default_factory=list)
    cpu_us: list[float] = dataclasses.field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_us)

    def cpu_ratios(self, base: Cell) -> list[float]:
        """Per pass: the base's CPU per call divided by this cell's (above 1 = cheaper)."""
        return [b / c for b, c in zip(base.cpu_us, self.cpu_us, strict=True)]

    def rate_ratios(self, base: Cell) -> list[float]:
        """Per pass: this cell's calls/s divided by the base's."""
        return [c / b for b, c in zip(base.rates, self.rates, strict=True)]

    def cpu_vs(self, base: Cell) -> float:
        """Median over the passes of the paired CPU ratio (see ``cpu_ratios``)."""
        return statistics.median(self.cpu_ratios(base))

    def rate_vs(self, base: Cell) -> float:
        """Median over the passes of the paired calls/s ratio."""
        return statistics.median(self.rate_ratios(base))


def quartiles(values: list[float]) -> tuple[float, float]:
    """The first and third quartiles (the middle half of the passes lies between them)."""
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


async def run_calls(call: Call, calls: int, inflight: int) -> tuple[float, float]:
    """Make ``calls`` calls with ``inflight`` in flight; return (wall s, client CPU s)."""
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(min(inflight, calls))))
    return time.perf_counter() - wall0, time.process_time() - cpu0


async def throughput(
    info: dict[str, Any], passes: int, seconds: float, log: Callable[[str], None]
) -> dict[tuple[str, str, int], Cell]:
    """Every case of every (reply, in flight) group, measured in paired passes.

    The machines this runs on are shared: their speed drifts by half or more
    over seconds. A ratio between two cases is only as good as the two cases
    saw the same machine, so each group is measured in ``passes`` short
    passes, each running one block of every case (about ``seconds`` each, in
    an order that rotates from pass to pass), and a ratio is the median over
    the passes of the ratio within each pass. The groups take their passes in
    turn, so that each group's passes spread over the whole measurement.
    """
    clients = Clients(info)
    await clients.start()
    cells: dict[tuple[str, str, int], Cell] = {}
    try:
        # warm up and calibrate: every cell gets the number of calls that takes
        # about `seconds`, fixed for all passes (and bounded both ways)
        for payload in PAYLOADS:
            for case in CASES:
                call = clients.call_for(case, payload)
                check_reply(case, payload, await call(), info)
                for inflight in INFLIGHT:
                    probe = {"one": 60, "hundred": 30, "list": 10}[payload]
                    wall, _ = await run_calls(call, max(probe, 2 * inflight), inflight)
                    rate = max(probe, 2 * inflight) / wall
                    # at least 4 calls per worker: ramp-up and drain (fewer than
                    # `inflight` calls in flight) stay a small part of a block
                    calls = int(min(max(rate * seconds, 4 * inflight, 10), 20_000))
                    cells[case, payload, inflight] = Cell(case, payload, inflight, calls)
        # The SDK's cases and their baselines make the same number of calls in a
        # block: at 50 in flight the first and last calls of a block run with fewer
        # in flight, so equal blocks keep that share equal. (d), far slower, keeps its own.
        for payload in PAYLOADS:
            for inflight in INFLIGHT:
                same = [cells[case, payload, inflight] for case in CASES if case != "d"]
                calls = int(statistics.median(cell.calls for cell in same))
                for cell in same:
                    cell.calls = calls
        log(
            "calibrated: "
            + ", ".join(f"{c.case}/{c.payload}/{c.inflight}={c.calls}" for c in cells.values())
        )
        # The passes of the groups are interleaved (pass 1 of every group, then pass 2,
        # ...): a slow stretch of the machine then touches every group a little
        # instead of one group's whole measurement.
        call_of = {
            (case, payload): clients.call_for(case, payload)
            for payload in PAYLOADS
            for case in CASES
        }
        for n in range(passes):
            shift = n % len(CASES)
            for payload in PAYLOADS:
                for inflight in INFLIGHT:
                    for case in CASES[shift:] + CASES[:shift]:
                        cell = cells[case, payload, inflight]
                        wall, cpu = await run_calls(call_of[case, payload], cell.calls, inflight)
                        cell.rates.append(cell.calls / wall)
                        cell.cpu_us.append(cpu / cell.calls * 1e6)
            if (n + 1) % 5 == 0 or n + 1 == passes:
                log(f"calls: {n + 1} of {passes} passes done")
    finally:
        await clients.close()
    return cells


# --------------------------------------------------------------------------- child processes


def run_child(args: Sequence[str], *, timeout: float = 120) -> dict[str, Any]:
    """Run ``run.py --child ...`` in a fresh interpreter; return the JSON it prints."""
    out = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


IMPORT_SNIPPETS = {
    "nothing (interpreter start)": "pass",
    "aiohttp + pydantic": "import aiohttp; from pydantic import BaseModel, TypeAdapter",
    "okru_sdk": "import okru_sdk",
}


def compile_package() -> None:
    """Byte-compile okru_sdk, as ``pip install`` does for an installed package.

    aiohttp and pydantic come compiled from their wheels; a checkout run with
    ``PYTHONDONTWRITEBYTECODE`` would compile okru_sdk's sources on every import
    and measure the compiler, not the import.
    """
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(REPO / "okru_sdk")], check=True, cwd=REPO)


def measure_imports(repeats: int) -> dict[str, dict[str, Any]]:
    """Median wall time of ``python -c <import>`` and of the import itself (in-process).

    The snippets run one after another in each of ``repeats`` rounds; beside the
    medians, ``ratios`` holds okru_sdk's import time over aiohttp + pydantic's
    within each round (the machine's speed drifts over seconds: a ratio of
    neighbours is steadier than a ratio of medians).
    """
    compile_package()
    wall: dict[str, list[float]] = {name: [] for name in IMPORT_SNIPPETS}
    inner: dict[str, list[float]] = {name: [] for name in IMPORT_SNIPPETS}
    for n in range(repeats):
        names = list(IMPORT_SNIPPETS)
        if n % 2:
            names.reverse()  # neither import always runs right after the other
        for name in names:
            snippet = IMPORT_SNIPPETS[name]
            code = (
                f"import time; t0 = time.perf_counter()\n{snippet}\nprint(time.perf_counter() - t0)"
            )
            start = time.perf_counter()
            out = subprocess.run(
                [PYTHON, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
            )
            wall[name].append(time.perf_counter() - start)
            inner[name].append(float(out.stdout.strip()))
    result: dict[str, dict[str, Any]] = {
        name: {
            "wall_ms": statistics.median(wall[name]) * 1e3,
            "import_ms": statistics.median(inner[name]) * 1e3,
        }
        for name in IMPORT_SNIPPETS
    }
    result["okru_sdk"]["ratios"] = [
        sdk / base for sdk, base in zip(inner["okru_sdk"], inner["aiohttp + pydantic"], strict=True)
    ]
    return result


def importtime_top(module: str, limit: int = 12) -> list[tuple[str, float, float]]:
    """The slowest imports under ``import module`` by ``-X importtime`` (self, cumulative µs)."""
    out = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        rows.append((name.rstrip(), float(self_us), float(cumulative_us)))
    own = [row for row in rows if row[0].strip().startswith("okru_sdk")]
    own.sort(key=lambda row: -row[1])
    return own[:limit]


def child_first_call(info: dict[str, Any]) -> dict[str, float]:
    """In a fresh process: cost of the first call into a group not used before."""
    import okru_sdk

    async def main() -> dict[str, float]:
        fields = list(info["fields"])
        session = okru_sdk.ServerSession(
            info["app_id"],
            info["app_key"],
            info["app_secret_key"],
            info["access_token"],
            api_url=info["url"],
        )
        api = okru_sdk.API(session)
        try:
            # the connection, aiohttp and the request path are warm after these
            for _ in range(3):
                await api.call("users.getCurrentUser", fields=fields)
            # 1. the first call that returns a model, in another group: pydantic's
            #    one-time warm-up (plugins, fields and types modules) lands here
            w0 = time.perf_counter()
            await api.group.get_info(uids=["1"], fields=["uid", "name"])
            w1 = time.perf_counter()
            await api.group.get_info(uids=["1"], fields=["uid", "name"])
            w2 = time.perf_counter()
            # 2. then a group not used before
            t0 = time.perf_counter()
            users = api.users
            t1 = time.perf_counter()
            await users.get_current_user(fields=fields)
            t2 = time.perf_counter()
            await api.users.get_current_user(fields=fields)
            t3 = time.perf_counter()
            friends = api.friends
            await friends.get()
            t4 = time.perf_counter()
            await api.friends.get()
            t5 = time.perf_counter()
        finally:
            await session.close()
        return {
            "warmup_first_ms": (w1 - w0) * 1e3,
            "warmup_second_ms": (w2 - w1) * 1e3,
            "users_access_ms": (t1 - t0) * 1e3,
            "users_first_ms": (t2 - t0) * 1e3,
            "users_second_ms": (t3 - t2) * 1e3,
            "friends_first_ms": (t4 - t3) * 1e3,
            "friends_second_ms": (t5 - t4) * 1e3,
        }

    return asyncio.run(main())


def child_models(trace: bool) -> dict[str, float]:
    """In a fresh process: import every generated model module and build every validator.

    With ``trace`` the memory is measured (tracemalloc slows imports several times,
    so the times come from a run without it).
    """
    import pkgutil
    import resource
    import tracemalloc

    from pydantic import BaseModel

    import okru_sdk  # noqa: F401  (not part of what is measured)

    def rss_kib() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024

    import okru_sdk._generated.models as models_pkg

    gc.collect()
    rss0 = rss_kib()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    modules = [
        importlib.import_module(f"{models_pkg.__name__}.{info.name}")
        for info in pkgutil.iter_modules(models_pkg.__path__)
    ]
    t1 = time.perf_counter()
    classes = {
        obj
        for module in modules
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, BaseModel)
        and obj.__module__ == module.__name__
    }
    for cls in classes:
        cls.model_rebuild(force=True)
        cls.__pydantic_validator__.validate_python({})
    t2 = time.perf_counter()
    traced_now, traced_peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    tracemalloc.stop()
    rss1 = rss_kib()
    t3 = time.perf_counter()
    for cls in classes:
        cls.model_json_schema()
    t4 = time.perf_counter()
    return {
        "modules": len(modules),
        "models": len(classes),
        "import_ms": (t1 - t0) * 1e3,
        "build_ms": (t2 - t1) * 1e3,
        "schema_ms": (t4 - t3) * 1e3,
        "traced_kib": traced_now / 1024,
        "traced_peak_kib": traced_peak / 1024,
        "rss_kib": rss1 - rss0,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _codegen_once(cwd: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out, docs = Path(tmp) / "_generated", Path(tmp) / "catalogue.md"
        start = time.perf_counter()
        proc = subprocess.run(
            [PYTHON, "-m", "codegen", "--schema", "schema", "--out", str(out), "--docs", str(docs)],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=300,
        )
        seconds = time.perf_counter() - start
        files = sum(1 for _ in out.rglob("*.py")) if out.exists() else 0
    return {
        "seconds": seconds,
        "returncode": proc.returncode,
        "files": files,
        "error": proc.stderr.strip().splitlines()[-1] if proc.returncode else "",
    }


def measure_codegen() -> dict[str, Any]:
    """One ``python -m codegen`` run on schema/, written to a temporary folder.

    When the working tree's catalogue does not generate (someone is editing
    it), the committed ``codegen/`` and ``schema/`` (``git archive HEAD``, read
    only) are timed instead, and the report says so.
    """
    result = _codegen_once(REPO)
    result["source"] = "working tree"
    if result["returncode"] == 0:
        return result
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", "HEAD", "codegen", "schema", "pyproject.toml"],
            capture_output=True,
            cwd=REPO,
        )
        if archive.returncode != 0:
            return result
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        head = _codegen_once(Path(tmp))
    head["source"] = "HEAD (the working tree failed: " + result["error"] + ")"
    return head


# --------------------------------------------------------------------------- report


def versions() -> dict[str, str]:
    names = ("okru-sdk", "aiohttp", "pydantic", "pydantic-core", "aiookru", "httpx")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def render(
    info: dict[str, Any],
    cells: dict[tuple[str, str, int], Cell],
    rounds: int,
    passes: int,
    imports: dict[str, dict[str, Any]],
    top_imports: list[tuple[str, float, float]],
    first: list[dict[str, float]],
    models: dict[str, float],
    codegen: dict[str, Any],
    elapsed: float,
) -> str:
    lines: list[str] = []
    add = lines.append
    add("# okru-sdk benchmark results")
    add("")
    add("Written by `benchmarks/run.py` (`make bench`); see `benchmarks/README.md` for the cases.")
    add("")
    add(f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    system = f"{platform.system()} {platform.release()}"
    add(f"- machine: {cpu_model()}, {os.cpu_count()} cores, {system}")
    add(f"- Python: {platform.python_implementation()} {platform.python_version()}")
    add("- packages: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    add(
        f"- server: `benchmarks/server.py` (OkEmulator) in a second process on 127.0.0.1; "
        f"one-user reply {info['one_bytes']} bytes, {info['hundred_size']}-user reply "
        f"{info['hundred_bytes']:,} bytes, {info['list_size']}-user reply "
        f"{info['list_bytes']:,} bytes"
    )
    add(
        f"- calls: {passes} paired passes per group (every case once per pass, order "
        f"rotating; the groups take their passes in turn); other parts: {rounds} rounds; "
        f"whole run {elapsed:.0f} s"
    )
    add("")
    add("## Calls")
    add("")
    add(
        "calls/s: median of the passes. CPU µs/call: client process CPU "
        "(`time.process_time()`) per call, median of the passes. "
        "x(a) calls/s: calls/s divided by the POST baseline's in the same pass; x(a) CPU: "
        "the baseline's CPU per call divided by this case's in the same pass (above 1 = "
        "cheaper than the baseline); both are medians of these per-pass ratios, which is "
        "why they need not equal the ratio of the medians beside them. x(a') the same "
        "against the hand-written GET. The 100-user call's query (100 ids) is longer "
        "than the SDK sends as a GET, so the SDK POSTs it while (a') still GETs."
    )
    for payload in PAYLOADS:
        for inflight in INFLIGHT:
            base = cells["a", payload, inflight]
            get = cells["a'", payload, inflight]
            add("")
            add(f"### {PAYLOAD_LABELS[payload]}, {inflight} in flight")
            add("")
            add(
                "| case | calls/s | CPU µs/call | x(a) calls/s | x(a) CPU | x(a') calls/s "
                "| x(a') CPU | calls per block |"
            )
            add("|---|---:|---:|---:|---:|---:|---:|---:|")
            for case in CASES:
                cell = cells[case, payload, inflight]
                add(
                    f"| {CASE_LABELS[case]} | {cell.rate:,.0f} | {cell.cpu:,.0f} | "
                    f"{fmt_ratio(cell.rate_vs(base))} | {fmt_ratio(cell.cpu_vs(base))} | "
                    f"{fmt_ratio(cell.rate_vs(get))} | {fmt_ratio(cell.cpu_vs(get))} | "
                    f"{cell.calls} |"
                )

    add("")
    add("## Import cost")
    add("")
    add(
        "Median of fresh `python -c` processes, run in rounds (one process per case, the "
        "order reversed every other round). `import` = the import statement timed inside "
        "the process; `process` = the whole `python -c` wall time. okru_sdk is byte-compiled "
        "first (`compileall`), as `pip install` leaves it. The import target below is the "
        "median of okru_sdk's import over aiohttp + pydantic's within each round."
    )
    add("")
    add("| what | import ms | process ms |")
    add("|---|---:|---:|")
    for name, row in imports.items():
        add(f"| `{IMPORT_SNIPPETS[name]}` | {row['import_ms']:.1f} | {row['wall_ms']:.1f} |")
    add("")
    add("Slowest okru_sdk modules by `-X importtime` (self time, one run):")
    add("")
    add("| module | self ms | cumulative ms |")
    add("|---|---:|---:|")
    for name, self_us, cum_us in top_imports:
        add(f"| `{name.strip()}` | {self_us / 1e3:.2f} | {cum_us / 1e3:.2f} |")

    def med(key: str) -> float:
        return statistics.median(run[key] for run in first)

    users_extra = med("users_first_ms") - med("users_second_ms")
    friends_extra = med("friends_first_ms") - med("friends_second_ms")
    add("")
    add("## First call into a group not used before")
    add("")
    warmup_extra = med("warmup_first_ms") - med("warmup_second_ms")
    add(
        f"Median of {len(first)} fresh processes; the connection and the request path are "
        "warmed up with `api.call` first, so the difference is the group's own cost "
        "(import of the group module and its models, the pydantic validator build). "
        "The first model-returning call of a process also pays pydantic's one-time "
        "warm-up (its plugin scan and the modules it loads with the first model class), "
        "which `import okru_sdk` leaves out; it is measured on its own first "
        "(`api.group.get_info`), then the groups after it."
    )
    add("")
    add("| | first ms | second ms | extra ms |")
    add("|---|---:|---:|---:|")
    add(
        f"| first model call of the process: `api.group.get_info()` | "
        f"{med('warmup_first_ms'):.2f} | {med('warmup_second_ms'):.2f} | {warmup_extra:.2f} |"
    )
    add(
        f"| `api.users` access + `get_current_user()` | {med('users_first_ms'):.2f} | "
        f"{med('users_second_ms'):.2f} | {users_extra:.2f} |"
    )
    add(
        f"| `api.friends` access + `get()` (a `list[str]` reply) | {med('friends_first_ms'):.2f} | "
        f"{med('friends_second_ms'):.2f} | {friends_extra:.2f} |"
    )
    add(f"| of which the `api.users` attribute access | {med('users_access_ms'):.2f} | | |")

    add("")
    add("## Loading every generated model (the eager worst case)")
    add("")
    add(
        f"{models['modules']:.0f} modules under `okru_sdk/_generated/models`, "
        f"{models['models']:.0f} model classes; fresh processes, after `import okru_sdk`; "
        "times from a run "
        "without tracemalloc, memory from a second run with it."
    )
    add("")
    add("| step | value |")
    add("|---|---:|")
    add(f"| import all model modules | {models['import_ms']:.1f} ms |")
    add(f"| build every validator (`model_rebuild(force=True)`) | {models['build_ms']:.1f} ms |")
    add(f"| `model_json_schema()` of every model | {models['schema_ms']:.1f} ms |")
    add(f"| memory kept (tracemalloc) | {models['traced_kib'] / 1024:.2f} MiB |")
    add(f"| memory peak (tracemalloc) | {models['traced_peak_kib'] / 1024:.2f} MiB |")
    add(f"| RSS growth | {models['rss_kib'] / 1024:.2f} MiB |")

    add("")
    add("## Generation")
    add("")
    add(
        f"`python -m codegen --schema schema --out <tmp> --docs <tmp>` (one run, "
        f"catalogue of the {codegen['source']}): "
        f"{codegen['seconds']:.2f} s, exit code {codegen['returncode']}, "
        f"{codegen['files']} Python files written."
    )

    # targets
    def ratio(case: str, other: str, payload: str, inflight: int) -> float:
        return cells[case, payload, inflight].rate_vs(cells[other, payload, inflight])

    def cpu_ratio(case: str, other: str, payload: str, inflight: int) -> float:
        return cells[case, payload, inflight].cpu_vs(cells[other, payload, inflight])

    def cpu_spread(case: str, other: str, payload: str, inflight: int) -> str:
        low, high = quartiles(
            cells[case, payload, inflight].cpu_ratios(cells[other, payload, inflight])
        )
        return f"{low:.2f}-{high:.2f}x"

    import_ratios = imports["okru_sdk"]["ratios"]
    import_ratio = statistics.median(import_ratios)
    import_low, import_high = quartiles(import_ratios)
    cpu_goals = [
        ("(a') GET, 1 user, 1 in flight", "a'", "one", 1, 0.90),
        ("(a') GET, 1 user, 50 in flight", "a'", "one", 50, 0.90),
        ("(a), 100 users, 1 in flight", "a", "hundred", 1, 0.70),
        ("(a), 100 users, 50 in flight", "a", "hundred", 50, 0.70),
        ("(a), 1,000 users, 1 in flight", "a", "list", 1, 0.70),
        ("(a), 1,000 users, 50 in flight", "a", "list", 50, 0.70),
    ]
    targets = [
        ("(c) >= 0.90x (a), 1 user, 1 in flight", ratio("c", "a", "one", 1), 0.90),
        ("(c) >= 0.90x (a), 1 user, 50 in flight", ratio("c", "a", "one", 50), 0.90),
        ("(c) >= 0.70x (a), 1,000 users, 1 in flight", ratio("c", "a", "list", 1), 0.70),
        ("(c) >= 0.70x (a), 1,000 users, 50 in flight", ratio("c", "a", "list", 50), 0.70),
        ("(c) >= 4x (d), 1 user, 1 in flight", ratio("c", "d", "one", 1), 4.0),
        ("(c) >= 15x (d), 1 user, 50 in flight", ratio("c", "d", "one", 50), 15.0),
        ("(c) >= 4x (d), 1,000 users, 1 in flight", ratio("c", "d", "list", 1), 4.0),
        ("(c) >= 15x (d), 1,000 users, 50 in flight", ratio("c", "d", "list", 50), 15.0),
    ]
    add("")
    add("## Targets")
    add("")
    add(
        "Medians over the passes of the paired ratios of client CPU per call (CPU) or of "
        "calls/s, from this run; for CPU, the middle half of the passes' ratios beside it."
    )
    add("")
    add("| target | measured | middle half of the passes | |")
    add("|---|---:|---:|---|")
    for name, baseline, payload, inflight, goal in cpu_goals:
        value = cpu_ratio("c", baseline, payload, inflight)
        add(
            f"| (c) CPU >= {goal:.2f}x {name} | {fmt_ratio(value)} | "
            f"{cpu_spread('c', baseline, payload, inflight)} | {verdict(value >= goal)} |"
        )
    for name, value, goal in targets[:4]:
        add(f"| {name} | {fmt_ratio(value)} | | {verdict(value >= goal)} |")
    add(
        f"| `import okru_sdk` <= 1.15x aiohttp + pydantic | {fmt_ratio(import_ratio)} | "
        f"{import_low:.2f}-{import_high:.2f}x | {verdict(import_ratio <= 1.15)} |"
    )
    add(
        f"| first call into a new group adds <= 30 ms (`api.users`, after the "
        f"process's first model call) | {users_extra:.1f} ms | | {verdict(users_extra <= 30)} |"
    )
    add(
        f"| codegen < 20 s | {codegen['seconds']:.1f} s | | "
        f"{verdict(codegen['seconds'] < 20 and codegen['returncode'] == 0)} |"
    )
    add("")
    add(
        "The first benchmark's targets against aiookru, in calls/s, are kept for the record: "
        "with 1,000 users both clients spend most of their time decoding the same JSON "
        "(aiookru with `json.loads`, the typed call validating it), which leaves no room "
        "for 4x or 15x there."
    )
    add("")
    add("| target | measured | |")
    add("|---|---:|---|")
    for name, value, goal in targets[4:]:
        add(f"| {name} | {fmt_ratio(value)} | {verdict(value >= goal)} |")
    add("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of the batch, paging and limit parts (>= 3)"
    )
    parser.add_argument(
        "--passes", type=int, default=30, help="paired passes of the call cases (>= 5)"
    )
    parser.add_argument(
        "--seconds", type=float, default=0.12, help="target duration of one case in one pass"
    )
    parser.add_argument(
        "--imports", type=int, default=15, help="rounds of fresh processes, one per import case"
    )
    parser.add_argument("--first-calls", type=int, default=5, help="fresh processes, first call")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--upload-mb", type=int, default=256, help="file size of the video upload benchmark, MiB"
    )
    parser.add_argument(
        "--chart",
        type=Path,
        default=REPO / "docs" / "performance" / "bench.svg",
        help="the chart of the call cases, for the documentation site",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind = args.child[0]
        if kind == "first-call":
            print(json.dumps(child_first_call(json.loads(args.child[1]))))
        elif kind == "models":
            print(json.dumps(child_models(trace=False)))
        elif kind == "models-memory":
            print(json.dumps(child_models(trace=True)))
        else:
            parser.error(f"unknown child {kind!r}")
        return 0

    if args.rounds < 3:
        parser.error("--rounds must be at least 3")
    if args.passes < 5:
        parser.error("--passes must be at least 5")

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with bench_server() as info:
        log(f"server at {info['url']}")
        cells = asyncio.run(throughput(info, args.passes, args.seconds, log))
        from batch_bench import measure_batch, render_batch  # benchmarks/batch_bench.py

        batch = asyncio.run(measure_batch(info, args.rounds, log))
        from paging_bench import measure_paging, render_paging  # benchmarks/paging_bench.py

        paging = asyncio.run(measure_paging(info, args.rounds, log))
        import shared_limits  # benchmarks/shared_limits.py: RedisRateLimiter vs local limiter

        shared = shared_limits.measure(info, args.rounds)
        log(f"shared limits: {shared.get('skipped', 'done')}")
        first = [run_child(["first-call", json.dumps(info)]) for _ in range(args.first_calls)]
        log("first calls done")
    imports = measure_imports(args.imports)
    top_imports = importtime_top("okru_sdk")
    log("imports done")
    models = run_child(["models"])
    memory = run_child(["models-memory"])
    models.update({k: memory[k] for k in ("traced_kib", "traced_peak_kib", "rss_kib")})
    log("models done")
    codegen = measure_codegen()
    log("codegen done")
    report = render(
        info,
        cells,
        args.rounds,
        args.passes,
        imports,
        top_imports,
        first,
        models,
        codegen,
        time.perf_counter() - started,
    )
    report += "\n" + render_batch(batch)
    report += "\n" + render_paging(paging)
    report += shared_limits.render(shared)
    args.output.write_text(report, encoding="utf-8")
    print(report)
    log(f"written to {args.output}")
    # video upload vs a hand-written aiohttp upload (benchmarks/upload_bench.py): it
    # prints its table and writes its own "Uploads" section into the same file
    upload_args = ["--size-mb", str(args.upload_mb), "--results", str(args.output)]
    subprocess.run([PYTHON, str(HERE / "upload_bench.py"), *upload_args], check=True, cwd=REPO)
    from chart import write_chart  # benchmarks/chart.py, beside this file

    chart_groups = [
        (
            f"{PAYLOAD_LABELS[payload]}, {inflight} in flight",
            {
                case: cells[case, payload, inflight].rate_vs(cells["a", payload, inflight])
                for case in CASES
            },
        )
        for payload in PAYLOADS
        for inflight in INFLIGHT
    ]
    day = datetime.date.today().isoformat()
    log(f"chart written to {write_chart(chart_groups, args.chart, day)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
