"""``json.loads`` whose every failure is a ``ValueError``.

A reply nested thousands of levels deep makes the stdlib decoder raise
``RecursionError``; callers that turn ``ValueError`` into an SDK error would
let that one escape as a crash.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def loads(data: str | bytes) -> Any:
    """Decode JSON; raise ``ValueError`` for anything that is not decodable JSON."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None
