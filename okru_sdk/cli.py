"""The ``okru`` command: call OK.ru, look up catalogued methods, run the emulator.

Standard library only (argparse), so it works from a plain ``pip install okru-sdk``::

    okru call users.getCurrentUser fields=uid,name
    okru call mediatopic.post type=USER_NOTE 'attachment:={"media": [...]}'
    okru methods users              # every users.* method with its Python name
    okru methods users.getInfo      # one method: parameters, session, scopes, docs link
    okru auth url --scope VALUABLE_ACCESS --redirect-uri https://example.com/cb
    okru upload photo cat.jpg dog.png          # with a progress bar on a terminal
    okru upload video clip.mp4 --title "Our trip"
    okru emulator --port 8765       # a local OK.ru with demo credentials

Credentials come from ``OKRU_APP_ID``, ``OKRU_APP_KEY``, ``OKRU_APP_SECRET_KEY``,
``OKRU_ACCESS_TOKEN``, ``OKRU_SESSION_SECRET_KEY``, ``OKRU_API_URL`` and
``OKRU_CONNECT_URL``; ``--env-file FILE`` reads them from a file
(``NAME=value`` lines), whose values win over the environment's.

Exit status: 0 success, 1 an OK.ru error (one line on stderr naming the
code), 2 a usage error, 3 a transport error (connection, timeout, HTTP
status, a reply that cannot be decoded). No traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import importlib
import inspect
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ._version import __version__
from .errors import (
    APIError,
    AuthError,
    OkError,
    ParameterValidationError,
    ResponseDecodeError,
    TransportError,
)

__all__ = ["EXIT_API_ERROR", "EXIT_TRANSPORT", "EXIT_USAGE", "main"]

EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_TRANSPORT = 3

#: the environment variables the command reads
ENV_NAMES = (
    "OKRU_APP_ID",
    "OKRU_APP_KEY",
    "OKRU_APP_SECRET_KEY",
    "OKRU_ACCESS_TOKEN",
    "OKRU_SESSION_SECRET_KEY",
    "OKRU_API_URL",
    "OKRU_CONNECT_URL",
)


class UsageError(Exception):
    """Wrong input on the command line (exit status 2)."""


# -- configuration ---------------------------------------------------------------------------


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``export`` allowed, ``#`` comments, values optionally quoted)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read --env-file {str(path)!r}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise UsageError(f"{path}:{number}: expected NAME=value")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def settings_from(args: argparse.Namespace) -> dict[str, str]:
    """The ``OKRU_*`` values: the environment, then the ``--env-file`` over it."""
    values = {name: os.environ[name] for name in ENV_NAMES if os.environ.get(name)}
    if getattr(args, "env_file", None):
        from_file = read_env_file(Path(args.env_file))
        values.update({k: v for k, v in from_file.items() if k in ENV_NAMES and v})
    return values


def _make_session(config: Mapping[str, str], timeout: float | None) -> Any:
    from .sessions import TokenSession

    missing = [name for name in ("OKRU_APP_ID", "OKRU_APP_KEY") if not config.get(name)]
    if missing:
        raise UsageError(f"set {' and '.join(missing)} (in the environment or an --env-file)")
    server = config.get("OKRU_APP_SECRET_KEY") and config.get("OKRU_ACCESS_TOKEN")
    if not server and not config.get("OKRU_SESSION_SECRET_KEY"):
        raise UsageError(
            "no credentials to sign with: set OKRU_ACCESS_TOKEN with OKRU_APP_SECRET_KEY "
            "(server-server), or OKRU_SESSION_SECRET_KEY (client-server, with "
            "OKRU_ACCESS_TOKEN for calls made for a user)"
        )
    settings: dict[str, Any] = {}
    if config.get("OKRU_API_URL"):
        settings["api_url"] = config["OKRU_API_URL"]
    if config.get("OKRU_CONNECT_URL"):
        settings["connect_url"] = config["OKRU_CONNECT_URL"]
    if timeout is not None:
        settings["timeout"] = timeout
    try:
        return TokenSession(
            config["OKRU_APP_ID"],
            config["OKRU_APP_KEY"],
            config.get("OKRU_APP_SECRET_KEY", ""),
            config.get("OKRU_ACCESS_TOKEN", ""),
            config.get("OKRU_SESSION_SECRET_KEY", ""),
            **settings,
        )
    except ValueError as exc:  # a bad URL or timeout; the message names the setting
        raise UsageError(str(exc)) from None


# -- okru call -------------------------------------------------------------------------------


def parse_call_params(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` (a string; lists as ``a,b,c``) and ``key:=<json>`` (any JSON value)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"expected key=value or key:=<json>, got {item!r}")
        is_json = key.endswith(":")
        key = key[:-1] if is_json else key
        if not key:
            raise UsageError(f"a parameter name is missing in {item!r}")
        if key in params:
            raise UsageError(f"parameter {key!r} is given twice")
        if is_json:
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                raise UsageError(f"{key}:= is not valid JSON: {exc}") from None
        else:
            params[key] = value
    return params


async def _call(args: argparse.Namespace, out: TextIO) -> int:
    from ._generated.index import METHOD_INDEX
    from ._json import loads
    from .sessions import SessionMode

    method: str = args.method
    if "." not in method.strip("."):
        raise UsageError(
            f"expected a method as group.method (like users.getCurrentUser), got {method!r}"
        )
    params = parse_call_params(args.params)
    known = METHOD_INDEX.get(method)
    session = _make_session(settings_from(args), args.timeout)
    async with session:
        body: bytes = await session.request(
            method,
            params,
            mode=SessionMode(known[0]) if known else SessionMode.OPTIONAL,
            retry_safe=known[1] if known else False,
            signed=known[2] if known else True,
        )
    if args.raw:
        out.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return 0
    if not body or body.isspace():
        print("null", file=out)
        return 0
    try:
        reply = loads(body)
    except ValueError as exc:
        raise ResponseDecodeError(
            f"{method}: the reply is not JSON (use --raw to see it)", method=method, body=body
        ) from exc
    print(json.dumps(reply, ensure_ascii=False, indent=2), file=out)
    return 0


# -- okru methods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamInfo:
    py_name: str
    wire: str
    annotation: str
    required: bool
    kind: str
    item: str | None
    enum: tuple[str, ...] | None
    max_items: int | None
    description: str


@dataclass(frozen=True)
class MethodInfo:
    """What the command shows of one catalogued method (read from the generated code)."""

    wire: str
    group: str
    py_name: str
    summary: str
    description: str
    facts: str
    doc_url: str
    returns: str
    params: tuple[ParamInfo, ...]

    @property
    def python(self) -> str:
        return f"api.{self.group}.{self.py_name}"


def _paragraphs(doc: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.strip()) if p.strip()]


def _doc_args(doc: str) -> dict[str, str]:
    """``name -> description`` from the ``Args:`` section of a generated docstring."""
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:") + 1
    except StopIteration:
        return {}
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[start:]:
        if not line.strip():
            break
        match = re.match(r"^    (\w+): ?(.*)$", line)
        if match:
            current = found.setdefault(match.group(1), [])
            current.append(match.group(2))
        elif current is not None:
            current.append(line.strip())
    return {name: " ".join(" ".join(parts).split()) for name, parts in found.items()}


def _method_info(group: str, name: str, func: Callable[..., Any], spec: Any) -> MethodInfo:
    doc = inspect.cleandoc(func.__doc__ or "")
    head = doc.split("\nArgs:", 1)[0]
    paragraphs = _paragraphs(head)
    facts_at = next((i for i, p in enumerate(paragraphs) if p.startswith("Wire name")), None)
    description = paragraphs[:facts_at] if facts_at is not None else paragraphs
    facts = paragraphs[facts_at] if facts_at is not None else ""
    notes = paragraphs[facts_at + 1 :] if facts_at is not None else []
    flags = [
        "[whitelisted]" if p.startswith("Warning: whitelisted") else "[deprecated]"
        for p in description
        if p.startswith(("Warning: whitelisted", "Deprecated:"))
    ]
    plain = [p for p in description if not p.startswith(("Warning: whitelisted", "Deprecated:"))]
    summary = " ".join([*flags, plain[0] if plain else ""]).strip()
    url = re.search(r"Official docs:\s*(\S+)", doc)
    arg_docs = _doc_args(doc)
    signature = inspect.signature(func)
    by_wire = {p.wire: p for p in spec.params}
    params: list[ParamInfo] = []
    for pname, parameter in signature.parameters.items():
        if pname in ("self", "timeout", "extra_params"):
            continue
        text = arg_docs.get(pname, "")
        wire_match = re.search(r"Wire name ``([^`]+)``\.", text)
        wire = wire_match.group(1) if wire_match else pname
        declared = by_wire.get(wire)
        params.append(
            ParamInfo(
                py_name=pname,
                wire=wire,
                annotation=str(parameter.annotation).replace(" | NotGiven", ""),
                required=parameter.default is inspect.Parameter.empty,
                kind=declared.kind if declared else "any",
                item=declared.item if declared and declared.kind == "list" else None,
                enum=declared.enum if declared else None,
                max_items=declared.max_items if declared else None,
                description=text,
            )
        )
    return MethodInfo(
        wire=spec.name,
        group=group,
        py_name=name,
        summary=summary,
        description="\n\n".join([*description, *notes]),
        facts=facts.replace("``", ""),
        doc_url=url.group(1) if url else "",
        returns=str(signature.return_annotation),
        params=tuple(params),
    )


def catalogued_methods() -> list[MethodInfo]:
    """Every method of the generated groups, sorted by wire name."""
    from ._generated.groups import GeneratedGroups

    infos: list[MethodInfo] = []
    for group in sorted(vars(GeneratedGroups)):
        if group.startswith("_"):
            continue
        module = importlib.import_module(f"okru_sdk._generated.methods.{group}")
        cls = getattr(module, module.__all__[0])
        for name, func in vars(cls).items():
            if name.startswith("_") or not inspect.iscoroutinefunction(func):
                continue
            specs = [n for n in func.__code__.co_names if n.startswith("_SPEC_")]
            if len(specs) != 1:
                continue  # not a generated delegate
            infos.append(_method_info(group, name, func, getattr(module, specs[0])))
    return sorted(infos, key=lambda m: m.wire.lower())


def _find(methods: list[MethodInfo], pattern: str) -> tuple[MethodInfo | None, list[MethodInfo]]:
    """(the one method ``pattern`` names exactly, or the methods it matches)."""
    wanted = pattern.lower().removeprefix("api.")
    for info in methods:
        if wanted in (info.wire.lower(), f"{info.group}.{info.py_name}"):
            return info, [info]
    if any(ch in pattern for ch in "*?["):
        matched = [
            m
            for m in methods
            if fnmatch.fnmatch(m.wire.lower(), wanted) or fnmatch.fnmatch(m.python, pattern)
        ]
    else:
        # a group's name (users, photosV2, photos_v2) lists that group
        matched = [
            m
            for m in methods
            if wanted in (m.wire.split(".", 1)[0].lower(), m.group) or wanted == f"{m.group}."
        ]
        if not matched:
            matched = [m for m in methods if wanted in m.wire.lower() or wanted in m.python.lower()]
    return None, matched


def _limits(param: ParamInfo) -> str:
    bits: list[str] = []
    if param.max_items is not None and "At most" not in param.description:
        bits.append(f"at most {param.max_items} items")
    if param.enum:
        shown = ", ".join(param.enum[:8]) + (", ..." if len(param.enum) > 8 else "")
        bits.append(f"one of {shown}")
    return "; ".join(bits)


def _print_method(info: MethodInfo, out: TextIO) -> None:
    print(f"{info.wire}  ({info.python})", file=out)
    print("", file=out)
    for paragraph in info.description.split("\n\n"):
        print(_wrap(paragraph, "  "), file=out)
    if info.facts:
        print("", file=out)
        print(_wrap(info.facts, "  "), file=out)
    print("", file=out)
    print(f"  returns: {info.returns}", file=out)
    print("", file=out)
    if info.params:
        print("Parameters:", file=out)
        for param in info.params:
            wire = f" (wire {param.wire})" if param.wire != param.py_name else ""
            need = "required" if param.required else "optional"
            print(f"  {param.py_name}{wire}: {param.annotation}, {need}", file=out)
            limits = _limits(param)
            text = re.sub(r"\s*Wire name ``[^`]+``\.", "", param.description).replace("``", "")
            if limits:
                text = f"{text} [{limits}]" if text else f"[{limits}]"
            if text:
                print(_wrap(text, "      "), file=out)
    else:
        print("Parameters: none", file=out)
    print("  (every method also takes timeout= and extra_params=)", file=out)
    if info.doc_url:
        print("", file=out)
        print(f"Official docs: {info.doc_url}", file=out)


def _wrap(text: str, indent: str, width: int = 100) -> str:
    import textwrap

    return textwrap.fill(
        text, width=width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )


def _methods(args: argparse.Namespace, out: TextIO) -> int:
    methods = catalogued_methods()
    if not args.pattern:
        matched, exact = methods, None
    else:
        exact, matched = _find(methods, args.pattern)
    if exact is not None:
        _print_method(exact, out)
        return 0
    if not matched:
        raise UsageError(f"no catalogued method matches {args.pattern!r} (try: okru methods)")
    wire_width = max(len(m.wire) for m in matched)
    py_width = max(len(m.python) for m in matched)
    for m in matched:
        print(f"{m.wire:<{wire_width}}  {m.python:<{py_width}}  {m.summary}".rstrip(), file=out)
    return 0


# -- okru auth url ---------------------------------------------------------------------------


def _auth_url(args: argparse.Namespace, out: TextIO) -> int:
    from .sessions import authorization_url, new_state

    config = settings_from(args)
    app_id = args.app_id or config.get("OKRU_APP_ID")
    if not app_id:
        raise UsageError("give --app-id or set OKRU_APP_ID")
    scopes = [s for value in args.scope for s in re.split(r"[;,\s]+", value) if s]
    if not scopes:
        raise UsageError("give at least one --scope (like VALUABLE_ACCESS)")
    state = new_state()
    connect_url = config.get("OKRU_CONNECT_URL")
    url = authorization_url(
        app_id,
        scopes,
        args.redirect_uri,
        response_type=args.response_type,
        layout=args.layout,
        state=state,
        **({"connect_url": connect_url} if connect_url else {}),
    )
    print(url, file=out)
    print(
        f"state: {state}  (keep it; check the redirect with code_from_redirect(url, state=...))",
        file=sys.stderr,
    )
    return 0


# -- okru upload ----------------------------------------------------------------------------


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


def progress_bar(label: str, stream: TextIO, width: int = 30) -> Callable[[int, int], None]:
    """A ``progress(sent, total)`` callback drawing a one-line bar on ``stream``."""
    shown = {"filled": -1}

    def report(sent: int, total: int) -> None:
        part = sent / total if total else 1.0
        filled = int(width * part)
        done = sent >= total
        if filled == shown["filled"] and not done:
            return  # redraw only when the bar moves
        shown["filled"] = filled
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if done else ""
        stream.write(f"\r{label} [{bar}] {part:6.1%} {_size(sent)} / {_size(total)}{end}")
        stream.flush()

    return report


def _wants_progress(args: argparse.Namespace) -> bool:
    if args.progress == "auto":
        return sys.stderr.isatty()
    return bool(args.progress == "always")


def _check_files(names: Sequence[str]) -> list[Path]:
    paths = [Path(name) for name in names]
    for path in paths:
        if not path.is_file():
            raise UsageError(f"no such file: {str(path)!r}")
    return paths


async def _upload(args: argparse.Namespace, out: TextIO) -> int:
    from .api import API

    paths = _check_files(args.files)
    session = _make_session(settings_from(args), args.timeout)
    async with session:
        api = API(session)
        if args.kind == "photo":
            label = f"{len(paths)} photo{'s' if len(paths) != 1 else ''}"
            photos = await api.upload.photos(
                [str(p) for p in paths],
                group_id=args.group_id,
                album_id=args.album_id,
                progress=progress_bar(label, sys.stderr) if _wants_progress(args) else None,
            )
            reply: Any = [
                {
                    "photo_id": photo.photo_id,
                    "token": photo.token,
                    "file_name": photo.file_name,
                    "size": photo.size,
                }
                for photo in photos
            ]
        else:
            (path,) = paths
            video = await api.upload.video(
                str(path),
                title=args.title,
                description=args.description,
                group_id=args.group_id,
                privacy=args.privacy,
                publish=not args.no_publish,
                progress=progress_bar(path.name, sys.stderr) if _wants_progress(args) else None,
            )
            reply = {"video_id": video.video_id, "file_name": video.file_name, "size": video.size}
    print(json.dumps(reply, ensure_ascii=False, indent=2), file=out)
    return 0


# -- okru emulator ---------------------------------------------------------------------------


def _emulator(args: argparse.Namespace, out: TextIO) -> int:
    from .testing.__main__ import serve

    try:
        asyncio.run(serve(args.host, args.port))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return 0


# -- the parser ------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--env-file`` and ``--debug``, accepted before and after the subcommand."""
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        default=None if defaults else argparse.SUPPRESS,
        help="read OKRU_* settings from FILE (NAME=value lines); they win over the environment",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="show the traceback of an error",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="okru",
        description="Call the OK.ru REST API, look up catalogued methods, run the emulator.",
        epilog=(
            "Credentials: " + ", ".join(ENV_NAMES) + ". Exit status: 1 OK.ru error, "
            "2 usage error, 3 transport error."
        ),
    )
    parser.add_argument("--version", action="version", version=f"okru-sdk {__version__}")
    _common(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    call = sub.add_parser(
        "call",
        help="call a method and print the JSON reply",
        description=(
            "Call METHOD (its wire name, like users.getCurrentUser) and print the reply. "
            "Parameters: key=value (a string; lists as a,b,c) or key:=<json> (any JSON value)."
        ),
    )
    call.add_argument("method", metavar="METHOD")
    call.add_argument("params", metavar="key=value", nargs="*")
    call.add_argument("--raw", action="store_true", help="print the body as received")
    call.add_argument("--timeout", type=_seconds, help="seconds for one attempt (default 30)")
    _common(call, defaults=False)
    call.set_defaults(run=lambda args, out: asyncio.run(_call(args, out)))

    methods = sub.add_parser(
        "methods",
        help="list catalogued methods, or show one",
        description=(
            "List catalogued methods with their Python name and summary: those of a group "
            "(okru methods users), or matching PATTERN (a substring or a glob of the wire or "
            "Python name); a full method name (users.getInfo) shows its parameters."
        ),
    )
    methods.add_argument("pattern", metavar="PATTERN", nargs="?")
    _common(methods, defaults=False)
    methods.set_defaults(run=_methods)

    auth = sub.add_parser("auth", help="OAuth helpers")
    auth_sub = auth.add_subparsers(dest="auth_command", metavar="COMMAND", required=True)
    url = auth_sub.add_parser(
        "url",
        help="print an authorization URL with a fresh state",
        description="Print the URL of OK.ru's OAuth dialog; the fresh state goes to stderr.",
    )
    url.add_argument(
        "--scope",
        action="append",
        required=True,
        help="a scope (repeat, or separate with ; or ,), like VALUABLE_ACCESS",
    )
    url.add_argument("--redirect-uri", required=True)
    url.add_argument("--app-id", help="default: OKRU_APP_ID")
    url.add_argument("--response-type", choices=("code", "token"), default="code")
    url.add_argument("--layout", default="w", help="w (web), m (mobile) or a (app); default w")
    _common(url, defaults=False)
    url.set_defaults(run=_auth_url)

    upload = sub.add_parser(
        "upload",
        help="upload photos or a video, with a progress bar",
        description="Upload files with api.upload; prints the ids (and photo tokens) as JSON.",
    )
    upload_sub = upload.add_subparsers(dest="kind", metavar="KIND", required=True)
    photo = upload_sub.add_parser(
        "photo",
        help="upload photos in one request",
        description="Upload photos (photosV2.getUploadUrl); the tokens attach to mediatopic.post.",
    )
    photo.add_argument("files", metavar="FILE", nargs="+")
    photo.add_argument("--group-id", help="upload to a group's photos")
    photo.add_argument("--album-id", help="the album to upload into")
    video = upload_sub.add_parser(
        "video",
        help="upload a video in resumable chunks, then title it",
        description="Upload a video (video.getUploadUrl, then video.update).",
    )
    video.add_argument("files", metavar="FILE", nargs=1)
    video.add_argument("--title", required=True)
    video.add_argument("--description")
    video.add_argument("--group-id", help="upload to a group's videos")
    video.add_argument("--privacy", choices=("PUBLIC", "FRIENDS"))
    video.add_argument("--no-publish", action="store_true", help="upload without publishing")
    for kind in (photo, video):
        kind.add_argument(
            "--progress",
            choices=("auto", "always", "never"),
            default="auto",
            help="the progress bar on stderr (auto: when stderr is a terminal)",
        )
        kind.add_argument("--timeout", type=_seconds, help="seconds the upload may stall")
        _common(kind, defaults=False)
        kind.set_defaults(run=lambda args, out: asyncio.run(_upload(args, out)))

    emulator = sub.add_parser(
        "emulator",
        help="run the OK.ru emulator with demo credentials",
        description="Run the bundled OK.ru emulator (every catalogued method) until Ctrl+C.",
    )
    from .testing.__main__ import add_arguments

    add_arguments(emulator)
    _common(emulator, defaults=False)
    emulator.set_defaults(run=_emulator)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(message: str, status: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"okru: {_one_line(message)}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    debug = bool(args.debug)
    try:
        return run(args, sys.stdout)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE, debug)
    except APIError as exc:
        return _fail(f"{exc} [{type(exc).__name__}]", EXIT_API_ERROR, debug)
    except (TransportError, ResponseDecodeError) as exc:
        return _fail(f"{exc} [{type(exc).__name__}]", EXIT_TRANSPORT, debug)
    except (AuthError, ParameterValidationError) as exc:
        return _fail(f"{exc} [{type(exc).__name__}]", EXIT_USAGE, debug)
    except OkError as exc:
        return _fail(f"{exc} [{type(exc).__name__}]", EXIT_API_ERROR, debug)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line, unless --debug
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            EXIT_API_ERROR,
            debug,
        )


if __name__ == "__main__":
    sys.exit(main())
