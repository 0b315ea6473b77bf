"""okru-sdk: a typed, asynchronous client for the OK.ru (Odnoklassniki) REST API."""

from typing import TYPE_CHECKING, Any

from ._generated import error_names as _error_names
from ._version import __version__ as __version__
from .api import API, MethodSpec
from .encoding import NOT_GIVEN, NotGiven
from .errors import (
    APIError,
    AuthError,
    OkError,
    ParameterValidationError,
    RequestTimeout,
    ResponseDecodeError,
    TransportError,
)
from .retry import DEFAULT_RETRY, NO_RETRY, RetryPolicy
from .sessions import (
    ClientSession,
    CodeClientSession,
    CodeServerSession,
    CodeSession,
    ImplicitClientSession,
    ImplicitServerSession,
    ImplicitSession,
    PasswordClientSession,
    PasswordServerSession,
    PasswordSession,
    RefreshClientSession,
    RefreshServerSession,
    RefreshSession,
    ServerSession,
    SessionMode,
    TokenSession,
    authorization_url,
    code_from_redirect,
    new_state,
)
from .signing import Circuit
from .transport import ReplyTooLarge, SessionClosed

__all__ = [
    "API",
    "NOT_GIVEN",
    "APIError",
    "AuthError",
    "Circuit",
    "ClientSession",
    "CodeClientSession",
    "CodeServerSession",
    "CodeSession",
    "ImplicitClientSession",
    "ImplicitServerSession",
    "ImplicitSession",
    "MethodSpec",
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
    "ServerSession",
    "SessionMode",
    "TokenSession",
    "TransportError",
    "authorization_url",
    "code_from_redirect",
    "new_state",
    "ReplyTooLarge",
    "SessionClosed",
    "DEFAULT_RETRY",
    "NO_RETRY",
    "RetryPolicy",
    "UploadError",
    "UploadedPhoto",
    "UploadedVideo",
]
__all__ += _error_names.NAMES

if TYPE_CHECKING:
    from ._generated.errors import *  # noqa: F403  (one class per OK.ru error code)
    from .upload import UploadedPhoto, UploadedVideo, UploadError

#: names loaded with their module on first use (``api.upload`` loads it too)
_UPLOAD_NAMES = frozenset({"UploadError", "UploadedPhoto", "UploadedVideo"})


def __getattr__(name: str) -> Any:
    # The generated error classes load on first use (see errors.load_error_classes).
    if name in _error_names.NAMES:
        from ._generated import errors

        return getattr(errors, name)
    if name in _UPLOAD_NAMES:
        from . import upload

        return getattr(upload, name)
    raise AttributeError(f"module 'okru_sdk' has no attribute {name!r}")
