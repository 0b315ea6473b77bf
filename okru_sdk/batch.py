"""Batches: many typed calls sent in few ``batch.execute`` requests.

::

    async with api.batch() as batch:
        me = batch.users.get_current_user(fields=["uid", "name"])
        friends = batch.friends.get()
    print(me.result().name, len(friends.result()))

Inside the block, ``batch.<group>.<method>(...)`` takes the same arguments as
``api.<group>.<method>(...)``, is not awaited, checks its parameters at once
and returns a :class:`BatchHandle`. When the block ends, the calls go out in
as few ``batch.execute`` requests as the limits allow; afterwards
``handle.result()`` gives that call's typed result or raises that call's own
error. An exception inside the block sends nothing.

How the groups are reused: a :class:`Batch` stands where the generated group
classes expect the :class:`~okru_sdk.API` (their ``self._api``). Their methods
end in ``await self._api._call(spec, params, ...)``; the batch's ``_call``
checks and records the call and completes at once with a handle, so each
generated coroutine runs to its end without suspending and hands that handle
back. Nothing about a method is restated here.

Types: ``BatchHandle[T].result()`` is ``T``. For ``batch.<group>.<method>(...)``
itself to type as ``BatchHandle[T]``, the generated group classes have to be
typed by their owner; :class:`MethodGroup`, :data:`CallerT` and
:func:`batchable` at the end of this module are that machinery (proven on a
hand-written group in ``tests/typing/check_batch.py``). Until the generated
classes use them, ``batch.<group>`` is typed ``Any``.

Limits, and where they come from:

- OK.ru publishes no maximum number of calls per batch (``reference/okru-protocol.md``
  section 5: "not found"). :data:`MAX_BATCH_CALLS` (25) is our conservative
  choice; ``api.batch(max_calls=...)`` changes it.
- The reply holds one key per method, ``<group>_<method>_response`` (same
  section), so two calls of one method cannot share a request: a batch with
  repeated methods is spread over as many requests as the most repeated
  method has calls, each method's calls in their order.
- All calls of a batch share one session: the request goes with the user
  session if any call needs one, without it if any call forbids it; a batch
  cannot hold both kinds (:class:`BatchUsageError` at the second call).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from functools import cached_property
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Final,
    Generic,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    overload,
)

from typing_extensions import Self

from ._generated.groups import GeneratedGroups
from ._json import loads
from .encoding import NOT_GIVEN, NotGiven, encode_params
from .errors import APIError, OkError, ResponseDecodeError
from .params import check_params
from .redact import scrub, secret_values
from .sessions.base import SessionMode, check_seconds

if TYPE_CHECKING:
    from .api import API, MethodSpec

__all__ = [
    "MAX_BATCH_CALLS",
    "Batch",
    "BatchHandle",
    "BatchUsageError",
    "Caller",
    "CallerT",
    "MethodGroup",
    "batchable",
]

T = TypeVar("T")
P = ParamSpec("P")

#: Calls per ``batch.execute`` request unless ``api.batch(max_calls=...)`` says otherwise.
#: OK.ru documents no limit (reference/okru-protocol.md, section 5); 25 is our choice.
MAX_BATCH_CALLS: Final = 25

_BATCH_METHOD = "batch.execute"
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class BatchUsageError(OkError, RuntimeError):
    """A batch was used in a way that cannot work; the text says what and why.

    Examples: a result read before the block ended, a call added after it, a
    ``batch.*`` method or a per-call ``timeout=`` inside a batch, or calls
    that need a user session mixed with calls that forbid one.
    """


# -- handles -------------------------------------------------------------------------------

_PENDING, _DONE, _FAILED, _NOT_SENT = range(4)


class BatchHandle(Generic[T]):
    """The future result of one batched call; read it with :meth:`result` after the block."""

    __slots__ = ("_error", "_fields", "_outcome", "_spec", "_state", "_wire", "method")

    def __init__(self, spec: MethodSpec[T], wire: dict[str, str]) -> None:
        #: the wire name of the call, e.g. ``"users.getCurrentUser"``
        self.method = spec.name
        self._spec = spec
        self._wire = wire
        self._state = _PENDING
        self._outcome: T | None = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        """Whether the call has its result or its error (the block has ended and was sent)."""
        return self._state in (_DONE, _FAILED)

    def result(self) -> T:
        """The call's typed result, the same value the awaited typed call returns.

        Raises the call's own error (the matching :class:`~okru_sdk.APIError`
        subclass, or the error of the whole request if that failed), or
        :class:`BatchUsageError` while the ``async with`` block has not ended
        or when the batch was never sent.
        """
        state = self._state
        if state == _DONE:
            return cast("T", self._outcome)
        if state == _FAILED:
            assert self._error is not None
            raise self._error
        if state == _PENDING:
            raise BatchUsageError(
                f"{self.method}: no result yet: batched calls are sent when the "
                "`async with api.batch()` block ends; read result() after the block"
            )
        raise BatchUsageError(f"{self.method}: {self._error}")

    def _resolve(self, value: T) -> None:
        self._state, self._outcome = _DONE, value

    def _fail(self, error: BaseException) -> None:
        self._state, self._error = _FAILED, error

    def _not_sent(self, why: str) -> None:
        # ``_error`` holds the reason as text here, not an exception to raise
        self._state, self._error = _NOT_SENT, BatchUsageError(why)

    def __repr__(self) -> str:
        state = ("pending", "done", "failed", "not sent")[self._state]
        return f"<BatchHandle {self.method}: {state}>"


class _Ready:
    """An awaitable that is complete from the start: ``await`` gives ``value`` at once."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # never reached; makes this a generator that finishes on its first step


# -- the batch -------------------------------------------------------------------------------

_NEW, _OPEN, _SENDING, _CLOSED = range(4)

if TYPE_CHECKING:
    # For type checkers a batch has the API's method groups, bound to the batch,
    # so ``batch.users.get_info(...)`` is a ``BatchHandle[list[User]]``.
    _BatchGroups = GeneratedGroups
else:
    _BatchGroups = object


class Batch(_BatchGroups):
    """Calls collected inside ``async with api.batch() as batch:`` and sent when it ends.

    ``batch.<group>`` is every method group of :class:`~okru_sdk.API`;
    ``batch.<group>.<method>(...)`` records one call and returns its
    :class:`BatchHandle`. Made by :meth:`API.batch <okru_sdk.API.batch>`;
    usable once.
    """

    def __init__(
        self,
        api: API,
        *,
        max_calls: int = MAX_BATCH_CALLS,
        timeout: float | NotGiven = NOT_GIVEN,
    ) -> None:
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1:
            raise ValueError(f"max_calls must be a positive int, not {max_calls!r}")
        self._api = api
        self._max_calls = max_calls
        self._timeout = None if timeout is NOT_GIVEN else check_seconds(timeout, "timeout")
        self._handles: list[BatchHandle[Any]] = []
        self._state = _NEW
        #: the session mode every call of the batch agrees to, and the call that set it
        self._mode = SessionMode.OPTIONAL
        self._mode_from = ""

    # -- collecting ----------------------------------------------------------------------

    if not TYPE_CHECKING:  # the groups above are what type checkers see

        def __getattr__(self, name: str) -> Any:
            # Only reached for names the instance does not have: the method groups,
            # built by the generated factory of API's attribute, bound to the batch.
            factory = None if name.startswith("_") else getattr(GeneratedGroups, name, None)
            if not isinstance(factory, cached_property):
                raise AttributeError(f"a batch has no method group {name!r}")
            group = _BatchGroup(name, factory.func(self))
            self.__dict__[name] = group  # later lookups do not come here again
            return group

    def _call(
        self,
        spec: MethodSpec[T],
        params: Mapping[str, Any],
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        extra_params: Mapping[str, Any] | None = None,
    ) -> Awaitable[T]:
        """Check and record one call; the awaitable gives its :class:`BatchHandle` at once.

        Generated methods call this as they call ``API._call``; the type says
        ``T`` for them, while the batch's groups hand the handle out.
        """
        name = spec.name
        if self._state != _OPEN:
            if self._state == _NEW:
                raise BatchUsageError(
                    f"{name}: calls are collected inside `async with api.batch() as batch:`"
                )
            raise BatchUsageError(
                f"{name}: this batch has ended; start a new `async with api.batch()` block"
            )
        if name.startswith("batch."):
            raise BatchUsageError(f"{name} cannot go into a batch: batches do not nest")
        if timeout is not NOT_GIVEN:
            raise BatchUsageError(
                f"{name}: timeout= applies to a whole batch request: api.batch(timeout=...)"
            )
        self._agree_on_session(spec)
        if spec.params:
            check_params(name, spec.params, params)
        if extra_params:
            params = {**params, **extra_params}
        handle = BatchHandle(spec, encode_params(params))
        self._handles.append(handle)
        return cast("Awaitable[T]", _Ready(handle))

    def _agree_on_session(self, spec: MethodSpec[Any]) -> None:
        mode = spec.mode
        if mode is SessionMode.OPTIONAL or mode is self._mode:
            return
        if self._mode is SessionMode.OPTIONAL:
            self._mode, self._mode_from = mode, spec.name
            return
        needs, forbids = (
            (spec.name, self._mode_from)
            if mode is SessionMode.REQUIRED
            else (self._mode_from, spec.name)
        )
        raise BatchUsageError(
            f"{spec.name} cannot join this batch: all calls of a batch share one session, and "
            f"{needs} needs a user session while {forbids} must be called without one; "
            "use two batches"
        )

    # -- the block -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state != _NEW:
            raise BatchUsageError("a batch is used once: make a new one with api.batch()")
        self._state = _OPEN
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._state = _CLOSED
            for handle in self._handles:
                handle._not_sent(
                    "not sent: the `async with api.batch()` block raised "
                    f"{exc_type.__name__}, so no call of the batch was sent"
                )
            return
        self._state = _SENDING
        try:
            if self._handles:
                for chunk in plan_requests(self._handles, self._max_calls):
                    await self._send(chunk)
        finally:
            self._state = _CLOSED
            for handle in self._handles:
                if handle._state == _PENDING:
                    handle._not_sent(
                        "no result: the batch was interrupted before OK.ru answered "
                        "this call; it may or may not have run"
                    )

    async def _send(self, chunk: list[BatchHandle[Any]]) -> None:
        """One ``batch.execute`` request; every handle of ``chunk`` gets its outcome."""
        methods = _dumps([{"method": h.method, "params": h._wire} for h in chunk])
        try:
            body = await self._api.session.request(
                _BATCH_METHOD,
                {"methods": methods},
                mode=self._mode,
                timeout=self._timeout,
                retry_safe=all(h._spec.retry_safe for h in chunk),
            )
            reply = _decode_reply(body)
        except OkError as error:
            # the request as a whole failed: it is every call's error
            for handle in chunk:
                handle._fail(error)
            return
        for handle in chunk:
            _settle(handle, reply, body)

    def __repr__(self) -> str:
        state = ("not entered", "open", "sending", "ended")[self._state]
        return f"<Batch {len(self._handles)} call(s), {state}>"


class _BatchGroup:
    """``batch.<group>``: the generated group bound to the batch; its methods return handles."""

    def __init__(self, name: str, group: Any) -> None:
        self._name = name
        self._group = group

    def __getattr__(self, name: str) -> Any:
        method = None if name.startswith("_") else getattr(self._group, name, None)
        if method is None or not inspect.iscoroutinefunction(method):
            raise AttributeError(f"batch.{self._name} has no method {name!r}")
        recorder = _recorder(method)
        self.__dict__[name] = recorder
        return recorder

    def __dir__(self) -> list[str]:
        return [n for n in dir(self._group) if not n.startswith("_")]

    def __repr__(self) -> str:
        return f"<batch.{self._name}>"


def _recorder(method: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    """``method`` made to record instead of send: it runs the generated coroutine to its end."""

    @functools.wraps(method)
    def record(*args: Any, **kwargs: Any) -> Any:
        coro = method(*args, **kwargs)
        try:
            coro.send(None)
        except StopIteration as done:
            return done.value
        coro.close()
        raise BatchUsageError(f"{method.__qualname__} waited for something: it cannot be batched")

    return record


# -- requests and replies ------------------------------------------------------------------


def plan_requests(handles: list[BatchHandle[Any]], max_calls: int) -> list[list[BatchHandle[Any]]]:
    """Split calls into the fewest requests: at most ``max_calls`` each, a method once each.

    The fewest is ``max(ceil(calls / max_calls), most calls of one method)``.
    Each method's calls go to the least filled requests, most repeated
    methods first, which keeps every request within ``max_calls``; inside a
    request the calls keep their order, and a method's calls go to requests
    in their order (the requests are sent one after another).
    """
    by_method: dict[str, list[int]] = {}
    for index, handle in enumerate(handles):
        by_method.setdefault(handle.method, []).append(index)
    count = max(-(-len(handles) // max_calls), max(map(len, by_method.values())))
    if count == 1:
        return [handles]
    filled = [0] * count
    requests: list[list[int]] = [[] for _ in range(count)]
    for indices in sorted(by_method.values(), key=len, reverse=True):
        targets = sorted(sorted(range(count), key=lambda r: (filled[r], r))[: len(indices)])
        for target, index in zip(targets, indices, strict=True):
            requests[target].append(index)
            filled[target] += 1
    return [[handles[i] for i in sorted(request)] for request in requests]


def _decode_reply(body: bytes) -> dict[str, Any]:
    try:
        reply = loads(body)
    except ValueError as exc:
        raise ResponseDecodeError(
            f"{_BATCH_METHOD}: the reply is not JSON", method=_BATCH_METHOD, body=body, cause=exc
        ) from exc
    if not isinstance(reply, dict):
        raise ResponseDecodeError(
            f"{_BATCH_METHOD}: the reply is not a JSON object", method=_BATCH_METHOD, body=body
        )
    return reply


def _settle(handle: BatchHandle[Any], reply: dict[str, Any], body: bytes) -> None:
    """Give ``handle`` its part of the reply: the typed result or its own error."""
    name = handle.method
    key = name.replace(".", "_") + "_response"
    value = reply.get(key)
    try:
        if isinstance(value, dict) and "error_code" in value:
            raw = _dumps(value).encode()
            clean = scrub(raw, secret_values(handle._wire))
            payload = value if clean == raw else loads(clean)
            handle._fail(APIError.from_payload(payload, method=name, raw=clean))
        elif value is None and key not in reply:
            try:
                handle._resolve(handle._spec.parse(b""))  # void methods send nothing
            except ResponseDecodeError as exc:
                raise ResponseDecodeError(
                    f"{name}: the {_BATCH_METHOD} reply has no {key}",
                    method=name,
                    body=body,
                    cause=exc,
                ) from exc
        else:
            handle._resolve(handle._spec.parse(_dumps(value).encode(), handle._wire.get("fields")))
    except ResponseDecodeError as exc:
        handle._fail(exc)


# -- typing: the generated groups as seen through a batch ------------------------------------


class Caller(Protocol):
    """What a method group needs from its owner: the core call (``API`` and ``Batch``)."""

    def _call(
        self,
        spec: MethodSpec[T],
        params: Mapping[str, Any],
        *,
        timeout: float | NotGiven = ...,
        extra_params: Mapping[str, Any] | None = ...,
    ) -> Awaitable[T]: ...


#: the owner a method group is bound to (``API`` or ``Batch``), so types can follow it
CallerT = TypeVar("CallerT", covariant=True)


class MethodGroup(Generic[CallerT]):
    """Base of method groups typed by their owner: ``UsersMethods[API]``, ``UsersMethods[Batch]``.

    With :func:`batchable` on each method, a group bound to an ``API`` has
    coroutine methods and one bound to a ``Batch`` has methods returning
    :class:`BatchHandle` of the same result type (see the module text).
    """

    __slots__ = ("_api",)

    def __init__(self, api: CallerT) -> None:
        self._api = cast("Caller", api)


if TYPE_CHECKING:

    class batchable(Generic[P, T]):
        """Types a group method by its owner: a coroutine on ``API``, a handle on ``Batch``."""

        def __init__(self, method: Callable[Concatenate[Any, P], Awaitable[T]]) -> None: ...

        @overload
        def __get__(self, group: None, owner: type[Any]) -> Self: ...
        @overload
        def __get__(
            self, group: MethodGroup[Batch], owner: type[Any]
        ) -> Callable[P, BatchHandle[T]]: ...
        @overload
        def __get__(
            self, group: MethodGroup[Any], owner: type[Any]
        ) -> Callable[P, Coroutine[Any, Any, T]]: ...
        def __get__(self, group: Any, owner: type[Any]) -> Any: ...

else:

    def batchable(method):
        """Types only: at run time the method is left as it is."""
        return method
