"""Keep secrets out of logs.

Parameters and JSON reply fields whose names are secret are replaced by
``"***"`` before anything is formatted for a log line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "SECRET_KEYS", "redact_body", "redact_params"]

REDACTED = "***"

#: parameter and field names whose values are never logged
SECRET_KEYS = frozenset(
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

_SECRET_IN_TEXT = re.compile(
    r'("?(?:'
    + "|".join(re.escape(k) for k in sorted(SECRET_KEYS))
    + r')"?\s*[:=]\s*"?)([^"&,\s}]+)'
)


def redact_params(params: Mapping[str, str]) -> dict[str, str]:
    """A copy of wire parameters with secret values replaced."""
    return {k: (REDACTED if k in SECRET_KEYS else v) for k, v in params.items()}


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_KEYS else _redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def redact_body(body: bytes, limit: int = 500) -> str:
    """A reply body for a log line: secrets replaced, cut to ``limit`` characters."""
    text = body.decode("utf-8", "replace")
    try:
        text = json.dumps(_redact_json(json.loads(text)), ensure_ascii=False)
    except ValueError:
        text = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    return text if len(text) <= limit else text[:limit] + "..."
