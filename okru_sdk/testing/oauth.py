# ruff: noqa: RUF001  (the pages are in Russian, like the real ones)
"""OAuth on the emulator: ``oauth/token.do`` and the browser dialog.

Token endpoint errors
---------------------
The sources we have do not show what the real ``oauth/token.do`` answers on a
bad request. The emulator answers the RFC 6749 way: HTTP 400 with
``{"error": "invalid_request" | "invalid_client" | "invalid_grant",
"error_description": "..."}``. Successful replies follow the real sample:
``token_type`` is ``"session"`` and ``expires_in`` is a JSON *string*.

- ``invalid_request``: a parameter is missing, or ``grant_type`` is not
  ``authorization_code`` / ``refresh_token``;
- ``invalid_client``: unknown ``client_id``, wrong ``client_secret``, or no
  ``client_secret`` for an app that does not allow public code exchange;
- ``invalid_grant``: unknown, used, expired or foreign code or refresh token,
  or a ``redirect_uri`` that differs from the one the code was issued for
  (the query part is ignored in that comparison, as on OK.ru).

Without ``client_secret`` (apps added with ``public_code_exchange=True``) the
reply also carries ``session_secret_key``. Codes are single use; a failed
exchange does not use a code up. The refresh grant keeps the refresh token
valid and does not return a new one.

The dialog
----------
``/oauth/authorize`` checks the request, keeps the context server-side under a
``JSESSIONID`` cookie and redirects to ``/dk?st.cmd=OAuth2Login``. The login
form carries a hidden ``fr.csrf`` that must come back. After the login the
browser goes to ``/dk?st.cmd=OAuth2Permissions``, whose form carries
``fr.token``; posting it with ``button_accept_request`` redirects to the
``redirect_uri`` with the token in the fragment (``response_type=token``) or a
code in the query (``response_type=code``). Posting without the button
answers ``error=access_denied`` (in the fragment for the token flow, in the
query for the code flow). Problems the user cannot fix by retrying (unknown
client, missing cookie, a form that lost its hidden fields) give an HTML
error page with status 400 or 403 and no form.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from aiohttp import web

from .responses import json_response
from .state import Dialog, User

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = [
    "COOKIE_NAME",
    "authorize",
    "blank_page",
    "dialog",
    "token_endpoint",
]

#: Name of the dialog cookie.
COOKIE_NAME = "JSESSIONID"

LOGIN_PATH = "/dk?st.cmd=OAuth2Login"
PERMISSIONS_PATH = "/dk?st.cmd=OAuth2Permissions"

LOGIN_ERROR_TEXT = "Неправильно указан логин и/или пароль"

#: Human-readable names for known scopes (shown on the permissions page).
SCOPE_TITLES: Mapping[str, str] = {
    "VALUABLE_ACCESS": "Доступ к основной информации профиля",
    "LONG_ACCESS_TOKEN": "Доступ к аккаунту в любое время",
    "PHOTO_CONTENT": "Доступ к фотографиям",
    "GROUP_CONTENT": "Доступ к группам",
    "VIDEO_CONTENT": "Доступ к видео",
    "APP_INVITE": "Приглашение друзей в приложение",
    "GET_EMAIL": "Доступ к адресу электронной почты",
}


# ---------------------------------------------------------------------- helpers


def _json(value: object, status: int = 200) -> web.Response:
    return json_response(value, status=status)


def _oauth_error(error: str, description: str) -> web.Response:
    return _json({"error": error, "error_description": description}, status=400)


def _strip_query(uri: str) -> str:
    return uri.split("#", 1)[0].split("?", 1)[0]


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8")


def split_scopes(raw: str | None) -> tuple[str, ...]:
    """``"VALUABLE_ACCESS;PHOTO_CONTENT"`` -> a tuple; ``,`` and spaces also separate."""
    if not raw:
        return ()
    for sep in (",", " "):
        raw = raw.replace(sep, ";")
    return tuple(dict.fromkeys(s.strip() for s in raw.split(";") if s.strip()))


# ---------------------------------------------------------------------- token.do


def token_endpoint(emu: OkEmulator, request: web.Request, params: dict[str, str]) -> web.Response:
    """``POST /oauth/token.do``: the authorization_code and refresh_token grants."""
    if request.method != "POST":
        return _oauth_error("invalid_request", "token.do accepts POST only")
    grant_type = params.get("grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        return _oauth_error(
            "invalid_request", "grant_type must be authorization_code or refresh_token"
        )
    client_id = params.get("client_id")
    if not client_id:
        return _oauth_error("invalid_request", "client_id is missing")
    app = emu.app_by_id(client_id)
    if app is None:
        return _oauth_error("invalid_client", "unknown client_id")
    secret = params.get("client_secret")
    public = not secret
    if public and not app.public_code_exchange:
        return _oauth_error("invalid_client", "client_secret is missing")
    if not public and secret != app.app_secret_key:
        return _oauth_error("invalid_client", "client_secret is wrong")

    if grant_type == "authorization_code":
        code_value = params.get("code")
        redirect_uri = params.get("redirect_uri")
        if not code_value:
            return _oauth_error("invalid_request", "code is missing")
        if not redirect_uri:
            return _oauth_error("invalid_request", "redirect_uri is missing")
        code = emu.codes.get(code_value)
        if code is None or code.used or code.app is not app or emu.clock() >= code.expires_at:
            return _oauth_error("invalid_grant", "the code is unknown, used or expired")
        if _strip_query(redirect_uri) != _strip_query(code.redirect_uri):
            return _oauth_error("invalid_grant", "redirect_uri does not match")
        code.used = True
        token = emu.issue_token(
            app, code.user, code.scopes, expires_in=emu.lifetime_for(code.scopes), refresh=True
        )
        body: dict[str, str] = {
            "access_token": token.access_token,
            "refresh_token": token.refresh_token or "",
            "token_type": "session",
            "expires_in": str(token.expires_in),
        }
    else:
        refresh_value = params.get("refresh_token")
        if not refresh_value:
            return _oauth_error("invalid_request", "refresh_token is missing")
        grant = emu.refresh_grants.get(refresh_value)
        if grant is None or grant.app is not app:
            return _oauth_error("invalid_grant", "the refresh token is unknown")
        token = emu.issue_token(
            app,
            grant.user,
            grant.scopes,
            expires_in=emu.lifetime_for(grant.scopes),
            refresh_token=refresh_value,
        )
        body = {
            "access_token": token.access_token,
            "token_type": "session",
            "expires_in": str(token.expires_in),
        }
    if public:
        body["session_secret_key"] = token.session_secret_key
    return _json(body)


# ---------------------------------------------------------------------- pages

_HEAD = """<!DOCTYPE html>
<html class="">
<head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <meta name="viewport"
          content="width=device-width,initial-scale=1,maximum-scale=1,user-scalable=no">
    <title>Одноклассники</title>
    <link href="/res/css/oauth.css" type="text/css" rel="stylesheet">
</head>
<script type="text/javascript">
    try {    top.location.toString(); } catch(e) {    top.location = location; }
</script>
<body>
"""

_FOOT = """<script>
    var OK = OK || {}; OK.afterWindowOnloadAttach = function(fn) {fn.call();}
</script>
</div>
</body>
</html>
"""

_e = html.escape


def _widget_header(user: User | None) -> str:
    if user is None:
        who = ""
    else:
        who = (
            '<div class="ext-widget_menu __enabled"><div class="ext-widget_menu_trigger">'
            f'<span class="ext-widget_menu_t">{_e(user.first_name)}</span></div></div>'
        )
    return (
        '<div class="ext-widget_h"><a href="https://ok.ru/feed?st.cmd=userMain"'
        ' class="ext-widget_h_ico" target="_blank"></a>'
        f'<div class="ext-widget_h_tx">Одноклассники</div>{who}</div>'
    )


def login_page(dialog: Dialog, *, email: str = "", error: str | None = None) -> str:
    """The login step, shaped like ``oauth2-login.html``."""
    error_block = f'<div class="form_i __error">{_e(error)}</div>\n' if error else ""
    return (
        _HEAD
        + '<div id="hook_Block_OAuth2Login" class="hookBlock">\n'
        + '    <form method="post"\n'
        + '          action="/dk?cmd=OAuth2Login&amp;st.cmd=OAuth2Login">\n'
        + '        <div class="ext-widget __no-footer'
        + f' __layout-{_e(dialog.layout)}" id="widget-el">\n'
        + f"            {_widget_header(None)}\n"
        + '            <div class="ext-widget_cnt-w __center">\n'
        + '                <div class="ext-widget_cnt js-ext-widget-content">\n'
        + '                    <div class="widget-oauth"><input name="fr.posted" type="hidden"'
        + ' value="set"></input><input name="fr.csrf" type="hidden"'
        + f' value="{_e(dialog.csrf)}"></input>\n'
        + error_block
        + '                        <div class="form_i"><span class="input-l"><label\n'
        + '                                for="field_email">Логин, адрес почты или телефон</label>'
        + "</span>\n"
        + '                            <div class="it_w"><input tabindex="1" name="fr.email"'
        + f' id="field_email" type="text" value="{_e(email)}" class="it"></input></div>\n'
        + "                        </div>\n"
        + '                        <div class="form_i"><span class="input-l"><label\n'
        + '                                for="field_password">пароль</label><a\n'
        + '                                href="https://ok.ru/dk?st.cmd=anonymRecoveryStart"\n'
        + '                                target="_blank">Забыли пароль?</a></span>\n'
        + '                            <div class="it_w"><input tabindex="2" name="fr.password"'
        + ' id="field_password" type="password" class="it"></input></div>\n'
        + "                        </div>\n"
        + '                        <div class="form_i"><label class="irc_w __modern __o"><input\n'
        + '                                name="fr.remember" checked="checked"'
        + ' id="field_remember" type="checkbox" value="on"\n'
        + '                                class="irc"></input><span class="irc-vis"></span>'
        + '<span class="irc_l">запомнить меня</span></label>\n'
        + "                        </div>\n"
        + '                        <div class="form-actions"><input value="Войти" tabindex="3"'
        + ' type="submit" class="button-pro __wide form-actions_yes"></input><a\n'
        + '                                href="https://ok.ru/dk?st.cmd=anonymRegistrationEnterPhone"\n'
        + '                                class="button-pro __wide __sec mt-4x"'
        + ' target="_blank">Зарегистрироваться</a></div>\n'
        + "                    </div>\n"
        + "                </div>\n"
        + "            </div>\n"
        + "        </div>\n"
        + "    </form>\n"
        + _FOOT
    )


def captcha_page(dialog: Dialog, *, email: str = "") -> str:
    """The login step when the account needs a captcha."""
    return (
        _HEAD
        + '<div id="hook_Block_OAuth2Login" class="hookBlock">\n'
        + '    <form method="post"\n'
        + '          action="/dk?cmd=OAuth2Login&amp;st.cmd=OAuth2Login">\n'
        + '        <div class="ext-widget __no-footer" id="widget-el">\n'
        + f"            {_widget_header(None)}\n"
        + '            <div class="ext-widget_cnt-w __center">\n'
        + '                <div class="ext-widget_cnt js-ext-widget-content">\n'
        + '                    <div class="widget-oauth __captcha"><input name="fr.posted"'
        + ' type="hidden" value="set"></input><input name="fr.csrf" type="hidden"'
        + f' value="{_e(dialog.csrf)}"></input>\n'
        + '                        <div class="form_i __error">Введите символы с картинки,'
        + " чтобы подтвердить, что вы не робот</div>\n"
        + '                        <div class="form_i"><div class="it_w"><input name="fr.email"'
        + f' id="field_email" type="text" value="{_e(email)}" class="it"></input></div></div>\n'
        + '                        <div class="form_i"><div class="it_w"><input name="fr.password"'
        + ' id="field_password" type="password" class="it"></input></div></div>\n'
        + '                        <div class="form_i captcha"><img class="captcha_img"'
        + f' src="/captcha?id={secrets.token_hex(8)}" alt="captcha" width="150" height="50">\n'
        + '                            <div class="it_w"><input name="fr.captcha"'
        + ' id="field_captcha"'
        + ' type="text" value="" class="it" autocomplete="off"></input></div></div>\n'
        + '                        <div class="form-actions"><input value="Войти" type="submit"'
        + ' class="button-pro __wide form-actions_yes"></input></div>\n'
        + "                    </div>\n"
        + "                </div>\n"
        + "            </div>\n"
        + "        </div>\n"
        + "    </form>\n"
        + _FOOT
    )


def permissions_page(dialog: Dialog) -> str:
    """The permissions step, shaped like ``oauth2-permissions.html``."""
    assert dialog.user is not None
    items = "".join(
        f'<li class="widget-oauth-permissions_list_i" data-scope="{_e(scope)}">'
        f"{_e(SCOPE_TITLES.get(scope, scope))}</li>"
        for scope in dialog.scopes
    )
    cancel = _e(_result_location(dialog, {"error": "access_denied"}))
    return (
        _HEAD
        + '<div id="hook_Block_OAuth2Permissions" class="hookBlock">\n'
        + '    <form method="POST"\n'
        + '          action="/dk?st.cmd=OAuth2Permissions&amp;cmd=OAuth2Permissions">\n'
        + '        <input name="fr.posted" type="hidden" value="set"></input><input\n'
        + f'            name="fr.token" type="hidden" value="{_e(dialog.perm_token)}"></input>\n'
        + '        <div class="ext-widget" id="widget-el">\n'
        + f"            {_widget_header(dialog.user)}\n"
        + '            <div class="ext-widget_cnt-w __center">\n'
        + '                <div class="ext-widget_cnt js-ext-widget-content">\n'
        + '                    <div class="widget-oauth-permissions">\n'
        + '                        <div class="ext-widget-app-card_title">Приложение <span'
        + f' class="ext-widget-app-card_name">{_e(dialog.app.name)}</span>'
        + " запрашивает доступ к вашему аккаунту</div>\n"
        + f'                        <ul class="widget-oauth-permissions_list">{items}</ul>\n'
        + "                    </div>\n"
        + "                </div>\n"
        + "            </div>\n"
        + '            <div class="ext-widget_f">\n'
        + "                <button onclick=\"this.className +=' __disabled'\"\n"
        + '                        name="button_accept_request"\n'
        + '                        class="button-pro form-actions_yes">Разрешить\n'
        + "                </button>\n"
        + f'                <a href="{cancel}"\n'
        + '                   class="button-pro __sec ml-2x">Отменить</a></div>\n'
        + "        </div>\n"
        + "    </form>\n"
        + _FOOT
    )


def error_page(message: str, status: int = 400) -> web.Response:
    """An HTML error page with no form on it."""
    text = (
        _HEAD
        + '<div id="hook_Block_OAuth2Error" class="hookBlock">\n'
        + '    <div class="ext-widget __error" id="widget-el">\n'
        + f"        {_widget_header(None)}\n"
        + '        <div class="oauth-error"><h1 class="oauth-error_h">Ошибка</h1>\n'
        + f'        <p class="oauth-error_tx">{_e(message)}</p></div>\n'
        + "    </div>\n"
        + _FOOT
    )
    return _html(text, status=status)


def blank_page() -> web.Response:
    """``/blank.html``: the default redirect target of external apps."""
    return _html("<!DOCTYPE html>\n<html><head><title></title></head><body></body></html>\n")


# ---------------------------------------------------------------------- dialog


def _result_location(dialog: Dialog, values: dict[str, str]) -> str:
    """``redirect_uri`` with ``values`` (plus ``state``) in the fragment or the query."""
    if dialog.state is not None:
        values = {**values, "state": dialog.state}
    encoded = urlencode(values, quote_via=quote)
    if dialog.response_type == "token":
        return f"{dialog.redirect_uri.split('#', 1)[0]}#{encoded}"
    base = dialog.redirect_uri.split("#", 1)[0]
    return f"{base}{'&' if '?' in base else '?'}{encoded}"


def authorize(emu: OkEmulator, request: web.Request, params: dict[str, str]) -> web.Response:
    """``GET /oauth/authorize``: check the request, start a dialog, go to the login page."""
    client_id = params.get("client_id", "")
    app = emu.app_by_id(client_id) if client_id else None
    if app is None:
        return error_page("Приложение не найдено (неверный client_id).")
    response_type = params.get("response_type", "")
    if response_type not in ("token", "code"):
        return error_page("Неверный параметр response_type.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        return error_page("Не указан redirect_uri.")
    if app.redirect_uris is not None and _strip_query(redirect_uri) not in {
        _strip_query(uri) for uri in app.redirect_uris
    }:
        return error_page("Неверный redirect_uri для этого приложения.")
    cookie = secrets.token_hex(16).upper()
    emu.dialogs[cookie] = Dialog(
        cookie=cookie,
        app=app,
        scopes=split_scopes(params.get("scope")),
        response_type=response_type,
        redirect_uri=redirect_uri,
        state=params.get("state"),
        layout=params.get("layout") or "w",
        csrf=secrets.token_urlsafe(18),
        perm_token=secrets.token_urlsafe(24),
    )
    response = _redirect(LOGIN_PATH)
    response.set_cookie(COOKIE_NAME, cookie, path="/", httponly=True)
    return response


def dialog(emu: OkEmulator, request: web.Request, params: dict[str, str]) -> web.Response:
    """``/dk?st.cmd=OAuth2Login|OAuth2Permissions``, GET shows, POST submits."""
    command = request.query.get("st.cmd")
    if command not in ("OAuth2Login", "OAuth2Permissions"):
        return error_page("Страница не найдена.", status=404)
    cookie = request.cookies.get(COOKIE_NAME)
    state = emu.dialogs.get(cookie) if cookie else None
    if state is None:
        return error_page("Сессия авторизации не найдена. Начните вход заново.")
    posted = request.method == "POST"
    if command == "OAuth2Login":
        return _login_step(emu, state, params, posted)
    return _permissions_step(emu, state, params, posted)


def _login_step(
    emu: OkEmulator, state: Dialog, params: dict[str, str], posted: bool
) -> web.Response:
    if not posted:
        return _html(login_page(state))
    if params.get("fr.csrf") != state.csrf:
        return error_page("Форма устарела или повреждена. Начните вход заново.", status=403)
    email = params.get("fr.email", "")
    user = emu.find_user(email) if email else None
    if user is None or user.password != params.get("fr.password"):
        return _html(login_page(state, email=email, error=LOGIN_ERROR_TEXT))
    if user.captcha:
        return _html(captcha_page(state, email=email))
    state.user = user
    return _redirect(PERMISSIONS_PATH)


def _permissions_step(
    emu: OkEmulator, state: Dialog, params: dict[str, str], posted: bool
) -> web.Response:
    if state.user is None:
        return _redirect(LOGIN_PATH)
    if not posted:
        return _html(permissions_page(state))
    if params.get("fr.token") != state.perm_token:
        return error_page("Форма устарела или повреждена. Начните вход заново.", status=403)
    del emu.dialogs[state.cookie]
    if "button_accept_request" not in params:
        return _redirect(_result_location(state, {"error": "access_denied"}))
    if state.response_type == "code":
        code = emu.issue_code(state.app, state.user, state.redirect_uri, state.scopes)
        return _redirect(_result_location(state, {"code": code}))
    token = emu.issue_token(
        state.app,
        state.user,
        state.scopes,
        expires_in=emu.lifetime_for(state.scopes),
        refresh=False,
    )
    return _redirect(
        _result_location(
            state,
            {
                "access_token": token.access_token,
                "session_secret_key": token.session_secret_key,
                "expires_in": str(token.expires_in),
            },
        )
    )
