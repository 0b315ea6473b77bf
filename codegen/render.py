"""Write the generated package and the reference page from a loaded catalogue.

Output is wiped first, everything is sorted, and ruff formats the result, so
two runs over the same catalogue give the same bytes.
"""

from __future__ import annotations

import collections
import json
import pprint
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import jinja2

from .catalogue import Catalogue, Method
from .catalogue import Param as CatalogueParam
from .contract import example_args
from .coverage import compute_coverage
from .inputs import input_shapes
from .paging import paged_methods, paging_facts, paging_summary, spec_paging

__all__ = ["generate"]

TEMPLATES = Path(__file__).parent / "templates"
REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC_WIDTH = 92

_NOQA_LONG = "\n# ruff: noqa: E501"
HEADER = (TEMPLATES / "header.j2").read_text(encoding="utf-8").rstrip("\n")


def template_env(folder: Path) -> jinja2.Environment:
    """The generator's Jinja2 settings, for the templates in ``folder``."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def _env() -> jinja2.Environment:
    env = template_env(TEMPLATES)
    env.filters["docline"] = _docline
    env.filters["method_doc"] = method_docstring
    env.filters["pyrepr"] = _pyrepr
    env.filters["docwrap"] = _docwrap
    env.filters["spec_param"] = spec_param
    env.filters["pystr"] = _pystr
    env.filters["pytuple"] = _pytuple
    env.filters["example_json"] = _example_json
    env.filters["example_args"] = example_args
    env.filters["spec_paging"] = spec_paging
    env.filters["paging_facts"] = paging_facts
    env.filters["comment"] = _comment
    return env


def _pystr(value: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(value, ensure_ascii=False)


def _example_json(value: Any) -> str:
    """An example as a Python literal of its compact JSON text (split to fit lines)."""
    # ASCII escapes: a Cyrillic example split across lines would read as confusable text
    text = json.dumps(value, ensure_ascii=True, sort_keys=False, separators=(",", ":"))
    if len(text) <= 60:
        return _pystr(text)
    chunks = [text[i : i + 60] for i in range(0, len(text), 60)]
    return "(" + " ".join(_pystr(c) for c in chunks) + ")"


def _pytuple(values: list[str] | None) -> str:
    """A tuple literal of strings without a magic trailing comma (``None`` for None)."""
    if values is None:
        return "None"
    if len(values) == 1:
        return f"({_pystr(values[0])},)"
    return "(" + ", ".join(_pystr(v) for v in values) + ")"


def spec_param(param: CatalogueParam) -> str:
    """The ``okru_sdk.params.Param(...)`` expression declaring one parameter."""
    args = [_pystr(param.name), _pystr(param.runtime_kind)]
    if param.runtime_item is not None:
        args.append(f"item={_pystr(param.runtime_item)}")
    if param.required:
        args.append("required=True")
    enum = param.closed_enum
    if enum:
        args.append(f"enum={_pytuple(enum)}")
    if param.max_items is not None:
        args.append(f"max_items={param.max_items}")
    return "Param(" + ", ".join(args) + ")"


def _doc_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _docline(text: str) -> str:
    return _doc_escape(" ".join(text.split()))


def _docwrap(text: str, indent: int) -> str:
    """Text for a docstring at ``indent``: one line if it fits, else wrapped lines."""
    pad = " " * indent
    if len(pad) + len(_docline(text)) + 6 <= 100:
        return _docline(text)
    return "\n".join(["", *_wrap(text, pad), pad])


def _comment(text: str, indent: int) -> str:
    """``#:`` comment lines for ``text`` at ``indent`` (the first line carries no indent)."""
    pad = " " * indent
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=DOC_WIDTH,
        initial_indent="#: ",
        subsequent_indent="#: ",
        break_long_words=True,
        break_on_hyphens=False,
    )
    return ("\n" + pad).join(lines)


def _pyrepr(value: Any) -> str:
    return pprint.pformat(value, width=80, sort_dicts=False)


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    return textwrap.wrap(
        _docline(text),
        width=DOC_WIDTH,
        initial_indent=indent + first,
        subsequent_indent=indent + "    " if first else indent,
        break_long_words=True,  # only words longer than a whole line are broken
        break_on_hyphens=False,
    )


def _wrap_opening(text: str) -> list[str]:
    """Wrap a docstring's first paragraph, leaving room for the opening quotes."""
    lines = _wrap(text, "", '"""')
    return [lines[0][3:], *[line.removeprefix("    ") for line in lines[1:]]]


def _object_fields(catalogue: Catalogue, title: str) -> list[str]:
    """The wire names of an object's properties, sorted."""
    obj = next(o for o in catalogue.objects if o.title == title)
    return sorted(obj.schema_.get("properties", {}))


def _param_doc(method: Method) -> list[str]:
    lines: list[str] = []
    for p in method.params:
        bits = [p.description.rstrip(".") + "." if p.description else "Not documented yet."]
        if p.name != p.py_name:
            bits.append(f"Wire name ``{p.name}``.")
        if p.documented_values:
            bits.append("Known values: " + ", ".join(p.documented_values) + ".")
        if p.fields_of:
            bits.append(f"Known values: the fields of ``{p.fields_of}`` (``{p.fields_of}Field``).")
        if p.shape:
            bits.append(f"Typed as ``okru_sdk.inputs.{p.shape}``; a plain dict works at run time.")
        if p.default is not None:
            bits.append(f"Server default: ``{json.dumps(p.default)}``.")
        if p.max_items is not None:
            bits.append(f"At most {p.max_items} items.")
        if p.max_length is not None:
            bits.append(f"At most {p.max_length} characters.")
        if p.type_source == "inferred":
            bits.append("(Type inferred, not confirmed.)")
        lines += _wrap(" ".join(bits), "    ", f"{p.py_name}: ")
    lines += _wrap("Seconds for this call instead of the session's timeout.", "    ", "timeout: ")
    lines += _wrap(
        "Wire parameters the catalogue does not know yet; they win on a clash.",
        "    ",
        "extra_params: ",
    )
    return lines


FIRST_PARTY_WARNING = (
    "Warning: whitelisted. OK.ru allows this method only for its own apps and apps on its "
    "white list; other apps get an error. OK.ru's pages say to ask for access at "
    "api-support@ok.ru (or through your OK.ru contact), naming the application ids."
)
DEPRECATED_WARNING = "Deprecated: OK.ru has deprecated this method; avoid it in new code."


def _deprecated_warning(method: Method) -> str:
    if method.replaced_by:
        return f"{DEPRECATED_WARNING[:-1]}; use ``{method.replaced_by}`` instead."
    return DEPRECATED_WARNING


def method_warnings(method: Method) -> list[str]:
    """The warning lines that open a method's docstring."""
    out: list[str] = []
    if method.first_party:
        out.append(FIRST_PARTY_WARNING)
    if method.deprecated:
        out.append(_deprecated_warning(method))
    return out


def method_docstring(method: Method) -> str:
    """The docstring body of a generated method, indented for a method in a class."""
    paragraphs = [*method_warnings(method), method.description]
    lines = _wrap_opening(paragraphs[0])
    for text in paragraphs[1:]:
        lines += ["", *_wrap(text, "")]
    lines.append("")
    scopes = ", ".join(s.name + (f" ({s.when})" if s.when else "") for s in method.scopes)
    facts = (
        f"Wire name ``{method.name}``; session {method.session}; "
        f"scopes: {scopes or 'none'}; confidence {method.confidence}"
        + ("; not retried after a failure (not retry-safe)." if not method.retry_safe else ".")
    )
    lines += _wrap(facts, "")
    if method.paging is not None:
        lines += ["", *_wrap(paging_summary(method), "")]
    for note in (method.session_note, method.notes):
        if note:
            lines.append("")
            lines += _wrap(note, "")
    lines += ["", "Args:", *_param_doc(method), "", "Official docs:", "    " + method.doc_link]
    indent = " " * 8
    return "\n".join([lines[0], *[(indent + line) if line else "" for line in lines[1:]]])


# -- models ------------------------------------------------------------------------


def _open_enums(node: Any) -> Any:
    """Make ``enum`` lists tolerant (``Literal[...] | str``) and drop ``x-`` keys."""
    if isinstance(node, list):
        return [_open_enums(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _open_enums(v) for k, v in node.items() if not k.startswith("x-")}
    if "$ref" in out:
        out["$ref"] = out["$ref"].removesuffix(".yaml") + ".json"
    if "enum" in out and not node.get("x-closed-enum"):
        values = out.pop("enum")
        kind = out.pop("type", "string")
        out["anyOf"] = [{"type": kind, "enum": values}, {"type": kind}]
    return out


def _write_models(catalogue: Catalogue, out: Path, env: jinja2.Environment) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "objects"
        src.mkdir()
        for obj in catalogue.objects:
            data = _open_enums(obj.schema_)
            if "description" in data:
                data["description"] = "\n".join(_wrap(data["description"], ""))
            (src / f"{obj.module}.json").write_text(
                json.dumps(data, indent=2, sort_keys=True), encoding="utf-8"
            )
        cmd = [
            str(BIN / "datamodel-codegen"),
            "--input",
            str(src),
            "--input-file-type",
            "jsonschema",
            "--output",
            str(out),
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--base-class",
            "okru_sdk._base_model.OkModel",
            "--disable-timestamp",
            "--snake-case-field",
            "--use-union-operator",
            "--use-standard-collections",
            "--target-python-version",
            "3.10",
            "--field-constraints",
            "--use-schema-description",
            "--use-double-quotes",
            "--enum-field-as-literal",
            "all",
            "--use-exact-imports",
            "--wrap-string-literal",
            "--formatters",
            "builtin",
            "--custom-file-header",
            HEADER + "\n# Long descriptions come from the catalogue as they are." + _NOQA_LONG,
        ]
        subprocess.run(cmd, check=True, cwd=tmp, capture_output=True, text=True)
    (out / "__init__.py").write_text(
        env.get_template("models_init.py.j2").render(objects=catalogue.objects),
        encoding="utf-8",
    )


# -- everything --------------------------------------------------------------------


def _ruff(paths: list[Path]) -> None:
    config = [
        "--no-cache",
        "--config",
        str(REPO / "pyproject.toml"),
        "--config",
        "lint.isort.known-first-party = ['okru_sdk']",
    ]
    args = [str(p) for p in paths]
    ruff = str(BIN / "ruff")
    subprocess.run([ruff, "format", "--quiet", *config, *args], check=True)
    subprocess.run([ruff, "check", "--fix-only", "--quiet", *config, *args], check=True)
    subprocess.run([ruff, "format", "--quiet", *config, *args], check=True)
    subprocess.run([ruff, "check", "--quiet", *config, *args], check=True)


def write_contract_tests(catalogue: Catalogue, folder: Path) -> None:
    """Write ``test_<group>.py`` per method group into ``folder``.

    Earlier ``test_*.py`` files there are removed first (they are all generated);
    hand-written files (``conftest.py``, ``support.py``, ``__init__.py``) stay.
    """
    env = _env()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("test_*.py"):
        stale.unlink()
    written: list[Path] = []
    for group in catalogue.groups:
        if not group.methods:
            continue
        target = folder / f"test_{group.py_name}.py"
        methods = sorted(group.methods, key=lambda m: m.py_name)
        target.write_text(
            env.get_template("contract_group.py.j2").render(group=group, methods=methods),
            encoding="utf-8",
        )
        written.append(target)
    if written:
        _ruff(written)


def generate(catalogue: Catalogue, package: Path, docs: Path, contract: Path | None = None) -> None:
    """Wipe ``package`` and write the generated code into it; write ``docs``.

    With ``contract``, also write the per-group contract tests into that folder.
    """
    env = _env()
    if package.exists():
        shutil.rmtree(package)
    (package / "methods").mkdir(parents=True)
    _write_models(catalogue, package / "models", env)

    def render(template: str, target: Path, **context: Any) -> None:
        target.write_text(env.get_template(template).render(**context), encoding="utf-8")

    (package / "methods" / "__init__.py").write_text(
        HEADER + '\n"""Method groups, one module per schema/methods file."""\n', encoding="utf-8"
    )
    for group in catalogue.groups:
        methods = sorted(group.methods, key=lambda m: m.py_name)
        needed = sorted({o for m in methods for o in m.result_expr.objects})
        imports = [(catalogue.object_module(o), o) for o in needed]
        field_aliases = sorted({p.fields_of for m in methods for p in m.params if p.fields_of})
        enum_aliases = sorted({p.enum_alias for m in methods for p in m.params if p.enum_alias})
        render(
            "group.py.j2",
            package / "methods" / f"{group.py_name}.py",
            group=group,
            methods=methods,
            model_imports=imports,
            object_module=catalogue.object_module,
            field_aliases=field_aliases,
            enum_aliases=enum_aliases,
            pageable=[m for m in methods if m.paging is not None],
            shapes=sorted({p.shape for m in methods for p in m.params if p.shape}),
        )
    aliases = sorted({p.fields_of for m in catalogue.methods for p in m.params if p.fields_of})
    render(
        "fields.py.j2",
        package / "fields.py",
        aliases={title: _object_fields(catalogue, title) for title in aliases},
    )
    used_enums = {p.enum_alias for m in catalogue.methods for p in m.params if p.enum_alias}
    render(
        "enums.py.j2",
        package / "enums.py",
        enums=sorted((e for e in catalogue.enums if e.name in used_enums), key=lambda e: e.name),
    )
    render("groups.py.j2", package / "groups.py", groups=catalogue.groups)
    family_class = {f.name: f.class_name for f in catalogue.families}
    all_names = sorted([*family_class.values(), *(e.py_class for e in catalogue.errors)])
    render(
        "errors.py.j2",
        package / "errors.py",
        families=catalogue.families,
        errors=catalogue.errors,
        family_class=family_class,
        all_names=[*all_names, "ERROR_CLASSES"],
    )
    render("error_names.py.j2", package / "error_names.py", all_names=[*all_names, "ERROR_CLASSES"])
    methods = sorted(catalogue.methods, key=lambda m: m.name)
    render("emulator_data.py.j2", package / "emulator_data.py", methods=methods)
    render("index.py.j2", package / "index.py", methods=methods)
    render("inputs.py.j2", package / "inputs.py", inputs=input_shapes(catalogue))
    paged, paged_imports = paged_methods(catalogue, package / "models")
    render("paging.py.j2", package / "paging.py", methods=paged)
    render(
        "paging.pyi.j2",
        package / "paging.pyi",
        methods=paged,
        imports=[(module, sorted(names)) for module, names in sorted(paged_imports.items())],
    )
    secret_names = sorted({p.name for m in methods for p in m.params if p.secret})
    render("secret_params.py.j2", package / "secret_params.py", names=secret_names)
    render(
        "package_init.py.j2",
        package / "__init__.py",
        digest=catalogue.digest,
        method_count=len(methods),
    )
    _ruff([package])

    shapes = input_shapes(catalogue)
    counts = collections.Counter(m.confidence for m in methods)
    docs.parent.mkdir(parents=True, exist_ok=True)
    render(
        "catalogue.md.j2",
        docs,
        methods=methods,
        groups=catalogue.groups,
        objects=sorted(catalogue.objects, key=lambda o: o.title),
        errors=catalogue.errors,
        family_class=family_class,
        confidence=[(k, counts[k]) for k in ("high", "medium", "low") if counts[k]],
        coverage=compute_coverage(catalogue),
        paged=paged,
        inputs=shapes,
    )
    if contract is not None:
        write_contract_tests(catalogue, contract)
