"""Plain data held by the emulator: apps, users, tokens, codes, recorded requests.

Nothing here does I/O. The emulator owns instances of these classes and hands
them out, so tests can read (and, with care, tweak) them directly.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from ..signing import Circuit

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = [
    "App",
    "AuthCode",
    "Dialog",
    "EmulatorError",
    "MethodCall",
    "MethodHandler",
    "MethodSpec",
    "RecordedRequest",
    "SessionMode",
    "Token",
    "User",
    "new_access_token",
    "new_secret_key",
    "random_token",
]

#: How a method treats a user session (wording of the method pages on apiok.ru).
SessionMode = Literal["required", "optional", "prohibited"]


def random_token(nbytes: int = 24) -> str:
    """A random URL-safe string."""
    return secrets.token_urlsafe(nbytes)


def new_access_token() -> str:
    """A random access token; URL-safe, shaped a little like the real ``-s-84W...`` ones."""
    return f"-s-{secrets.token_urlsafe(30)}"


def new_secret_key() -> str:
    """A session secret key: 32 lower-case hex characters."""
    return secrets.token_hex(16)


class EmulatorError(Exception):
    """An API error a method handler wants the emulator to send back.

    ``message`` should follow the real format ``"NAME : text"``, for example
    ``EmulatorError(100, "PARAM : Missing required parameter uids")``.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return f"{self.code} {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The error body exactly as OK.ru sends it."""
        return {"error_code": self.code, "error_msg": self.message, "error_data": self.data}


@dataclasses.dataclass(eq=False)
class App:
    """A registered application and its three keys."""

    app_id: str
    app_key: str
    app_secret_key: str
    #: allow ``oauth/token.do`` without ``client_secret`` (the reply then also
    #: carries ``session_secret_key``), as for mobile/desktop apps
    public_code_exchange: bool = False
    name: str = "Test application"
    #: redirect URIs the dialog and token.do accept; ``None`` accepts any
    redirect_uris: tuple[str, ...] | None = None


@dataclasses.dataclass(eq=False)
class User:
    """An OK.ru user with a few realistic profile fields."""

    uid: str
    login: str
    password: str
    first_name: str
    last_name: str
    gender: str = "female"
    birthday: str = "1990-05-04"
    locale: str = "ru"
    city: str = "Москва"
    country: str = "RUSSIAN_FEDERATION"
    country_code: str = "RU"
    #: logging in asks for a captcha (auth.login error 402, a captcha page in the dialog)
    captcha: bool = False
    online: bool = True
    last_online_ms: int = 1_700_000_000_000
    #: uids of friends
    friends: list[str] = dataclasses.field(default_factory=list)
    #: extra or overriding fields of the user object
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def profile(self, base_url: str = "") -> dict[str, Any]:
        """Every field this user has, keyed by lower-case field name."""
        data: dict[str, Any] = {
            "uid": self.uid,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": self.name,
            "gender": self.gender,
            "birthday": self.birthday,
            "age": _age(self.birthday),
            "locale": self.locale,
            "location": {
                "city": self.city,
                "country": self.country,
                "countryCode": self.country_code,
                "countryName": "Россия" if self.country_code == "RU" else self.country,
            },
            "online": "web" if self.online else None,
            "last_online_ms": self.last_online_ms,
            "pic50x50": f"{base_url}/i/{self.uid}/pic50x50.jpg",
            "pic128x128": f"{base_url}/i/{self.uid}/pic128x128.jpg",
            "pic190x190": f"{base_url}/i/{self.uid}/pic190x190.jpg",
            "pic640x480": f"{base_url}/i/{self.uid}/pic640x480.jpg",
            "url_profile": f"https://ok.ru/profile/{self.uid}",
            "has_email": "@" in self.login,
        }
        if data["online"] is None:
            del data["online"]
        data.update(self.extra)
        return data


def _age(birthday: str) -> int | None:
    try:
        born = datetime.date.fromisoformat(birthday)
    except ValueError:
        return None
    today = datetime.date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclasses.dataclass(eq=False)
class Token:
    """An access token (``session_key`` in the old wording) with its session secret."""

    access_token: str
    session_secret_key: str
    app: App
    user: User
    scopes: tuple[str, ...]
    #: lifetime in seconds as announced; ``None`` never expires
    expires_in: int | None
    #: refresh token that can mint new access tokens for the same grant
    refresh_token: str | None
    #: absolute expiry on the emulator's clock; ``None`` never expires
    expires_at: float | None
    #: set by :meth:`OkEmulator.expire_token`
    revoked: bool = False

    def is_expired(self, now: float) -> bool:
        return self.revoked or (self.expires_at is not None and now >= self.expires_at)


@dataclasses.dataclass(eq=False)
class RefreshGrant:
    """What a refresh token stands for."""

    refresh_token: str
    app: App
    user: User
    scopes: tuple[str, ...]


@dataclasses.dataclass(eq=False)
class AuthCode:
    """A one-time authorization code."""

    code: str
    app: App
    user: User
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclasses.dataclass
class RecordedRequest:
    """One HTTP request as the emulator received it."""

    path: str
    http_method: str
    #: query string and form body merged (the body wins on a clash), as received
    params: dict[str, str]
    #: API method name for API calls, otherwise ``None``
    method: str | None
    #: circuit the signature matched; ``None`` when unsigned or not an API call
    circuit: Circuit | None
    headers: Mapping[str, str]


@dataclasses.dataclass
class MethodCall:
    """What a method handler gets."""

    method: str
    params: dict[str, str]
    app: App
    #: the session user; ``None`` on session-less calls
    user: User | None
    #: the session token; ``None`` on session-less calls
    token: Token | None
    circuit: Circuit | None
    emulator: OkEmulator
    request: web.Request


#: A method handler: sync or async, returns a JSON-able value (or an aiohttp
#: response to take full control of the reply) or raises :class:`EmulatorError`.
MethodHandler = Callable[[MethodCall], Any]


@dataclasses.dataclass
class MethodSpec:
    """A registered API method."""

    name: str
    handler: MethodHandler
    session: SessionMode = "optional"
    required_params: tuple[str, ...] = ()
    unsigned: bool = False


@dataclasses.dataclass(eq=False)
class Dialog:
    """Server-side context of one OAuth dialog, keyed by its cookie value."""

    cookie: str
    app: App
    scopes: tuple[str, ...]
    response_type: str
    redirect_uri: str
    state: str | None
    layout: str
    #: anti-forgery value of the login form (input ``fr.csrf``)
    csrf: str
    #: value of ``fr.token`` on the permissions form
    perm_token: str
    #: set once the login step succeeded
    user: User | None = None
