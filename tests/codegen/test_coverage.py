"""The coverage summary in docs/catalogue.md tells the truth about the catalogue.

The numbers are counted again here, independently of ``codegen.coverage``,
from the loaded catalogue, and compared with what the page says.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

from codegen.catalogue import Catalogue, load_catalogue

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


def _unconfirmed(catalogue: Catalogue) -> list[str]:
    names = []
    for m in catalogue.methods:
        untyped = re.search(r"\bjson\b", m.result) is not None
        if untyped or m.confidence == "low" or m.result_source == "inferred":
            names.append(m.name)
    return sorted(names)


@pytest.mark.parametrize(("schema", "page"), PAGES, ids=["schema", "fixture"])
def test_coverage_counts_match_the_catalogue(schema: Path, page: Path) -> None:
    catalogue = load_catalogue(schema)
    text = page.read_text(encoding="utf-8")
    methods = catalogue.methods
    unconfirmed = _unconfirmed(catalogue)

    groups = _table_rows(text, "| group | methods | params |")
    expected_groups = {
        g.group: [
            str(len(g.methods)),
            str(sum(len(m.params) for m in g.methods)),
            str(sum(m.first_party for m in g.methods)),
            str(sum(m.deprecated for m in g.methods)),
            str(sum(m.name in unconfirmed for m in g.methods)),
        ]
        for g in catalogue.groups
    }
    expected_groups["**all**"] = [
        str(len(methods)),
        str(sum(len(m.params) for m in methods)),
        str(sum(m.first_party for m in methods)),
        str(sum(m.deprecated for m in methods)),
        str(len(unconfirmed)),
    ]
    assert groups == expected_groups, "run `make generate`"

    sources = _table_rows(text, "| counted | doc |")
    columns = ["doc", "legacy/code", "inferred", "not stated"]
    results = collections.Counter(_bucket(m.result_source) for m in methods)
    params = collections.Counter(_bucket(p.type_source) for m in methods for p in m.params)
    assert sources["method results"][:4] == [str(results[c]) for c in columns]
    assert sources["parameters"][:4] == [str(params[c]) for c in columns]
    by_params: collections.Counter[str] = collections.Counter()
    for m in methods:
        if not m.params:
            by_params["no params"] += 1
        else:
            by_params[max((_bucket(p.type_source) for p in m.params), key=columns.index)] += 1
    assert sources["methods by parameters"] == [str(by_params[c]) for c in [*columns, "no params"]]

    conf = collections.Counter(m.confidence for m in methods)
    assert (
        f"Confidence of the entries: high {conf['high']}, medium {conf['medium']}, "
        f"low {conf['low']}." in text
    )

    assert f"### Result shape unconfirmed: {len(unconfirmed)} of {len(methods)} methods" in text
    section = text.split("### Result shape unconfirmed", 1)[1].split("\n## ", 1)[0]
    listed = sorted(re.findall(r"^\| `([^`]+)` \| `", section, flags=re.MULTILINE))
    assert listed == unconfirmed
