"""Response models of the catalogued methods: ``from okru_sdk.models import User``.

The models are generated (``okru_sdk/_generated/models/``, one module per
``schema/objects`` file) and imported on first use, so importing this module
is cheap. All of them derive from :class:`okru_sdk._base_model.OkModel`:
unknown fields are kept, missing fields are ``None``, ids stay strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base_model import OkModel
from ._generated import models as _generated_models

if TYPE_CHECKING:
    from ._generated.models import *  # noqa: F403

__all__ = ["OkModel", *_generated_models.__all__]


def __getattr__(name: str) -> Any:
    return getattr(_generated_models, name)


def __dir__() -> list[str]:
    return sorted(__all__)
