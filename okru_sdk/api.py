"""The API facade: ``API(session)``, the untyped ``call`` and the core of typed calls."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Coroutine, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError

from ._generated.groups import GeneratedGroups
from ._generated.paging import GeneratedPaging
from ._json import loads
from .encoding import NOT_GIVEN, NotGiven
from .errors import ResponseDecodeError
from .params import Param, check_params
from .sessions.base import SessionMode, TokenSession

if TYPE_CHECKING:
    from ._shaped import ShapedDecoder
    from .batch import Batch
    from .paging import Paging
    from .upload import Uploads

__all__ = ["API", "MethodSpec", "list_of", "load_model"]

T = TypeVar("T")

#: replies at least this large are decoded with the cyclic garbage collector paused
_GC_PAUSE_BYTES = 32 * 1024


class MethodSpec(Generic[T]):
    """What the core needs to know about one catalogued method.

    Generated modules build one per method at import time; the pydantic
    adapter for the result is built on the first call, not at import.
    """

    __slots__ = (
        "_adapter",
        "_factory",
        "_shaped",
        "mode",
        "name",
        "paging",
        "params",
        "result_type",
        "retry_safe",
        "signed",
    )

    def __init__(
        self,
        name: str,
        result_type: Any = None,
        *,
        result_factory: Callable[[], Any] | None = None,
        mode: SessionMode = SessionMode.OPTIONAL,
        retry_safe: bool = True,
        signed: bool = True,
        params: tuple[Param, ...] = (),
        paging: Paging | None = None,
    ) -> None:
        self.name = name
        #: declared parameters, checked before a call is sent
        self.params = params
        #: the declared result type; with ``result_factory`` it is known after the first call
        self.result_type = result_type
        self._factory = result_factory
        self.mode = mode
        self.retry_safe = retry_safe
        #: ``False`` for the few methods OK.ru wants unsigned (``sdk.init``)
        self.signed = signed
        #: how the method pages (``api.paginate``); ``None`` when it does not
        self.paging = paging
        self._adapter: TypeAdapter[T] | None = None
        #: a decoder validating only the asked-for fields (``Model`` / ``list[Model]`` results)
        self._shaped: ShapedDecoder | None = None

    def parse(self, body: bytes, fields: Any = None) -> T:
        """Validate the raw reply into the declared result type.

        ``fields`` is the call's ``fields=`` value, if any: OK.ru sends just
        those fields, so only they are validated (see :mod:`okru_sdk._shaped`).
        """
        adapter = self._adapter
        if adapter is None:
            if self._factory is not None:
                self.result_type, self._factory = self._factory(), None
            adapter = self._adapter = TypeAdapter(self.result_type)
            from ._shaped import shaped_decoder  # pydantic's model machinery: not at import

            self._shaped = shaped_decoder(self.result_type)
        if self.result_type is None and (not body or body.isspace()):
            return None  # type: ignore[return-value]  # T is None here
        try:
            shaped = self._shaped
            shape = shaped.shape_for(fields) if shaped is not None and fields else None
            if len(body) < _GC_PAUSE_BYTES or not gc.isenabled():
                if shape is not None:
                    return shaped.decode(shape, body)  # type: ignore[union-attr,no-any-return]
                return adapter.validate_json(body)
            # A large reply makes thousands of objects, none of them garbage: the
            # collector's passes in between would find nothing (measured: a third
            # of the decode of 1,000 users), so it waits until the decode is done.
            gc.disable()
            try:
                if shape is not None:
                    return shaped.decode(shape, body)  # type: ignore[union-attr,no-any-return]
                return adapter.validate_json(body)
            finally:
                gc.enable()
        except ValidationError as exc:
            raise ResponseDecodeError(
                f"{self.name}: the reply does not match {_type_name(self.result_type)} "
                f"({exc.error_count()} validation error(s))",
                method=self.name,
                body=body,
                cause=exc,
            ) from exc

    def __repr__(self) -> str:
        return f"MethodSpec({self.name!r}, mode={self.mode.value})"


def load_model(module: str, name: str) -> Any:
    """A generated model class, importing its module on first use."""
    return getattr(importlib.import_module(f"okru_sdk._generated.models.{module}"), name)


def list_of(item: Any) -> Any:
    """``list[item]`` for a type known only at run time."""
    return list[item]


_INDEX: dict[str, tuple[str, bool, bool]] | None = None


def _method_index() -> dict[str, tuple[str, bool, bool]]:
    """Wire name -> (session mode, retry_safe, signed) of every catalogued method, loaded once."""
    global _INDEX
    if _INDEX is None:
        from ._generated.index import METHOD_INDEX

        _INDEX = METHOD_INDEX
    return _INDEX


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


class API(GeneratedGroups, GeneratedPaging):
    """Entry point: ``api = API(session)``; ``await api.call("users.getCurrentUser")``."""

    def __init__(self, session: TokenSession) -> None:
        self.session = session

    async def call(
        self,
        method: str,
        /,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        **params: Any,
    ) -> Any:
        """Call any method by its wire name and return the decoded JSON.

        The untyped escape hatch for methods the catalogue does not know yet.
        Values are encoded like typed calls (lists comma-joined, booleans
        ``true``/``false``, dicts as JSON). A catalogued method keeps its
        session mode and retry flag; any other method is sent with the
        session it has and is treated as unsafe to retry (it may be a write).
        """
        known = _method_index().get(method)
        body = await self.session.request(
            method,
            params,
            mode=SessionMode(known[0]) if known else SessionMode.OPTIONAL,
            timeout=None if timeout is NOT_GIVEN else timeout,
            retry_safe=known[1] if known else False,
            signed=known[2] if known else True,
        )
        if not body or body.isspace():
            return None
        try:
            return loads(body)
        except ValueError as exc:
            raise ResponseDecodeError(
                f"{method}: the reply is not JSON", method=method, body=body, cause=exc
            ) from exc

    def _call(
        self,
        spec: MethodSpec[T],
        params: Mapping[str, Any],
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        extra_params: Mapping[str, Any] | None = None,
    ) -> Coroutine[Any, Any, T]:
        """The one call every generated method delegates to (and awaits).

        The parameters are checked now; the request, awaited, is the session's
        own coroutine, which decodes the reply into the declared type: no
        coroutine level of its own for every call to pass through.
        """
        if spec.params:
            check_params(spec.name, spec.params, params)
        if extra_params:
            params = {**params, **extra_params}
        fields = params.get("fields")
        return self.session.request(
            spec.name,
            params,
            mode=spec.mode,
            timeout=None if timeout is NOT_GIVEN else timeout,
            retry_safe=spec.retry_safe,
            signed=spec.signed,
            decode=lambda body: spec.parse(body, fields),
        )

    def batch(
        self, *, max_calls: int | None = None, timeout: float | NotGiven = NOT_GIVEN
    ) -> Batch:
        """Collect calls and send them together: ``async with api.batch() as batch:``.

        Inside the block ``batch.<group>.<method>(...)`` takes the arguments of
        ``api.<group>.<method>(...)``, is not awaited and returns a handle; the
        calls go out in as few ``batch.execute`` requests as possible when the
        block ends, and ``handle.result()`` then gives each call's typed
        result or raises its own error. ``max_calls`` caps the calls per
        request (default :data:`okru_sdk.batch.MAX_BATCH_CALLS`); ``timeout``
        bounds each request. See :mod:`okru_sdk.batch`.
        """
        from .batch import MAX_BATCH_CALLS, Batch

        return Batch(
            self, max_calls=MAX_BATCH_CALLS if max_calls is None else max_calls, timeout=timeout
        )

    @cached_property
    def upload(self) -> Uploads:
        """Photo and video uploads: ``await api.upload.photos([...])``, ``api.upload.video(...)``.

        See :mod:`okru_sdk.upload`.
        """
        from .upload import Uploads

        return Uploads(self)

    def __repr__(self) -> str:
        return f"API({self.session!r})"
