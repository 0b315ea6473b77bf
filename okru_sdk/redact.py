"""Keep secrets out of logs, exception texts and pickles.

Parameters and JSON reply fields whose names are secret are replaced by
``"***"`` before anything is formatted for a log line. The names are a fixed
list plus every parameter the catalogue marks ``secret: true``.

OK.ru itself can echo secrets back: its signature error quotes the signed
string, password included. :func:`scrub` removes the secret *values* of the
request a reply answers from that reply before an error or a log line is
built from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from ._generated.secret_params import SECRET_PARAMS
from ._json import loads

__all__ = ["REDACTED", "SECRET_KEYS", "redact_body", "redact_params", "scrub", "secret_values"]

REDACTED = "***"

#: parameter and field names whose values are never logged
SECRET_KEYS = (
    frozenset(
        {
            "sig",
            "access_token",
            "session_key",
            "session_secret_key",
            "password",
            "passwd",
            "client_secret",
            "refresh_token",
            "application_secret_key",
            "app_secret_key",
            "auth_token",
            "code",
            "fr.password",
            "fr.token",
            "token",
        }
    )
    | SECRET_PARAMS
)

_SECRET_IN_TEXT = re.compile(
    r'("?(?:'
    + "|".join(re.escape(k) for k in sorted(SECRET_KEYS))
    + r')"?\s*[:=]\s*"?)([^"&,\s}]+)'
)


def redact_params(params: Mapping[str, str]) -> dict[str, str]:
    """A copy of wire parameters with secret values replaced.

    JSON-valued parameters are redacted inside too: ``batch.execute`` carries
    the parameters of its calls (``{"params": {"token": ...}}``) in one of them.
    """
    return {k: (REDACTED if k in SECRET_KEYS else _redact_json_param(v)) for k, v in params.items()}


def _redact_json_param(value: str) -> str:
    if value[:1] not in ("{", "["):
        return value
    try:
        decoded = loads(value)
    except ValueError:
        return value
    redacted = _redact_json(decoded)
    if redacted == decoded:
        return value
    return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_KEYS else _redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def redact_text(text: str) -> str:
    """Free text (a form-encoded or HTML body) with ``secret=value`` pairs replaced."""
    return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


def redact_body(body: bytes, limit: int = 500) -> str:
    """A reply body for a log line: secrets replaced, cut to ``limit`` characters."""
    text = body.decode("utf-8", "replace")
    try:
        text = json.dumps(_redact_json(loads(text)), ensure_ascii=False)
    except ValueError:
        text = redact_text(text)
    return text if len(text) <= limit else text[:limit] + "..."


def secret_values(wire: Mapping[str, str], *extra: str) -> list[str]:
    """The secret values of a request: its secret parameters' values and ``extra``.

    Secret-named fields inside JSON-valued parameters count too (the calls of a
    ``batch.execute`` travel in one); OK.ru's errors can quote them back.
    """
    values = [v for k, v in wire.items() if k in SECRET_KEYS and v]
    for k, v in wire.items():
        if k not in SECRET_KEYS and v[:1] in ("{", "["):
            try:
                decoded = loads(v)
            except ValueError:
                continue
            _nested_secrets(decoded, values)
    values.extend(v for v in extra if v)
    return values


def _nested_secrets(value: Any, into: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in SECRET_KEYS and isinstance(v, (str, int, float)) and v != "":
                into.append(str(v))
            else:
                _nested_secrets(v, into)
    elif isinstance(value, list):
        for item in value:
            _nested_secrets(item, into)


def _spellings(value: str) -> set[bytes]:
    """Every way a value can appear in a reply: as sent, JSON-escaped, URL-encoded."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote_plus(value),
        quote(value, safe=""),
    }
    return {f.encode("utf-8", "surrogatepass") for f in forms if f}


def scrub(body: bytes, values: Iterable[str]) -> bytes:
    """``body`` with every spelling of every secret value replaced by ``***``.

    Longer spellings go first, so a secret that contains another is removed whole.
    """
    spellings: set[bytes] = set()
    for value in values:
        spellings |= _spellings(value)
    for spelling in sorted(spellings, key=len, reverse=True):
        if spelling in body:
            body = body.replace(spelling, REDACTED.encode())
    return body
