"""okru-sdk: a typed, asynchronous client for the OK.ru (Odnoklassniki) REST API."""

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
)
from .signing import Circuit

__version__ = "0.1.0"

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
]
