"""Video upload benchmark: ``api.upload.video`` against a hand-written aiohttp upload.

``make bench`` runs it after ``run.py``'s own cases (or run it alone:
``.venv/bin/python benchmarks/upload_bench.py --size-mb 1024``). It

1. writes a file of ``--size-mb`` random bytes (default 256) to a temporary folder;
2. starts the OK.ru emulator in a second process (``--serve``; it hashes what
   arrives and keeps none of it in memory);
3. in rounds, alternating the order, runs one fresh client process per case:

   - (a) baseline: the upload URL and the final ``video.update`` through the
     SDK's ``api.call``, the file itself in ONE hand-written aiohttp POST
     (``data=<open file>``, aiohttp's own streaming file payload) with
     ``Content-Range: bytes 0-<n-1>/<n>``;
   - (b) ``await api.upload.video(path, title=...)``: the same two API calls
     and the file in ``--chunk-mb`` ``Content-Range`` chunks (default 16 MiB).

Each client reports the wall time of the whole flow and its peak RSS growth
during it (``VmHWM`` after resetting it through ``/proc/self/clear_refs``,
minus ``VmRSS`` before). The server checks that the SHA-256 of what arrived
is the file's. The results go to the "Uploads" section of
``benchmarks/RESULTS.md`` (replaced if there, appended if not; the rest of
the file is left as it is) and are printed.

Targets (issue 11): peak RSS growth under 64 MiB for a 1 GiB file, throughput
at least 0.9x the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable

APP_ID = "512000000043"
APP_KEY = "CBAUPLOADBENCHAAA"
APP_SECRET_KEY = "UPLOADBENCH0123456789ABCDEF01234"
ACCESS_TOKEN = "-s-upload-benchmark-access-token-000000000000000"
SESSION_SECRET_KEY = "fedcba9876543210fedcba9876543210"
UID = "575000000002"

CASES = ("a", "b")
CASE_LABELS = {
    "a": "(a) hand-written aiohttp streaming POST (baseline)",
    "b": "(b) `api.upload.video(path, ...)`",
}
RSS_TARGET_MIB = 64.0
RSS_TARGET_FILE_MIB = 1024
THROUGHPUT_TARGET = 0.9
START_MARK = "<!-- upload-bench:start -->"
END_MARK = "<!-- upload-bench:end -->"


# --------------------------------------------------------------------------- server


async def serve() -> None:
    """The emulator with one app, user and never-expiring token; prints its keys as JSON."""
    from okru_sdk.testing import OkEmulator, Token
    from okru_sdk.testing.catalogue import register_catalogue

    emu = OkEmulator()
    register_catalogue(emu)
    emu.uploads.max_kept_bytes = 0  # hash what arrives, keep none of it
    app = emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET_KEY)
    user = emu.add_user(login="upload@example.com", uid=UID)
    emu.tokens[ACCESS_TOKEN] = Token(
        access_token=ACCESS_TOKEN,
        session_secret_key=SESSION_SECRET_KEY,
        app=app,
        user=user,
        scopes=("VALUABLE_ACCESS", "VIDEO_CONTENT"),
        expires_in=None,
        refresh_token=None,
        expires_at=None,
    )
    # one more method: the server's view of a video, for the checks (never timed)
    emu.register_method(
        "bench.videoInfo",
        lambda call: _video_info(emu, int(call.params["vid"])),
        session="required",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    await emu.start()
    try:
        print(json.dumps({"url": emu.url}), flush=True)
        await stop.wait()
    finally:
        await emu.stop()


def _video_info(emu: Any, video_id: int) -> dict[str, Any]:
    video = emu.uploads.videos[video_id]
    info = {"size": video.size, "sha256": video.sha256, "complete": video.complete}
    emu.uploads.videos.pop(video_id)  # the record holds no bytes, but keep the server lean
    emu.requests.clear()
    return info


def bench_server() -> AbstractContextManager[dict[str, Any]]:
    """This file with ``--serve`` in its own process; yield what it prints (the url)."""
    from run import server_process  # benchmarks/run.py, beside this file

    return server_process([str(Path(__file__).resolve()), "--serve"], "the upload benchmark server")


# --------------------------------------------------------------------------- clients


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); ``False`` where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


async def client(case: str, url: str, path: str, chunk_mb: int) -> dict[str, Any]:
    """One upload of ``path`` in this (fresh) process; wall time and peak RSS growth."""
    import aiohttp

    from okru_sdk import API, ServerSession

    size = await asyncio.to_thread(os.path.getsize, path)
    async with ServerSession(
        APP_ID, APP_KEY, APP_SECRET_KEY, ACCESS_TOKEN, api_url=url, timeout=120
    ) as session:
        api = API(session)
        http = aiohttp.ClientSession()
        try:
            # warm-up outside the measurement: imports, the connection, the code path
            warm = os.urandom(4 * 1024 * 1024)
            if case == "b":
                await api.upload.video(warm, title="warm-up", chunk_size=2 * 1024 * 1024)
            else:
                await _baseline(api, http, warm, len(warm))
            del warm
            rss_before = _status_kib("VmRSS")
            peak_reset = _reset_peak()
            started, cpu_started = time.perf_counter(), time.process_time()
            if case == "b":
                video = await api.upload.video(
                    path, title="benchmark", chunk_size=chunk_mb * 1024 * 1024
                )
                video_id = video.video_id
            else:
                file = await asyncio.to_thread(open, path, "rb")
                try:
                    video_id = await _baseline(api, http, file, size)
                finally:
                    file.close()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            peak = _status_kib("VmHWM")
            info = await api.call("bench.videoInfo", vid=video_id)
        finally:
            await http.close()
    return {
        "case": case,
        "seconds": seconds,
        "cpu": cpu,
        "size": size,
        "rss_before_kib": rss_before,
        "peak_kib": peak,
        "peak_reset": peak_reset,
        "server": info,
    }


async def _baseline(api: Any, http: Any, data: Any, size: int) -> int:
    """The hand-written flow: upload URL, one streaming POST of the whole file, update."""
    reserved = await api.call("video.getUploadUrl", file_name="bench.mp4", file_size=size)
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes 0-{size - 1}/{size}",
    }
    async with http.post(reserved["upload_url"], data=data, headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"baseline upload: HTTP {resp.status}")
    await api.call("video.update", vid=reserved["video_id"], title="benchmark", publish=True)
    return int(reserved["video_id"])


def run_client(case: str, url: str, path: str, chunk_mb: int) -> dict[str, Any]:
    out = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--client", case, url, path, str(chunk_mb)],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=REPO,
    )
    if out.returncode != 0:
        raise RuntimeError(f"client {case} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- report


def make_file(folder: str, size_mb: int) -> tuple[str, str]:
    """A file of random bytes; returns its path and SHA-256."""
    path = os.path.join(folder, f"upload-bench-{size_mb}mb.bin")
    digest = hashlib.sha256()
    block = 8 * 1024 * 1024
    left = size_mb * 1024 * 1024
    with open(path, "wb") as file:
        while left:
            data = os.urandom(min(block, left))
            digest.update(data)
            file.write(data)
            left -= len(data)
    return path, digest.hexdigest()


def render(
    runs: dict[str, list[dict[str, Any]]],
    size_mb: int,
    chunk_mb: int,
    rounds: int,
    load: tuple[float, float, float],
) -> str:
    def med(case: str, key: str) -> float:
        return float(statistics.median(run[key] for run in runs[case]))

    mib = size_mb
    rate = {case: mib / med(case, "seconds") for case in CASES}
    growth = {
        case: statistics.median(
            (run["peak_kib"] - run["rss_before_kib"]) / 1024 for run in runs[case]
        )
        for case in CASES
    }
    worst_growth = {
        case: max((run["peak_kib"] - run["rss_before_kib"]) / 1024 for run in runs[case])
        for case in CASES
    }
    exact = all(run["peak_reset"] for case in CASES for run in runs[case])
    ratio = rate["b"] / rate["a"]
    lines = [
        START_MARK,
        "## Uploads",
        "",
        "Written by `benchmarks/upload_bench.py` (run by `make bench` after the cases "
        "above; alone: `.venv/bin/python benchmarks/upload_bench.py --size-mb N`).",
        "",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load[0]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (other work on the machine shows up in the "
        "wall times; the CPU times are the client's alone)",
        f"- a file of {size_mb} MiB of random bytes on local disk (in the page cache after "
        "the first read), uploaded to the emulator in a second process on 127.0.0.1, "
        "which hashes every byte (SHA-256, checked against the file's) and keeps none",
        f"- {rounds} rounds, the two cases alternating, each upload in a fresh client "
        f"process; medians. The SDK sends {chunk_mb} MiB `Content-Range` chunks "
        f"(`chunk_size`), reading 1 MiB at a time (the next piece is read while one is "
        "sent); the baseline sends the whole file in one POST with aiohttp's own file "
        f"payload ({_aiohttp_read_size() // 1024} KiB reads).",
        "- time: the whole flow (`video.getUploadUrl`, the upload, `video.update`), "
        "wall clock; client CPU: `time.process_time()` of the client process (x(a) above 1 "
        "= cheaper than the baseline). Peak RSS growth: the client's `VmHWM` during the "
        "upload (reset "
        "through `/proc/self/clear_refs` just before) minus its `VmRSS` before"
        + ("" if exact else " (the reset was refused here: the figure includes start-up)"),
        "",
        "| case | MiB/s | seconds | x(a) MiB/s | client CPU s | x(a) CPU | "
        "peak RSS growth MiB (median / max) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in CASES:
        lines.append(
            f"| {CASE_LABELS[case]} | {rate[case]:,.0f} | {med(case, 'seconds'):.2f} | "
            f"{rate[case] / rate['a']:.2f}x | {med(case, 'cpu'):.2f} | "
            f"{med('a', 'cpu') / med(case, 'cpu'):.2f}x | "
            f"{growth[case]:.1f} / {worst_growth[case]:.1f} |"
        )
    rss_ok = worst_growth["b"] < RSS_TARGET_MIB
    scope = (
        f"{size_mb} MiB file"
        if size_mb == RSS_TARGET_FILE_MIB
        else f"this {size_mb} MiB file; the target is stated for {RSS_TARGET_FILE_MIB} MiB"
    )
    lines += [
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| upload throughput >= {THROUGHPUT_TARGET:.1f}x the baseline | {ratio:.2f}x | "
        f"{'**met**' if ratio >= THROUGHPUT_TARGET else '**missed**'} |",
        f"| peak RSS growth < {RSS_TARGET_MIB:.0f} MiB ({scope}) | {worst_growth['b']:.1f} MiB | "
        f"{'**met**' if rss_ok else '**missed**'} |",
        END_MARK,
        "",
    ]
    return "\n".join(lines)


def _aiohttp_read_size() -> int:
    import aiohttp.helpers

    return int(getattr(aiohttp.helpers, "DEFAULT_CHUNK_SIZE", 2**16))


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path`` (between its marks), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = text.find(START_MARK), text.find(END_MARK)
    if start >= 0 and end > start:
        text = text[:start] + section.rstrip("\n") + text[end + len(END_MARK) :]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size-mb", type=int, default=256, help="file size in MiB (default 256; target: 1024)"
    )
    parser.add_argument("--chunk-mb", type=int, default=16, help="SDK chunk size in MiB")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the two cases")
    parser.add_argument(
        "--results",
        type=Path,
        default=HERE / "RESULTS.md",
        help="file whose 'Uploads' section is written",
    )
    parser.add_argument("--no-results", action="store_true", help="only print the section")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        asyncio.run(serve())
        return 0
    if args.client:
        case, url, path, chunk_mb = args.client
        print(json.dumps(asyncio.run(client(case, url, path, int(chunk_mb)))))
        return 0
    if args.size_mb < 1 or args.chunk_mb < 1 or args.rounds < 1:
        parser.error("--size-mb, --chunk-mb and --rounds must be positive")

    started = time.perf_counter()

    def log(text: str) -> None:
        print(f"[upload {time.perf_counter() - started:6.1f} s] {text}", file=sys.stderr)

    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="okru-upload-bench-") as folder:
        path, digest = make_file(folder, args.size_mb)
        log(f"wrote {args.size_mb} MiB to {path}")
        with bench_server() as info:
            for r in range(args.rounds):
                order = CASES if r % 2 == 0 else tuple(reversed(CASES))
                for case in order:
                    run = run_client(case, info["url"], path, args.chunk_mb)
                    server = run["server"]
                    if server["sha256"] != digest or not server["complete"]:
                        raise RuntimeError(f"case {case}: the server got other bytes: {server}")
                    runs[case].append(run)
                    log(f"round {r + 1}: {case} {run['seconds']:.2f} s")
    section = render(runs, args.size_mb, args.chunk_mb, args.rounds, load)
    print(section)
    if not args.no_results:
        write_section(args.results, section)
        log(f"written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
