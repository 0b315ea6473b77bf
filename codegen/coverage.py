"""The coverage summary at the top of ``docs/catalogue.md``, computed from the catalogue.

Nothing here is written by hand: every number is counted from the loaded
catalogue each time ``python -m codegen`` runs, so the page cannot drift.
"""

from __future__ import annotations

import collections
import dataclasses

from .catalogue import Catalogue, Method

__all__ = ["SOURCE_COLUMNS", "Coverage", "GroupRow", "compute_coverage", "source_bucket"]

#: the columns of the "how types are known" table, in order
SOURCE_COLUMNS = ("doc", "legacy/code", "inferred", "not stated")
_RANK = {name: i for i, name in enumerate(SOURCE_COLUMNS)}


def source_bucket(source: str | None) -> str:
    """``doc`` / ``legacy/code`` / ``inferred`` / ``not stated`` for a ``type_source``."""
    if source is None:
        return "not stated"
    if source in ("legacy", "code"):
        return "legacy/code"
    return source


def weakest_param_bucket(method: Method) -> str | None:
    """The weakest source among a method's parameters; ``None`` without parameters."""
    buckets = [source_bucket(p.type_source) for p in method.params]
    return max(buckets, key=_RANK.__getitem__) if buckets else None


@dataclasses.dataclass(frozen=True)
class GroupRow:
    group: str
    methods: int
    params: int
    first_party: int
    deprecated: int
    unconfirmed: int


@dataclasses.dataclass(frozen=True)
class Coverage:
    groups: list[GroupRow]
    total: GroupRow
    #: bucket -> count, over method results (``result_source``)
    results: dict[str, int]
    #: bucket -> count, over methods by their weakest parameter; "no params" extra
    methods_by_params: dict[str, int]
    #: bucket -> count, over every parameter (``type_source``)
    params: dict[str, int]
    confidence: list[tuple[str, int]]
    #: (method, reasons) of every method whose result shape is unconfirmed
    unconfirmed: list[tuple[Method, str]]


def _row(name: str, methods: list[Method]) -> GroupRow:
    return GroupRow(
        group=name,
        methods=len(methods),
        params=sum(len(m.params) for m in methods),
        first_party=sum(m.first_party for m in methods),
        deprecated=sum(m.deprecated for m in methods),
        unconfirmed=sum(bool(m.result_unconfirmed) for m in methods),
    )


def _counts(buckets: list[str], extra: tuple[str, ...] = ()) -> dict[str, int]:
    counter = collections.Counter(buckets)
    return {key: counter[key] for key in (*SOURCE_COLUMNS, *extra)}


def compute_coverage(catalogue: Catalogue) -> Coverage:
    """Count everything the summary shows."""
    methods = sorted(catalogue.methods, key=lambda m: m.name)
    confidence = collections.Counter(m.confidence for m in methods)
    by_params = [weakest_param_bucket(m) or "no params" for m in methods]
    return Coverage(
        groups=[_row(g.group, g.methods) for g in sorted(catalogue.groups, key=lambda g: g.group)],
        total=_row("all", methods),
        results=_counts([source_bucket(m.result_source) for m in methods]),
        methods_by_params=_counts(by_params, ("no params",)),
        params=_counts([source_bucket(p.type_source) for m in methods for p in m.params]),
        confidence=[(k, confidence[k]) for k in ("high", "medium", "low")],
        unconfirmed=[(m, ", ".join(m.result_unconfirmed)) for m in methods if m.result_unconfirmed],
    )
