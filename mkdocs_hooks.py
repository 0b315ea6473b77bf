"""mkdocs hooks of the documentation site (``mkdocs.yml``: ``hooks:``).

- Guide pages include README sections, so the site says what the README says
  (and the README's examples are the ones ``tests/test_readme.py`` runs):
  ``{{ readme_section("Sessions") }}`` on a line of its own is replaced by the
  README section whose heading contains that text (case-insensitive), without
  its heading, down to the next heading of the same or a higher level. When
  the README has no such section the page says so.
- A link to a repository file outside ``docs/`` (``../schema/README.md``) becomes
  its path in the text, as the site does not contain it.
- ``{{ repo_file("benchmarks/RESULTS.md") }}`` includes a Markdown file of the
  repository (its title dropped, headings one level down).
- ``{{ docs_pages("upload") }}`` lists the top-level ``docs/*.md`` pages whose
  file name contains the word (pages other features add as they land).
- The nav's ``Reference`` entry gets the pages ``make generate`` wrote into
  ``docs/reference/`` (every group, every model, the error codes), and any
  top-level ``docs/*.md`` page the nav does not list yet is added under
  ``Guide`` so that no page is left out of the site.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
README = ROOT / "README.md"


class _GeneratedExportsFilter(logging.Filter):
    """Drop griffe's one warning about ``okru_sdk.__all__ += _error_names.NAMES``.

    ``okru_sdk`` adds the generated error class names to ``__all__`` at import;
    griffe reads the source without importing it and cannot follow that (the
    classes are on the generated "Error codes" page instead). Every other
    warning still fails the strict build.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Unsupported item in okru_sdk.__all__: NAMES " not in record.getMessage()


logging.getLogger("mkdocs.plugins.griffe").addFilter(_GeneratedExportsFilter())

_DIRECTIVE = re.compile(
    r'^\{\{\s*(readme_section|docs_pages|repo_file)\("([^"]+)"\)\s*\}\}\s*$', re.M
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def readme_section(wanted: str, readme: Path = README) -> str | None:
    """The body of the first README section whose heading contains ``wanted``.

    ``wanted`` may list alternatives separated by ``|`` (``"redis|workers"``).
    """
    words = [w.lower() for w in wanted.split("|") if w]
    lines = readme.read_text(encoding="utf-8").splitlines()
    fence = False
    start: int | None = None
    level = 0
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        match = None if fence else _HEADING.match(line)
        if match is None:
            continue
        if start is not None and len(match.group(1)) <= level:
            return "\n".join(lines[start:i]).strip("\n")
        if start is None and any(w in match.group(2).lower() for w in words):
            start, level = i + 1, len(match.group(1))
    if start is None:
        return None
    return "\n".join(lines[start:]).strip("\n")


def _docs_pages(word: str, docs_dir: Path, page_path: str) -> str:
    depth = page_path.count("/")
    words = [w.lower() for w in word.split("|") if w]
    found = sorted(p for p in docs_dir.glob("*.md") if any(w in p.stem.lower() for w in words))
    if not found:
        return ""
    links = []
    for path in found:
        title = _title(path)
        links.append(f"- [{title}]({'../' * depth}{path.name})")
    return "More on this:\n\n" + "\n".join(links)


def _repo_file(name: str) -> str:
    """A Markdown file of the repository, its headings one level down (its title dropped)."""
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    for line in lines:
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            continue
        out.append("#" + line if match else line)
    return "\n".join(out).strip("\n")


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return match.group(2).strip("`")
    return path.stem.replace("-", " ").capitalize()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"])

    def expand(match: re.Match[str]) -> str:
        kind, arg = match.groups()
        if kind == "docs_pages":
            return _docs_pages(arg, docs_dir, page.file.src_uri)
        if kind == "repo_file":
            return _repo_file(arg)
        body = readme_section(arg)
        if body is None:
            topic = (page.title or arg).lower()
            return (
                f'!!! note "Not in the README yet"\n'
                f"    The README has no section about {topic} yet, so there is nothing "
                f"more to show here."
            )
        return body

    markdown = _DIRECTIVE.sub(expand, markdown)
    return _LINK.sub(lambda m: _outside_link(m, docs_dir, page.file.src_uri), markdown)


#: a Markdown link to a relative target (images too)
_LINK = re.compile(r"(!?)\[([^\]\n]+)\]\(((?:\.\./)+[^)\s#]+)(#[^)\s]*)?\)")


def _outside_link(match: re.Match[str], docs_dir: Path, page_path: str) -> str:
    """A link to a repository file outside ``docs/`` (README.md, schema/...) as its path.

    Such files are not part of the site; the text says where to find them instead.
    """
    target = (docs_dir / page_path).parent / match.group(3)
    try:
        target.resolve().relative_to(docs_dir.resolve())
    except ValueError:
        try:
            shown = target.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return match.group(0)
        return f"{match.group(2)} (`{shown}` in the repository)"
    return match.group(0)


def _listed(nav: Any) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_listed(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(_listed(value) for value in nav.values()))
    return set()


def _reference_nav(docs_dir: Path) -> list[Any]:
    ref = docs_dir / "reference"
    groups = [{p.stem: f"reference/groups/{p.name}"} for p in sorted(ref.glob("groups/*.md"))]
    models = [{_title(p): f"reference/models/{p.name}"} for p in sorted(ref.glob("models/*.md"))]
    return [
        {"Overview": "reference/index.md"},
        {"Method groups": groups},
        {"Models": models},
        {"Error codes": "reference/errors.md"},
    ]


def on_config(config: Any) -> Any:
    docs_dir = Path(config["docs_dir"])
    nav = config["nav"]
    listed = _listed(nav)
    for entry in nav:
        if isinstance(entry, dict) and "Reference" in entry:
            entry["Reference"] = _reference_nav(docs_dir)
        if isinstance(entry, dict) and "Guide" in entry:
            for path in sorted(docs_dir.glob("*.md")):
                if path.name not in listed and path.name != "index.md":
                    entry["Guide"].append({_title(path): path.name})
    return config
