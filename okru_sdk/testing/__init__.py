"""A local OK.ru emulator for tests and demos.

A real aiohttp server on 127.0.0.1 that speaks the OK.ru REST API (``fb.do``
and ``/api/<group>/<method>``, with all three signature circuits), the OAuth
token endpoint and the browser OAuth dialog::

    from okru_sdk.testing import Fault, OkEmulator

    async with OkEmulator() as emu:
        app = emu.add_app(app_id="1248", app_key="CBAABC", app_secret_key="S3CRET")
        user = emu.add_user(login="alice@example.com", password="pw")
        token = emu.issue_token(app, user)
        ...  # point the client at emu.url
        emu.faults.add(Fault.http(502), times=2)  # the next two API calls fail

Run ``python -m okru_sdk.testing --port 8765`` (or ``okru emulator``) for a
standalone server seeded with the demo app and user (``DEMO_*`` constants).
:func:`signed_payment_callback` builds a correctly signed ``callbacks.payment``
query for tests of your own payment handler.
"""

from __future__ import annotations

from .callbacks import signed_payment_callback
from .emulator import (
    DEMO_APP_ID,
    DEMO_APP_KEY,
    DEMO_APP_SECRET_KEY,
    DEMO_FRIEND_UID,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    DEMO_UID,
    OkEmulator,
)
from .faults import Fault, FaultInjector, FaultRule, FiredFault
from .responses import JSON_CONTENT_TYPE
from .state import (
    App,
    AuthCode,
    EmulatorError,
    MethodCall,
    MethodHandler,
    MethodSpec,
    RecordedRequest,
    SessionMode,
    Token,
    User,
)

__all__ = [
    "DEMO_APP_ID",
    "DEMO_APP_KEY",
    "DEMO_APP_SECRET_KEY",
    "DEMO_FRIEND_UID",
    "DEMO_LOGIN",
    "DEMO_PASSWORD",
    "DEMO_UID",
    "JSON_CONTENT_TYPE",
    "App",
    "AuthCode",
    "EmulatorError",
    "Fault",
    "FaultInjector",
    "FaultRule",
    "FiredFault",
    "MethodCall",
    "MethodHandler",
    "MethodSpec",
    "OkEmulator",
    "RecordedRequest",
    "SessionMode",
    "Token",
    "User",
    "signed_payment_callback",
]
