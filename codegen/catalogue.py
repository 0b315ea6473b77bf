"""Pydantic models of the catalogue itself, and the loader that checks it.

Every problem found while loading raises :class:`CatalogueError`, which names
the file, the entry (method, object or error code) and the field, so a
maintainer can go straight to the line to fix.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .naming import class_name, python_param_name, snake_case
from .types import TypeExpr, TypeSyntaxError, parse_type

__all__ = [
    "Catalogue",
    "CatalogueError",
    "EnumType",
    "ErrorCode",
    "ErrorFamily",
    "Group",
    "InputField",
    "InputType",
    "Method",
    "ObjectSchema",
    "Param",
    "Paging",
    "Scope",
    "ScopeUse",
    "load_catalogue",
]

DOC_URL = "https://apiok.ru/dev/methods/rest/{group}/{method}"
#: ``source`` prefixes of official method pages and of the official docs repository
OFFICIAL_SITES = ("https://apiok.ru/", "https://new.apiok.ru/")
DOCS_REPO = "github:apiok/documentation"

#: how a type is known, strongest first: an official method page, the official docs
#: repository's description, the legacy SDK docs, client code, a guess from the name;
#: ``unknown`` (results only): no evidence at all, so the result is left untyped
TypeSource = Literal["doc", "doc_repo", "legacy", "code", "inferred", "unknown"]

#: catalogue scalar -> the value kind :class:`okru_sdk.params.Param` checks
RUNTIME_KINDS = {
    "string": "string",
    "date": "string",
    "int": "int",
    "long": "int",
    "float": "float",
    "boolean": "boolean",
    "json": "json",
}


class CatalogueError(Exception):
    """A bad catalogue entry: ``file: entry: field: problem``."""

    def __init__(self, file: str, entry: str, field: str, message: str) -> None:
        self.file = file
        self.entry = entry
        self.field = field
        self.message = message
        super().__init__(f"{file}: {entry}: {field}: {message}")


class _Strict(BaseModel):
    """Catalogue models reject unknown keys, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# -- methods ----------------------------------------------------------------------


class ScopeUse(_Strict):
    """A scope a method needs, optionally only in some cases (``when``)."""

    name: str
    when: str | None = None


class Param(_Strict):
    """One method parameter."""

    #: the wire name, exactly as OK.ru spells it
    name: str
    #: the Python keyword; defaults to snake_case of ``name``
    python_name: str | None = None
    type: str
    required: bool = False
    #: the server-side default when the parameter is left out (documentation only)
    default: Any = None
    #: closed set of values: the Python type becomes ``Literal[...]``
    enum: list[str] | None = None
    #: values seen in the wild but not confirmed complete: documented, not enforced
    known_values: list[str] | None = None
    #: for a ``fields``-style ``list[string]``: the object whose property names are the
    #: known values; the Python type offers them (``Sequence[UserField | str]``)
    fields_of: str | None = None
    #: a shared enum from ``schema/enums/`` (its values become ``enum`` or, for an
    #: open enum, ``known_values``; set ``enum_open`` is the loader's, not the YAML's)
    enum_type: str | None = None
    enum_open: bool = False
    max_items: int | None = None
    max_length: int | None = None
    #: the value is a secret (password, token, key, code): redacted from logs, errors
    #: and server echoes
    secret: bool = False
    #: for a ``json`` parameter: the input shape from ``schema/inputs/`` that types it
    #: (a ``TypedDict`` in ``okru_sdk.inputs``); the run-time check stays "a mapping"
    shape: str | None = None
    description: str = ""
    #: how the type is known: doc, legacy, code or inferred
    type_source: TypeSource | None = None
    #: maintainer note; not shown to users
    note: str | None = None

    @property
    def py_name(self) -> str:
        return self.python_name or python_param_name(self.name)

    @property
    def type_expr(self) -> TypeExpr:
        return parse_type(self.type)

    @property
    def is_fields(self) -> bool:
        """A ``fields``-style parameter (``fields``, ``photo_fields``...): any string goes."""
        return self.name.lower().endswith("fields")

    @property
    def closed_enum(self) -> list[str] | None:
        """The enforced values: ``enum``, except on ``fields``-style params (documented only)."""
        return None if self.is_fields else self.enum

    @property
    def documented_values(self) -> list[str] | None:
        """Values shown in the docs as known but not enforced."""
        if self.is_fields and self.enum:
            return [*self.enum, *(self.known_values or [])]
        return self.known_values

    @property
    def annotation(self) -> str:
        if self.shape:
            return self.shape
        if self.fields_of:
            return f"Sequence[{self.fields_of}Field | str]"
        literal = None
        if self.closed_enum:
            # a shared enum is one alias in ``_generated/enums.py``, not a copy per use
            literal = self.enum_type or (
                "Literal[" + ", ".join(_py_str(v) for v in self.closed_enum) + "]"
            )
        elif self.enum_open and self.known_values:
            assert self.enum_type is not None  # only a shared enum is open
            literal = f"{self.enum_type} | str"
        return self.type_expr.param_annotation(literal)

    @property
    def enum_alias(self) -> str | None:
        """The shared enum alias the annotation names (imported from ``_generated/enums``)."""
        if self.enum_type and (self.closed_enum or (self.enum_open and self.known_values)):
            return self.enum_type
        return None

    @property
    def runtime_kind(self) -> str:
        """The value kind checked before sending: string, int, float, boolean, json or list."""
        expr = self.type_expr
        return "list" if expr.kind == "list" else RUNTIME_KINDS[expr.name]

    @property
    def runtime_item(self) -> str | None:
        """The item kind of a list parameter, else ``None``."""
        item = self.type_expr.item
        return RUNTIME_KINDS[item.name] if item is not None else None


#: parameter and reply-field names each paging style uses unless the block says otherwise
PAGING_DEFAULTS: dict[str, dict[str, str]] = {
    "anchor": {
        "anchor_param": "anchor",
        "anchor_field": "anchor",
        "direction_param": "direction",
        "count_param": "count",
    },
    "legacy_anchor": {
        "anchor_param": "pagingAnchor",
        "anchor_field": "pagingAnchor",
        "direction_param": "pagingDirection",
        "count_param": "count",
    },
    "offset": {"offset_param": "offset", "count_param": "count"},
}


class Paging(_Strict):
    """A method's ``paging:`` block: which convention it follows and where the list is.

    Parameter names are wire names of the method's parameters; reply fields are
    wire names in the result, dotted for a nested field (``category.badges``).
    Names the style implies (``PAGING_DEFAULTS``) may be left out; write
    ``null`` for one the method does not have (``direction_param: null``).
    """

    style: Literal["anchor", "legacy_anchor", "offset"]
    #: the result field holding the page's list
    items: str
    #: ``result``: the fields are checked against the result object; ``example``: the
    #: result is untyped ``json`` and the field names come from the catalogue example
    #: (a guess from an illustrative reply, said so in the docs)
    items_source: Literal["result", "example"] = "result"
    anchor_param: str | None = None
    anchor_field: str | None = None
    direction_param: str | None = None
    count_param: str | None = None
    offset_param: str | None = None
    #: the result field saying whether more pages follow (``has_more``, ``hasMore``)
    has_more_field: str | None = None
    #: the result field with the total count (``totalCount``, ``total_count``)
    total_field: str | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _style_defaults(cls, data: Any) -> Any:
        style = data.get("style") if isinstance(data, dict) else None
        if isinstance(style, str) and style in PAGING_DEFAULTS:
            return {**PAGING_DEFAULTS[data["style"]], **data}
        return data

    def param_names(self) -> dict[str, str]:
        """Role -> wire name of every parameter the block names."""
        roles = {
            "anchor_param": self.anchor_param,
            "direction_param": self.direction_param,
            "count_param": self.count_param,
            "offset_param": self.offset_param,
        }
        return {role: name for role, name in roles.items() if name is not None}

    def field_paths(self) -> dict[str, str]:
        """Role -> dotted result field of every reply field the block names."""
        roles = {
            "items": self.items,
            "anchor_field": self.anchor_field,
            "has_more_field": self.has_more_field,
            "total_field": self.total_field,
        }
        return {role: path for role, path in roles.items() if path is not None}


class Method(_Strict):
    """One catalogued method."""

    #: the wire name ``group.method``
    name: str
    python_name: str | None = None
    description: str
    session: Literal["required", "optional", "prohibited"]
    #: why the session mode is what it is, when the sources are not plain about it
    session_note: str | None = None
    scopes: list[ScopeUse] = Field(default_factory=list)
    params: list[Param] = Field(default_factory=list)
    #: a type of the type language, see :mod:`codegen.types`
    result: str
    #: a plausible reply; the emulator answers it and docs show it
    example: Any
    #: whether repeating the call after a transient failure is harmless
    retry_safe: bool
    #: ``false`` for the few methods OK.ru wants unsigned (sdk.init)
    signed: bool = True
    doc_url: str | None = None
    confidence: Literal["high", "medium", "low"]
    source: list[str] = Field(default_factory=list)
    deprecated: bool = False
    #: OK.ru only allows it for its own or whitelisted apps; the docstring warns
    first_party: bool = False
    #: the method that replaces a deprecated one (wire name)
    replaced_by: str | None = None
    #: how the ``result`` type is known: doc, legacy, code or inferred
    result_source: TypeSource | None = None
    #: maintainer notes: overrides, doubts, limits; shown in the docstring
    notes: str | None = None
    #: how the method pages (``api.paginate``); ``None`` when it does not
    paging: Paging | None = None

    @field_validator("scopes", mode="before")
    @classmethod
    def _scope_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @property
    def group_name(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def py_name(self) -> str:
        return self.python_name or snake_case(self.short_name)

    @property
    def spec_name(self) -> str:
        return "_SPEC_" + self.py_name.upper()

    @property
    def result_expr(self) -> TypeExpr:
        return parse_type(self.result)

    @property
    def result_unconfirmed(self) -> list[str]:
        """Why the result shape is unconfirmed (empty when it is not).

        The rule: the result is or holds untyped ``json`` (``dict[str, Any]``),
        or the entry's confidence is low, or the result type is marked inferred.
        """
        reasons: list[str] = []
        if _mentions_json(self.result_expr):
            reasons.append("untyped (`dict[str, Any]`)")
        if self.confidence == "low":
            reasons.append("low confidence")
        if self.result_source == "inferred":
            reasons.append("result type inferred")
        return reasons

    @property
    def official_page(self) -> bool:
        """Whether an official apiok.ru method page backs the entry (a ``source`` URL)."""
        return any(src.startswith(OFFICIAL_SITES) for src in self.source)

    @property
    def docs_repo(self) -> bool:
        """Whether the official docs repository (apiok/documentation) backs the entry."""
        return any(src.startswith(DOCS_REPO) for src in self.source)

    @property
    def doc_link(self) -> str:
        return self.doc_url or DOC_URL.format(group=self.group_name, method=self.name)


class Group(_Strict):
    """One ``schema/methods/<group>.yaml`` file."""

    group: str
    python_name: str | None = None
    description: str
    methods: list[Method]
    #: set by the loader: the file, relative to the catalogue root
    file: str = ""

    @property
    def py_name(self) -> str:
        return self.python_name or snake_case(self.group)

    @property
    def class_name(self) -> str:
        return class_name(self.py_name) + "Methods"


# -- objects, enums, errors, scopes ------------------------------------------------


class EnumType(_Strict):
    """One ``schema/enums/<Name>.yaml`` file: a named set of string values."""

    name: str
    description: str
    #: open: the set may grow, so values are offered (``Literal[...] | str``), not enforced
    open: bool = False
    values: list[str]
    source: list[str] = Field(default_factory=list)
    #: set by the loader
    file: str = ""


class ObjectSchema(_Strict):
    """One ``schema/objects/<name>.yaml`` file: a JSON Schema with a ``title``."""

    title: str
    module: str
    file: str
    schema_: dict[str, Any]


class InputField(_Strict):
    """One key of an input shape (a ``TypedDict`` key)."""

    #: the JSON key, exactly as OK.ru reads it
    name: str
    #: a type of the type language: a scalar, ``list[...]`` or the name of an input shape
    type: str
    required: bool = False
    #: closed set of values: ``Literal[...]``, so another value is a type error
    enum: list[str] | None = None
    #: values seen but not known to be complete: documented only
    known_values: list[str] | None = None
    description: str = ""
    type_source: TypeSource | None = None
    note: str | None = None

    @property
    def type_expr(self) -> TypeExpr:
        return parse_type(self.type)

    @property
    def annotation(self) -> str:
        literal = None
        if self.enum:
            literal = "Literal[" + ", ".join(_py_str(v) for v in self.enum) + "]"
        return _input_annotation(self.type_expr, literal)


class InputType(_Strict):
    """A JSON shape a method parameter takes: a ``TypedDict``, or a union of them.

    ``tag`` makes the shape one member of a tagged union: it gets a required
    ``"type": Literal[<tag>]`` key, so a misspelt media type is a type error.
    Untagged members of a union are told apart by their keys.
    """

    #: the Python name (PascalCase), ``from okru_sdk.inputs import <name>``
    name: str
    description: str
    #: the value of the ``type`` key of a tagged shape
    tag: str | None = None
    fields: list[InputField] = Field(default_factory=list)
    #: a union of other (tagged) shapes instead of keys of its own
    union: list[str] | None = None
    source: list[str] = Field(default_factory=list)
    note: str | None = None
    #: set by the loader
    file: str = ""


class InputsFile(_Strict):
    """One ``schema/inputs/<name>.yaml`` file: related input shapes."""

    description: str
    source: list[str] = Field(default_factory=list)
    types: list[InputType]


class ErrorFamily(_Strict):
    name: str
    class_name: str
    description: str


class ErrorCode(_Strict):
    code: int
    name: str
    #: Python class name; defaults to PascalCase of ``name``
    class_name: str | None = None
    family: str
    description: str
    transient: bool = False
    confidence: Literal["high", "medium", "low"] = "high"
    note: str | None = None

    @property
    def py_class(self) -> str:
        return self.class_name or class_name(self.name)


class ErrorsFile(_Strict):
    families: list[ErrorFamily]
    errors: list[ErrorCode]


class Scope(_Strict):
    name: str
    description: str
    confidence: Literal["high", "medium", "low"]
    source: str | None = None


class ScopesFile(_Strict):
    scopes: list[Scope]


class Catalogue(_Strict):
    """The whole loaded and cross-checked catalogue."""

    root: str
    groups: list[Group]
    objects: list[ObjectSchema]
    enums: list[EnumType] = Field(default_factory=list)
    #: input shapes (``schema/inputs/``), in file and declaration order
    inputs: list[InputType] = Field(default_factory=list)
    families: list[ErrorFamily]
    errors: list[ErrorCode]
    scopes: list[Scope]
    #: sha256 over every catalogue file, paths included
    digest: str

    @property
    def methods(self) -> list[Method]:
        return [m for g in self.groups for m in g.methods]

    def object_module(self, title: str) -> str:
        for obj in self.objects:
            if obj.title == title:
                return obj.module
        raise KeyError(title)


# -- loading -----------------------------------------------------------------------


def _mentions_json(expr: TypeExpr) -> bool:
    if expr.item is not None:
        return _mentions_json(expr.item)
    return expr.kind == "scalar" and expr.name == "json"


def _input_annotation(expr: TypeExpr, literal: str | None = None) -> str:
    """The annotation of an input-shape key: scalars as for parameters, lists as
    ``Sequence[...]``, other shapes by name."""
    if expr.kind == "list":
        assert expr.item is not None
        return f"Sequence[{_input_annotation(expr.item, literal)}]"
    if expr.kind == "object":
        return expr.name
    return expr.param_annotation(literal)


def _py_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read_yaml(path: Path, rel: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        anchored = next(
            (e for e in yaml.parse(text) if getattr(e, "anchor", None) is not None), None
        )
    except yaml.YAMLError as exc:
        raise CatalogueError(rel, "-", "-", f"not valid YAML: {exc}") from exc
    if anchored is not None:
        mark = anchored.start_mark
        line = mark.line + 1 if mark is not None else 0
        raise CatalogueError(
            rel,
            "-",
            f"line {line}",
            "YAML anchors and aliases are not used in the catalogue: write the value out "
            "(python -m codegen.tools.format_schema does it)",
        )
    return data


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "-"


def _validation_error(rel: str, data: Any, exc: ValidationError, list_key: str) -> CatalogueError:
    """Turn the first pydantic error into a CatalogueError naming the entry."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    entry = "-"
    if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
        try:
            item = data[list_key][loc[1]]
            entry = str(item.get("name") or item.get("code") or f"{list_key}[{loc[1]}]")
        except (KeyError, IndexError, TypeError, AttributeError):
            entry = f"{list_key}[{loc[1]}]"
        item_index = loc[1]
        loc = loc[2:]
        # name the parameter, not its index
        if len(loc) >= 2 and loc[0] == "params" and isinstance(loc[1], int):
            try:
                pname = data[list_key][item_index]["params"][loc[1]]["name"]
                loc = ("params", str(pname), *loc[2:])
            except (KeyError, IndexError, TypeError):
                pass
    return CatalogueError(rel, entry, _loc(loc), err["msg"])


def _hash_files(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_catalogue(root: Path) -> Catalogue:
    """Load ``root`` (a ``schema/`` folder) and check it; raise :class:`CatalogueError`.

    File names in errors are shown relative to the working directory when possible.
    """
    root = root.resolve()
    try:
        return _load(root)
    except CatalogueError as exc:
        try:
            shown = root.relative_to(Path.cwd()).as_posix()
        except ValueError:
            shown = root.as_posix()
        raise CatalogueError(f"{shown}/{exc.file}", exc.entry, exc.field, exc.message) from None


def _load(root: Path) -> Catalogue:
    method_files = sorted((root / "methods").glob("*.yaml"))
    object_files = sorted((root / "objects").glob("*.yaml"))
    enum_files = sorted((root / "enums").glob("*.yaml"))
    input_files = sorted((root / "inputs").glob("*.yaml"))
    all_files = [*method_files, *object_files, *enum_files, *input_files]
    for extra in ("errors.yaml", "scopes.yaml"):
        if not (root / extra).is_file():
            raise CatalogueError(extra, "-", "-", f"missing file {root / extra}")
        all_files.append(root / extra)

    scopes = _load_scopes(root)
    objects = _load_objects(root, object_files)
    families, errors = _load_errors(root)
    enums = _load_enums(root, enum_files)
    inputs = _load_inputs(root, input_files)
    groups = [_resolve_enums(_load_group(root, path), enums) for path in method_files]
    _check_methods(groups, objects, {s.name for s in scopes}, {i.name for i in inputs})
    return Catalogue(
        root=str(root),
        groups=sorted(groups, key=lambda g: g.group),
        objects=objects,
        enums=sorted(enums.values(), key=lambda e: e.name),
        inputs=inputs,
        families=families,
        errors=errors,
        scopes=scopes,
        digest=_hash_files(root, all_files),
    )


def _load_scopes(root: Path) -> list[Scope]:
    rel = "scopes.yaml"
    data = _read_yaml(root / rel, rel)
    try:
        parsed = ScopesFile.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(rel, data, exc, "scopes") from exc
    seen: set[str] = set()
    for scope in parsed.scopes:
        if scope.name in seen:
            raise CatalogueError(rel, scope.name, "name", "duplicate scope")
        seen.add(scope.name)
    return sorted(parsed.scopes, key=lambda s: s.name)


def _load_errors(root: Path) -> tuple[list[ErrorFamily], list[ErrorCode]]:
    rel = "errors.yaml"
    data = _read_yaml(root / rel, rel)
    try:
        parsed = ErrorsFile.model_validate(data)
    except ValidationError as exc:
        key = "errors" if any(e["loc"][:1] == ("errors",) for e in exc.errors()) else "families"
        raise _validation_error(rel, data, exc, key) from exc
    family_names = {f.name for f in parsed.families}
    codes: set[int] = set()
    classes: set[str] = {f.class_name for f in parsed.families}
    if len(classes) != len(parsed.families):
        raise CatalogueError(rel, "families", "class_name", "two families share a class name")
    for err in parsed.errors:
        entry = f"{err.code} {err.name}"
        if err.code in codes:
            raise CatalogueError(rel, entry, "code", "duplicate error code")
        if err.family not in family_names:
            raise CatalogueError(
                rel, entry, "family", f"unknown family {err.family!r} (see 'families')"
            )
        if err.py_class in classes:
            raise CatalogueError(rel, entry, "class_name", f"duplicate class {err.py_class!r}")
        codes.add(err.code)
        classes.add(err.py_class)
    return parsed.families, sorted(parsed.errors, key=lambda e: e.code)


def _iter_refs(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path or "$ref", value
            else:
                yield from _iter_refs(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _iter_refs(value, f"{path}[{i}]")


def _load_objects(root: Path, files: list[Path]) -> list[ObjectSchema]:
    objects: list[ObjectSchema] = []
    titles: dict[str, str] = {}
    names = {p.name for p in files}
    for path in files:
        rel = path.relative_to(root).as_posix()
        data = _read_yaml(path, rel)
        if not isinstance(data, dict):
            raise CatalogueError(rel, path.stem, "-", "an object file must hold a JSON Schema")
        title = data.get("title")
        if not isinstance(title, str) or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", title):
            raise CatalogueError(rel, path.stem, "title", "needs a PascalCase 'title'")
        if title in titles:
            raise CatalogueError(rel, title, "title", f"duplicate object, also in {titles[title]}")
        if data.get("type") != "object":
            raise CatalogueError(rel, title, "type", "an object schema must have type: object")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", path.stem):
            raise CatalogueError(rel, title, "-", "file names are snake_case (a module name)")
        for where, ref in _iter_refs(data):
            if ref not in names:
                raise CatalogueError(
                    rel, title, where, f"$ref to missing object file {ref!r} in objects/"
                )
        titles[title] = rel
        objects.append(ObjectSchema(title=title, module=path.stem, file=rel, schema_=data))
    return objects


def _load_enums(root: Path, files: list[Path]) -> dict[str, EnumType]:
    enums: dict[str, EnumType] = {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        data = _read_yaml(path, rel)
        try:
            enum = EnumType.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise CatalogueError(rel, path.stem, _loc(tuple(err["loc"])), err["msg"]) from exc
        if enum.name != path.stem:
            raise CatalogueError(rel, enum.name, "name", f"file name must be {enum.name}.yaml")
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", enum.name):
            raise CatalogueError(rel, enum.name, "name", "enum names are PascalCase")
        if not enum.values or len(set(enum.values)) != len(enum.values):
            raise CatalogueError(rel, enum.name, "values", "needs distinct values")
        enums[enum.name] = enum.model_copy(update={"file": rel})
    return enums


def _resolve_enums(group: Group, enums: dict[str, EnumType]) -> Group:
    """Fill ``enum`` / ``known_values`` of params that name a shared enum."""
    methods: list[Method] = []
    for method in group.methods:
        params: list[Param] = []
        for param in method.params:
            if param.enum_open:
                raise CatalogueError(
                    group.file, method.name, f"params.{param.name}.enum_open", "set by the loader"
                )
            if param.enum_type is not None:
                field = f"params.{param.name}.enum_type"
                enum = enums.get(param.enum_type)
                if enum is None:
                    raise CatalogueError(
                        group.file, method.name, field, f"no schema/enums/{param.enum_type}.yaml"
                    )
                if param.enum is not None or param.known_values is not None:
                    raise CatalogueError(
                        group.file, method.name, field, "enum_type replaces enum and known_values"
                    )
                update: dict[str, Any] = (
                    {"known_values": enum.values, "enum_open": True}
                    if enum.open
                    else {"enum": enum.values}
                )
                param = param.model_copy(update=update)
            params.append(param)
        methods.append(method.model_copy(update={"params": params}))
    return group.model_copy(update={"methods": methods})


def _load_group(root: Path, path: Path) -> Group:
    rel = path.relative_to(root).as_posix()
    data = _read_yaml(path, rel)
    try:
        group = Group.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(rel, data, exc, "methods") from exc
    if path.stem != group.group:
        raise CatalogueError(rel, "-", "group", f"file name must be {group.group}.yaml")
    return group.model_copy(update={"file": rel})


def _check_methods(
    groups: list[Group], objects: list[ObjectSchema], scopes: set[str], inputs: set[str]
) -> None:
    titles = {o.title for o in objects}
    seen: dict[str, str] = {}
    group_py: dict[str, str] = {}
    for group in groups:
        rel = group.file
        if group.py_name in group_py:
            raise CatalogueError(rel, "-", "python_name", f"clashes with {group_py[group.py_name]}")
        group_py[group.py_name] = rel
        py_names: set[str] = set()
        for method in group.methods:
            _check_method(rel, group, method, titles, scopes, inputs)
            if method.paging is not None:
                _check_paging(rel, method, method.paging, objects)
            if method.name in seen:
                raise CatalogueError(
                    rel, method.name, "name", f"duplicate method, also in {seen[method.name]}"
                )
            if method.py_name in py_names:
                raise CatalogueError(rel, method.name, "python_name", "duplicate Python name")
            seen[method.name] = rel
            py_names.add(method.py_name)


#: builtins the generated annotations use: a method of that name would shadow them in its class
_SHADOWED_BUILTINS = frozenset({"list", "dict", "str", "int", "float", "bool", "type", "object"})


def _check_method(
    rel: str, group: Group, method: Method, objects: set[str], scopes: set[str], inputs: set[str]
) -> None:
    name = method.name
    if "." not in name or method.group_name != group.group:
        raise CatalogueError(rel, name, "name", f"must be '{group.group}.<method>'")
    if not method.description.strip():
        raise CatalogueError(rel, name, "description", "must not be empty")
    if method.py_name in _SHADOWED_BUILTINS:
        raise CatalogueError(
            rel,
            name,
            "python_name",
            f"{method.py_name!r} would shadow the builtin in the group's annotations: "
            "set a python_name",
        )
    for scope in method.scopes:
        if scope.name not in scopes:
            raise CatalogueError(rel, name, "scopes", f"unknown scope {scope.name!r}")
    try:
        result = method.result_expr
    except TypeSyntaxError as exc:
        raise CatalogueError(rel, name, "result", str(exc)) from exc
    for obj in result.objects:
        if obj not in objects:
            raise CatalogueError(rel, name, "result", f"unknown object {obj!r} (no such title)")
    if result.name == "none" and method.example is not None:
        raise CatalogueError(rel, name, "example", "a 'none' result has no example (use null)")
    py_names: set[str] = set()
    wire_names: set[str] = set()
    for param in method.params:
        field = f"params.{param.name}"
        try:
            expr = param.type_expr
            param.annotation  # noqa: B018  # raises for object types
        except TypeSyntaxError as exc:
            raise CatalogueError(rel, name, f"{field}.type", str(exc)) from exc
        if param.fields_of is not None:
            if param.fields_of not in objects:
                raise CatalogueError(
                    rel, name, f"{field}.fields_of", f"unknown object {param.fields_of!r}"
                )
            if param.type != "list[string]" or not param.is_fields:
                raise CatalogueError(
                    rel, name, f"{field}.fields_of", "only for a fields-style list[string]"
                )
        if expr.name == "none" or (expr.item is not None and expr.item.kind != "scalar"):
            raise CatalogueError(rel, name, f"{field}.type", f"{param.type!r} is not a param type")
        if param.enum is not None:
            base = expr.item if expr.item is not None else expr
            if base.name != "string":
                raise CatalogueError(rel, name, f"{field}.enum", "only string values can be enums")
            if not param.enum:
                raise CatalogueError(rel, name, f"{field}.enum", "an enum needs values")
            if param.default is not None and param.default not in param.enum:
                raise CatalogueError(
                    rel, name, f"{field}.default", f"{param.default!r} is not in the enum"
                )
        if param.shape is not None:
            if param.shape not in inputs:
                raise CatalogueError(
                    rel, name, f"{field}.shape", f"unknown input shape {param.shape!r} (inputs/)"
                )
            if param.type != "json":
                raise CatalogueError(rel, name, f"{field}.shape", "only for a 'json' parameter")
        if param.required and param.default is not None:
            raise CatalogueError(rel, name, f"{field}.default", "a required param has no default")
        if param.name in wire_names:
            raise CatalogueError(rel, name, field, "duplicate parameter")
        if param.py_name in py_names:
            raise CatalogueError(rel, name, f"{field}.python_name", "duplicate Python name")
        wire_names.add(param.name)
        py_names.add(param.py_name)


# -- input shapes ---------------------------------------------------------------------


def _load_inputs(root: Path, files: list[Path]) -> list[InputType]:
    types: list[InputType] = []
    where: dict[str, str] = {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        data = _read_yaml(path, rel)
        try:
            parsed = InputsFile.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(rel, data, exc, "types") from exc
        if not re.fullmatch(r"[a-z][a-z0-9_]*", path.stem):
            raise CatalogueError(rel, "-", "-", "file names are snake_case")
        for shape in parsed.types:
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", shape.name):
                raise CatalogueError(rel, shape.name, "name", "input shape names are PascalCase")
            if shape.name in where:
                raise CatalogueError(
                    rel, shape.name, "name", f"duplicate input shape, also in {where[shape.name]}"
                )
            where[shape.name] = rel
            types.append(shape.model_copy(update={"file": rel}))
    by_name = {t.name: t for t in types}
    for shape in types:
        _check_input(shape, by_name)
    return types


def _check_input(shape: InputType, by_name: dict[str, InputType]) -> None:
    rel, name = shape.file, shape.name
    if shape.union is not None:
        if shape.fields or shape.tag is not None:
            raise CatalogueError(rel, name, "union", "a union has no fields or tag of its own")
        if len(shape.union) < 2:
            raise CatalogueError(rel, name, "union", "a union needs at least two members")
        tags: dict[str, str] = {}
        for member in shape.union:
            other = by_name.get(member)
            if other is None:
                raise CatalogueError(rel, name, "union", f"unknown input shape {member!r}")
            if other.union is not None:
                raise CatalogueError(rel, name, "union", f"{member} is a union itself")
            if other.tag is None:
                continue  # told apart by its keys
            if other.tag in tags:
                shared = f"{member} and {tags[other.tag]} share the tag {other.tag!r}"
                raise CatalogueError(rel, name, "union", shared)
            tags[other.tag] = member
        return
    if not shape.fields and shape.tag is None:
        raise CatalogueError(rel, name, "fields", "a shape needs fields, a tag, or a union")
    keys: set[str] = {"type"} if shape.tag is not None else set()
    for item in shape.fields:
        field = f"fields.{item.name}"
        if item.name in keys:
            why = "the tag's key" if item.name == "type" and shape.tag else "a duplicate key"
            raise CatalogueError(rel, name, field, f"{item.name!r} is {why}")
        keys.add(item.name)
        try:
            expr = item.type_expr
        except TypeSyntaxError as exc:
            raise CatalogueError(rel, name, f"{field}.type", str(exc)) from exc
        base = expr
        while base.item is not None:
            base = base.item
        if base.kind == "object" and base.name not in by_name:
            raise CatalogueError(
                rel, name, f"{field}.type", f"unknown input shape {base.name!r} (inputs/)"
            )
        if base.name == "none":
            raise CatalogueError(rel, name, f"{field}.type", "'none' is not a value type")
        if item.enum is not None and (base.kind != "scalar" or base.name != "string"):
            raise CatalogueError(rel, name, f"{field}.enum", "only string values can be enums")
        if item.enum is not None and not item.enum:
            raise CatalogueError(rel, name, f"{field}.enum", "an enum needs values")


# -- paging -----------------------------------------------------------------------------

#: role -> (JSON Schema type, JSON value check, what to call it) of the reply fields
_PAGING_FIELD_KINDS: dict[str, tuple[str, type | tuple[type, ...], str]] = {
    "items": ("array", list, "a list"),
    "anchor_field": ("string", str, "a string"),
    "has_more_field": ("boolean", bool, "a boolean"),
    "total_field": ("integer", int, "an integer"),
}
#: role -> catalogue scalar types the parameter may have
_PAGING_PARAM_TYPES: dict[str, tuple[str, ...]] = {
    "anchor_param": ("string",),
    "direction_param": ("string",),
    "count_param": ("int", "long"),
    "offset_param": ("int", "long"),
}


def _check_paging(rel: str, method: Method, paging: Paging, objects: list[ObjectSchema]) -> None:
    name = method.name

    def fail(field: str, message: str) -> CatalogueError:
        return CatalogueError(rel, name, f"paging.{field}" if field else "paging", message)

    if paging.style == "offset":
        if paging.offset_param is None:
            raise fail("offset_param", "the offset style needs the parameter to send the offset in")
        for role in ("anchor_param", "anchor_field", "direction_param"):
            if getattr(paging, role) is not None:
                raise fail(role, "the offset style has no anchor or direction")
    else:
        if paging.anchor_param is None or paging.anchor_field is None:
            raise fail("anchor_param", f"the {paging.style} style needs the anchor param and field")
        if paging.offset_param is not None:
            raise fail("offset_param", f"the {paging.style} style has no offset")
    params = {p.name: p for p in method.params}
    if any(p.py_name == "limit" for p in method.params):
        raise fail("", "a parameter named limit clashes with api.paginate(..., limit=)")
    for role, wire in paging.param_names().items():
        param = params.get(wire)
        if param is None:
            implied = role in PAGING_DEFAULTS[paging.style]
            hint = " (write null if the method has none)" if implied else ""
            raise fail(role, f"the method has no parameter {wire!r}{hint}")
        if param.type not in _PAGING_PARAM_TYPES[role]:
            allowed = " or ".join(_PAGING_PARAM_TYPES[role])
            raise fail(role, f"parameter {wire!r} is {param.type}, not {allowed}")
        if role == "anchor_param" and param.closed_enum:
            raise fail(role, f"parameter {wire!r} has a closed enum, so it cannot take anchors")
        if param.required and role in ("anchor_param", "offset_param"):
            raise fail(role, f"parameter {wire!r} is required: the first page leaves it out")
    result = method.result_expr
    if result.kind == "object":
        if paging.items_source != "result":
            raise fail("items_source", "the result is a typed object: check fields against it")
        by_title = {o.title: o for o in objects}
        by_file = {Path(o.file).name: o for o in objects}
        for role, path in paging.field_paths().items():
            _check_schema_field(fail, role, path, by_title[result.name].schema_, by_file)
    elif result.kind == "scalar" and result.name == "json":
        if paging.items_source != "example":
            raise fail(
                "items_source",
                "the result is untyped json, so the fields can only come from the example: "
                "write items_source: example (and keep the field names the example shows)",
            )
        for role, path in paging.field_paths().items():
            _check_example_field(fail, role, path, method.example)
    else:
        raise fail("", f"a paged method's result is an object or json, not {method.result!r}")


def _check_schema_field(
    fail: Callable[[str, str], CatalogueError],
    role: str,
    path: str,
    schema: dict[str, Any],
    by_file: dict[str, ObjectSchema],
) -> None:
    node = schema
    parts = path.split(".")
    for i, part in enumerate(parts):
        prop = node.get("properties", {}).get(part)
        if prop is None:
            where = ".".join(parts[:i]) or "the result"
            raise fail(role, f"{where} has no field {part!r}")
        if "$ref" in prop:
            prop = by_file[prop["$ref"]].schema_
        if i < len(parts) - 1:
            if prop.get("type") != "object":
                raise fail(role, f"{'.'.join(parts[: i + 1])} is not an object")
            node = prop
            continue
        wanted, _, what = _PAGING_FIELD_KINDS[role]
        if prop.get("type") != wanted:
            raise fail(role, f"{path} is {prop.get('type')!r} in the result, not {what}")


def _check_example_field(
    fail: Callable[[str, str], CatalogueError], role: str, path: str, example: Any
) -> None:
    value = example
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise fail(role, f"the example has no {path!r}, so nothing backs the name")
        value = value[part]
    _, kind, what = _PAGING_FIELD_KINDS[role]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise fail(role, f"{path} is not {what} in the example")
    if role == "items" and (
        not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value)
    ):
        raise fail(role, f"{path} in the example must hold at least one item, all objects")
