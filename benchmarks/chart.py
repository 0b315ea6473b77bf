"""The chart of a ``make bench`` run: calls/s of each client against the baseline.

``benchmarks/run.py`` calls :func:`write_chart` with the run's numbers and
writes ``docs/performance/bench.svg`` (the documentation site's performance
page shows it). ``python benchmarks/chart.py`` draws it again from
``benchmarks/RESULTS.md``, the tables of the latest run, without measuring.

A plain SVG (standard library only): one group of bars per table (reply size,
calls in flight), one bar per client, the value being calls/s divided by the
hand-written baseline's in the same run (1.00x = as fast as the baseline).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUTPUT = REPO / "docs" / "performance" / "bench.svg"

#: (case, label, colour) of the bars, in order; the baseline's (a) and (a') are drawn too
SERIES = (
    ("a", "(a) aiohttp POST baseline", "#9e9e9e"),
    ("b", "(b) api.call", "#ff7043"),
    ("c", "(c) typed method", "#d84315"),
    ("d", "(d) aiookru 1.0.0", "#5c6bc0"),
)

#: one group: its title and the ratio of each case to the baseline
Group = tuple[str, dict[str, float]]


def svg(groups: Sequence[Group], title: str) -> str:
    """The chart as SVG text."""
    bar, gap, group_gap = 22, 4, 26
    left, right, top = 210, 70, 64
    width = 760
    plot = width - left - right
    top_value = max([1.0, *(v for _, values in groups for v in values.values())])
    scale = plot / (top_value * 1.08)
    rows = sum(len(values) for _, values in groups)
    height = top + rows * (bar + gap) + len(groups) * group_gap + 40
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    x = 8
    legend_y = 44
    for _case, label, colour in SERIES:
        out.append(f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="{legend_y}">{escape(label)}</text>')
        x += 16 + 7 * len(label) + 22
    y = top
    for name, values in groups:
        out.append(f'<text x="8" y="{y + 15}" font-weight="bold">{escape(name)}</text>')
        for case, _label, colour in SERIES:
            if case not in values:
                continue
            value = values[case]
            length = max(1.0, value * scale)
            out.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>'
            )
            out.append(f'<text x="{left + length + 6:.1f}" y="{y + 16}">{value:.2f}x</text>')
            y += bar + gap
        y += group_gap
    baseline_x = left + scale
    out.append(
        f'<line x1="{baseline_x:.1f}" y1="{top - 6}" x2="{baseline_x:.1f}" y2="{y - group_gap}" '
        'stroke="#424242" stroke-dasharray="4 3"/>'
    )
    out.append(
        f'<text x="{baseline_x + 4:.1f}" y="{y - group_gap + 16}" fill="#424242">'
        "1.00x = baseline</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_chart(groups: Sequence[Group], output: Path = DEFAULT_OUTPUT, note: str = "") -> Path:
    """Write the chart of ``groups`` to ``output``; return the path."""
    title = "calls/s against the hand-written aiohttp baseline" + (f" ({note})" if note else "")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(svg(groups, title), encoding="utf-8")
    return output


_TABLE = re.compile(r"^### (.+?)\n\n\| case .*?\n\|[-|: ]+\n((?:\|.*\n)+)", re.M)
_ROW_CASE = re.compile(r"^\| \((\w'?)\)")


def groups_from_results(text: str) -> list[Group]:
    """The groups of a ``benchmarks/RESULTS.md`` (its "x(a) calls/s" column)."""
    groups: list[Group] = []
    for match in _TABLE.finditer(text):
        values: dict[str, float] = {}
        for row in match.group(2).splitlines():
            case = _ROW_CASE.match(row)
            cells = [c.strip() for c in row.strip("|").split("|")]
            if case is None or len(cells) < 4:
                continue
            values[case.group(1)] = float(cells[3].rstrip("x"))
        groups.append((match.group(1), values))
    if not groups:
        raise ValueError("no result tables found (### <reply>, <n> in flight)")
    return groups


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    results = Path(args[0]) if args else HERE / "RESULTS.md"
    output = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    text = results.read_text(encoding="utf-8")
    date = re.search(r"^- date: (\S+)", text, re.M)
    path = write_chart(groups_from_results(text), output, date.group(1)[:10] if date else "")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
