"""The package as a user gets it: built, checked, installed into a fresh virtualenv.

Slow-ish (a build, and a ``pip install`` of the wheel with its ``testing``
extra from the package index, about a minute), but it is the proof that a
plain install works: the ``okru`` command, the pytest plugin without any
``conftest.py`` or pytest configuration, the LICENSE in the wheel.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import okru_sdk

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

USER_TEST = """
import pytest
from okru_sdk.testing import DEMO_UID


@pytest.mark.asyncio
async def test_x(okru_api):
    me = await okru_api.users.get_current_user()
    assert me.uid == DEMO_UID


@pytest.mark.asyncio
async def test_catalogued_method(okru_api, okru_emulator):
    groups = await okru_api.group.get_info(uids=["1"], fields=["uid", "name"])
    assert isinstance(groups, list)
    assert okru_emulator.requests[-1].method == "group.getInfo"
"""


def _clean_env() -> dict[str, str]:
    """The environment without this checkout's virtualenv or OKRU_* settings."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("OKRU_")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(
    args: list[str | Path], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _run([sys.executable, "-m", "build", "--outdir", out, ROOT], ROOT)
    assert built.returncode == 0, built.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel and its ``testing`` extra; returns its bin folder."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    bin_dir = home / ("Scripts" if os.name == "nt" else "bin")
    (wheel,) = dist.glob("*.whl")
    pip = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", f"{wheel}[testing]"], home)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return bin_dir


def test_sdist_and_wheel_pass_twine_check(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert {f.suffix for f in files} == {".whl", ".gz"}
    check = _run([sys.executable, "-m", "twine", "check", "--strict", *files], ROOT)
    assert check.returncode == 0, check.stdout + check.stderr


def test_wheel_carries_license_version_and_entry_points(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    assert f"okru_sdk-{okru_sdk.__version__}-" in wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        license_text = archive.read(f"{info}/licenses/LICENSE").decode()
    assert "Copyright (c) 2026 okru-sdk contributors" in license_text
    assert "License-Expression: MIT" in metadata
    assert f"Version: {okru_sdk.__version__}" in metadata
    assert "Provides-Extra: testing" in metadata
    assert "okru = okru_sdk.cli:main" in entry_points
    assert "[pytest11]" in entry_points
    assert "okru_sdk/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "codegen/", "benchmarks/"))]


def test_a_users_test_passes_with_no_conftest_and_no_config(
    installed: Path, tmp_path: Path
) -> None:
    project = tmp_path / "user-project"
    project.mkdir()
    (project / "test_user.py").write_text(USER_TEST, encoding="utf-8")
    result = _run([installed / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout
    # an older conftest naming the plugin too: still registered once, still passing
    (project / "conftest.py").write_text(
        'pytest_plugins = ["okru_sdk.testing.pytest_plugin"]\n', encoding="utf-8"
    )
    again = _run([installed / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "2 passed" in again.stdout


def test_the_okru_command_from_the_plain_install(installed: Path, tmp_path: Path) -> None:
    okru = installed / "okru"
    helped = _run([okru, "--help"], tmp_path)
    assert helped.returncode == 0 and "methods" in helped.stdout
    listed = _run([okru, "methods", "users"], tmp_path)
    assert listed.returncode == 0
    assert "users.getCurrentUser" in listed.stdout and "api.users.get_current_user" in listed.stdout
    asyncio.run(_call_through_the_installed_emulator(okru, tmp_path))


async def _call_through_the_installed_emulator(okru: Path, cwd: Path) -> None:
    server = await asyncio.create_subprocess_exec(
        str(okru), "emulator", "--port", "0", stdout=asyncio.subprocess.PIPE, env=_clean_env()
    )
    assert server.stdout is not None
    try:
        env = _clean_env()
        while True:
            line = (await asyncio.wait_for(server.stdout.readline(), 60)).decode()
            assert line, "the emulator stopped"
            if line.strip().startswith("export "):
                for pair in line.strip().removeprefix("export ").split():
                    key, _, value = pair.partition("=")
                    env[key] = value
            if line.startswith("Press Ctrl+C"):
                break

        async def okru_run(*args: str) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(
                str(okru),
                *args,
                cwd=cwd,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode is not None
            return proc.returncode, out.decode(), err.decode()

        status, out, err = await okru_run("call", "users.getCurrentUser", "fields=uid,name")
        assert status == 0, err
        assert set(json.loads(out)) == {"uid", "name"}
        status, out, err = await okru_run("call", "users.getInfo", "fields=uid")
        assert status == 1 and out == ""
        assert len(err.strip().splitlines()) == 1 and "OK.ru error 100" in err
    finally:
        server.terminate()
        await server.wait()
