"""The golden copy holds generated contract tests for the fixture catalogue: never run them."""

from __future__ import annotations

collect_ignore_glob = ["golden/*"]
