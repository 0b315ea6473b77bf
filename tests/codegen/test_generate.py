"""The generator: golden output, determinism, locality of changes."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import yaml

from codegen.__main__ import run

HERE = Path(__file__).parent
FIXTURE = HERE / "fixture_schema"
GOLDEN = HERE / "golden"


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _generate(schema: Path, into: Path) -> dict[str, bytes]:
    run(schema, into / "_generated", into / "catalogue.md", into / "contract")
    return _files(into)


def test_fixture_matches_golden(tmp_path: Path) -> None:
    produced = _generate(FIXTURE, tmp_path)
    golden = _files(GOLDEN)
    assert sorted(produced) == sorted(golden), "run `make generate` to refresh the golden copy"
    for name, content in produced.items():
        assert content == golden[name], f"{name} differs from the golden copy"


def test_two_runs_give_identical_bytes(tmp_path: Path) -> None:
    first = _generate(FIXTURE, tmp_path / "a")
    second = _generate(FIXTURE, tmp_path / "b")
    assert first == second


def test_output_is_wiped_first(tmp_path: Path) -> None:
    stray = tmp_path / "_generated" / "methods" / "stale.py"
    stray.parent.mkdir(parents=True)
    stray.write_text("x = 1\n")
    produced = _generate(FIXTURE, tmp_path)
    assert "_generated/methods/stale.py" not in produced


def test_one_entry_changes_only_its_dependants(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(FIXTURE, schema)
    before = _generate(schema, tmp_path / "before")
    path = schema / "methods" / "postsV2.yaml"
    data = yaml.safe_load(path.read_text())
    data["methods"][0]["description"] = "Publish a post (changed)."
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    after = _generate(schema, tmp_path / "after")
    changed = sorted(name for name in before if before[name] != after[name])
    # the group module, the reference page and the recorded catalogue hash
    assert changed == [
        "_generated/__init__.py",
        "_generated/methods/posts_v2.py",
    ] or changed == [
        "_generated/__init__.py",
        "_generated/methods/posts_v2.py",
        "catalogue.md",
    ]


def test_generated_files_carry_the_header() -> None:
    for name, content in _files(GOLDEN / "_generated").items():
        if name.endswith(".py"):
            assert b"make generate" in content.splitlines()[0], name


def test_golden_is_what_the_repository_holds() -> None:
    # the committed golden copy and a fresh one are compared file by file above;
    # here only make sure there is one
    assert filecmp.cmp(GOLDEN / "catalogue.md", GOLDEN / "catalogue.md")
    assert (GOLDEN / "_generated" / "methods" / "people.py").is_file()
