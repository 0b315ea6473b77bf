"""The coverage summary at the top of ``docs/catalogue.md``, computed from the catalogue.

Nothing here is written by hand: every number is counted from the loaded
catalogue each time ``python -m codegen`` runs, so the page cannot drift.
"""

from __future__ import annotations

import collections
import dataclasses

from .catalogue import Catalogue, Method

__all__ = [
    "PARAM_COLUMNS",
    "RESULT_COLUMNS",
    "Coverage",
    "EvidenceRow",
    "GroupRow",
    "compute_coverage",
    "source_bucket",
]

#: evidence kinds of parameters, strongest first ("not stated": no ``type_source``)
PARAM_COLUMNS = ("doc", "doc_repo", "legacy/code", "inferred", "not stated")
#: evidence kinds of results; ``unknown``: no evidence, the result is left untyped
RESULT_COLUMNS = ("doc", "doc_repo", "legacy/code", "inferred", "unknown", "not stated")


def source_bucket(source: str | None) -> str:
    """The column of a ``type_source`` / ``result_source`` value."""
    if source is None:
        return "not stated"
    if source in ("legacy", "code"):
        return "legacy/code"
    return source


@dataclasses.dataclass(frozen=True)
class GroupRow:
    group: str
    methods: int
    #: methods backed by an official apiok.ru page
    official_page: int
    #: methods backed only by the official docs repository
    docs_repo_only: int
    #: methods with neither
    no_official: int
    first_party: int
    deprecated: int
    unconfirmed: int


@dataclasses.dataclass(frozen=True)
class EvidenceRow:
    group: str
    params: int
    #: column -> count of parameters (``PARAM_COLUMNS``)
    param_sources: dict[str, int]
    #: column -> count of method results (``RESULT_COLUMNS``)
    result_sources: dict[str, int]

    def cells(self) -> list[str]:
        """The row of the evidence table after the group name."""
        return [
            str(self.params),
            *(str(self.param_sources[c]) for c in PARAM_COLUMNS),
            self.inferred_share,
            *(str(self.result_sources[c]) for c in RESULT_COLUMNS),
        ]

    @property
    def inferred_share(self) -> str:
        """Parameters typed from the name alone, as a percentage of all parameters."""
        if not self.params:
            return "-"
        return f"{100 * self.param_sources['inferred'] / self.params:.1f}%"


@dataclasses.dataclass(frozen=True)
class Coverage:
    groups: list[GroupRow]
    total: GroupRow
    evidence: list[EvidenceRow]
    evidence_total: EvidenceRow
    confidence: list[tuple[str, int]]
    #: (method, reasons) of every method whose result shape is unconfirmed
    unconfirmed: list[tuple[Method, str]]
    #: methods without an official page or docs-repository entry
    no_official: list[Method]


def _row(name: str, methods: list[Method]) -> GroupRow:
    return GroupRow(
        group=name,
        methods=len(methods),
        official_page=sum(m.official_page for m in methods),
        docs_repo_only=sum(m.docs_repo and not m.official_page for m in methods),
        no_official=sum(not (m.official_page or m.docs_repo) for m in methods),
        first_party=sum(m.first_party for m in methods),
        deprecated=sum(m.deprecated for m in methods),
        unconfirmed=sum(bool(m.result_unconfirmed) for m in methods),
    )


def _evidence(name: str, methods: list[Method]) -> EvidenceRow:
    params = collections.Counter(source_bucket(p.type_source) for m in methods for p in m.params)
    results = collections.Counter(source_bucket(m.result_source) for m in methods)
    return EvidenceRow(
        group=name,
        params=sum(len(m.params) for m in methods),
        param_sources={c: params[c] for c in PARAM_COLUMNS},
        result_sources={c: results[c] for c in RESULT_COLUMNS},
    )


def compute_coverage(catalogue: Catalogue) -> Coverage:
    """Count everything the summary shows."""
    methods = sorted(catalogue.methods, key=lambda m: m.name)
    groups = sorted(catalogue.groups, key=lambda g: g.group)
    confidence = collections.Counter(m.confidence for m in methods)
    return Coverage(
        groups=[_row(g.group, g.methods) for g in groups],
        total=_row("all", methods),
        evidence=[_evidence(g.group, g.methods) for g in groups],
        evidence_total=_evidence("all", methods),
        confidence=[(k, confidence[k]) for k in ("high", "medium", "low")],
        unconfirmed=[(m, ", ".join(m.result_unconfirmed)) for m in methods if m.result_unconfirmed],
        no_official=[m for m in methods if not (m.official_page or m.docs_repo)],
    )
