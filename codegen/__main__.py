"""``python -m codegen``: regenerate the SDK's code and the generator's golden copy.

With no arguments (what ``make generate`` runs) it writes:

- ``schema/`` -> ``okru_sdk/_generated/``, ``docs/catalogue.md`` and the
  contract tests ``tests/contract/test_<group>.py``;
- ``tests/codegen/fixture_schema/`` -> ``tests/codegen/golden/`` (the golden copy
  the generator's tests compare against);
- ``schema/`` -> ``docs/reference/``, the documentation site's reference pages
  (:mod:`codegen.docs_site`).

``--schema DIR --out DIR --docs FILE [--contract DIR]`` runs one catalogue to a
place of your choice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .catalogue import CatalogueError, load_catalogue
from .render import REPO, generate

__all__ = ["main", "run"]

TARGETS: tuple[tuple[Path, Path, Path, Path | None], ...] = (
    (
        REPO / "schema",
        REPO / "okru_sdk" / "_generated",
        REPO / "docs" / "catalogue.md",
        REPO / "tests" / "contract",
    ),
    (
        REPO / "tests" / "codegen" / "fixture_schema",
        REPO / "tests" / "codegen" / "golden" / "_generated",
        REPO / "tests" / "codegen" / "golden" / "catalogue.md",
        REPO / "tests" / "codegen" / "golden" / "contract",
    ),
)


def run(schema: Path, out: Path, docs: Path, contract: Path | None = None) -> int:
    """Load one catalogue and generate from it; return the number of methods."""
    catalogue = load_catalogue(schema)
    generate(catalogue, out.resolve(), docs.resolve(), contract.resolve() if contract else None)
    return len(catalogue.methods)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--schema", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--docs", type=Path)
    parser.add_argument("--contract", type=Path, help="folder for the contract tests")
    args = parser.parse_args(argv)
    given = [args.schema, args.out, args.docs]
    if (any(given) or args.contract) and not all(given):
        parser.error("--schema, --out and --docs go together (--contract is optional)")
    targets = [(args.schema, args.out, args.docs, args.contract)] if all(given) else list(TARGETS)
    try:
        for schema, out, docs, contract in targets:
            count = run(schema, out, docs, contract)
            print(f"codegen: {count} methods from {schema} -> {out}", file=sys.stderr)
        if not all(given):  # the docs site's reference pages, from the real catalogue
            from .docs_site import write_reference

            pages = write_reference(load_catalogue(TARGETS[0][0]), REPO / "docs" / "reference")
            print(f"codegen: {pages} reference pages -> docs/reference", file=sys.stderr)
    except CatalogueError as exc:
        print(f"codegen: bad catalogue entry: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
