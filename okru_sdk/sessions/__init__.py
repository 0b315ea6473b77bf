"""Session classes: the two signature circuits and the five grant flows.

Inheritance (as in the user's specification)::

    TokenSession ─┬─ ClientSession, ServerSession
                  ├─ CodeSession ───── CodeClientSession, CodeServerSession
                  ├─ ImplicitSession ─ ImplicitClientSession, ImplicitServerSession
                  ├─ PasswordSession ─ PasswordClientSession, PasswordServerSession
                  └─ RefreshSession ── RefreshClientSession, RefreshServerSession
"""

from .base import SessionMode, TokenSession
from .code import CodeClientSession, CodeServerSession, CodeSession
from .implicit import ImplicitClientSession, ImplicitServerSession, ImplicitSession
from .oauth import authorization_url, code_from_redirect, new_state
from .password import PasswordClientSession, PasswordServerSession, PasswordSession
from .refresh import RefreshClientSession, RefreshServerSession, RefreshSession
from .settings import SessionSettings
from .token import ClientSession, ServerSession

__all__ = [
    "ClientSession",
    "CodeClientSession",
    "CodeServerSession",
    "CodeSession",
    "ImplicitClientSession",
    "ImplicitServerSession",
    "ImplicitSession",
    "PasswordClientSession",
    "PasswordServerSession",
    "PasswordSession",
    "RefreshClientSession",
    "RefreshServerSession",
    "RefreshSession",
    "ServerSession",
    "SessionMode",
    "SessionSettings",
    "TokenSession",
    "authorization_url",
    "code_from_redirect",
    "new_state",
]
