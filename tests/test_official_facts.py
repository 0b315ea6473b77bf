"""The catalogue agrees with the official method pages that were read.

``tests/official_facts/<group>.yaml`` keeps, per method, what its apiok.ru page
prints: the session line, whitelist and deprecation notes, and the parameter
table (name, required, type exactly as printed). This test maps the printed
types onto the catalogue's type language and compares, so a catalogue edit
that drifts from the pages fails here. A knowing difference is written in the
facts entry under ``deviations`` with its reason.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.catalogue import Catalogue, Method, load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "tests" / "official_facts"

#: printed scalar type (lower case) -> catalogue type
SCALARS = {
    "string": "string",
    "long": "long",
    "integer": "int",
    "int": "int",
    "boolean": "boolean",
    "double": "float",
    "float": "float",
    "date": "date",
    "json": "json",
    "jsonobject": "json",
    "object": "json",
    "map": "json",
}
ENTRY_KEYS = {
    "method",
    "url",
    "other_copies",
    "session",
    "whitelisted",
    "deprecated",
    "replaced_by",
    "scopes",
    "params",
    "deviations",
    "notes",
}


@cache
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "schema")


def _facts() -> list[tuple[str, dict[str, Any]]]:
    entries = []
    for path in sorted(FACTS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        assert isinstance(data, list), f"{path.name}: a facts file is a list of entries"
        entries.extend((path.stem, entry) for entry in data)
    return entries


FACT_ENTRIES = _facts()


def expected_type(printed: str, enums: set[str]) -> tuple[str, str | None] | None:
    """(catalogue type, enum_type) for a type as a page prints it; ``None``: no type printed."""
    text = printed.strip()
    if not text:
        return None
    is_list = text.endswith("[]")
    base = text[:-2].strip() if is_list else text
    if base.startswith("{"):
        scalar, enum = "json", None
    elif base in enums:
        scalar, enum = "string", base
    elif base.lower() in SCALARS:
        scalar, enum = SCALARS[base.lower()], None
    elif base == "FieldSets" or base.endswith(("Field", "Fields")):
        return "list[string]", None  # a fields-style parameter
    else:
        raise AssertionError(f"unmapped printed type {printed!r}: add maps_to to the facts entry")
    return (f"list[{scalar}]" if is_list else scalar), enum


def _method(name: str) -> Method:
    for m in catalogue().methods:
        if m.name == name:
            return m
    raise AssertionError(f"{name} has an official page but is not in the catalogue")


def test_there_are_facts_for_the_pages_read() -> None:
    assert len(FACT_ENTRIES) >= 30


@pytest.mark.parametrize(
    ("group", "entry"), FACT_ENTRIES, ids=[str(e.get("method")) for _, e in FACT_ENTRIES]
)
def test_the_catalogue_agrees_with_the_page(group: str, entry: dict[str, Any]) -> None:
    assert set(entry) <= ENTRY_KEYS, f"unknown keys {set(entry) - ENTRY_KEYS}"
    name = entry["method"]
    assert name.split(".", 1)[0] == group, f"{name} belongs in {name.split('.')[0]}.yaml"
    method = _method(name)
    skip = {d["field"] for d in entry.get("deviations") or []}
    for deviation in entry.get("deviations") or []:
        assert deviation.get("reason"), f"{name}: a deviation needs its reason"
    problems: list[str] = []

    assert entry["url"].startswith(("https://apiok.ru/", "https://new.apiok.ru/")), entry["url"]
    if entry["url"] not in method.source:
        problems.append(f"source does not name the page {entry['url']}")
    if "session" not in skip and method.session != entry["session"]:
        problems.append(f"session is {method.session!r}, the page says {entry['session']!r}")
    if "first_party" not in skip and method.first_party != bool(entry.get("whitelisted")):
        problems.append(f"first_party is {method.first_party}, whitelisted {entry['whitelisted']}")
    if "deprecated" not in skip and method.deprecated != bool(entry.get("deprecated")):
        problems.append(f"deprecated is {method.deprecated}, the page: {entry['deprecated']}")
    if entry.get("replaced_by") and method.replaced_by != entry["replaced_by"]:
        problems.append(f"replaced_by is {method.replaced_by!r}, the page: {entry['replaced_by']}")

    page_scopes = set(entry.get("scopes") or [])
    ours_scopes = {s.name for s in method.scopes}
    if "scopes" not in skip and not page_scopes <= ours_scopes:
        problems.append(f"scopes lack {sorted(page_scopes - ours_scopes)} the page names")

    page_params = {p["name"]: p for p in entry.get("params") or []}
    ours = {p.name: p for p in method.params}
    # a deviation on ``params.<name>`` allows that one parameter on one side only
    page_only = {n for n in set(page_params) - set(ours) if f"params.{n}" not in skip}
    ours_only = {n for n in set(ours) - set(page_params) if f"params.{n}" not in skip}
    if "params" not in skip and (page_only or ours_only):
        problems.append(
            f"parameters differ: page only {sorted(page_only)}, catalogue only {sorted(ours_only)}"
        )
    enums = {e.name for e in catalogue().enums}
    for pname, fact in page_params.items():
        param = ours.get(pname)
        if param is None:
            continue
        field = f"params.{pname}"
        if f"{field}.required" not in skip and param.required != bool(fact["required"]):
            problems.append(f"{pname}: required is {param.required}, page {fact['required']}")
        if f"{field}.type" in skip:
            continue  # the page prints no usable type; the deviation says why
        if param.type_source == "inferred":
            problems.append(f"{pname}: typed from its name although the page prints a type")
        printed = str(fact.get("type") or "")
        no_enum_file = f"{field}.enum_type" in skip  # an enum whose values nobody lists
        if "maps_to" in fact:
            wanted: tuple[str, str | None] | None = (fact["maps_to"], param.enum_type)
        else:
            known = enums | ({printed.removesuffix("[]")} if no_enum_file else set())
            wanted = expected_type(printed, known)
        if wanted is None:
            continue
        wanted_type, wanted_enum = wanted
        if no_enum_file:
            wanted_enum = None
        if param.type != wanted_type:
            problems.append(f"{pname}: type {param.type!r}, page {fact['type']!r} -> {wanted_type}")
        if wanted_enum is not None and param.enum_type != wanted_enum:
            problems.append(f"{pname}: enum_type {param.enum_type!r}, page {wanted_enum!r}")
    assert not problems, f"{name}: " + "; ".join(problems)


def test_no_parameter_of_a_documented_method_is_typed_from_its_name() -> None:
    # Exceptions: a page whose stored copies print no type for a parameter and
    # cut its description off; the facts entry names each with its reason.
    excused = {
        (e["method"], d["field"].split(".")[1])
        for _, e in FACT_ENTRIES
        for d in e.get("deviations") or []
        if d["field"].startswith("params.") and d["field"].endswith(".type")
    }
    documented = {e["method"] for _, e in FACT_ENTRIES}
    inferred = [
        f"{m.name}.{p.name}"
        for m in catalogue().methods
        if m.name in documented
        for p in m.params
        if p.type_source == "inferred" and (m.name, p.name) not in excused
    ]
    assert inferred == []


def test_at_most_a_tenth_of_all_parameters_are_typed_from_their_name() -> None:
    params = [p for m in catalogue().methods for p in m.params]
    inferred = sum(p.type_source == "inferred" for p in params)
    assert inferred <= len(params) / 10, f"{inferred} of {len(params)} typed from the name"


def test_every_method_says_where_its_result_type_comes_from() -> None:
    missing = [m.name for m in catalogue().methods if m.result_source is None]
    assert missing == []


def test_no_description_says_meaning_not_documented_yet() -> None:
    vague = [
        f"{m.name}.{p.name}"
        for m in catalogue().methods
        for p in m.params
        if "meaning not documented yet" in p.description or not p.description.strip()
    ]
    assert vague == []
