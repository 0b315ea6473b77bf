"""Request signatures for the three OK.ru signature circuits.

Pure functions, no I/O. The algorithm (apiok.ru "List of REST methods"):
drop ``sig`` and ``access_token``, sort the remaining parameters by key, join
them as ``key=value`` with no separator, append the secret and take the
lower-case MD5 hex digest.
"""

from __future__ import annotations

import enum
import hashlib
import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "JS_SDK_UNSIGNED_KEYS",
    "UNSIGNED_KEYS",
    "Circuit",
    "application_secret",
    "client_secret",
    "server_secret",
    "sign_params",
    "sign_params_with_session_key",
    "signature_of",
    "signed_pairs",
]

#: Keys left out of the signature, as the current OK.ru text says: ``sig`` and
#: the user session, whether it is named ``access_token`` or (legacy) ``session_key``.
UNSIGNED_KEYS = frozenset({"sig", "access_token", "session_key"})
#: What OK.ru's JS SDK leaves out: it signs a legacy ``session_key``.
JS_SDK_UNSIGNED_KEYS = frozenset({"sig", "access_token"})


class Circuit(enum.Enum):
    """Which secret signs a request."""

    #: client-server: the user's session secret key
    CLIENT = "client-server"
    #: server-server: md5(access_token + application secret key)
    SERVER = "server-server"
    #: no user session: the application secret key itself
    APPLICATION = "session-less"


def _pick_md5() -> Callable[..., Any]:
    # CPython's own MD5 (in C): a signature is a few hundred bytes, where OpenSSL's
    # per-digest set-up (hashlib's default) costs more than the hashing itself.
    # Other interpreters' `_md5` may be written in Python: they keep hashlib's.
    if sys.implementation.name == "cpython":
        try:
            md5: Callable[..., Any] = importlib.import_module("_md5").md5
        except ImportError:  # pragma: no cover - a CPython built without it
            return hashlib.md5
        return md5
    return hashlib.md5  # pragma: no cover - not CPython


_MD5 = _pick_md5()


def _md5_hex(text: str) -> str:
    digest: str = _MD5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
    return digest


def server_secret(access_token: str, app_secret_key: str) -> str:
    """Secret of the server-server circuit: ``md5(access_token + app_secret_key)``."""
    return _md5_hex(access_token + app_secret_key)


def client_secret(session_secret_key: str) -> str:
    """Secret of the client-server circuit: the session secret key as it is."""
    return session_secret_key


def application_secret(app_secret_key: str) -> str:
    """Secret of the session-less circuit: the application secret key as it is."""
    return app_secret_key


def sign_params(
    params: Mapping[str, str], secret: str, *, unsigned: frozenset[str] = UNSIGNED_KEYS
) -> str:
    """Return ``sig`` for already encoded wire parameters.

    ``params`` must hold the exact strings that go on the wire (see
    :func:`okru_sdk.encoding.encode_params`), so that what is signed is what
    is sent. ``unsigned`` names the keys left out.
    """
    return signature_of(signed_pairs(params, unsigned), secret)


def signature_of(pairs: list[str], secret: str) -> str:
    """``sig`` of the strings :func:`signed_pairs` gave."""
    return _md5_hex("".join(pairs) + secret)


def signed_pairs(params: Mapping[str, str], unsigned: frozenset[str] = UNSIGNED_KEYS) -> list[str]:
    """The ``key=value`` strings a signature is made of, in their order (sorted by key)."""
    return [f"{key}={params[key]}" for key in sorted(params) if key not in unsigned]


def sign_params_with_session_key(params: Mapping[str, str], secret: str) -> str:
    """``sig`` as OK.ru's JS SDK computes it: a legacy ``session_key`` is signed too."""
    return sign_params(params, secret, unsigned=JS_SDK_UNSIGNED_KEYS)
