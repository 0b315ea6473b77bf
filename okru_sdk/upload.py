"""Photo and video uploads: ``api.upload.photos(...)`` and ``api.upload.video(...)``.

Hand-written (not generated): the flows of section 6 of the protocol notes.

Photos: ``photosV2.getUploadUrl`` reserves ids and names an upload URL; one
``multipart/form-data`` POST sends every file (fields ``pic1`` .. ``picN``); the
upload server answers a token per photo. The tokens go into a
``mediatopic.post`` attachment as they are, or are committed to an album with
``photosV2.commit``.

Video: ``video.getUploadUrl`` (file name and size) gives a video id and an upload
URL; the file goes there in resumable ``Content-Range`` chunks read from the
source a piece at a time; ``video.update`` then sets the title and publishes it.

The upload POSTs go to another host than the API: they carry the file and
nothing of the session (no access token, no signature), use the session's
aiohttp session, timeout and reply-size cap, and their errors never quote the
upload URL, whose query holds the upload's own credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import logging
import mimetypes
import os
import re
import threading
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeAlias, cast
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import payload as aiohttp_payload

from ._json import loads
from .encoding import NOT_GIVEN
from .errors import (
    APIError,
    OkError,
    RequestTimeout,
    ResponseDecodeError,
    TransportError,
    preview,
)
from .redact import scrub
from .sessions.base import _is_loopback
from .transport import HttpReply, _safe_reason

if TYPE_CHECKING:
    from ._generated.models.photo_commit_result import PhotoCommitResult
    from .api import API
    from .sessions.base import TokenSession
    from .transport import HttpTransport

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "READ_SIZE",
    "ProgressCallback",
    "UploadError",
    "BinaryReader",
    "UploadSource",
    "UploadedPhoto",
    "UploadedVideo",
    "Uploads",
    "rich_progress",
    "tqdm_progress",
]

log = logging.getLogger("okru_sdk")

#: bytes of a video sent in one ``Content-Range`` request
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024
#: the smallest ``chunk_size`` accepted
MIN_CHUNK_SIZE = 64 * 1024
#: bytes read from a source at a time (the most of a file held in memory per upload)
READ_SIZE = 1024 * 1024

#: ``progress(sent_bytes, total_bytes)``; its return value is ignored
ProgressCallback = Callable[[int, int], object]


class BinaryReader(Protocol):
    """What a file object source needs: an open, seekable binary file (``open(p, "rb")``,
    ``io.BytesIO``, or your own class with these methods)."""

    def read(self, size: int = ..., /) -> bytes | None: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def tell(self) -> int: ...

    def seekable(self) -> bool: ...


#: a path, the bytes themselves, or a binary file object open for reading (seekable)
UploadSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryReader"

_PHOTO_UPLOAD = "photo upload"
_VIDEO_UPLOAD = "video upload"

#: statuses after which a video chunk is sent again (from the offset the server reports)
_RESUMABLE = frozenset({408, 416, 429})
#: query values this long or longer are scrubbed from upload error bodies (shorter
#: ones, such as ``clientType=26``, are not secrets and would garble the text)
_MIN_SECRET_LENGTH = 6
#: an upload reply preview in an error text is cut to this many characters

_RANGE_HEADER = re.compile(r"bytes\s*=\s*(\d+)\s*-\s*(\d+)")
_RANGE_BODY = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*/\s*(\d+|\*)")


# -------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class UploadedPhoto:
    """One uploaded photo: its reserved id and the upload token.

    The token is the photo's media id in a ``mediatopic.post`` attachment
    (``{"type": "photo", "list": [{"id": photo.token}]}``) and, with the id,
    what ``photosV2.commit`` takes. It is a credential of the upload: it is
    not shown in ``repr``.
    """

    photo_id: str
    token: str
    #: the name the file was sent under
    file_name: str = ""
    #: bytes sent
    size: int = 0

    def __repr__(self) -> str:
        return (
            f"UploadedPhoto(photo_id={self.photo_id!r}, token=***, "
            f"file_name={self.file_name!r}, size={self.size})"
        )


@dataclasses.dataclass(frozen=True)
class UploadedVideo:
    """An uploaded (and, after ``video.update``, titled) video."""

    video_id: int
    #: the name given to ``video.getUploadUrl``
    file_name: str
    #: bytes sent
    size: int


class UploadError(TransportError):
    """The upload server refused an upload (an HTTP error status) or answered nonsense.

    ``status`` and ``body`` are the upload server's; the body has the upload
    URL's credentials removed, and the text never quotes the URL.
    """


# -------------------------------------------------------------------------- progress adapters


class _TqdmLike(Protocol):
    total: Any
    n: Any

    def update(self, n: int = 1) -> Any: ...


class _RichLike(Protocol):
    def update(self, task_id: Any, **fields: Any) -> Any: ...


def tqdm_progress(bar: _TqdmLike) -> ProgressCallback:
    """A ``progress=`` callback that drives a ``tqdm`` bar (tqdm is not a dependency).

    ``api.upload.video(path, title=..., progress=tqdm_progress(tqdm(unit="B", unit_scale=True)))``
    """

    def progress(sent: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(sent - (bar.n or 0))

    return progress


def rich_progress(progress_bar: _RichLike, task_id: Any) -> ProgressCallback:
    """A ``progress=`` callback that drives a task of a ``rich.progress.Progress``."""

    def progress(sent: int, total: int) -> None:
        progress_bar.update(task_id, completed=sent, total=total)

    return progress


class _Tracker:
    """Bytes sent, the progress callback, and when the upload last made progress.

    ``position`` is what this attempt has sent (for a video: the file offset);
    the callback sees only new highs, so a chunk sent again after a failure
    never moves the bar back.
    """

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.callback = callback
        self.position = 0
        self.reported = 0
        self.error: BaseException | None = None
        self._loop = asyncio.get_running_loop()
        self.last_activity = self._loop.time()

    def start(self, position: int) -> None:
        self.position = position
        self.last_activity = self._loop.time()

    def advance(self, count: int) -> None:
        self.position += count
        self.last_activity = self._loop.time()
        if self.position > self.reported:
            self._report(min(self.position, self.total))

    def finish(self) -> None:
        if self.reported < self.total:
            self._report(self.total)

    def _report(self, value: int) -> None:
        self.reported = value
        if self.callback is None:
            return
        try:
            self.callback(value, self.total)
        except BaseException as exc:
            # raised inside aiohttp's writer, which would wrap it in a connection error
            self.error = exc
            raise


# -------------------------------------------------------------------------- sources


def _read_exactly(file: BinaryReader, lock: threading.Lock, offset: int, count: int) -> bytes:
    """``count`` bytes at ``offset`` (fewer only at the end of the file); runs in a thread."""
    with lock:  # a read left running by a cancelled attempt must not move the position
        return _read_at(file, offset, count)


def _read_at(file: BinaryReader, offset: int, count: int) -> bytes:
    file.seek(offset)
    first = file.read(count)
    if first is None:
        raise TypeError("the file object is non-blocking and had no data")
    if len(first) == count or not first:
        return bytes(first)
    parts = [first]
    got = len(first)
    while got < count:
        more = file.read(count - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


class _Source:
    """One file to upload, read a piece at a time."""

    def __init__(self, name: str, label: str) -> None:
        self.name = name
        #: how error messages name it ("photo 2", "the video")
        self.label = label
        self.size = 0
        self.head = b""
        #: the name is made up (bytes, or a file object without a name)
        self.unnamed = False

    async def open(self) -> None:
        """Learn the size (and the first bytes); files are opened here."""

    async def read_at(self, offset: int, count: int) -> bytes | memoryview:
        raise NotImplementedError

    def close(self) -> None:
        """Close what :meth:`open` opened (never a file object of the caller's)."""


class _BytesSource(_Source):
    def __init__(self, data: bytes | bytearray | memoryview, name: str, label: str) -> None:
        super().__init__(name, label)
        self._view = memoryview(data).cast("B")

    async def open(self) -> None:
        self.size = self._view.nbytes
        self.head = bytes(self._view[:16])

    async def read_at(self, offset: int, count: int) -> bytes | memoryview:
        return self._view[offset : offset + count]


class _FileSource(_Source):
    """A path (opened and closed here) or a seekable binary file object (left open)."""

    def __init__(
        self, name: str, label: str, *, path: str | None = None, file: BinaryReader | None = None
    ) -> None:
        super().__init__(name, label)
        self._path = path
        self._file = file
        #: the file opened here from ``path`` (closed here)
        self._own_file: IO[bytes] | None = None
        self._start = 0
        self._opened = False
        self._lock = threading.Lock()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        if self._path is not None:
            self._own_file = await loop.run_in_executor(None, _open_binary, self._path, self.label)
            self._file = self._own_file
        file = self._file
        assert file is not None
        self._start, end = await loop.run_in_executor(None, _extent, file)
        self._opened = True
        self.size = end - self._start
        self.head = await self.read_at(0, min(16, self.size)) if self.size else b""

    async def read_at(self, offset: int, count: int) -> bytes:
        file = self._file
        if file is None:
            raise RuntimeError("the source is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, _read_exactly, file, self._lock, self._start + offset, count
        )

    def close(self) -> None:
        with self._lock:  # after any read still running in a thread
            own, file = self._own_file, self._file
            if own is not None:
                self._own_file = self._file = None
                own.close()
            elif file is not None and self._opened:
                # leave the caller's file where it was given (untouched if never opened)
                with contextlib.suppress(OSError, ValueError):
                    file.seek(self._start)


def _open_binary(path: str, label: str) -> IO[bytes]:
    if os.path.isdir(path):
        raise ValueError(f"{label}: {path!r} is a directory, not a file")
    return open(path, "rb")


def _extent(file: BinaryReader) -> tuple[int, int]:
    start = file.tell()
    end = file.seek(0, io.SEEK_END)
    file.seek(start)
    return start, end


def _make_source(source: object, *, label: str, default_name: str) -> _Source:
    """Check one source (no I/O yet) and wrap it; bad input gets a clear error."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not path:
            raise ValueError(f"{label}: the path is empty")
        return _FileSource(_clean_name(os.path.basename(path)) or default_name, label, path=path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        item: _Source = _BytesSource(source, default_name, label)
        item.unnamed = True
        return item
    if isinstance(source, io.TextIOBase):
        raise TypeError(f"{label}: the file is open in text mode; open it in binary mode ('rb')")
    if callable(getattr(source, "read", None)):
        file = cast("BinaryReader", source)
        seekable = getattr(file, "seekable", None)
        if not (callable(seekable) and seekable()):
            raise TypeError(
                f"{label}: the file object is not seekable (its size is needed up front and "
                "a failed chunk is read again); read it into bytes first"
            )
        name = getattr(file, "name", None)
        base = _clean_name(os.path.basename(name)) if isinstance(name, str) else ""
        item = _FileSource(base or default_name, label, file=file)
        item.unnamed = not base
        return item
    raise TypeError(
        f"{label}: expected a path (str or os.PathLike), bytes, or a binary file object, "
        f"got {type(source).__name__}"
    )


def _clean_name(name: str) -> str:
    """A file name fit for a header: control characters (a newline, say) become ``_``."""
    return "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in name)


_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"BM", ".bmp"),
)


def _image_extension(head: bytes) -> str | None:
    for signature, ext in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


# -------------------------------------------------------------------------- streaming payload


class _StreamPayload(aiohttp_payload.Payload):
    """``length`` bytes of a source from ``start``, read and written a piece at a time."""

    _autoclose = True  # the uploader closes its sources itself

    def __init__(
        self,
        source: _Source,
        start: int,
        length: int,
        tracker: _Tracker,
        *,
        content_type: str,
    ) -> None:
        super().__init__(source, content_type=content_type)
        self._source = source
        self._start = start
        self._size = length
        self._tracker = tracker

    async def write(self, writer: Any) -> None:
        source, tracker = self._source, self._tracker
        position, end = self._start, self._start + (self._size or 0)
        if position >= end:
            return
        # the next piece is read while this one is written (disk and socket overlap)
        pending = asyncio.ensure_future(source.read_at(position, min(READ_SIZE, end - position)))
        try:
            while True:
                piece = await pending
                if not piece:
                    error = OSError(
                        f"{source.label}: the file ended at byte {position} while being sent; "
                        f"it had {source.size} bytes when the upload started"
                    )
                    tracker.error = error
                    raise error
                after = position + len(piece)
                if after < end:
                    pending = asyncio.ensure_future(
                        source.read_at(after, min(READ_SIZE, end - after))
                    )
                await writer.write(piece)
                position = after
                tracker.advance(len(piece))
                if position >= end:
                    return
        finally:
            if not pending.done():
                # a read running in a thread cannot be stopped; wait for it so that
                # the next attempt never reads the file concurrently
                await asyncio.wait([pending])
            if not pending.cancelled() and pending.done():
                pending.exception()

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        await self.write(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("an upload payload is streamed from its source and is never decoded")


# -------------------------------------------------------------------------- the helper


def _check_progress(progress: object) -> ProgressCallback | None:
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress must be a callable (sent_bytes, total_bytes), got {type(progress).__name__}"
        )
    return cast("ProgressCallback | None", progress)


def _optional_id(value: object, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise TypeError(f"{name} must be a non-empty string or int, got {value!r}")
    return str(value)


class Uploads:
    """``api.upload``: photo and video uploads for the session of ``api``."""

    def __init__(self, api: API) -> None:
        self._api = api

    @property
    def _session(self) -> TokenSession:
        return self._api.session

    @property
    def _transport(self) -> HttpTransport:
        return self._session._transport

    def __repr__(self) -> str:
        return f"<Uploads of {self._session!r}>"

    # -- photos ------------------------------------------------------------------------

    async def photos(
        self,
        sources: Sequence[UploadSource],
        *,
        group_id: str | int | None = None,
        album_id: str | int | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[UploadedPhoto]:
        """Upload photos in one request; return their ids and tokens, in the order given.

        ``sources``: a list of paths, ``bytes``, or binary file objects (read
        from their current position; left open). ``group_id`` / ``album_id``
        become ``gid`` / ``aid`` of ``photosV2.getUploadUrl``. ``progress(sent,
        total)`` is called as file bytes go out, ending with ``sent == total``.

        The tokens attach to ``mediatopic.post`` as they are, or are committed
        with :meth:`commit_photos`. A refusal of the upload server raises
        :class:`UploadError`; connection failures are retried as the session's
        retry policy says (the same files are sent again to the same URL).
        """
        if isinstance(sources, (str, bytes, bytearray, memoryview, os.PathLike)) or callable(
            getattr(sources, "read", None)
        ):
            raise TypeError("photos() takes a list of sources; for one photo pass [source]")
        try:
            given = list(sources)
        except TypeError:
            raise TypeError(
                f"photos() takes a list of sources, got {type(sources).__name__}"
            ) from None
        items = [
            _make_source(source, label=f"photo {n}", default_name=f"photo{n}.jpg")
            for n, source in enumerate(given, 1)
        ]
        if not items:
            raise ValueError("photos() needs at least one source")
        gid = _optional_id(group_id, "group_id")
        aid = _optional_id(album_id, "album_id")
        callback = _check_progress(progress)
        self._transport.check_open()
        try:
            for item in items:
                await item.open()
                if item.size == 0:
                    raise ValueError(f"{item.label} ({item.name!r}) is empty")
                if item.unnamed:
                    ext = _image_extension(item.head)
                    if ext is not None:
                        item.name = os.path.splitext(item.name)[0] + ext
            reserved = await self._api.photos_v2.get_upload_url(
                count=len(items),
                gid=NOT_GIVEN if gid is None else gid,
                aid=NOT_GIVEN if aid is None else aid,
                sizes=[item.size for item in items],
            )
            url = self._upload_url(reserved.upload_url, _PHOTO_UPLOAD, "photosV2.getUploadUrl")
            tracker = _Tracker(sum(item.size for item in items), callback)
            reply = await self._with_retries(
                _PHOTO_UPLOAD, lambda: self._post_photos(url, items, tracker)
            )
        finally:
            for item in items:
                item.close()
        tracker.finish()
        tokens = _photo_tokens(reply, reserved.photo_ids, len(items), url)
        return [
            UploadedPhoto(photo_id=photo_id, token=token, file_name=item.name, size=item.size)
            for (photo_id, token), item in zip(tokens, items, strict=True)
        ]

    async def _post_photos(self, url: str, items: list[_Source], tracker: _Tracker) -> HttpReply:
        tracker.start(0)
        form = aiohttp.MultipartWriter("form-data")
        for n, item in enumerate(items, 1):
            part = _StreamPayload(
                item, 0, item.size, tracker, content_type=_content_type(item.name)
            )
            # the file name as browsers send it: UTF-8 in quotes (RFC 7578, 4.2)
            part.set_content_disposition(
                "form-data", quote_fields=False, name=f"pic{n}", filename=item.name
            )
            form.append_payload(part)
        reply = await self._exchange("POST", url, _PHOTO_UPLOAD, tracker, data=form)
        if not 200 <= reply.status < 300 or b'"error_code"' in reply.body:
            raise _refusal(_PHOTO_UPLOAD, reply, url)
        return reply

    async def commit_photos(
        self, photos: Sequence[UploadedPhoto], comment: str | None = None
    ) -> PhotoCommitResult:
        """Commit uploaded photos to their album (``photosV2.commit``), with ``comment``.

        Each photo of the result has its own ``status`` (``SUCCESS`` when it
        went well), as OK.ru reports it. Photos meant only for a media topic
        need no commit: their tokens go into the attachment.
        """
        if isinstance(photos, UploadedPhoto):
            photos = [photos]
        items = list(photos)
        if not items:
            raise ValueError("commit_photos() needs at least one UploadedPhoto")
        for n, photo in enumerate(items, 1):
            if not isinstance(photo, UploadedPhoto):
                raise TypeError(
                    f"commit_photos(): item {n} is a {type(photo).__name__}, not an UploadedPhoto"
                )
        if comment is not None and not isinstance(comment, str):
            raise TypeError(f"comment must be a string, got {type(comment).__name__}")
        group = self._api.photos_v2
        if len(items) == 1:
            return await group.commit(
                photo_id=items[0].photo_id,
                token=items[0].token,
                comment=NOT_GIVEN if comment is None else comment,
            )
        listed: list[dict[str, str]] = []
        for photo in items:
            entry = {"photo_id": photo.photo_id, "token": photo.token}
            if comment is not None:
                entry["comment"] = comment
            listed.append(entry)
        # ``photos`` is a JSON list on the wire; the catalogue types it as a mapping
        return await group.commit(extra_params={"photos": listed})

    # -- video -------------------------------------------------------------------------

    async def video(
        self,
        source: UploadSource,
        *,
        title: str,
        group_id: str | int | None = None,
        description: str | None = None,
        privacy: str | None = None,
        publish: bool = True,
        progress: ProgressCallback | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        file_name: str | None = None,
    ) -> UploadedVideo:
        """Upload a video in resumable chunks, then title and publish it.

        ``source``: a path, ``bytes``, or a seekable binary file object (read
        from its current position; left open). The file is read ``READ_SIZE``
        bytes at a time and sent in ``chunk_size`` ``Content-Range`` requests;
        when a chunk fails (connection lost, a timeout, HTTP 5xx, 408, 416 or
        429) the upload asks the server how far it got and goes on from there
        (or from the chunk's start when the server does not say), up to the
        session retry policy's ``max_retries`` failures in a row without
        progress. The session's ``timeout`` bounds a stall (no byte sent and
        no reply for that long), not the whole transfer.

        ``video.update`` then gets ``title``, ``description``, ``privacy``
        (``PUBLIC`` or ``FRIENDS``) and ``publish``. ``file_name`` (the
        source's own name by default) is what ``video.getUploadUrl`` is told.
        """
        if not isinstance(title, str) or not title.strip():
            raise ValueError("video(): title must be a non-empty string")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a string, got {type(description).__name__}")
        if privacy is not None and not isinstance(privacy, str):
            raise TypeError(f"privacy must be a string, got {type(privacy).__name__}")
        if not isinstance(publish, bool):
            raise TypeError(f"publish must be a bool, got {type(publish).__name__}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if chunk_size < MIN_CHUNK_SIZE:
            raise ValueError(
                f"chunk_size must be at least {MIN_CHUNK_SIZE} bytes, got {chunk_size}"
            )
        if file_name is not None and (not isinstance(file_name, str) or not file_name):
            raise ValueError("file_name must be a non-empty string")
        gid = _optional_id(group_id, "group_id")
        callback = _check_progress(progress)
        item = _make_source(source, label="the video", default_name="video.mp4")
        self._transport.check_open()
        try:
            await item.open()
            if item.size == 0:
                raise ValueError(f"the video ({item.name!r}) is empty")
            name = file_name or item.name
            reserved = await self._api.video.get_upload_url(
                file_name=name,
                file_size=item.size,
                gid=NOT_GIVEN if gid is None else gid,
            )
            url = self._upload_url(reserved.upload_url, _VIDEO_UPLOAD, "video.getUploadUrl")
            video_id = reserved.video_id
            if video_id is None:
                raise ResponseDecodeError(
                    "video.getUploadUrl: the reply has no video_id", method="video.getUploadUrl"
                )
            tracker = _Tracker(item.size, callback)
            await self._send_video(url, item, chunk_size, tracker)
        finally:
            item.close()
        tracker.finish()
        try:
            await self._api.video.update(
                vid=video_id,
                title=title,
                description=NOT_GIVEN if description is None else description,
                privacy=NOT_GIVEN if privacy is None else privacy,
                publish=publish,
            )
        except OkError as exc:
            log.warning("video %s was uploaded, but video.update failed: %s", video_id, exc)
            add_note = getattr(exc, "add_note", None)  # Python 3.11+
            if callable(add_note):
                add_note(
                    f"the file is uploaded as video {video_id}; "
                    "call api.video.update(vid=...) again to title it"
                )
            raise
        return UploadedVideo(video_id=video_id, file_name=name, size=item.size)

    async def _send_video(
        self, url: str, item: _Source, chunk_size: int, tracker: _Tracker
    ) -> None:
        size = item.size
        policy = self._session.retry
        offset = 0
        failures = 0
        while offset < size:
            end = min(offset + chunk_size, size) - 1
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"bytes {offset}-{end}/{size}",
            }
            payload = _StreamPayload(
                item, offset, end - offset + 1, tracker, content_type="application/octet-stream"
            )
            tracker.start(offset)
            error: OkError
            try:
                reply = await self._exchange(
                    "POST", url, _VIDEO_UPLOAD, tracker, data=payload, headers=headers
                )
            except TransportError as exc:
                error = exc
            else:
                if 200 <= reply.status < 300:
                    reported = _reported_offset(reply)
                    nxt = end + 1 if reported is None else min(reported, size)
                    if nxt > offset:
                        offset, failures = nxt, 0
                        continue
                    error = UploadError(
                        f"{_VIDEO_UPLOAD}: the server accepted bytes {offset}-{end} "
                        f"but reports only {nxt} received",
                        method=_VIDEO_UPLOAD,
                        status=reply.status,
                    )
                else:
                    error = _refusal(_VIDEO_UPLOAD, reply, url)
                    if not _resumable(reply.status):
                        raise error
            failures += 1
            if failures > policy.max_retries:
                raise error
            pause = policy.delay(error, attempt=failures)
            log.info(
                "%s: bytes %d-%d of %d failed (%s); asking the server where to resume "
                "(failure %d of at most %d in a row)",
                _VIDEO_UPLOAD,
                offset,
                end,
                size,
                error,
                failures,
                policy.max_retries + 1,
            )
            await asyncio.sleep(pause)
            reported = await self._video_status(url, size)
            resume = offset if reported is None else reported
            if resume > offset:
                failures = 0
            offset = resume

    async def _video_status(self, url: str, size: int) -> int | None:
        """The offset the upload server has (``GET`` on the upload URL), or ``None``."""
        tracker = _Tracker(0, None)
        try:
            reply = await self._exchange("GET", url, _VIDEO_UPLOAD, tracker)
        except TransportError as exc:
            log.info("%s: the status request failed (%s)", _VIDEO_UPLOAD, exc)
            return None
        if not 200 <= reply.status < 300 and not _resumable(reply.status):
            if reply.status < 500:
                raise _refusal(_VIDEO_UPLOAD, reply, url)
            return None
        reported = _reported_offset(reply)
        if reported is None:
            return 0 if 200 <= reply.status < 300 and not reply.body.strip() else None
        return min(reported, size)

    # -- HTTP to the upload server -----------------------------------------------------

    def _upload_url(self, url: str | None, what: str, method: str) -> str:
        """The upload URL OK.ru gave, checked: absolute, and not cleartext off loopback."""
        if not url:
            raise ResponseDecodeError(f"{method}: the reply has no upload_url", method=method)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UploadError(
                f"{what}: {method} gave an upload URL that is not http(s)", method=what
            )
        # plain http off loopback only when the API URL itself is such (allow_insecure_http=True)
        api = urlsplit(self._session.api_url)
        insecure_ok = api.scheme == "http" and not _is_loopback(api.hostname or "")
        if parts.scheme == "http" and not insecure_ok and not _is_loopback(parts.hostname):
            raise UploadError(
                f"{what}: {method} gave a plain http upload URL (host {parts.hostname}); "
                "the file would travel in cleartext, so it is not sent",
                method=what,
            )
        return url

    async def _with_retries(self, what: str, attempt: Callable[[], Any]) -> HttpReply:
        policy = self._session.retry
        tries = 0
        while True:
            tries += 1
            try:
                reply: HttpReply = await attempt()
                return reply
            except UploadError as exc:
                error: TransportError = exc
                if exc.status is None or not (exc.status >= 500 or exc.status in _RESUMABLE):
                    raise
            except TransportError as exc:
                error = exc
            if policy.decide(error, attempt=tries, retry_safe=True) is None:
                raise error
            pause = policy.delay(error, attempt=tries)
            log.info("retrying %s: attempt %d in %.2f s after %s", what, tries + 1, pause, error)
            await asyncio.sleep(pause)

    async def _exchange(
        self,
        http_method: str,
        url: str,
        what: str,
        tracker: _Tracker,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        """One request to the upload server, bounded by stalls rather than a total time.

        The session's timeout is the longest the request may go without
        sending a byte (or, once all is sent, without its reply).
        """
        transport = self._transport
        client = transport._client()
        seconds = transport.timeout
        loop = asyncio.get_running_loop()

        async def send() -> HttpReply:
            async with client.request(
                http_method,
                url,
                data=data,
                headers=headers,
                allow_redirects=False,
                raise_for_status=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=seconds),
            ) as resp:
                body = await transport._read(resp, what)
                return HttpReply(status=resp.status, headers=resp.headers, body=body, url="")

        tracker.last_activity = loop.time()
        task = asyncio.ensure_future(send())
        try:
            while True:
                idle = tracker.last_activity + seconds - loop.time()
                if idle <= 0:
                    task.cancel()
                    raise RequestTimeout(
                        f"{what}: nothing sent or received for {seconds:g} s", method=what
                    )
                done, _ = await asyncio.wait({task}, timeout=idle)
                if done:
                    reply = task.result()
                    if tracker.error is not None:
                        raise tracker.error
                    return reply
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            if tracker.error is not None:
                raise tracker.error from None
            if isinstance(exc, asyncio.TimeoutError):
                raise RequestTimeout(f"{what}: the request timed out", method=what) from None
            if isinstance(exc, aiohttp.ClientConnectorError):
                raise TransportError(
                    f"{what}: {type(exc).__name__}: {_safe_reason(exc)}",
                    method=what,
                    reached_server=False,
                ) from None
            reason = _safe_reason(exc) if isinstance(exc, aiohttp.ClientError) else str(exc)
            raise TransportError(
                f"{what}: {type(exc).__name__}: {_scrub_text(reason, url)}", method=what
            ) from None
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


# -------------------------------------------------------------------------- replies


def _secret_parts(url: str) -> list[str]:
    """The upload URL's query values (and the URL itself) that must not reach an error."""
    values = [url, urlsplit(url).query]
    values.extend(value for _, value in parse_qsl(urlsplit(url).query, keep_blank_values=False))
    return [value for value in values if len(value) >= _MIN_SECRET_LENGTH]


def _scrub_text(text: str, url: str) -> str:
    return scrub(text.encode("utf-8", "replace"), _secret_parts(url)).decode("utf-8", "replace")


def _refusal(what: str, reply: HttpReply, url: str) -> OkError:
    """The error for an upload server's non-2xx reply (or its OK.ru error body)."""
    body = scrub(reply.body, _secret_parts(url))
    error = APIError.from_body(body, method=what)
    if error is not None:
        return error
    status = reply.status
    hint = ""
    if status in (401, 403, 404, 410):
        hint = " (upload URLs expire: start the upload again to get a new one)"
    text = preview(body)
    detail = f"; the server said: {text!r}" if text else ""
    return UploadError(
        f"{what}: the upload server answered HTTP {status}{hint}{detail}",
        method=what,
        status=status,
        body=body,
    )


def _resumable(status: int) -> bool:
    return status >= 500 or status in _RESUMABLE


def _reported_offset(reply: HttpReply) -> int | None:
    """The next byte the server wants: from ``Range: bytes=0-N`` or a ``first-last/total`` body."""
    header = reply.headers.get("Range")
    if header:
        match = _RANGE_HEADER.search(header)
        if match:
            return int(match.group(2)) + 1
    match = _RANGE_BODY.match(reply.body[:200].decode("latin-1"))
    if match:
        return int(match.group(2)) + 1
    return None


def _photo_tokens(
    reply: HttpReply, photo_ids: list[str] | None, count: int, url: str
) -> list[tuple[str, str]]:
    """``(photo_id, token)`` per photo, in the order sent, from ``{"photos": {id: {"token"}}}``."""
    body = reply.body
    try:
        payload = loads(body)
    except ValueError as exc:
        raise ResponseDecodeError(
            f"{_PHOTO_UPLOAD}: the upload reply is not JSON",
            method=_PHOTO_UPLOAD,
            body=scrub(body, _secret_parts(url)),
            cause=exc,
        ) from None
    photos = payload.get("photos") if isinstance(payload, dict) else None
    if not isinstance(photos, dict):
        raise ResponseDecodeError(
            f"{_PHOTO_UPLOAD}: the upload reply has no 'photos' object",
            method=_PHOTO_UPLOAD,
            body=body,
        )
    ids = list(photo_ids or [])
    if len(ids) != count or any(photo_id not in photos for photo_id in ids):
        # no (usable) reserved ids: the reply's own order is the order sent
        ids = list(photos)
    if len(ids) != count:
        raise ResponseDecodeError(
            f"{_PHOTO_UPLOAD}: {count} photo(s) sent, the reply names {len(photos)}",
            method=_PHOTO_UPLOAD,
            body=body,
        )
    result = []
    for n, photo_id in enumerate(ids, 1):
        entry = photos.get(photo_id)
        token = entry.get("token") if isinstance(entry, dict) else None
        if not isinstance(token, str) or not token:
            raise ResponseDecodeError(
                f"{_PHOTO_UPLOAD}: the reply has no token for photo {n}",
                method=_PHOTO_UPLOAD,
                body=body,
            )
        result.append((str(photo_id), token))
    return result
