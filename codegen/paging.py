"""What the generator writes for pageable methods (``paging:`` blocks).

- ``spec_paging(method)``: the ``okru_sdk.paging.Paging(...)`` expression on
  the method's ``MethodSpec``;
- ``paged_methods(...)``: one typed overload of ``API.paginate`` per method,
  with the element type of the page's list read from the generated model
  modules (datamodel-code-generator names nested classes, e.g. ``Relation``
  for ``relations``, so the names are looked up in its output, not guessed).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path

from .catalogue import Catalogue, Group, Method
from .naming import class_name

__all__ = ["PagedMethod", "paged_methods", "paging_facts", "paging_summary", "spec_paging"]

#: the annotation of an untyped (``json``) result and of each item of its list
JSON_ANNOTATION = "dict[str, Any]"


def _pystr(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spec_paging(method: Method) -> str:
    """``Paging(...)`` for ``MethodSpec(paging=...)``: Python keywords, wire reply fields."""
    paging = method.paging
    assert paging is not None
    py = {p.name: p.py_name for p in method.params}
    args = [_pystr(paging.style), f"items={_pystr(paging.items)}"]
    if paging.anchor_param is not None:
        args.append(f"anchor_param={_pystr(py[paging.anchor_param])}")
    if paging.anchor_field is not None:
        args.append(f"anchor_field={_pystr(paging.anchor_field)}")
    if paging.has_more_field is not None:
        args.append(f"has_more_field={_pystr(paging.has_more_field)}")
    if paging.total_field is not None:
        args.append(f"total_field={_pystr(paging.total_field)}")
    if paging.offset_param is not None:
        args.append(f"offset_param={_pystr(py[paging.offset_param])}")
    return "Paging(" + ", ".join(args) + ")"


def paging_facts(method: Method) -> str:
    """``PagingFacts(...)`` for the emulator: wire names throughout."""
    paging = method.paging
    assert paging is not None

    def text(value: str | None) -> str:
        return "None" if value is None else _pystr(value)

    count_default = None
    if paging.count_param is not None:
        default = next(p.default for p in method.params if p.name == paging.count_param)
        count_default = default if isinstance(default, int) else None
    args = [
        _pystr(paging.style),
        text(paging.items),
        text(paging.anchor_param),
        text(paging.anchor_field),
        text(paging.direction_param),
        text(paging.count_param),
        str(count_default),
        text(paging.offset_param),
        text(paging.has_more_field),
        text(paging.total_field),
    ]
    return "PagingFacts(" + ", ".join(args) + ")"


def paging_summary(method: Method) -> str:
    """One docstring / docs sentence saying how the method pages."""
    paging = method.paging
    assert paging is not None
    how = {
        "anchor": f"by anchor (``{paging.anchor_param}``)",
        "legacy_anchor": f"by legacy anchor (``{paging.anchor_param}``)",
        "offset": f"by offset (``{paging.offset_param}``)",
    }[paging.style]
    text = (
        f"Pageable {how}: ``api.paginate`` yields every item of ``{paging.items}``, "
        "page after page."
    )
    if paging.items_source == "example":
        text += " The reply is undocumented: the field names are those of the example."
    return text


@dataclasses.dataclass(frozen=True)
class PagedMethod:
    """One overload of ``API.paginate``."""

    method: Method
    group: Group
    #: the private Protocol the overload matches the bound method with
    protocol: str
    #: the result annotation (the method's return type)
    result: str
    #: the annotation of one item of the page's list
    item: str


class _Models:
    """Reads the generated model modules to find the class behind a field."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._trees: dict[str, ast.Module] = {}

    def tree(self, module: str) -> ast.Module:
        if module not in self._trees:
            source = (self.folder / f"{module}.py").read_text(encoding="utf-8")
            self._trees[module] = ast.parse(source)
        return self._trees[module]

    def find_class(self, module: str, name: str) -> tuple[str, ast.ClassDef] | None:
        """The module defining ``name`` as seen from ``module`` and its class node."""
        for node in self.tree(module).body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return module, node
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 1
                and node.module
                and any((alias.asname or alias.name) == name for alias in node.names)
            ):
                return self.find_class(node.module, name)
        return None


def _field_annotation(cls: ast.ClassDef, wire: str) -> ast.expr:
    """The annotation of the field whose wire name (alias, or its own name) is ``wire``."""
    for node in cls.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        alias = None
        if isinstance(node.value, ast.Call):
            for kw in node.value.keywords:
                if kw.arg == "alias" and isinstance(kw.value, ast.Constant):
                    alias = kw.value.value
        if (alias or node.target.id) == wire:
            return node.annotation
    raise LookupError(f"{cls.name} has no field {wire!r}")


def _without_none(node: ast.expr) -> ast.expr:
    """``X | None`` -> ``X``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        right = node.right
        if isinstance(right, ast.Constant) and right.value is None:
            return node.left
    return node


def _element(
    models: _Models, module: str, title: str, path: str
) -> tuple[str, set[tuple[str, str]]]:
    """The item annotation of the list at ``path`` in model ``title``, and its imports."""
    found = models.find_class(module, title)
    assert found is not None, title
    here, cls = found
    parts = path.split(".")
    for part in parts[:-1]:
        node = _without_none(_field_annotation(cls, part))
        if not isinstance(node, ast.Name):
            raise LookupError(f"{title}.{part} is not a model")
        found = models.find_class(here, node.id)
        if found is None:
            raise LookupError(f"no class {node.id} for {title}.{part}")
        here, cls = found
    node = _without_none(_field_annotation(cls, parts[-1]))
    if not (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "list"
    ):
        raise LookupError(f"{title}.{path} is not a list")
    element = copy.deepcopy(node.slice)  # renamed below; the parsed module stays as read
    imports: set[tuple[str, str]] = set()
    for sub in ast.walk(element):
        if isinstance(sub, ast.Name):
            owner = models.find_class(here, sub.id)
            if owner is not None:
                imports.add((f"models.{owner[0]}", sub.id))
                sub.id = f"{{{owner[0]}.{sub.id}}}"  # filled in once the imports are known
    return ast.unparse(element), imports


def paged_methods(
    catalogue: Catalogue, models_folder: Path
) -> tuple[list[PagedMethod], dict[str, set[str]]]:
    """The overloads in wire-name order, and the imports they need (module -> names)."""
    models = _Models(models_folder)
    out: list[PagedMethod] = []
    imports: dict[str, set[str]] = {}

    #: imported name -> (module, class); classes nested in different models can share a
    #: name (``Group``), so a later one is imported under an alias
    taken: dict[str, tuple[str, str]] = {}

    def local(module: str, name: str) -> str:
        key = (module, name)
        for shown, owner in taken.items():
            if owner == key:
                return shown
        shown = name
        if shown in taken:
            shown = class_name(module.rsplit(".", 1)[-1]) + name
        taken[shown] = key
        return shown

    def need(module: str, name: str) -> None:
        imports.setdefault(module, set()).add(name)

    for group in catalogue.groups:
        for method in group.methods:
            if method.paging is None:
                continue
            result = method.result_expr
            if result.kind == "object":
                module = catalogue.object_module(result.name)
                need(f"models.{module}", result.name)
                local(f"models.{module}", result.name)
                item, item_imports = _element(models, module, result.name, method.paging.items)
                for mod, name in sorted(item_imports):
                    shown = local(mod, name)
                    need(mod, name if shown == name else f"{name} as {shown}")
                    item = item.replace(f"{{{mod.removeprefix('models.')}.{name}}}", shown)
                annotation = result.name
            else:
                annotation = item = JSON_ANNOTATION
            for param in method.params:
                if param.fields_of:
                    need("fields", f"{param.fields_of}Field")
                if param.enum_alias:
                    need("enums", param.enum_alias)
                if param.shape:
                    need("inputs", param.shape)
            protocol = "_" + class_name(method.name.replace(".", "_")) + "Method"
            out.append(PagedMethod(method, group, protocol, annotation, item))
    out.sort(key=lambda m: m.method.name)
    return out, imports
