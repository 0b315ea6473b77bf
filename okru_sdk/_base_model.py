"""The one base class of every generated response model.

Tolerant by design (see DESIGN.md, "Tolerant models"):

- unknown fields are kept (``extra="allow"``), so a new OK.ru field never breaks parsing;
- every generated field is optional and defaults to ``None``;
- numbers arriving where a string is declared become strings, so ids stay
  strings whether OK.ru sends ``"123"`` or ``123``;
- fields can be filled by their Python name or their wire alias;
- models are built on first validation, not at import (``defer_build``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["OkModel"]


class OkModel(BaseModel):
    """Base of the generated response models (``okru_sdk.models``)."""

    model_config = ConfigDict(
        extra="allow",
        coerce_numbers_to_str=True,
        populate_by_name=True,
        defer_build=True,
    )
