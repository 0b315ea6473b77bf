"""Photo and video uploads (``api.upload``) against the emulator's upload server."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import pickle
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from aiohttp import web

from okru_sdk import (
    API,
    RequestTimeout,
    RetryPolicy,
    ServerSession,
    SessionClosed,
    TransportError,
    UploadedPhoto,
    UploadedVideo,
    UploadError,
)
from okru_sdk.testing import MethodCall, OkEmulator
from okru_sdk.testing.catalogue import register_catalogue
from okru_sdk.upload import READ_SIZE, rich_progress, tqdm_progress

APP_ID, APP_KEY, APP_SECRET = "1250", "CBAUPLOADTESTKEY", "UPLOAD-TEST-APP-SECRET-0123"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg body " * 500
PNG = b"\x89PNG\r\n\x1a\n" + b"png body " * 300


@dataclass
class Env:
    emu: OkEmulator
    api: API
    session: ServerSession
    uid: str
    access_token: str


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with OkEmulator() as emu:
        register_catalogue(emu)
        app = emu.add_app(app_id=APP_ID, app_key=APP_KEY, app_secret_key=APP_SECRET)
        user = emu.add_user(uid="571234500001")
        token = emu.issue_token(app, user)
        async with ServerSession(
            APP_ID,
            APP_KEY,
            APP_SECRET,
            token.access_token,
            api_url=emu.url,
            retry=RetryPolicy(backoff=0.01, backoff_max=0.02),
        ) as session:
            yield Env(emu, API(session), session, user.uid, token.access_token)


def upload_requests(env: Env, path: str) -> list[Any]:
    return [r for r in env.emu.requests if r.path == path]


def api_requests(env: Env, method: str) -> list[Any]:
    return [r for r in env.emu.requests if r.method == method]


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, sent: int, total: int) -> None:
        self.calls.append((sent, total))

    def check(self, total: int) -> None:
        assert self.calls, "progress was never called"
        sent = [s for s, _ in self.calls]
        assert sent == sorted(sent), "progress went backwards"
        assert len(set(sent)) == len(sent), "the same progress was reported twice"
        assert {t for _, t in self.calls} == {total}
        assert self.calls[-1] == (total, total)


# -------------------------------------------------------------------------- photos


async def test_photos_from_a_path_bytes_and_a_file_object(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(JPEG)
    other = os.urandom(5000)
    file = io.BytesIO(b"skipped" + other)
    file.seek(len(b"skipped"))  # read from the current position

    photos = await env.api.upload.photos([str(path), PNG, file])

    assert [type(p) for p in photos] == [UploadedPhoto] * 3
    assert len({p.photo_id for p in photos}) == 3
    stored = [env.emu.uploads.photos[p.photo_id] for p in photos]
    assert [s.data for s in stored] == [JPEG, PNG, other]
    assert [s.sha256 for s in stored] == [hashlib.sha256(d).hexdigest() for d in (JPEG, PNG, other)]
    assert [s.token for s in stored] == [p.token for p in photos]
    assert [s.field for s in stored] == ["pic1", "pic2", "pic3"]
    assert stored[0].file_name == "holiday.jpg"
    assert stored[1].file_name == "photo2.png"  # named from the bytes' signature
    assert [s.content_type for s in stored[:2]] == ["image/jpeg", "image/png"]
    assert [p.size for p in photos] == [len(JPEG), len(PNG), len(other)]
    assert file.tell() == len(b"skipped")  # the caller's file is left where it was
    # one reservation for three photos, one multipart request for all of them
    (reserve,) = api_requests(env, "photosV2.getUploadUrl")
    assert reserve.params["count"] == "3"
    assert reserve.params["sizes"] == f"{len(JPEG)},{len(PNG)},{len(other)}"
    (post,) = upload_requests(env, "/upload/photos")
    assert post.http_method == "POST"
    assert post.headers["Content-Type"].startswith("multipart/form-data")


async def test_pathlike_and_group_and_album_ids_reach_get_upload_url(
    env: Env, tmp_path: Path
) -> None:
    path = tmp_path / "Отпуск 2024.png"
    path.write_bytes(PNG)
    (photo,) = await env.api.upload.photos([path], group_id=53038939046008, album_id="873307")
    params = api_requests(env, "photosV2.getUploadUrl")[-1].params
    assert (params["gid"], params["aid"], params["count"]) == ("53038939046008", "873307", "1")
    stored = env.emu.uploads.photos[photo.photo_id]
    assert (stored.group_id, stored.album_id, stored.data) == ("53038939046008", "873307", PNG)
    assert stored.file_name == photo.file_name == "Отпуск 2024.png"  # UTF-8, as browsers send


async def test_file_objects_are_named_and_left_where_they_were(env: Env, tmp_path: Path) -> None:
    unnamed = io.BytesIO(PNG)
    (photo,) = await env.api.upload.photos([unnamed])
    assert photo.file_name == "photo1.png"  # no name of its own: one from its signature
    assert env.emu.uploads.photos[photo.photo_id].content_type == "image/png"
    # a failure on an earlier source leaves a later file object untouched
    later = io.BytesIO(b"12345" + JPEG)
    later.seek(5)
    with pytest.raises(FileNotFoundError):
        await env.api.upload.photos([str(tmp_path / "missing.jpg"), later])
    assert later.tell() == 5


async def test_without_ids_gid_and_aid_are_not_sent(env: Env) -> None:
    await env.api.upload.photos([JPEG])
    params = api_requests(env, "photosV2.getUploadUrl")[-1].params
    assert "gid" not in params and "aid" not in params


async def test_nothing_of_the_session_goes_to_the_upload_server(env: Env) -> None:
    await env.api.upload.photos([JPEG])
    await env.api.upload.video(os.urandom(100_000), title="t", chunk_size=64 * 1024)
    uploads = [r for r in env.emu.requests if r.path.startswith("/upload/")]
    assert len(uploads) >= 3
    secrets = [env.access_token, APP_SECRET, env.session._signing_secret or "-"]
    for request in uploads:
        seen = json.dumps(dict(request.params)) + json.dumps(dict(request.headers))
        assert not [secret for secret in secrets if secret in seen]
        assert not {"access_token", "session_key", "application_key"} & set(request.params)
        assert "Cookie" not in request.headers and "Authorization" not in request.headers


async def test_commit_one_and_several_photos(env: Env) -> None:
    photos = await env.api.upload.photos([JPEG, PNG])

    one = await env.api.upload.commit_photos(photos[:1], comment="first")
    assert one.photos is not None
    assert [(p.photo_id, p.status) for p in one.photos] == [(photos[0].photo_id, "SUCCESS")]
    params = api_requests(env, "photosV2.commit")[-1].params
    assert params["photo_id"] == photos[0].photo_id and params["comment"] == "first"

    both = await env.api.upload.commit_photos(photos, comment="both")
    assert both.photos is not None
    assert [p.status for p in both.photos] == ["SUCCESS", "SUCCESS"]
    sent = json.loads(api_requests(env, "photosV2.commit")[-1].params["photos"])
    assert [e["photo_id"] for e in sent] == [p.photo_id for p in photos]
    stored = [env.emu.uploads.photos[p.photo_id] for p in photos]
    assert all(s.committed and s.assigned_photo_id for s in stored)
    assert [s.comment for s in stored] == ["both", "both"]
    assert both.photos[0].assigned_photo_id == stored[0].assigned_photo_id


async def test_commit_with_a_wrong_token_fails_for_that_photo(env: Env) -> None:
    (photo,) = await env.api.upload.photos([JPEG])
    forged = UploadedPhoto(photo_id=photo.photo_id, token="not-the-token")
    result = await env.api.upload.commit_photos([forged])
    assert result.photos is not None and result.photos[0].status == "FAILURE"
    assert not env.emu.uploads.photos[photo.photo_id].committed


async def test_tokens_attach_to_mediatopic_post(env: Env) -> None:
    photos = await env.api.upload.photos([JPEG, PNG])
    await env.api.mediatopic.post(
        type="USER_NOTE",
        attachment={
            "media": [
                {"type": "text", "text": "Holiday"},
                {"type": "photo", "list": [{"id": p.token} for p in photos]},
            ]
        },
    )
    sent = json.loads(api_requests(env, "mediatopic.post")[-1].params["attachment"])
    ids = [item["id"] for item in sent["media"][1]["list"]]
    assert [env.emu.uploads.photo_by_token(t) for t in ids] == [
        env.emu.uploads.photos[p.photo_id] for p in photos
    ]


async def test_photo_progress_is_monotone_and_ends_at_the_total(env: Env) -> None:
    big = os.urandom(3 * READ_SIZE + 123)
    progress = Recorder()
    await env.api.upload.photos([big, JPEG], progress=progress)
    progress.check(len(big) + len(JPEG))
    assert len(progress.calls) >= 4  # called as the pieces go out, not once at the end


async def test_photo_upload_is_retried_after_a_server_error(env: Env) -> None:
    env.emu.uploads.fail_uploads(503)
    progress = Recorder()
    (photo,) = await env.api.upload.photos([JPEG], progress=progress)
    assert len(upload_requests(env, "/upload/photos")) == 2
    assert env.emu.uploads.photos[photo.photo_id].data == JPEG
    progress.check(len(JPEG))


async def test_expired_photo_upload_url_is_a_clear_error(env: Env) -> None:
    env.emu.uploads.expire_next_url()
    with pytest.raises(UploadError) as info:
        await env.api.upload.photos([JPEG])
    error = info.value
    assert error.status == 403 and error.method == "photo upload"
    assert "HTTP 403" in str(error) and "expire" in str(error)
    assert isinstance(error, TransportError)
    (post,) = upload_requests(env, "/upload/photos")  # a refusal is not retried
    api_token = post.params["apiToken"]
    assert api_token not in str(error) and api_token not in repr(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is UploadError and str(copy) == str(error)


async def test_upload_url_secrets_stay_out_of_connection_errors(env: Env) -> None:
    # connection refused: aiohttp's message names the host and port only
    def reserve(call: MethodCall) -> dict[str, Any]:
        url = f"http://127.0.0.1:{unused_port()}/upload?apiToken=TOPSECRET-UPLOAD-KEY"
        return {"upload_url": url, "photo_ids": ["p1"], "expires_ms": 0, "ttl_ms": 0}

    env.emu.register_method("photosV2.getUploadUrl", reserve)
    with pytest.raises(TransportError) as info:
        await env.api.upload.photos([JPEG])
    assert info.value.reached_server is False
    assert "TOPSECRET" not in str(info.value) and "TOPSECRET" not in repr(info.value)


async def test_upload_url_secrets_stay_out_of_dropped_connection_errors(env: Env) -> None:
    # a connection dropped mid-body: aiohttp's own message quotes the request URL
    env.emu.uploads.refuse_chunk(after=0, status=None, times=10)
    with pytest.raises(TransportError) as info:
        await env.api.upload.video(os.urandom(2 * 1024 * 1024), title="t")
    (reserve,) = api_requests(env, "video.getUploadUrl")
    key = next(r for r in upload_requests(env, "/upload/video")).params["sig"]
    assert reserve is not None
    assert info.value.method == "video upload"
    assert key not in str(info.value) and key not in repr(info.value)
    assert "http://" not in str(info.value)


async def test_a_cleartext_upload_url_off_loopback_is_refused(env: Env) -> None:
    def reserve(call: MethodCall) -> dict[str, Any]:
        return {"upload_url": "http://upload.example.com/u?apiToken=SECRET-KEY-123"}

    env.emu.register_method("photosV2.getUploadUrl", reserve)
    with pytest.raises(UploadError) as info:
        await env.api.upload.photos([JPEG])
    assert "cleartext" in str(info.value) and "upload.example.com" in str(info.value)
    assert "SECRET-KEY" not in str(info.value)


# -------------------------------------------------------------------------- video


async def test_video_from_disk_in_chunks_then_update(env: Env, tmp_path: Path) -> None:
    data = os.urandom(3 * 256 * 1024 + 1000)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    progress = Recorder()

    video = await env.api.upload.video(
        path,
        title="Clip",
        description="A test clip",
        privacy="FRIENDS",
        group_id="53038939046008",
        progress=progress,
        chunk_size=256 * 1024,
    )

    assert isinstance(video, UploadedVideo)
    assert (video.file_name, video.size) == ("clip.mp4", len(data))
    stored = env.emu.uploads.videos[video.video_id]
    assert stored.complete and stored.data == data
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert [(c.first, c.last, c.status) for c in stored.chunks] == [
        (0, 262143, 201),
        (262144, 524287, 201),
        (524288, 786431, 201),
        (786432, len(data) - 1, 200),
    ]
    reserve = api_requests(env, "video.getUploadUrl")[-1].params
    assert (reserve["file_name"], reserve["file_size"], reserve["gid"]) == (
        "clip.mp4",
        str(len(data)),
        "53038939046008",
    )
    assert (stored.title, stored.description, stored.privacy, stored.publish) == (
        "Clip",
        "A test clip",
        "FRIENDS",
        True,
    )
    assert stored.update_params is not None and stored.update_params["vid"] == str(video.video_id)
    # video.update comes after the last chunk
    paths = [r.path if r.method is None else r.method for r in env.emu.requests]
    assert paths[-1] == "video.update" and paths[-2] == "/upload/video"
    progress.check(len(data))


async def test_video_from_bytes_and_a_file_object(env: Env) -> None:
    data = os.urandom(200_000)
    first = await env.api.upload.video(data, title="bytes", publish=False, file_name="x.mov")
    stored = env.emu.uploads.videos[first.video_id]
    assert stored.data == data and stored.file_name == "x.mov" and stored.publish is False
    file = io.BytesIO(data)
    second = await env.api.upload.video(file, title="file", chunk_size=64 * 1024)
    assert env.emu.uploads.videos[second.video_id].data == data
    assert file.tell() == 0


@pytest.mark.parametrize("status", [500, None], ids=["HTTP 500", "connection dropped"])
async def test_a_chunk_refused_midway_is_resumed_from_the_servers_offset(
    env: Env, tmp_path: Path, status: int | None
) -> None:
    data = os.urandom(4 * 256 * 1024 + 77)
    path = tmp_path / "movie.mp4"
    path.write_bytes(data)
    # the third chunk: the server keeps 100,000 of its bytes, then refuses it
    env.emu.uploads.refuse_chunk(after=100_000, status=status, skip=2)
    progress = Recorder()

    video = await env.api.upload.video(
        path, title="Resumed", chunk_size=256 * 1024, progress=progress
    )

    stored = env.emu.uploads.videos[video.video_id]
    assert stored.complete and stored.data == data
    chunks = [(c.first, c.last, c.stored, c.status) for c in stored.chunks]
    refused_at = 2 * 256 * 1024
    assert chunks[2] == (refused_at, refused_at + 256 * 1024 - 1, 100_000, status)
    # the status request, then the next chunk starts where the server said it stopped
    assert chunks[3][0] == refused_at + 100_000 and chunks[3][3] == 201
    assert [r.http_method for r in upload_requests(env, "/upload/video")].count("GET") == 1
    assert stored.title == "Resumed"
    progress.check(len(data))


async def test_a_chunk_is_sent_again_from_its_start_when_the_server_does_not_say(
    env: Env,
) -> None:
    # an upload server whose status reply the SDK cannot read: the failed chunk
    # is sent again whole
    ranges: list[str] = []
    received = bytearray()

    async def upload(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.Response(text="status unknown")
        ranges.append(request.headers["Content-Range"])
        body = await request.read()
        if len(ranges) == 2:
            return web.Response(status=503)
        first = int(request.headers["Content-Range"].split()[1].split("-")[0])
        received[first:] = body
        return web.Response(status=201)

    app = web.Application()
    app.router.add_route("*", "/v", upload)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:

        def reserve(call: MethodCall) -> dict[str, Any]:
            return {"upload_url": f"http://127.0.0.1:{port}/v?sig=K", "video_id": 42}

        env.emu.register_method("video.getUploadUrl", reserve)
        env.emu.register_method("video.update", lambda call: None)
        data = os.urandom(3 * 64 * 1024)
        video = await env.api.upload.video(data, title="t", chunk_size=64 * 1024)
    finally:
        await runner.cleanup()
    assert video.video_id == 42 and bytes(received) == data
    assert ranges == [
        "bytes 0-65535/196608",
        "bytes 65536-131071/196608",
        "bytes 65536-131071/196608",
        "bytes 131072-196607/196608",
    ]


async def test_a_video_upload_gives_up_after_the_retry_policy(env: Env) -> None:
    env.emu.uploads.refuse_chunk(after=0, status=502, times=10)
    with pytest.raises(UploadError) as info:
        await env.api.upload.video(os.urandom(300_000), title="never")
    assert info.value.status == 502
    # max_retries=2: three attempts in a row without progress, none updated
    posts = [r for r in upload_requests(env, "/upload/video") if r.http_method == "POST"]
    assert len(posts) == 3
    assert not api_requests(env, "video.update")


async def test_expired_video_upload_url_is_a_clear_error(env: Env) -> None:
    env.emu.uploads.expire_next_url()
    with pytest.raises(UploadError) as info:
        await env.api.upload.video(os.urandom(100_000), title="late")
    assert info.value.status == 403 and "expire" in str(info.value)
    assert info.value.method == "video upload"
    assert "sig=" not in str(info.value)
    assert len(upload_requests(env, "/upload/video")) == 1
    assert not api_requests(env, "video.update")


async def test_a_video_upload_url_that_expires_midway(env: Env) -> None:
    data = os.urandom(3 * 64 * 1024)

    def expire_after_first_chunk(sent: int, total: int) -> None:
        if sent >= 64 * 1024:
            env.emu.uploads.expire_urls()

    with pytest.raises(UploadError) as info:
        await env.api.upload.video(
            data, title="t", chunk_size=64 * 1024, progress=expire_after_first_chunk
        )
    assert info.value.status == 403


class RecordingFile(io.RawIOBase):
    """A read-only file object over a real file that records every read's size."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 (closed in close())
        self.reads: list[int] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        return self._file.read(size)

    def close(self) -> None:
        self._file.close()
        super().close()


async def test_a_large_video_is_read_a_piece_at_a_time(env: Env, tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    path = sparse_file(tmp_path / "sparse.mp4", size)
    env.emu.uploads.max_kept_bytes = 1024 * 1024  # the server keeps only the hash
    recording = RecordingFile(path)
    try:
        video = await env.api.upload.video(recording, title="big", chunk_size=8 * 1024 * 1024)
    finally:
        recording.close()
    assert recording.reads and max(recording.reads) <= READ_SIZE
    assert min(recording.reads) > 0  # never a read-it-all ``read()`` / ``read(-1)``
    assert sum(recording.reads) >= size
    stored = env.emu.uploads.videos[video.video_id]
    assert stored.size == size and stored.data is None and stored.complete
    zeros = hashlib.sha256()
    block = bytes(1024 * 1024)
    for _ in range(size // len(block)):
        zeros.update(block)
    assert stored.sha256 == zeros.hexdigest()
    assert len(stored.chunks) == 8


async def test_a_progress_callback_that_raises_stops_the_upload(env: Env) -> None:
    class Stop(Exception):
        pass

    def progress(sent: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        await env.api.upload.video(os.urandom(200_000), title="t", progress=progress)
    with pytest.raises(Stop):
        await env.api.upload.photos([JPEG], progress=progress)
    assert not api_requests(env, "video.update")


async def test_a_stalled_upload_server_times_out(env: Env) -> None:
    started = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(3600)
        return web.Response()

    app = web.Application()
    app.router.add_post("/stall", stall)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:

        def reserve(call: MethodCall) -> dict[str, Any]:
            return {"upload_url": f"http://127.0.0.1:{port}/stall?k=1", "photo_ids": ["p"]}

        env.emu.register_method("photosV2.getUploadUrl", reserve)
        app_ = env.emu.apps[APP_KEY]
        token = env.emu.issue_token(app_, env.emu.users[env.uid])
        async with ServerSession(
            APP_ID,
            APP_KEY,
            APP_SECRET,
            token.access_token,
            api_url=env.emu.url,
            timeout=0.3,
            retry=RetryPolicy(max_retries=0),
        ) as session:
            with pytest.raises(RequestTimeout) as info:
                await API(session).upload.photos([JPEG])
        assert started.is_set()
        assert "photo upload" in str(info.value)
    finally:
        await runner.cleanup()


# -------------------------------------------------------------------------- bad input


async def test_bad_input_is_refused_before_anything_is_sent(env: Env, tmp_path: Path) -> None:
    upload = env.api.upload
    missing = str(tmp_path / "missing.jpg")
    bad: Any = 42
    with text_file_of(tmp_path / "t.txt") as opened:
        text_file: Any = opened
        cases: list[tuple[Callable[[], Awaitable[Any]], type[Exception], str]] = [
            (lambda: upload.photos(bad), TypeError, "list of sources"),
            (lambda: upload.photos("a.jpg"), TypeError, "list"),
            (lambda: upload.photos([]), ValueError, "at least one"),
            (lambda: upload.photos([b""]), ValueError, "photo 1"),
            (lambda: upload.photos([JPEG, bad]), TypeError, "photo 2"),
            (lambda: upload.photos([text_file]), TypeError, "binary mode"),
            (lambda: upload.photos([missing]), FileNotFoundError, "missing.jpg"),
            (lambda: upload.photos([str(tmp_path)]), ValueError, "directory"),
            (lambda: upload.photos([JPEG], progress=bad), TypeError, "progress"),
            (lambda: upload.photos([JPEG], group_id=bad / 10), TypeError, "group_id"),
            (lambda: upload.video(JPEG, title=""), ValueError, "title"),
            (lambda: upload.video(JPEG, title="t", chunk_size=10), ValueError, "chunk_size"),
            (lambda: upload.video(b"", title="t"), ValueError, "empty"),
            (lambda: upload.video(JPEG, title="t", publish=bad), TypeError, "publish"),
            (lambda: upload.commit_photos([]), ValueError, "at least one"),
            (lambda: upload.commit_photos([bad]), TypeError, "UploadedPhoto"),
        ]
        for call, kind, words in cases:
            with pytest.raises(kind, match=words):
                await call()
    assert not env.emu.requests


async def test_a_non_seekable_file_object_is_refused(env: Env) -> None:
    read, write = os.pipe()
    os.close(write)
    with os.fdopen(read, "rb", buffering=0) as pipe, pytest.raises(TypeError, match="seekable"):
        await env.api.upload.video(pipe, title="t")


async def test_a_closed_session_refuses_uploads(env: Env) -> None:
    await env.session.close()
    with pytest.raises(SessionClosed):
        await env.api.upload.photos([JPEG])
    with pytest.raises(SessionClosed):
        await env.api.upload.video(JPEG, title="t")


def test_the_helper_is_one_object_per_api() -> None:
    session = ServerSession(APP_ID, APP_KEY, APP_SECRET, "token")
    api = API(session)
    assert api.upload is api.upload
    assert "token" not in repr(api.upload) and APP_SECRET not in repr(api.upload)
    photo = UploadedPhoto(photo_id="p1", token="secret-upload-token")
    assert "secret-upload-token" not in repr(photo)


# -------------------------------------------------------------------------- progress adapters


def test_the_tqdm_adapter() -> None:
    class Bar:  # the part of tqdm's interface the adapter uses
        def __init__(self) -> None:
            self.total: int | None = None
            self.n = 0

        def update(self, n: int = 1) -> None:
            self.n += n

    bar = Bar()
    progress = tqdm_progress(bar)
    for sent in (10, 500, 1000):
        progress(sent, 1000)
    assert (bar.n, bar.total) == (1000, 1000)


async def test_the_rich_adapter_drives_a_real_progress_bar(env: Env) -> None:
    rich_progress_module = pytest.importorskip("rich.progress")
    bar = rich_progress_module.Progress(disable=True)
    task = bar.add_task("upload", total=None)
    data = os.urandom(300_000)
    await env.api.upload.video(data, title="t", progress=rich_progress(bar, task))
    state = bar.tasks[0]
    assert (state.completed, state.total) == (len(data), len(data))


def sparse_file(path: Path, size: int) -> Path:
    with open(path, "wb") as file:
        file.truncate(size)  # sparse: no disk space, reads as zeros
    return path


def text_file_of(path: Path) -> IO[str]:
    return open(path, "w+")  # the caller closes it


def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
