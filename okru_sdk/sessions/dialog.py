"""Reading the OAuth dialog pages (login, permissions): forms and visible text.

A small HTML tokenizer written for this one job instead of the standard
library's ``html.parser``, which takes time quadratic in the page's size on
some malformed input (``"<a " * 30_000`` takes about 10 s on CPython 3.11), so
a hostile page could stall the event loop for minutes. This one only moves
forward: every step consumes what it read, and a construct left open at the
end of the page (a tag, a quoted attribute, a comment) ends the page, as it
does in a browser. It never recurses, so nesting depth costs nothing.

What it keeps of HTML is what the dialog walk needs, read as a browser reads
it: tag and attribute names are case-insensitive, the first of repeated
attributes wins, entities are decoded in attribute values (``&amp;`` in form
actions) and text, explicit end tags of void elements (``</input>``, which
ok.ru writes) are harmless, ``<script>``, ``<style>``, ``<textarea>`` and
``<title>`` hold raw text, a ``<form>`` inside an open form is ignored, and a
form's method is ``POST`` only when it says ``post`` (anything else is
``GET``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

__all__ = ["Form", "Page", "page_text", "parse_forms", "parse_page"]


@dataclass
class Form:
    """One ``<form>``: where it posts and what a browser would submit."""

    action: str
    method: str
    #: successful controls a browser sends without the user clicking anything
    fields: dict[str, str] = field(default_factory=dict)
    #: names of every control in the form (inputs, buttons, selects, textareas)
    names: set[str] = field(default_factory=set)
    #: name -> value of submit controls (``<button>``, ``<input type=submit>``)
    buttons: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    """What the dialog walk reads of a page."""

    #: every form, in document order
    forms: list[Form]
    #: the visible text, whitespace folded (for error messages)
    text: str


# HTML's whitespace (CR included: a browser folds CR LF into LF before tokenizing)
_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_SPACE_OR_SLASH = re.compile(r"[\t\n\f\r /]*")
_SPACE = re.compile(r"[\t\n\f\r ]*")
_ATTR_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_FOLD = re.compile(r"\s+")
#: a "<" that opens markup: a tag, an end tag, a comment, a declaration
_MARKUP = re.compile(r"<[A-Za-z/!?]")

#: elements whose content is raw text, up to their own end tag
_RAW_TEXT = {
    tag: re.compile(rf"</{tag}[\t\n\f\r />]", re.IGNORECASE)
    for tag in ("script", "style", "textarea", "title")
}
#: raw-text elements whose text is not visible
_HIDDEN = frozenset({"script", "style"})


class _Builder:
    """Turns tokens into forms and visible text."""

    def __init__(self) -> None:
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._form: Form | None = None

    def data(self, raw: str) -> None:
        text = _FOLD.sub(" ", unescape(raw) if "&" in raw else raw).strip()
        if text:
            self.text.append(text)

    def start(self, tag: str, attr: dict[str, str]) -> None:
        if tag == "form":
            if self._form is None:  # a browser ignores a form inside a form
                method = "POST" if attr.get("method", "").strip().lower() == "post" else "GET"
                self._form = Form(action=attr.get("action", ""), method=method)
                self.forms.append(self._form)
            return
        form = self._form
        name = attr.get("name")
        if form is None or not name:
            return
        if tag == "input":
            form.names.add(name)
            kind = attr.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons[name] = attr.get("value", "")
            elif kind in ("checkbox", "radio"):
                if "checked" in attr:
                    form.fields[name] = attr.get("value", "on")
            elif kind not in ("button", "reset", "file"):
                form.fields[name] = attr.get("value", "")
        elif tag == "button":
            form.names.add(name)
            if attr.get("type", "submit").lower() == "submit":
                form.buttons[name] = attr.get("value", "")
        elif tag in ("select", "textarea"):
            form.names.add(name)
            form.fields.setdefault(name, "")

    def end(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _attributes(html: str, pos: int) -> tuple[int, dict[str, str] | None]:
    """The attributes of the tag whose name ends at ``pos`` and where the tag ends.

    ``None`` for the attributes when the page ends inside the tag.
    """
    end = len(html)
    attr: dict[str, str] = {}
    while True:
        pos = _past(_SPACE_OR_SLASH, html, pos)
        if pos >= end:
            return end, None
        if html[pos] == ">":
            return pos + 1, attr
        name_match = _ATTR_NAME.match(html, pos)
        if name_match is None:  # not reached: html[pos] is neither space, "/" nor ">"
            return end, None
        name = name_match.group().lower()
        pos = _past(_SPACE, html, name_match.end())
        value = ""
        if html.startswith("=", pos):
            pos = _past(_SPACE, html, pos + 1)
            quote = html[pos : pos + 1]
            if quote in ('"', "'"):
                close = html.find(quote, pos + 1)
                if close < 0:
                    return end, None
                value, pos = html[pos + 1 : close], close + 1
            else:
                start, pos = pos, _past(_UNQUOTED, html, pos)
                value = html[start:pos]
        if name not in attr:
            attr[name] = unescape(value) if "&" in value else value


def _past(pattern: re.Pattern[str], html: str, pos: int) -> int:
    """The position after what ``pattern`` (which may match nothing) matches at ``pos``."""
    match = pattern.match(html, pos)
    return pos if match is None else match.end()


def _skip_past(html: str, needle: str, pos: int) -> int:
    """The position after the next ``needle`` from ``pos``; the page's end without one."""
    found = html.find(needle, pos)
    return len(html) if found < 0 else found + len(needle)


def _tokenize(html: str, out: _Builder) -> None:
    end = len(html)
    pos = 0
    while pos < end:
        markup = _MARKUP.search(html, pos)  # a "<" that opens nothing is text
        if markup is None:
            out.data(html[pos:])
            return
        if markup.start() > pos:
            out.data(html[pos : markup.start()])
        pos = markup.start()
        after = html[pos + 1]
        name_match = _TAG_NAME.match(html, pos + 1)
        if name_match is not None:  # a start tag
            tag = name_match.group().lower()
            pos, attr = _attributes(html, name_match.end())
            if attr is None:
                return  # the page ends inside the tag: a browser drops it
            out.start(tag, attr)
            raw_end = _RAW_TEXT.get(tag)
            if raw_end is not None:
                close = raw_end.search(html, pos)
                stop = end if close is None else close.start()
                if tag not in _HIDDEN:
                    out.data(html[pos:stop])
                pos = stop  # the end tag, if any, is read as any other
        elif after == "/":
            name_match = _TAG_NAME.match(html, pos + 2)
            if name_match is not None:  # an end tag (attributes, if any, ignored)
                pos, attr = _attributes(html, name_match.end())
                if attr is None:
                    return
                out.end(name_match.group().lower())
            else:  # "</>" is nothing; "</" and anything else is a bogus comment
                pos = _skip_past(html, ">", pos + 2)
        elif html.startswith("<!--", pos):
            pos = _skip_past(html, "-->", pos + 4)
        else:  # "<!" or "<?": doctype, CDATA, processing instruction, all skipped
            pos = _skip_past(html, ">", pos + 2)


def parse_page(html: str) -> Page:
    """The forms and the visible text of a page; time and memory linear in its size."""
    builder = _Builder()
    _tokenize(html, builder)
    return Page(forms=builder.forms, text=" ".join(builder.text))


def parse_forms(html: str) -> list[Form]:
    """Every form of the page, in document order."""
    return parse_page(html).forms


def page_text(html: str) -> str:
    """The visible text of a page, whitespace folded (for error messages)."""
    return parse_page(html).text
