"""The loader rejects bad entries with a message naming file, entry and field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.catalogue import CatalogueError, load_catalogue
from codegen.tools.format_schema import dump

FIXTURE = Path(__file__).parent / "fixture_schema"


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    root = tmp_path / "schema"
    shutil.copytree(FIXTURE, root)
    return root


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(dump(data), encoding="utf-8")


def _method(data: Any, name: str) -> Any:
    return next(m for m in data["methods"] if m["name"] == name)


def _param(data: Any, method: str, name: str) -> Any:
    return next(p for p in _method(data, method)["params"] if p["name"] == name)


def _fails(schema: Path) -> CatalogueError:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(schema)
    return info.value


def test_fixture_loads() -> None:
    catalogue = load_catalogue(FIXTURE)
    assert [m.name for m in catalogue.methods] == [
        "people.getProfile",
        "people.find",
        "people.listTags",
        "people.browse",
        "postsV2.publish",
        "postsV2.remove",
        "postsV2.getPage",
    ]
    assert len(catalogue.digest) == 64


def test_unknown_param_type(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _param(d, "people.find", "query").update(type="strng"),
    )
    err = _fails(schema)
    assert err.file.endswith("schema/methods/people.yaml")
    assert (err.entry, err.field) == ("people.find", "params.query.type")
    assert "unknown type 'strng'" in str(err)
    assert "people.yaml: people.find: params.query.type:" in str(err)


def test_unknown_result_object(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _method(d, "people.getProfile").update(result="Profil"),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.getProfile", "result")
    assert "unknown object 'Profil'" in err.message


def test_duplicate_method_across_files(schema: Path) -> None:
    _edit(
        schema / "methods/postsV2.yaml",
        lambda d: d["methods"].append({**_method(d, "postsV2.publish")}),
    )
    err = _fails(schema)
    assert err.file.endswith("methods/postsV2.yaml")
    assert (err.entry, err.field) == ("postsV2.publish", "name")
    assert "duplicate method" in err.message


def test_ref_to_missing_object(schema: Path) -> None:
    _edit(
        schema / "objects/profile.yaml",
        lambda d: d["properties"]["home"].update({"$ref": "places.yaml"}),
    )
    err = _fails(schema)
    assert err.file.endswith("objects/profile.yaml")
    assert (err.entry, err.field) == ("Profile", "properties.home")
    assert "missing object file 'places.yaml'" in err.message


def test_enum_default_not_in_enum(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _param(d, "people.find", "sortOrder").update(default="UP"),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.find", "params.sortOrder.default")
    assert "'UP' is not in the enum" in err.message


def test_unknown_key_names_the_param(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _param(d, "people.find", "query").update(requird=True),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.find", "params.query.requird")


def test_missing_field(schema: Path) -> None:
    _edit(schema / "methods/postsV2.yaml", lambda d: _method(d, "postsV2.remove").pop("session"))
    err = _fails(schema)
    assert (err.entry, err.field) == ("postsV2.remove", "session")


def test_unknown_scope(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _method(d, "people.getProfile").update(scopes=["VALUABLE_ACCES"]),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.getProfile", "scopes")


def test_error_code_with_unknown_family(schema: Path) -> None:
    _edit(schema / "errors.yaml", lambda d: d["errors"][0].update(family="flood"))
    err = _fails(schema)
    assert err.file.endswith("schema/errors.yaml")
    assert (err.entry, err.field) == ("8 FLOOD_BLOCKED", "family")


def test_wrong_group_prefix(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _method(d, "people.find").update(name="persons.find"),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("persons.find", "name")


def test_real_catalogue_loads() -> None:
    catalogue = load_catalogue(Path(__file__).parents[2] / "schema")
    names = {m.name for m in catalogue.methods}
    assert {"users.getCurrentUser", "mediatopic.post", "batch.execute", "sdk.init"} <= names
    post = next(m for m in catalogue.methods if m.name == "mediatopic.post")
    assert post.retry_safe is False
    assert {e.code for e in catalogue.errors if e.transient} == {2, 8}


def test_fields_of_an_unknown_object(schema: Path) -> None:
    def change(data: Any) -> None:
        _param(data, "people.getProfile", "fields")["fields_of"] = "Nobody"

    _edit(schema / "methods" / "people.yaml", change)
    err = _fails(schema)
    assert "people.yaml" in str(err)
    assert "people.getProfile" in str(err)
    assert "params.fields.fields_of" in str(err)
    assert "Nobody" in str(err)


def test_yaml_anchors_are_refused(schema: Path) -> None:
    path = schema / "methods/people.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('example: [{uid: "1"}]', 'example: &shared [{uid: "1"}]', 1)
    path.write_text(text, encoding="utf-8")
    err = _fails(schema)
    assert err.file.endswith("people.yaml") and err.field.startswith("line ")
    assert "anchors" in str(err)


def test_enum_types_resolve_to_values(schema: Path) -> None:
    catalogue = load_catalogue(schema)
    find = next(m for m in catalogue.methods if m.name == "people.find")
    params = {p.name: p for p in find.params}
    assert params["direction"].enum == ["FORWARD", "BACKWARD"]
    # a shared enum is named, not copied: its Literal is generated once (_generated/enums.py)
    assert params["direction"].annotation == "Direction"
    assert params["kinds"].enum is None and params["kinds"].known_values == ["PERSON", "BRAND"]
    assert params["kinds"].annotation == "Sequence[ProfileKind | str]"
    assert [e.name for e in catalogue.enums] == ["Direction", "ProfileKind"]


def test_unknown_enum_type(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _param(d, "people.find", "direction").update(enum_type="Nope"),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.find", "params.direction.enum_type")
    assert "schema/enums/Nope.yaml" in str(err)


def test_enum_type_and_enum_together(schema: Path) -> None:
    _edit(
        schema / "methods/people.yaml",
        lambda d: _param(d, "people.find", "direction").update(enum=["FORWARD"]),
    )
    err = _fails(schema)
    assert "enum_type replaces enum" in str(err)


def test_enum_file_name_must_match(schema: Path) -> None:
    (schema / "enums/Direction.yaml").rename(schema / "enums/Way.yaml")
    err = _fails(schema)
    assert err.file.endswith("enums/Way.yaml") and err.field == "name"
