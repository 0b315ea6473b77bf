"""The public surface: pinned names, error lookup, and a cheap import."""

from __future__ import annotations

import subprocess
import sys

import okru_sdk
from okru_sdk import APIError, OkError

HAND_WRITTEN = {
    "API",
    "NOT_GIVEN",
    "APIError",
    "AuthError",
    "Circuit",
    "ClientSession",
    "CodeClientSession",
    "CodeServerSession",
    "CodeSession",
    "DEFAULT_RETRY",
    "ImplicitClientSession",
    "ImplicitServerSession",
    "ImplicitSession",
    "MethodSpec",
    "NO_RETRY",
    "NotGiven",
    "OkError",
    "ParameterValidationError",
    "PasswordClientSession",
    "PasswordServerSession",
    "PasswordSession",
    "RefreshClientSession",
    "RefreshServerSession",
    "RefreshSession",
    "RequestTimeout",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerSession",
    "SessionMode",
    "TokenSession",
    "TransportError",
    "authorization_url",
    "code_from_redirect",
    "new_state",
    "ReplyTooLarge",
    "SessionClosed",
    "UploadError",
    "UploadedPhoto",
    "UploadedVideo",
}


def test_exported_names_are_pinned() -> None:
    exported = set(okru_sdk.__all__)
    assert exported >= HAND_WRITTEN
    assert okru_sdk.ERROR_CLASSES[8] is okru_sdk.FloodBlocked  # code -> class, generated
    for name in exported - HAND_WRITTEN - {"ERROR_CLASSES"}:  # the generated error classes
        obj = getattr(okru_sdk, name)
        assert isinstance(obj, type) and issubclass(obj, APIError), name
    for name in exported:
        assert hasattr(okru_sdk, name), name


def test_error_classes_by_code_and_family() -> None:
    assert APIError.for_code(8) is okru_sdk.FloodBlocked
    assert issubclass(okru_sdk.FloodBlocked, okru_sdk.FloodError)
    assert APIError.for_code(8).transient
    assert APIError.for_code(102).__name__ == "SessionExpired"
    assert APIError.for_code(123456) is APIError
    err = APIError.from_payload({"error_code": 104, "error_msg": "PARAM_SIGNATURE : bad"})
    assert type(err) is APIError.for_code(104)
    assert isinstance(err, OkError)


def test_session_classes_follow_the_spec_inheritance() -> None:
    s = okru_sdk
    for flow in ("Code", "Implicit", "Password", "Refresh"):
        base = getattr(s, f"{flow}Session")
        assert issubclass(base, s.TokenSession)
        assert issubclass(getattr(s, f"{flow}ClientSession"), base)
        assert issubclass(getattr(s, f"{flow}ServerSession"), base)
    assert issubclass(s.ClientSession, s.TokenSession)
    assert issubclass(s.ServerSession, s.TokenSession)


def test_import_builds_no_group_and_no_model() -> None:
    code = (
        "import sys, okru_sdk;"
        "loaded = [m for m in sys.modules if m.startswith('okru_sdk._generated.')];"
        "print(','.join(sorted(loaded)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    loaded = set(out.split(","))
    assert not any(".methods." in m or ".models." in m for m in loaded), loaded
