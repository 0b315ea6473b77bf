"""The catalogue's ``paging:`` blocks and input shapes: what the loader accepts and refuses,
and what the generator makes of them (element types, emulator facts, TypedDicts)."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.__main__ import run
from codegen.catalogue import CatalogueError, load_catalogue
from codegen.tools.format_schema import dump

FIXTURE = Path(__file__).parent / "fixture_schema"
REPO = Path(__file__).resolve().parents[2]


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


def _paging(schema: Path, method: str, **change: Any) -> None:
    group = method.split(".")[0]
    _edit(schema / f"methods/{group}.yaml", lambda d: _method(d, method)["paging"].update(change))


def _shape(data: Any, name: str) -> Any:
    return next(t for t in data["types"] if t["name"] == name)


def _fails(schema: Path) -> CatalogueError:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(schema)
    return info.value


# -- paging: what loads ------------------------------------------------------------


def test_style_defaults_fill_the_usual_names() -> None:
    catalogue = load_catalogue(FIXTURE)
    methods = {m.name: m for m in catalogue.methods}
    anchor = methods["people.browse"].paging
    assert anchor is not None
    assert (anchor.anchor_param, anchor.anchor_field) == ("anchor", "anchor")
    assert (anchor.direction_param, anchor.count_param, anchor.offset_param) == (
        "direction",
        "count",
        None,
    )
    assert anchor.items_source == "result"
    offset = methods["postsV2.getPage"].paging
    assert offset is not None
    assert (offset.offset_param, offset.count_param, offset.anchor_param) == (
        "offset",
        "count",
        None,
    )
    assert methods["people.find"].paging is None


def test_every_declared_method_of_the_real_catalogue_pages() -> None:
    catalogue = load_catalogue(REPO / "schema")
    paged = {m.name: m.paging for m in catalogue.methods if m.paging is not None}
    assert {"friends.getRelativesV2", "photos.getAlbums", "group.getMembers"} <= set(paged)
    relatives = paged["friends.getRelativesV2"]
    assert relatives is not None and relatives.items == "relations"
    albums = paged["photos.getAlbums"]
    assert albums is not None and albums.style == "legacy_anchor"
    assert albums.anchor_param == "pagingAnchor" and albums.has_more_field == "hasMore"
    members = paged["group.getMembers"]
    assert members is not None and members.items_source == "example"
    assert {p.style for p in paged.values() if p is not None} == {
        "anchor",
        "legacy_anchor",
        "offset",
    }


# -- paging: what is refused ---------------------------------------------------------


def test_items_field_must_exist_in_the_result(schema: Path) -> None:
    _paging(schema, "people.browse", items="profils")
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.browse", "paging.items")
    assert "no field 'profils'" in err.message


def test_items_field_must_be_a_list(schema: Path) -> None:
    _paging(schema, "people.browse", items="anchor")
    err = _fails(schema)
    assert err.field == "paging.items" and "not a list" in err.message


def test_has_more_field_must_be_boolean(schema: Path) -> None:
    _paging(schema, "people.browse", has_more_field="totalCount")
    err = _fails(schema)
    assert err.field == "paging.has_more_field" and "not a boolean" in err.message


def test_a_default_param_the_method_lacks_says_write_null(schema: Path) -> None:
    def drop_direction(data: Any) -> None:
        method = _method(data, "people.browse")
        method["params"] = [p for p in method["params"] if p["name"] != "direction"]

    _edit(schema / "methods/people.yaml", drop_direction)
    err = _fails(schema)
    assert err.field == "paging.direction_param"
    assert "no parameter 'direction'" in err.message and "write null" in err.message
    _paging(schema, "people.browse", direction_param=None)
    load_catalogue(schema)  # loads once it says the method has none


def test_anchor_param_with_a_closed_enum_is_refused(schema: Path) -> None:
    _paging(schema, "people.browse", anchor_param="direction")
    err = _fails(schema)
    assert err.field == "paging.anchor_param" and "closed enum" in err.message


def test_count_param_must_be_an_int(schema: Path) -> None:
    _paging(schema, "people.browse", count_param="anchor")
    err = _fails(schema)
    assert err.field == "paging.count_param" and "not int" in err.message


def test_offset_style_has_no_anchor(schema: Path) -> None:
    _paging(schema, "postsV2.getPage", anchor_field="posts")
    err = _fails(schema)
    assert err.field == "paging.anchor_field" and "offset style" in err.message


def test_untyped_result_needs_items_source_example(schema: Path) -> None:
    _paging(schema, "postsV2.getPage", items_source="result")
    err = _fails(schema)
    assert err.field == "paging.items_source" and "items_source: example" in err.message


def test_example_fields_must_be_in_the_example(schema: Path) -> None:
    _paging(schema, "postsV2.getPage", has_more_field="has_more")
    err = _fails(schema)
    assert err.field == "paging.has_more_field"
    assert "example has no 'has_more'" in err.message


def test_typed_result_refuses_items_source_example(schema: Path) -> None:
    _paging(schema, "people.browse", items_source="example")
    err = _fails(schema)
    assert err.field == "paging.items_source"


def test_unknown_style_is_refused(schema: Path) -> None:
    _paging(schema, "people.browse", style="cursor")
    err = _fails(schema)
    assert err.entry == "people.browse" and err.field.startswith("paging")


def test_a_list_result_cannot_page(schema: Path) -> None:
    def page_find(data: Any) -> None:
        _method(data, "people.find")["paging"] = {
            "style": "offset",
            "items": "x",
            "offset_param": "from",
            "count_param": None,
        }

    _edit(schema / "methods/people.yaml", page_find)
    err = _fails(schema)
    assert err.entry == "people.find" and "object or json" in err.message


def test_a_param_named_limit_clashes(schema: Path) -> None:
    def add_limit(data: Any) -> None:
        _method(data, "people.browse")["params"].append({"name": "limit", "type": "int"})

    _edit(schema / "methods/people.yaml", add_limit)
    err = _fails(schema)
    assert err.entry == "people.browse" and "limit" in err.message


def test_a_method_named_like_a_builtin_needs_a_python_name(schema: Path) -> None:
    # ``async def list(...)`` in a group class would shadow ``list[...]`` in later annotations
    _edit(
        schema / "methods/people.yaml",
        lambda d: _method(d, "people.browse").update(name="people.list"),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("people.list", "python_name")
    _edit(
        schema / "methods/people.yaml",
        lambda d: _method(d, "people.list").update(python_name="list_profiles"),
    )
    load_catalogue(schema)


# -- input shapes -----------------------------------------------------------------------


def test_shape_annotation_on_the_param() -> None:
    catalogue = load_catalogue(FIXTURE)
    publish = next(m for m in catalogue.methods if m.name == "postsV2.publish")
    attachment = next(p for p in publish.params if p.name == "attachment")
    assert attachment.annotation == "PostAttachment"
    assert attachment.runtime_kind == "json"  # the run-time check stays "a mapping"
    assert [s.name for s in catalogue.inputs] == [
        "PostText",
        "PostLink",
        "PostBlock",
        "PostAttachment",
    ]


def test_unknown_shape_on_a_param(schema: Path) -> None:
    _edit(
        schema / "methods/postsV2.yaml",
        lambda d: next(
            p for p in _method(d, "postsV2.publish")["params"] if p["name"] == "attachment"
        ).update(shape="PostAtachment"),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("postsV2.publish", "params.attachment.shape")
    assert "unknown input shape 'PostAtachment'" in err.message


def test_shape_only_on_json_params(schema: Path) -> None:
    _edit(
        schema / "methods/postsV2.yaml",
        lambda d: next(
            p for p in _method(d, "postsV2.publish")["params"] if p["name"] == "text"
        ).update(shape="PostAttachment"),
    )
    err = _fails(schema)
    assert err.field == "params.text.shape" and "json" in err.message


def test_union_members_must_exist(schema: Path) -> None:
    _edit(
        schema / "inputs/post.yaml",
        lambda d: _shape(d, "PostBlock").update(union=["PostText", "PostLnk"]),
    )
    err = _fails(schema)
    assert err.file.endswith("inputs/post.yaml")
    assert (err.entry, err.field) == ("PostBlock", "union")
    assert "PostLnk" in err.message


def test_union_tags_must_differ(schema: Path) -> None:
    _edit(schema / "inputs/post.yaml", lambda d: _shape(d, "PostLink").update(tag="text"))
    err = _fails(schema)
    assert err.entry == "PostBlock" and "share the tag 'text'" in err.message


def test_a_tagged_shape_has_no_type_key(schema: Path) -> None:
    _edit(
        schema / "inputs/post.yaml",
        lambda d: _shape(d, "PostText")["fields"].append({"name": "type", "type": "string"}),
    )
    err = _fails(schema)
    assert (err.entry, err.field) == ("PostText", "fields.type")
    assert "tag" in err.message


def test_field_types_name_shapes(schema: Path) -> None:
    _edit(
        schema / "inputs/post.yaml",
        lambda d: _shape(d, "PostAttachment")["fields"][0].update(type="list[Profile]"),
    )
    err = _fails(schema)
    assert err.field == "fields.blocks.type" and "unknown input shape 'Profile'" in err.message


def test_unknown_keys_in_a_shape_are_refused(schema: Path) -> None:
    _edit(schema / "inputs/post.yaml", lambda d: _shape(d, "PostText").update(tagg="x"))
    err = _fails(schema)
    assert err.file.endswith("inputs/post.yaml") and err.entry == "PostText"


def test_duplicate_shape_names_across_files(schema: Path) -> None:
    (schema / "inputs/more.yaml").write_text(
        dump({"description": "x", "types": [{"name": "PostText", "description": "x", "tag": "t"}]}),
        encoding="utf-8",
    )
    err = _fails(schema)
    assert err.entry == "PostText" and "duplicate input shape" in err.message


# -- what the generator writes ---------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    run(FIXTURE, out / "_generated", out / "catalogue.md")
    return out


def _overload_returns(source: str) -> dict[str, str]:
    """Protocol name -> the AsyncIterator[...] an overload of paginate returns."""
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "GeneratedPaging")
    out = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            method = node.args.posonlyargs[1].annotation
            assert isinstance(method, ast.Name) and node.returns is not None
            out[method.id] = ast.unparse(node.returns)
    return out


def test_overloads_carry_the_element_type(generated: Path) -> None:
    source = (generated / "_generated/paging.pyi").read_text(encoding="utf-8")
    assert _overload_returns(source) == {
        "_PeopleBrowseMethod": "AsyncIterator[Profile]",
        "_PostsV2GetPageMethod": "AsyncIterator[dict[str, Any]]",
    }
    assert "from .models.profile import Profile" in source


def test_method_spec_and_group_know_the_paging(generated: Path) -> None:
    source = (generated / "_generated/methods/people.py").read_text(encoding="utf-8")
    assert (
        'paging=Paging("anchor", items="profiles", anchor_param="anchor", anchor_field="anchor", '
        'has_more_field="has_more", total_field="totalCount")'
    ) in " ".join(source.split()).replace("( ", "(").replace(", )", ")")
    assert '"browse": _SPEC_BROWSE' in source


def test_emulator_facts_carry_wire_names(generated: Path) -> None:
    source = (generated / "_generated/emulator_data.py").read_text(encoding="utf-8")
    flat = " ".join(source.split())
    assert (
        'paging=PagingFacts( "anchor", "profiles", "anchor", "anchor", "direction", "count", 20, '
        'None, "has_more", "totalCount", )'
    ) in flat
    assert 'PagingFacts( "offset", "posts", None, None, None, "count", None, "offset",' in flat


def test_shapes_become_typeddicts(generated: Path) -> None:
    source = (generated / "_generated/inputs.py").read_text(encoding="utf-8")
    assert "class PostText(TypedDict):" in source
    assert 'type: Literal["text"]' in source
    assert "PostLink = TypedDict(" in source  # "class" is a keyword: the functional form
    assert "PostBlock = PostText | PostLink" in source
    assert 'pinned: NotRequired[Literal["true", "false"]]' in source
    group = (generated / "_generated/methods/posts_v2.py").read_text(encoding="utf-8")
    assert "from ..inputs import PostAttachment" in group
    assert "attachment: PostAttachment | NotGiven = NOT_GIVEN," in group
