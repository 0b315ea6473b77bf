"""The catalogue loader under random input: only its located CatalogueError escapes."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.catalogue import CatalogueError, load_catalogue

FIXTURE = Path(__file__).parent / "fixture_schema"
METHOD_FILES = sorted((FIXTURE / "methods").glob("*.yaml"))

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
yaml_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a YAML document."""
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _load_with(tmp: Path, file_index: int, document: str) -> None:
    root = tmp / "schema"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(FIXTURE, root)
    target = root / "methods" / METHOD_FILES[file_index % len(METHOD_FILES)].name
    target.write_text(document, encoding="utf-8")
    try:
        load_catalogue(root)
    except CatalogueError as exc:
        assert target.name in str(exc) or "methods" in str(exc)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(file_index=st.integers(min_value=0, max_value=10), data=st.data())
def test_one_value_replaced_anywhere(tmp_path: Path, file_index: int, data: st.DataObject) -> None:
    source = METHOD_FILES[file_index % len(METHOD_FILES)]
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(_paths(document)))
    mutated = _set(copy.deepcopy(document), path, data.draw(yaml_values))
    _load_with(tmp_path, file_index, yaml.safe_dump(mutated, allow_unicode=True))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=yaml_values)
def test_random_yaml_documents(tmp_path: Path, document: Any) -> None:
    _load_with(tmp_path, 0, yaml.safe_dump(document, allow_unicode=True))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200), cut=st.integers(min_value=0, max_value=2000))
def test_broken_yaml_text(tmp_path: Path, text: str, cut: int) -> None:
    source = METHOD_FILES[0].read_text(encoding="utf-8")
    _load_with(tmp_path, 0, source[:cut] + text)
