"""Write catalogue YAML files in the one house style.

Usage::

    .venv/bin/python -m codegen.tools.format_schema [FILE ...]   # default: every file in schema/
    .venv/bin/python -m codegen.tools.format_schema --check     # exit 1 if a file would change

The style: block style, keys in the order written, no anchors or aliases (a
reader should never have to jump to ``&id001`` to know a value), lines
wrapped at 100 columns, non-ASCII kept. The catalogue has no comments, so a
round trip loses nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

__all__ = ["dump", "main"]

SCHEMA = Path(__file__).resolve().parent.parent.parent / "schema"


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    """The house style for one catalogue document."""
    return yaml.dump(
        data,
        Dumper=_NoAliasDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def _files(args: list[str]) -> list[Path]:
    if args:
        return [Path(a) for a in args]
    return sorted(p for p in SCHEMA.rglob("*.yaml"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.tools.format_schema")
    parser.add_argument("files", nargs="*")
    parser.add_argument("--check", action="store_true", help="report files that would change")
    args = parser.parse_args(argv)
    changed: list[Path] = []
    for path in _files(args.files):
        text = path.read_text(encoding="utf-8")
        formatted = dump(yaml.safe_load(text))
        if formatted != text:
            changed.append(path)
            if not args.check:
                path.write_text(formatted, encoding="utf-8")
    for path in changed:
        print(f"{'would reformat' if args.check else 'reformatted'} {path}", file=sys.stderr)
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
