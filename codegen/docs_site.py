"""The reference section of the documentation site, generated from the catalogue.

``make generate`` (``python -m codegen``) writes ``docs/reference/``:

- ``index.md``: every method group and model, with counts;
- ``groups/<group>.md``: one page per method group; for each method its
  Python signature, wire name, session rule, scopes, a parameter table (name,
  type, required, limits, evidence), the result type linked to its model and
  the official page;
- ``models/<module>.md``: one page per response model (fields with their
  Python and wire names, types, descriptions; the methods that return it);
- ``errors.md``: every OK.ru error code with its class.

The folder is wiped first and every list is sorted, so two runs give the same
bytes (``make check-generated`` covers it). Model field names are read from
the freshly generated models (``okru_sdk/_generated/models``), so the page
shows the attribute names users type.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import jinja2

from .catalogue import Catalogue, Group, Method, ObjectSchema, Param
from .render import template_env

__all__ = ["write_reference"]

TEMPLATES = Path(__file__).parent / "templates" / "docs"

#: how a parameter's type is known, in words (see ``codegen.catalogue.TypeSource``)
EVIDENCE = {
    "doc": "official method page",
    "doc_repo": "official docs repository",
    "legacy": "legacy SDK docs",
    "code": "client code",
    "inferred": "inferred from the name",
    "unknown": "unknown",
}


def _env() -> jinja2.Environment:
    env = template_env(TEMPLATES)
    env.filters["cell"] = cell
    env.filters["text"] = text
    return env


def text(value: str | None) -> str:
    """Catalogue prose for Markdown: one paragraph, no raw HTML."""
    if not value:
        return ""
    return " ".join(value.split()).replace("<", "&lt;").replace(">", "&gt;")


def cell(value: str | None) -> str:
    """Catalogue prose for a Markdown table cell."""
    return text(value).replace("|", "\\|")


def signature(method: Method) -> str:
    """The generated method's signature, as users see it (``async def ...``)."""
    lines = [f"async def {method.py_name}(", "    *,"]
    required = [p for p in method.params if p.required]
    optional = [p for p in method.params if not p.required]
    lines += [f"    {p.py_name}: {p.annotation}," for p in required]
    lines += [f"    {p.py_name}: {p.annotation} | NotGiven = NOT_GIVEN," for p in optional]
    lines += [
        "    timeout: float | NotGiven = NOT_GIVEN,",
        "    extra_params: Mapping[str, Any] | None = None,",
        f") -> {method.result_expr.result_annotation()}",
    ]
    return "\n".join(lines)


def limits(param: Param) -> str:
    """Enforced and documented limits of a parameter, in words."""
    bits: list[str] = []
    if param.closed_enum:
        bits.append("one of " + ", ".join(f"`{v}`" for v in param.closed_enum))
    documented = param.documented_values
    if documented:
        shown = documented[:12]
        more = f" (+{len(documented) - len(shown)} more)" if len(documented) > len(shown) else ""
        bits.append("known values: " + ", ".join(f"`{v}`" for v in shown) + more)
    if param.fields_of:
        bits.append(f"known values: the fields of [{param.fields_of}]({{model:{param.fields_of}}})")
    if param.max_items is not None:
        bits.append(f"at most {param.max_items} items")
    if param.max_length is not None:
        bits.append(f"at most {param.max_length} characters")
    if param.default is not None:
        bits.append(f"server default `{json.dumps(param.default, ensure_ascii=False)}`")
    return "; ".join(bits)


def method_evidence(method: Method) -> str:
    if method.official_page:
        kind = "official method page"
    elif method.docs_repo:
        kind = "official docs repository"
    else:
        kind = "no official evidence"
    return f"{kind}; confidence {method.confidence}"


def _link_type(annotation: str, catalogue: Catalogue, prefix: str) -> str:
    """``list[User]`` with ``User`` linked to its model page."""
    out = annotation
    for obj in sorted(catalogue.objects, key=lambda o: -len(o.title)):
        if obj.title in annotation:
            out = out.replace(obj.title, f"[{obj.title}]({prefix}{obj.module}.md)")
            break
    return out


def _schema_type(node: dict[str, Any], refs: dict[str, ObjectSchema]) -> str:
    """A JSON Schema node as a short type, ``$ref`` linked to the model page."""
    if "$ref" in node:
        target = refs.get(str(node["$ref"]))
        return f"[{target.title}]({target.module}.md)" if target else str(node["$ref"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " \\| ".join(_schema_type(n, refs) for n in node[key])
    kind = node.get("type", "any")
    if isinstance(kind, list):
        return " \\| ".join(str(k) for k in kind)
    if kind == "array":
        return f"list[{_schema_type(node.get('items', {}), refs)}]"
    if kind == "object" and "properties" in node:
        return "object (" + ", ".join(sorted(node["properties"])) + ")"
    return str(kind)


def _python_names(obj: ObjectSchema) -> dict[str, str]:
    """Wire name -> attribute name of the generated model."""
    module = importlib.import_module(f"okru_sdk._generated.models.{obj.module}")
    fields = getattr(module, obj.title).model_fields
    return {(info.alias or name): name for name, info in fields.items()}


def _model_page(
    obj: ObjectSchema, catalogue: Catalogue, refs: dict[str, ObjectSchema]
) -> dict[str, Any]:
    schema = obj.schema_
    names = _python_names(obj)
    fields = []
    for wire, node in sorted(schema.get("properties", {}).items()):
        enum = node.get("enum") or (node.get("items") or {}).get("enum")
        fields.append(
            {
                "python": names.get(wire, wire),
                "wire": wire,
                "type": _schema_type(node, refs),
                "description": node.get("description", ""),
                "enum": ", ".join(f"`{v}`" for v in enum) if enum else "",
            }
        )
    group_page = {g.group: g.py_name for g in catalogue.groups}
    used_by = sorted(
        (m.name, group_page[m.group_name], m.py_name)
        for m in catalogue.methods
        if obj.title in m.result_expr.objects
    )
    ref = json.dumps(f"{obj.module}.yaml")
    referenced_by = sorted(
        (o.title, o.module)
        for o in catalogue.objects
        if o is not obj and ref in json.dumps(o.schema_)
    )
    return {
        "obj": obj,
        "description": schema.get("description", ""),
        "source": schema.get("x-source", ""),
        "fields": fields,
        "used_by": used_by,
        "referenced_by": referenced_by,
    }


def _group_context(group: Group, catalogue: Catalogue) -> dict[str, Any]:
    methods = sorted(group.methods, key=lambda m: m.py_name)
    return {
        "group": group,
        "methods": [
            {
                "m": m,
                "signature": signature(m),
                "returns": _link_type(m.result_expr.result_annotation(), catalogue, "../models/"),
                "evidence": method_evidence(m),
                "scopes": ", ".join(
                    f"`{s.name}`" + (f" ({text(s.when)})" if s.when else "") for s in m.scopes
                ),
                "params": [
                    {
                        "p": p,
                        "type": p.type,
                        "limits": limits(p).replace(
                            f"({{model:{p.fields_of}}})",
                            f"(../models/{catalogue.object_module(p.fields_of)}.md)"
                            if p.fields_of
                            else "",
                        ),
                        "evidence": EVIDENCE.get(p.type_source or "", "not recorded"),
                    }
                    for p in m.params
                ],
            }
            for m in methods
        ],
    }


def write_reference(catalogue: Catalogue, folder: Path) -> int:
    """Wipe ``folder`` and write the reference pages into it; return the number of pages."""
    env = _env()
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "groups").mkdir(parents=True)
    (folder / "models").mkdir()
    # The freshly generated models, not any copy imported before this run.
    for name in [n for n in sys.modules if n.startswith("okru_sdk._generated")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    pages = 0

    def render(template: str, target: Path, **context: Any) -> None:
        nonlocal pages
        body = env.get_template(template).render(**context)
        target.write_text(body.rstrip("\n") + "\n", encoding="utf-8")
        pages += 1

    groups = [g for g in catalogue.groups if g.methods]
    for group in groups:
        render(
            "group.md.j2",
            folder / "groups" / f"{group.py_name}.md",
            **_group_context(group, catalogue),
        )
    refs = {f"{o.module}.yaml": o for o in catalogue.objects}
    objects = sorted(catalogue.objects, key=lambda o: o.title)
    for obj in objects:
        render(
            "model.md.j2",
            folder / "models" / f"{obj.module}.md",
            **_model_page(obj, catalogue, refs),
        )
    family_class = {f.name: f.class_name for f in catalogue.families}
    render(
        "errors.md.j2",
        folder / "errors.md",
        errors=catalogue.errors,
        families=catalogue.families,
        family_class=family_class,
    )
    render(
        "index.md.j2",
        folder / "index.md",
        groups=groups,
        objects=objects,
        method_count=len(catalogue.methods),
        error_count=len(catalogue.errors),
    )
    return pages
