"""Small things a new user meets: the User-Agent, public error classes, hints, the emulator's
default catalogue, the pytest plugin's registration, the payment-callback helper, the docs
site's reference pages and the benchmark chart."""

from __future__ import annotations

import importlib.metadata
import pickle
import sys
import traceback
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

import okru_sdk
from okru_sdk import API, ParameterValidationError, ServerSession
from okru_sdk.callbacks import (
    PaymentCallback,
    PaymentCallbackError,
    parse_payment_callback,
    payment_handler,
)
from okru_sdk.sessions import SessionSettings
from okru_sdk.testing import OkEmulator, signed_payment_callback
from okru_sdk.testing.state import App, User
from okru_sdk.transport import USER_AGENT

from .conftest import APP_KEY, APP_SECRET

ROOT = Path(__file__).resolve().parent.parent


# -- User-Agent --------------------------------------------------------------------------------


async def test_requests_carry_the_sdk_user_agent(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    token = emu.issue_token(app, user)
    async with ServerSession(app.app_id, APP_KEY, APP_SECRET, token.access_token, **urls) as s:
        await API(s).call("users.getCurrentUser")
    agent = emu.requests[-1].headers["User-Agent"]
    assert agent == USER_AGENT
    assert agent.startswith(f"okru-sdk/{okru_sdk.__version__} (Python ")
    assert f"aiohttp {aiohttp.__version__}" in agent


async def test_a_users_http_session_keeps_its_headers_and_the_sdk_adds_its_agent(
    emu: OkEmulator, app: App, user: User
) -> None:
    token = emu.issue_token(app, user)
    async with aiohttp.ClientSession(headers={"X-Mine": "1", "User-Agent": "mine/1"}) as http:
        async with ServerSession(
            app.app_id, APP_KEY, APP_SECRET, token.access_token, api_url=emu.url, http=http
        ) as s:
            await API(s).call("users.getCurrentUser")
        sent = emu.requests[-1].headers
        assert sent["User-Agent"] == USER_AGENT
        assert sent["X-Mine"] == "1"
        assert dict(http.headers) == {"X-Mine": "1", "User-Agent": "mine/1"}  # left as it was
        async with http.get(emu.url + "/blank.html") as resp:
            await resp.read()
        assert emu.requests[-1].headers["User-Agent"] == "mine/1"  # the user's own requests


# -- public error classes ----------------------------------------------------------------------


def test_per_code_errors_live_in_okru_sdk_errors() -> None:
    from okru_sdk.errors import ERROR_CLASSES, FloodBlocked, FloodError, SessionExpired

    assert FloodBlocked is okru_sdk.FloodBlocked is ERROR_CLASSES[8]
    assert issubclass(FloodBlocked, FloodError)
    for cls in (FloodBlocked, FloodError, SessionExpired):
        assert cls.__module__ == "okru_sdk.errors"
    assert "FloodBlocked" in dir(okru_sdk.errors)
    with pytest.raises(AttributeError, match="NoSuchError"):
        okru_sdk.errors.NoSuchError  # noqa: B018
    try:
        raise FloodBlocked(8, "FLOOD_BLOCKED : slow down", method="users.getInfo")
    except FloodBlocked:
        shown = traceback.format_exc().strip().splitlines()[-1]
    assert (
        shown
        == "okru_sdk.errors.FloodBlocked: OK.ru error 8 in users.getInfo: FLOOD_BLOCKED : slow down"
    )
    copy = pickle.loads(pickle.dumps(FloodBlocked(8, "x", method="m")))
    assert type(copy) is FloodBlocked and str(copy) == "OK.ru error 8 in m: x"


# -- the list hint -----------------------------------------------------------------------------


async def test_the_comma_joined_hint_is_for_list_parameters_only(
    emu: OkEmulator, app: App, user: User, urls: SessionSettings
) -> None:
    token = emu.issue_token(app, user)
    async with ServerSession(app.app_id, APP_KEY, APP_SECRET, token.access_token, **urls) as s:
        api = API(s)
        with pytest.raises(ParameterValidationError) as listed:
            await api.users.get_info(uids="1,2", fields=["uid"])  # a str is a Sequence[str]
        assert "pass a list, not a comma-joined string" in str(listed.value)
        with pytest.raises(ParameterValidationError) as counted:
            await api.users.update_mask(mask="7")  # type: ignore[arg-type]
        assert "must be an int, got str" in str(counted.value)
        assert "comma-joined" not in str(counted.value)


# -- the emulator's catalogue ------------------------------------------------------------------


async def test_the_emulator_serves_the_catalogue_by_default() -> None:
    from okru_sdk.testing.catalogue import catalogued_methods

    full = OkEmulator()
    assert all(full.method_spec(name) is not None for name in catalogued_methods())
    bare = OkEmulator(catalogue=False)
    assert bare.method_spec("group.getInfo") is None
    assert bare.method_spec("users.getCurrentUser") is not None  # a built-in one


# -- the pytest plugin -------------------------------------------------------------------------


def test_the_plugin_is_an_entry_point_and_registered_once(request: pytest.FixtureRequest) -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    (point,) = [p for p in points if p.value == "okru_sdk.testing.pytest_plugin"]
    assert point.name == "okru_sdk.testing.pytest_plugin"  # so pytest_plugins finds it registered
    manager = request.config.pluginmanager
    module = sys.modules["okru_sdk.testing.pytest_plugin"]
    assert manager.get_plugin("okru_sdk.testing.pytest_plugin") is module
    assert [name for name, plugin in manager.list_name_plugin() if plugin is module] == [
        "okru_sdk.testing.pytest_plugin"
    ]


# -- signed payment callbacks ------------------------------------------------------------------


def test_signed_payment_callback_parses() -> None:
    query = signed_payment_callback(
        app_key="CBAKEY",
        app_secret_key="SECRET",
        uid="575662066926",
        amount=100,
        product_code="gold_100",
        extra_attributes={"order": "42"},
        card_promo=True,
        currency="ok",
    )
    assert query["card_promo"] == "true" and query["extra_attributes"] == '{"order":"42"}'
    callback = parse_payment_callback(query, app_key="CBAKEY", app_secret_key="SECRET")
    assert callback.amount == 100 and callback.product_code == "gold_100"
    assert callback.extra_attributes == {"order": "42"}
    assert callback.transaction_id == query["transaction_id"]
    forged = {**query, "amount": "1"}
    with pytest.raises(PaymentCallbackError) as refused:
        parse_payment_callback(forged, app_key="CBAKEY", app_secret_key="SECRET")
    assert refused.value.code == 104
    with pytest.raises(ValueError, match="sig is computed here"):
        signed_payment_callback(app_key="k", app_secret_key="s", uid="1", amount=1, sig="x")


async def test_signed_payment_callback_through_a_real_handler() -> None:
    seen: list[PaymentCallback] = []

    async def on_payment(callback: PaymentCallback) -> None:
        seen.append(callback)

    webapp = web.Application()
    webapp.router.add_get(
        "/ok/payment", payment_handler(on_payment, app_key="CBAKEY", app_secret_key="SECRET")
    )
    runner = web.AppRunner(webapp)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        query = signed_payment_callback(
            app_key="CBAKEY", app_secret_key="SECRET", uid="1", amount=5
        )
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/ok/payment", params=query) as resp,
        ):
            body = await resp.text()
        assert resp.status == 200 and ">true<" in body
        assert [c.amount for c in seen] == [5]
    finally:
        await runner.cleanup()


# -- the docs site -----------------------------------------------------------------------------


def test_the_reference_has_a_page_for_every_group_method_and_model() -> None:
    from okru_sdk._generated.index import METHOD_INDEX

    reference = ROOT / "docs" / "reference"
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (reference / "groups").glob("*.md")}
    for wire in METHOD_INDEX:
        assert any(f"| `{wire}` |" in text for text in pages.values()), wire
    assert len(pages) >= len({w.split(".", 1)[0] for w in METHOD_INDEX})
    models = list((reference / "models").glob("*.md"))
    model_modules = [
        p
        for p in (ROOT / "okru_sdk" / "_generated" / "models").glob("*.py")
        if p.stem != "__init__"
    ]
    assert len(models) == len(model_modules)
    users = pages["users"]
    assert "## get_info { #get_info }" in users
    assert "| returns | list[[User](../models/user.md)] |" in users
    assert "<https://apiok.ru/dev/methods/rest/users/users.getInfo>" in users
    assert "| `empty_pictures` | `emptyPictures` | `boolean` | no |" in users


def test_the_docs_hooks_include_readme_sections(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        import mkdocs_hooks
    finally:
        sys.path.remove(str(ROOT))
    readme = tmp_path / "README.md"
    readme.write_text(
        "# T\n\n## Using it\n\ntext\n\n```python\n# not a heading\n```\n\n### Sub\n\nmore\n\n"
        "## Next\n\nother\n",
        encoding="utf-8",
    )
    section = mkdocs_hooks.readme_section("using", readme)
    assert section == "text\n\n```python\n# not a heading\n```\n\n### Sub\n\nmore"
    assert mkdocs_hooks.readme_section("nothing|next", readme) == "other"
    assert mkdocs_hooks.readme_section("uploads", readme) is None


def test_the_bench_chart_reads_the_results() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import chart
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    groups = chart.groups_from_results(
        (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    )
    assert [name for name, _ in groups] == [
        "1 user, 1 in flight",
        "1 user, 50 in flight",
        "100 users, 1 in flight",
        "100 users, 50 in flight",
        "1,000 users, 1 in flight",
        "1,000 users, 50 in flight",
    ]
    assert all(values["a"] == 1.0 and {"b", "c", "d"} <= set(values) for _, values in groups)
    svg = chart.svg(groups, "t")
    assert svg.startswith("<svg") and svg.count("<rect") == 1 + len(chart.SERIES) + len(
        groups
    ) * len(chart.SERIES)
