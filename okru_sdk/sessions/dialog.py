"""Reading the OAuth dialog pages (login, permissions) with an HTML parser.

Built on the standard library's ``html.parser``, which decodes entities in
attribute values (``&amp;`` in form actions) and tolerates the explicit
``</input>`` end tags ok.ru writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Form", "parse_forms", "page_text"]


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


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: (v if v is not None else "") for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "form":
            self._form = Form(
                action=attr.get("action", ""), method=attr.get("method", "get").upper()
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attr.get("name")
        if not name:
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

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self._text.append(data.strip())


def parse_forms(html: str) -> list[Form]:
    """Every form of the page, in document order."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def page_text(html: str) -> str:
    """The visible text of a page, whitespace folded (for error messages)."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return " ".join(parser._text)
