"""Built-in API methods: just enough for the session layer and the demo.

``users.getCurrentUser``, ``users.getLoggedInUser``, ``users.getInfo``,
``friends.get`` and ``auth.login``. More methods are added with
:meth:`OkEmulator.register_method`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from .state import EmulatorError, MethodCall, User

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = ["DEFAULT_USER_FIELDS", "MAX_UIDS", "parse_fields", "register_builtins", "user_object"]

#: Fields of users.getCurrentUser when ``fields`` is not given.
DEFAULT_USER_FIELDS = (
    "uid",
    "first_name",
    "last_name",
    "name",
    "gender",
    "birthday",
    "age",
    "locale",
    "location",
    "pic50x50",
    "pic190x190",
)

#: users.getInfo takes at most this many ids.
MAX_UIDS = 100


def parse_fields(raw: str | None) -> list[str] | None:
    """``"UID,first_name, user.PIC190X190"`` -> ``["uid", "first_name", "pic190x190"]``."""
    if raw is None:
        return None
    fields = []
    for item in raw.split(","):
        name = item.strip().lower()
        if name.startswith("user."):
            name = name[len("user.") :]
        if name:
            fields.append(name)
    return fields


def user_object(user: User, fields: list[str] | None, base_url: str) -> dict[str, Any]:
    """The user object restricted to ``fields`` (unknown names skipped, uid always present)."""
    profile = user.profile(base_url)
    wanted = DEFAULT_USER_FIELDS if fields is None else fields
    if "*" in wanted:
        return profile
    result: dict[str, Any] = {"uid": user.uid}
    for name in wanted:
        if name in profile:
            result[name] = profile[name]
    return result


def _base_url(call: MethodCall) -> str:
    return call.emulator.url


def users_get_current_user(call: MethodCall) -> dict[str, Any]:
    assert call.user is not None  # session required
    return user_object(call.user, parse_fields(call.params.get("fields")), _base_url(call))


def users_get_logged_in_user(call: MethodCall) -> str:
    assert call.user is not None  # session required
    return call.user.uid


def users_get_info(call: MethodCall) -> list[dict[str, Any]]:
    uids = [uid.strip() for uid in call.params["uids"].split(",") if uid.strip()]
    if len(uids) > MAX_UIDS:
        raise EmulatorError(100, f"PARAM : Too many uids, at most {MAX_UIDS} allowed")
    fields = parse_fields(call.params["fields"])
    users = call.emulator.users
    base = _base_url(call)
    return [user_object(users[uid], fields, base) for uid in uids if uid in users]


def friends_get(call: MethodCall) -> list[str]:
    fid = call.params.get("fid")
    if not fid:
        if call.user is None:
            raise EmulatorError(100, "PARAM : Missing required parameter fid")
        fid = call.user.uid
    user = call.emulator.users.get(fid)
    if user is None:
        raise EmulatorError(110, "PARAM_USER_ID : Invalid user id")
    return list(user.friends)


def auth_login(call: MethodCall) -> dict[str, Any]:
    emu = call.emulator
    user = emu.find_user(call.params["user_name"])
    if user is None or user.password != call.params["password"]:
        raise EmulatorError(401, "AUTH_LOGIN : Invalid login or password")
    if user.captcha:
        raise EmulatorError(402, "AUTH_LOGIN_CAPTCHA : Captcha is required")
    token = emu.issue_token(call.app, user, ("VALUABLE_ACCESS",), expires_in=None, refresh=False)
    return {
        "uid": user.uid,
        "session_key": token.access_token,
        "session_secret_key": token.session_secret_key,
        "auth_token": secrets.token_urlsafe(24),
        "api_server": _base_url(call) + "/",
    }


def register_builtins(emu: OkEmulator) -> None:
    emu.register_method("users.getCurrentUser", users_get_current_user, session="required")
    emu.register_method("users.getLoggedInUser", users_get_logged_in_user, session="required")
    emu.register_method(
        "users.getInfo", users_get_info, session="optional", required_params=("uids", "fields")
    )
    emu.register_method("friends.get", friends_get, session="optional")
    emu.register_method(
        "auth.login",
        auth_login,
        session="prohibited",
        required_params=("user_name", "password"),
        unsigned=True,
    )
