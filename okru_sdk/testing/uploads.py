"""The emulator's upload server: upload URLs that work, and a record of what arrived.

Every emulator has one at ``emu.uploads``. It serves four methods with real
handlers instead of their catalogue examples (``register_catalogue`` keeps
them unless ``replace=True``):

- ``photosV2.getUploadUrl`` reserves ``count`` photo ids and answers an upload
  URL on the emulator (``/upload/photos?apiToken=...``);
- ``photosV2.commit`` checks each ``photo_id`` / ``token`` pair against what
  was uploaded and commits it;
- ``video.getUploadUrl`` answers a video id and an upload URL
  (``/upload/video?id=...&sig=...``);
- ``video.update`` records the title and the other fields on the uploaded video.

The upload URLs take what OK.ru's upload servers take:

- photos: one ``multipart/form-data`` POST; file fields ``pic1`` .. ``picN`` are
  matched to the reserved ids in order (other field names by their position),
  and the reply is ``{"photos": {"<photo_id>": {"token": "<token>"}}}``;
- video, resumable: POSTs with a non-multipart body and ``Content-Range:
  bytes <first>-<last>/<total>``. A chunk may start at or before the bytes
  received so far (the overlap is skipped), not after them (HTTP 416). A
  chunk that leaves the file incomplete gets ``201`` with ``Range:
  bytes=0-<last received>`` and the body ``0-<last>/<total>``; the last one
  gets ``200`` and ``<retval>1</retval>``. ``GET`` on the URL answers ``200``
  with the same ``Range`` header and body (no header and an empty body while
  nothing has arrived);
- video, in one go: a ``multipart/form-data`` POST with the file in ``data``.

OK.ru documents the resumable protocol only in words (status, total size and
last byte on ``GET``; restart after 416 or 500); the header and body formats
above are this emulator's choice, and the SDK reads both.

What arrived is kept: ``emu.uploads.photos[photo_id]`` and
``emu.uploads.videos[video_id]`` hold the size, the SHA-256 and (up to
``max_kept_bytes`` per file) the bytes, plus the ids, names and the fields
set by ``photosV2.commit`` and ``video.update``.

Faults for tests::

    emu.uploads.expire_next_url()           # the next upload URL issued is expired (403)
    emu.uploads.expire_urls()               # every upload URL issued so far is expired
    emu.uploads.refuse_chunk(after=1000)    # the next video chunk: keep 1000 bytes, answer 500
    emu.uploads.refuse_chunk(after=0, status=None)  # ...or drop the connection
    emu.uploads.refuse_chunk(after=10, skip=2)  # the same for the third chunk
    emu.uploads.fail_uploads(503)           # the next upload POST gets 503, nothing stored

An upload URL also expires ``url_ttl`` seconds after it was issued, on the
emulator's clock (``emu.clock``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import secrets
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict, CIMultiDictProxy

from .._generated.emulator_data import METHODS
from .catalogue import check_declared_params
from .responses import json_response
from .state import EmulatorError, MethodCall, RecordedRequest

if TYPE_CHECKING:
    from .emulator import OkEmulator

__all__ = [
    "DEFAULT_MAX_KEPT_BYTES",
    "DEFAULT_URL_TTL",
    "PHOTO_UPLOAD_PATH",
    "UPLOAD_PATH_PREFIX",
    "VIDEO_UPLOAD_PATH",
    "ReceivedChunk",
    "StoredFile",
    "StoredPhoto",
    "StoredVideo",
    "UploadServer",
]

#: every upload URL's path starts with this; the emulator hands such requests to ``emu.uploads``
UPLOAD_PATH_PREFIX = "/upload/"
PHOTO_UPLOAD_PATH = "/upload/photos"
VIDEO_UPLOAD_PATH = "/upload/video"
#: seconds an upload URL stays valid (OK.ru's photo URLs announce 24 hours)
DEFAULT_URL_TTL = 24 * 3600.0
#: bytes of each file kept in ``data``; past that only size and SHA-256 are kept
DEFAULT_MAX_KEPT_BYTES = 64 * 1024 * 1024

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")
_PIC_FIELD = re.compile(r"^pic(\d+)$")
_READ = 256 * 1024


@dataclasses.dataclass(eq=False)
class StoredFile:
    """Bytes that arrived: their count, their SHA-256 and (up to a limit) the bytes."""

    #: bytes received
    size: int = 0
    _hash: Any = dataclasses.field(default_factory=hashlib.sha256, repr=False)
    _buffer: bytearray | None = dataclasses.field(default_factory=bytearray, repr=False)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of every byte received."""
        return str(self._hash.hexdigest())

    @property
    def data(self) -> bytes | None:
        """The bytes received, or ``None`` once there were more than ``max_kept_bytes``."""
        return None if self._buffer is None else bytes(self._buffer)

    def _append(self, chunk: bytes, limit: int) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        buffer = self._buffer
        if buffer is not None:
            if self.size > limit:
                self._buffer = None
            else:
                buffer += chunk

    def _reset(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()
        self._buffer = bytearray()


@dataclasses.dataclass(eq=False)
class StoredPhoto(StoredFile):
    """One photo id reserved by ``photosV2.getUploadUrl`` and what was uploaded for it."""

    photo_id: str = ""
    #: the token the upload answered (``None`` until the file arrives)
    token: str | None = dataclasses.field(default=None, repr=False)
    uid: str | None = None
    group_id: str | None = None
    album_id: str | None = None
    #: the multipart field the file came in (``pic1``...)
    field: str | None = None
    file_name: str | None = None
    content_type: str | None = None
    uploaded: bool = False
    committed: bool = False
    assigned_photo_id: str | None = None
    comment: str | None = None


@dataclasses.dataclass(frozen=True)
class ReceivedChunk:
    """One ``Content-Range`` request of a video upload, as the server saw it."""

    first: int
    last: int
    total: int | None
    #: new bytes stored from this request (an overlap with earlier bytes is not counted)
    stored: int
    #: the HTTP status answered (``None``: the connection was dropped)
    status: int | None


@dataclasses.dataclass(eq=False)
class StoredVideo(StoredFile):
    """A video announced by ``video.getUploadUrl``, its bytes and its ``video.update`` fields."""

    video_id: int = 0
    uid: str | None = None
    group_id: str | None = None
    file_name: str | None = None
    #: ``file_size`` given to ``video.getUploadUrl``
    declared_size: int | None = None
    #: the total size the upload announced in ``Content-Range``
    total: int | None = None
    complete: bool = False
    chunks: list[ReceivedChunk] = dataclasses.field(default_factory=list)
    #: set by ``video.update``
    title: str | None = None
    description: str | None = None
    privacy: str | None = None
    publish: bool | None = None
    #: every parameter of the last ``video.update`` call, as received
    update_params: dict[str, str] | None = None


@dataclasses.dataclass(eq=False)
class _Ticket:
    key: str
    kind: Literal["photos", "video"]
    expires_at: float
    expired: bool = False
    photo_ids: tuple[str, ...] = ()
    video_id: int = 0


@dataclasses.dataclass(eq=False)
class _Refusal:
    after: int
    status: int | None
    remaining: int
    #: chunks to let through before this refusal fires
    skip: int = 0


class UploadServer:
    """``emu.uploads``: the upload URLs of one emulator and what arrived at them."""

    def __init__(self, emulator: OkEmulator) -> None:
        self._emu = emulator
        #: uploaded (or reserved) photos by photo id
        self.photos: dict[str, StoredPhoto] = {}
        #: announced videos by video id
        self.videos: dict[int, StoredVideo] = {}
        #: bytes of each file kept in memory (``data``); past it only size and SHA-256
        self.max_kept_bytes = DEFAULT_MAX_KEPT_BYTES
        #: seconds a new upload URL stays valid, on the emulator's clock
        self.url_ttl = DEFAULT_URL_TTL
        self._tickets: dict[str, _Ticket] = {}
        self._expire_next = 0
        self._refusals: list[_Refusal] = []
        self._failures: list[list[int]] = []  # [status, remaining]

    # ------------------------------------------------------------------ for tests

    def photo_by_token(self, token: str) -> StoredPhoto | None:
        """The uploaded photo a token stands for (as a media id or for commit)."""
        for photo in self.photos.values():
            if photo.token is not None and photo.token == token:
                return photo
        return None

    def expire_urls(self) -> int:
        """Expire every upload URL issued so far; returns how many were still valid."""
        count = 0
        for ticket in self._tickets.values():
            count += not ticket.expired
            ticket.expired = True
        return count

    def expire_next_url(self, times: int = 1) -> None:
        """Issue the next ``times`` upload URLs already expired (their uploads get 403)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._expire_next += times

    def refuse_chunk(
        self, *, after: int = 0, status: int | None = 500, times: int = 1, skip: int = 0
    ) -> None:
        """Refuse ``times`` resumable video chunks mid-way, after letting ``skip`` through.

        The server stores the first ``after`` bytes of the chunk, then answers
        ``status`` (after reading the rest of the body) or, with
        ``status=None``, closes the connection without a reply.
        """
        if after < 0 or skip < 0:
            raise ValueError("after and skip must not be negative")
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is not None and not 400 <= status <= 599:
            raise ValueError(f"status must be a 4xx or 5xx code (or None to drop), not {status}")
        self._refusals.append(_Refusal(after=after, status=status, remaining=times, skip=skip))

    def fail_uploads(self, status: int = 503, *, times: int = 1) -> None:
        """The next ``times`` upload POSTs (photos or video) get ``status``; nothing is kept."""
        if not 400 <= status <= 599:
            raise ValueError(f"status must be a 4xx or 5xx code, not {status}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append([status, times])

    def clear(self) -> None:
        """Forget every upload, upload URL and pending fault."""
        self.photos.clear()
        self.videos.clear()
        self._tickets.clear()
        self._expire_next = 0
        self._refusals.clear()
        self._failures.clear()

    # ------------------------------------------------------------------ API methods

    def register(self) -> None:
        """Serve the four upload methods on the emulator (session modes from the catalogue)."""
        handlers = {
            "photosV2.getUploadUrl": self._get_photo_upload_url,
            "photosV2.commit": self._commit_photos,
            "video.getUploadUrl": self._get_video_upload_url,
            "video.update": self._update_video,
        }
        for name, handler in handlers.items():
            facts = METHODS[name]
            self._emu.register_method(
                name,
                _checked(handler, name),
                session=facts.session,
                required_params=facts.required_params,
                unsigned=not facts.signed,
            )

    def _owner(self, call: MethodCall) -> str:
        if call.user is not None:
            return call.user.uid
        uid = call.params.get("uid")
        if not uid:
            raise EmulatorError(100, "PARAM : uid is required when called without a session")
        if uid not in call.emulator.users:
            raise EmulatorError(110, "PARAM_USER_ID : Invalid user id")
        return uid

    def _ticket(self, kind: Literal["photos", "video"], **fields: Any) -> _Ticket:
        ticket = _Ticket(
            key=secrets.token_urlsafe(18),
            kind=kind,
            expires_at=self._emu.clock() + self.url_ttl,
            **fields,
        )
        if self._expire_next:
            self._expire_next -= 1
            ticket.expired = True
        self._tickets[ticket.key] = ticket
        return ticket

    def _get_photo_upload_url(self, call: MethodCall) -> dict[str, Any]:
        uid = self._owner(call)
        raw_count = call.params.get("count", "1")
        try:
            count = int(raw_count)
        except ValueError:
            raise EmulatorError(
                100, f"PARAM : Invalid parameter count value {raw_count!r}"
            ) from None
        if not 1 <= count <= 100:
            raise EmulatorError(100, "PARAM : count must be between 1 and 100")
        ids = tuple(_photo_id() for _ in range(count))
        for photo_id in ids:
            self.photos[photo_id] = StoredPhoto(
                photo_id=photo_id,
                uid=uid,
                group_id=call.params.get("gid") or None,
                album_id=call.params.get("aid") or None,
            )
        ticket = self._ticket("photos", photo_ids=ids)
        ttl_ms = int(self.url_ttl * 1000)
        return {
            "upload_url": f"{self._emu.url}{PHOTO_UPLOAD_PATH}?apiToken={ticket.key}",
            "photo_ids": list(ids),
            "expires_ms": int(ticket.expires_at * 1000),
            "ttl_ms": ttl_ms,
        }

    def _commit_photos(self, call: MethodCall) -> dict[str, Any]:
        uid = self._owner(call)
        entries: list[dict[str, Any]]
        if "photos" in call.params:
            try:
                decoded = json.loads(call.params["photos"])
            except ValueError:
                raise EmulatorError(100, "PARAM : Invalid parameter photos value") from None
            if not isinstance(decoded, list) or not all(isinstance(e, dict) for e in decoded):
                raise EmulatorError(100, "PARAM : photos must be a JSON list of objects")
            entries = decoded
        elif call.params.get("photo_id"):
            single: dict[str, Any] = {
                "photo_id": call.params["photo_id"],
                "token": call.params.get("token"),
                "comment": call.params.get("comment"),
            }
            entries = [single]
        else:
            raise EmulatorError(100, "PARAM : Missing required parameter photo_id")
        results: list[dict[str, Any]] = []
        for entry in entries:
            photo_id = str(entry.get("photo_id") or "")
            photo = self.photos.get(photo_id)
            ok = (
                photo is not None
                and photo.uploaded
                and photo.uid == uid
                and photo.token is not None
                and entry.get("token") == photo.token
            )
            if not ok or photo is None:
                results.append({"photo_id": photo_id, "status": "FAILURE"})
                continue
            if not photo.committed:
                photo.committed = True
                photo.assigned_photo_id = str(900_000_000_000 + secrets.randbelow(99_999_999_999))
            comment = entry.get("comment") or call.params.get("comment")
            if comment:
                photo.comment = str(comment)
            results.append(
                {
                    "photo_id": photo_id,
                    "status": "SUCCESS",
                    "assigned_photo_id": photo.assigned_photo_id,
                }
            )
        return {"photos": results}

    def _get_video_upload_url(self, call: MethodCall) -> dict[str, Any]:
        uid = self._owner(call)
        raw_size = call.params.get("file_size")
        declared: int | None = None
        if raw_size is not None:
            try:
                declared = int(raw_size)
            except ValueError:
                raise EmulatorError(
                    100, f"PARAM : Invalid parameter file_size value {raw_size!r}"
                ) from None
            if declared < 0:
                raise EmulatorError(100, "PARAM : file_size must not be negative")
        video_id = 5_400_000_000_000 + secrets.randbelow(99_999_999_999)
        while video_id in self.videos:
            video_id += 1
        self.videos[video_id] = StoredVideo(
            video_id=video_id,
            uid=uid,
            group_id=call.params.get("gid") or None,
            file_name=call.params.get("file_name") or None,
            declared_size=declared or None,
        )
        ticket = self._ticket("video", video_id=video_id)
        expires_ms = int(ticket.expires_at * 1000)
        return {
            "upload_url": (
                f"{self._emu.url}{VIDEO_UPLOAD_PATH}?id={video_id}"
                f"&sig={ticket.key}&expires={expires_ms}"
            ),
            "video_id": video_id,
        }

    def _update_video(self, call: MethodCall) -> None:
        uid = self._owner(call)
        raw_vid = call.params["vid"]
        try:
            video = self.videos.get(int(raw_vid))
        except ValueError:
            raise EmulatorError(100, f"PARAM : Invalid parameter vid value {raw_vid!r}") from None
        if video is None or video.uid != uid:
            raise EmulatorError(300, "NOT_FOUND : Video not found")
        params = call.params
        if "title" in params:
            video.title = params["title"]
        if "description" in params:
            video.description = params["description"]
        if "privacy" in params:
            video.privacy = params["privacy"]
        if "publish" in params:
            video.publish = params["publish"] == "true"
        video.update_params = {k: v for k, v in params.items() if k not in _SIGNING_PARAMS}
        return None

    # ------------------------------------------------------------------ HTTP

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request under :data:`UPLOAD_PATH_PREFIX` (the body is read as a stream)."""
        self._emu.requests.append(
            RecordedRequest(
                path=request.path,
                http_method=request.method,
                params=dict(request.query),
                method=None,
                circuit=None,
                headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            )
        )
        kind = {PHOTO_UPLOAD_PATH: "photos", VIDEO_UPLOAD_PATH: "video"}.get(request.path)
        key = request.query.get("apiToken" if kind == "photos" else "sig", "")
        ticket = self._tickets.get(key)
        if kind is None or ticket is None or ticket.kind != kind:
            return _text(404, "unknown upload URL")
        if ticket.expired or self._emu.clock() >= ticket.expires_at:
            return _text(403, "upload URL expired")
        if request.method in ("POST", "PUT") and self._failures:
            failure = self._failures[0]
            failure[1] -= 1
            if failure[1] <= 0:
                self._failures.pop(0)
            return _text(failure[0], "upload failed (fault injected by the emulator)")
        if kind == "photos":
            if request.method != "POST":
                return _text(405, "POST the photos as multipart/form-data")
            return await self._receive_photos(request, ticket)
        video = self.videos.get(ticket.video_id)
        if video is None:
            return _text(404, "unknown upload URL")
        if request.method == "GET":
            return _video_status(video)
        if request.method not in ("POST", "PUT"):
            return _text(405, "POST (or GET for the status)")
        if request.content_type == "multipart/form-data":
            return await self._receive_video_form(request, video)
        return await self._receive_chunk(request, video)

    async def _receive_photos(self, request: web.Request, ticket: _Ticket) -> web.StreamResponse:
        if request.content_type != "multipart/form-data":
            return _text(400, "photos must be sent as multipart/form-data")
        reader = await request.multipart()
        received: dict[str, StoredPhoto] = {}
        position = 0
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.filename is None:
                continue  # a plain form field, or a nested multipart: not a file
            position += 1
            match = _PIC_FIELD.match(part.name or "")
            index = int(match.group(1)) if match else position
            if not 1 <= index <= len(ticket.photo_ids):
                return _text(400, f"more files than the {len(ticket.photo_ids)} ids reserved")
            photo_id = ticket.photo_ids[index - 1]
            photo = self.photos[photo_id]
            if photo_id in received:
                return _text(400, f"two files for photo {index}")
            photo._reset()
            while chunk := await part.read_chunk(_READ):
                photo._append(chunk, self.max_kept_bytes)
            if photo.size == 0:
                return _text(400, f"the file of photo {index} is empty")
            photo.field = part.name
            photo.file_name = part.filename
            photo.content_type = part.headers.get("Content-Type")
            photo.uploaded = True
            photo.token = secrets.token_urlsafe(32)
            received[photo_id] = photo
        if not received:
            return _text(400, "no files in the request")
        body = {"photos": {pid: {"token": photo.token} for pid, photo in received.items()}}
        return json_response(body)

    async def _receive_video_form(
        self, request: web.Request, video: StoredVideo
    ) -> web.StreamResponse:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                return _text(400, "no 'data' file field in the request")
            if isinstance(part, BodyPartReader) and part.name == "data":
                break
        video._reset()
        while chunk := await part.read_chunk(_READ):
            video._append(chunk, self.max_kept_bytes)
        video.total = video.size
        video.complete = video.size > 0
        return _retval()

    async def _receive_chunk(self, request: web.Request, video: StoredVideo) -> web.StreamResponse:
        header = request.headers.get("Content-Range")
        length = request.content_length
        total: int | None
        if header is None:
            if length is None:
                return _text(411, "Content-Length or Content-Range is needed")
            first, last, total = 0, length - 1, length
        else:
            match = _CONTENT_RANGE.match(header)
            if match is None:
                return _text(400, "bad Content-Range; expected 'bytes <first>-<last>/<total>'")
            first, last = int(match.group(1)), int(match.group(2))
            total = None if match.group(3) == "*" else int(match.group(3))
        if last < first or (total is not None and last >= total):
            return _text(400, "Content-Range: the range does not fit the total")
        if length is not None and length != last - first + 1:
            return _text(400, "Content-Length does not match Content-Range")
        if total is not None:
            if video.declared_size and total != video.declared_size:
                return _text(400, "the total size differs from file_size of video.getUploadUrl")
            if video.total is not None and total != video.total:
                return _text(400, "the total size changed during the upload")
            video.total = total
        if video.complete:
            return _retval()
        if first > video.size:
            return _video_status(video, status=416)

        refusal = self._take_refusal()
        skip = video.size - first
        expected = last - first + 1
        seen = 0
        stored = 0
        keep = expected if refusal is None else min(refusal.after, expected)
        async for data in request.content.iter_chunked(_READ):
            start = seen
            seen += len(data)
            if seen > expected:
                return _text(400, "the body is longer than its Content-Range")
            # the part of this piece that is new (past the overlap) and within what is kept
            lo, hi = max(start, skip), min(seen, keep)
            if hi > lo:
                video._append(data[lo - start : hi - start], self.max_kept_bytes)
                stored += hi - lo
            if refusal is not None and refusal.status is None and seen >= keep:
                break
        if refusal is not None:
            video.chunks.append(ReceivedChunk(first, last, total, stored, refusal.status))
            if refusal.status is None:
                transport = request.transport
                if transport is not None:
                    transport.close()
                return web.Response(status=500)
            return _text(refusal.status, "chunk refused (fault injected by the emulator)")
        if seen < expected:
            return _text(400, "the body is shorter than its Content-Range")
        if video.total is not None and video.size >= video.total:
            video.complete = True
            video.chunks.append(ReceivedChunk(first, last, total, stored, 200))
            return _retval()
        video.chunks.append(ReceivedChunk(first, last, total, stored, 201))
        return _video_status(video, status=201)

    def _take_refusal(self) -> _Refusal | None:
        if not self._refusals:
            return None
        refusal = self._refusals[0]
        if refusal.skip:
            refusal.skip -= 1
            return None
        refusal.remaining -= 1
        if refusal.remaining <= 0:
            self._refusals.pop(0)
        return refusal


#: request parameters of the call itself, left out of ``update_params``
_SIGNING_PARAMS = frozenset(
    {"sig", "access_token", "session_key", "application_key", "format", "method", "call_id"}
)


def _checked(handler: Any, name: str) -> Any:
    """``handler`` after the catalogue's enum and list checks of ``name``."""
    declared = METHODS[name].params

    def run(call: MethodCall) -> Any:
        check_declared_params(call.params, declared)
        return handler(call)

    return run


def _photo_id() -> str:
    # shaped like OK.ru's: base64 of 40 random bytes
    return base64.b64encode(secrets.token_bytes(40)).decode("ascii")


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


def _retval() -> web.Response:
    return web.Response(text="<retval>1</retval>", content_type="text/xml")


def _video_status(video: StoredVideo, status: int = 200) -> web.Response:
    total = "*" if video.total is None else str(video.total)
    if video.size == 0:
        return web.Response(status=status, text="", content_type="text/plain")
    last = video.size - 1
    return web.Response(
        status=status,
        text=f"0-{last}/{total}",
        content_type="text/plain",
        headers={"Range": f"bytes=0-{last}"},
    )
