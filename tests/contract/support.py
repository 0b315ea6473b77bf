"""What the generated contract tests share (hand-written, not generated)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter

from okru_sdk import API
from okru_sdk._generated.emulator_data import METHODS
from okru_sdk.api import MethodSpec
from okru_sdk.sessions.base import SessionMode
from okru_sdk.signing import Circuit
from okru_sdk.testing import OkEmulator

__all__ = ["APP_ID", "APP_KEY", "APP_SECRET", "Contract"]

APP_ID, APP_KEY, APP_SECRET = "1248", "CBACONTRACTKEY", "CONTRACT-APP-SECRET"


@dataclasses.dataclass
class Contract:
    """A running emulator that knows the whole catalogue, and an API bound to it."""

    emu: OkEmulator
    api: API
    access_token: str

    def check(self, spec: MethodSpec[Any], wire: Mapping[str, str], result: Any) -> None:
        """Check the last request's wire parameters and the parsed result of one call."""
        request = self.emu.requests[-1]
        assert request.method == spec.name
        sent = dict(request.params)
        expected = {
            **wire,
            "application_key": APP_KEY,
            "format": "json",
            "method": spec.name,
        }
        if not spec.signed:  # sdk.init and the like: OK.ru wants them unsigned
            assert "sig" not in sent, "an unsigned method was signed"
            assert request.circuit is None
        elif spec.mode is SessionMode.PROHIBITED:
            assert sent.pop("sig", None), "the call was not signed"
            assert request.circuit is Circuit.APPLICATION
        else:
            assert sent.pop("sig", None), "the call was not signed"
            assert request.circuit is Circuit.SERVER
        if spec.mode is not SessionMode.PROHIBITED:
            expected["access_token"] = self.access_token
        assert sent == expected
        example = METHODS[spec.name].example
        assert result == TypeAdapter(spec.result_type).validate_python(example)
