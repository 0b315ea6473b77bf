"""The coverage summary in docs/catalogue.md tells the truth about the catalogue.

The numbers are counted again here, independently of ``codegen.coverage``,
from the loaded catalogue, and compared with what the page says.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

from codegen.catalogue import Catalogue, Method, load_catalogue

REPO = Path(__file__).resolve().parents[2]
PAGES = [
    (REPO / "schema", REPO / "docs" / "catalogue.md"),
    (REPO / "tests/codegen/fixture_schema", REPO / "tests/codegen/golden/catalogue.md"),
]


def _table_rows(text: str, header: str) -> dict[str, list[str]]:
    """First cell -> the other cells, for the markdown table whose header starts with header."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def _bucket(source: str | None) -> str:
    return {None: "not stated", "legacy": "legacy/code", "code": "legacy/code"}.get(
        source, str(source)
    )


def _official(m: Method) -> bool:
    return any(re.match(r"https://(new\.)?apiok\.ru/", s) for s in m.source)


def _docs_repo(m: Method) -> bool:
    return any(s.startswith("github:apiok/documentation") for s in m.source)


def _unconfirmed(catalogue: Catalogue) -> list[str]:
    names = []
    for m in catalogue.methods:
        untyped = re.search(r"\bjson\b", m.result) is not None
        if untyped or m.confidence == "low" or m.result_source == "inferred":
            names.append(m.name)
    return sorted(names)


def _group_row(methods: list[Method], unconfirmed: list[str]) -> list[str]:
    return [
        str(len(methods)),
        str(sum(_official(m) for m in methods)),
        str(sum(_docs_repo(m) and not _official(m) for m in methods)),
        str(sum(not (_official(m) or _docs_repo(m)) for m in methods)),
        str(sum(m.first_party for m in methods)),
        str(sum(m.deprecated for m in methods)),
        str(sum(m.name in unconfirmed for m in methods)),
    ]


PARAMS = ["doc", "doc_repo", "legacy/code", "inferred", "not stated"]
RESULTS = ["doc", "doc_repo", "legacy/code", "inferred", "unknown", "not stated"]


def _evidence_row(methods: list[Method]) -> list[str]:
    params = collections.Counter(_bucket(p.type_source) for m in methods for p in m.params)
    results = collections.Counter(_bucket(m.result_source) for m in methods)
    total = sum(len(m.params) for m in methods)
    share = f"{100 * params['inferred'] / total:.1f}%" if total else "-"
    return [
        str(total),
        *(str(params[c]) for c in PARAMS),
        share,
        *(str(results[c]) for c in RESULTS),
    ]


@pytest.mark.parametrize(("schema", "page"), PAGES, ids=["schema", "fixture"])
def test_coverage_counts_match_the_catalogue(schema: Path, page: Path) -> None:
    catalogue = load_catalogue(schema)
    text = page.read_text(encoding="utf-8")
    methods = catalogue.methods
    unconfirmed = _unconfirmed(catalogue)

    groups = _table_rows(text, "| group | methods | official page |")
    expected = {g.group: _group_row(g.methods, unconfirmed) for g in catalogue.groups}
    expected["**all**"] = _group_row(methods, unconfirmed)
    assert groups == expected, "run `make generate`"

    evidence = _table_rows(text, "| group | params | doc |")
    expected = {g.group: _evidence_row(g.methods) for g in catalogue.groups}
    expected["**all**"] = _evidence_row(methods)
    assert evidence == expected, "run `make generate`"

    conf = collections.Counter(m.confidence for m in methods)
    assert (
        f"Confidence of the entries: high {conf['high']}, medium {conf['medium']}, "
        f"low {conf['low']}." in text
    )

    no_official = sorted(m.name for m in methods if not (_official(m) or _docs_repo(m)))
    assert f"### Methods without official evidence: {len(no_official)}" in text
    section = text.split("### Methods without official evidence", 1)[1].split("\n### ", 1)[0]
    assert sorted(re.findall(r"^- `([^`]+)`$", section, flags=re.MULTILINE)) == no_official

    assert f"### Result shape unconfirmed: {len(unconfirmed)} of {len(methods)} methods" in text
    section = text.split("### Result shape unconfirmed", 1)[1].split("\n## ", 1)[0]
    listed = sorted(re.findall(r"^\| `([^`]+)` \| `", section, flags=re.MULTILINE))
    assert listed == unconfirmed
