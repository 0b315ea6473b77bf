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

__all__ = ["generate"]

TEMPLATES = Path(__file__).parent / "templates"
REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC_WIDTH = 92

_NOQA_LONG = "\n# ruff: noqa: E501"
HEADER = (TEMPLATES / "header.j2").read_text(encoding="utf-8").rstrip("\n")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["docline"] = _docline
    env.filters["method_doc"] = method_docstring
    env.filters["pyrepr"] = _pyrepr
    env.filters["docwrap"] = _docwrap
    return env


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


def _pyrepr(value: Any) -> str:
    return pprint.pformat(value, width=80, sort_dicts=False)


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    return textwrap.wrap(
        _docline(text),
        width=DOC_WIDTH,
        initial_indent=indent + first,
        subsequent_indent=indent + "    " if first else indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _param_doc(method: Method) -> list[str]:
    lines: list[str] = []
    for p in method.params:
        bits = [p.description.rstrip(".") + "." if p.description else "Not documented yet."]
        if p.name != p.py_name:
            bits.append(f"Wire name ``{p.name}``.")
        if p.known_values:
            bits.append("Known values: " + ", ".join(p.known_values) + ".")
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


def method_docstring(method: Method) -> str:
    """The docstring body of a generated method, indented for a method in a class."""
    lines = _wrap(method.description, "")
    lines.append("")
    scopes = ", ".join(s.name + (f" ({s.when})" if s.when else "") for s in method.scopes)
    facts = (
        f"Wire name ``{method.name}``; session {method.session}; "
        f"scopes: {scopes or 'none'}; confidence {method.confidence}"
        + ("; not retried after a failure (not retry-safe)." if not method.retry_safe else ".")
    )
    lines += _wrap(facts, "")
    for note in (method.session_note, method.notes):
        if note:
            lines.append("")
            lines += _wrap(note, "")
    if method.deprecated:
        lines += ["", "Deprecated by OK.ru."]
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


def generate(catalogue: Catalogue, package: Path, docs: Path) -> None:
    """Wipe ``package`` and write the generated code into it; write ``docs``."""
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
        render(
            "group.py.j2",
            package / "methods" / f"{group.py_name}.py",
            group=group,
            methods=methods,
            model_imports=imports,
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
    methods = sorted(catalogue.methods, key=lambda m: m.name)
    render("emulator_data.py.j2", package / "emulator_data.py", methods=methods)
    render(
        "package_init.py.j2",
        package / "__init__.py",
        digest=catalogue.digest,
        method_count=len(methods),
    )
    _ruff([package])

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
    )
