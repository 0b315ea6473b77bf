"""Typed shapes of JSON parameters: ``from okru_sdk.inputs import MediaTopicAttachment``.

``TypedDict`` classes generated from ``schema/inputs/`` (see
``okru_sdk/_generated/inputs.py``): the ``attachment`` of ``mediatopic.post``
(``MediaTopicAttachment``, its blocks ``TextMedia``, ``LinkMedia``,
``PhotoMedia``, ``MovieMedia``, ``PollMedia``) and of ``market.add`` /
``market.edit`` (``ProductAttachment``). A plain ``dict`` literal is checked
against them by mypy (a misspelt media type or key is an error) and sent as
it is at run time; the SDK checks only that it is a mapping.
"""

from __future__ import annotations

from ._generated.inputs import *  # noqa: F403  (the generated shapes)
from ._generated.inputs import __all__ as __all__
