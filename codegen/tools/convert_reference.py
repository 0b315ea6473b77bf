"""One-way, repeatable import of the research seed into ``schema/methods/``.

Usage::

    .venv/bin/python -m codegen.tools.convert_reference \\
        /work/shared/reference/okru-methods.yaml schema --min-confidence medium

It only *adds*: a method already in ``schema/methods/<group>.yaml`` is left as
it is, so hand-fixes survive a second run. New entries get a best-effort shape
(types, session mode, scopes, an example) and ``confidence``/``source`` from
the seed; review them before committing. Responses with a field list become
new object files only when no object file with that title exists yet.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from ..naming import class_name, snake_case

_RANK = {"low": 0, "medium": 1, "high": 2}

#: always imported, whatever their confidence (the SDK's core use cases)
ALWAYS = frozenset(
    {
        "users.getCurrentUser",
        "users.getInfo",
        "friends.get",
        "group.getInfo",
        "group.getMembers",
        "mediatopic.post",
        "photosV2.getUploadUrl",
        "photosV2.commit",
        "notifications.sendSimple",
        "auth.login",
        "batch.execute",
        "sdk.init",
    }
)

#: never imported, with the reason
SKIP = {
    "callbacks.payment": "a callback OK.ru sends to the app's server, not a method the app calls",
}

#: response objects with a hand-picked name instead of <Group><Method>Result
RESULT_NAMES = {
    "photosV2.getUploadUrl": "PhotoUploadUrl",
    "moments.getUploadUrl": "PhotoUploadUrl",
    "video.getUploadUrl": "VideoUploadUrl",
    "photosV2.commit": "PhotoCommitResult",
}

#: results pointing at hand-written objects
RESULT_OVERRIDES: dict[str, tuple[str, Any]] = {
    "users.getCurrentUser": (
        "User",
        {"uid": "571234567890", "first_name": "Ivan", "last_name": "Petrov", "name": "Ivan Petrov"},
    ),
    "users.getInfo": ("list[User]", [{"uid": "571234567890", "name": "Ivan Petrov"}]),
    "group.getInfo": (
        "list[Group]",
        [{"uid": "53038939046008", "name": "Example group", "members_count": 12}],
    ),
}

#: stock descriptions for parameters that mean the same everywhere
STOCK = {
    "uid": "Act on behalf of this user id when the call is made without a session.",
    "fields": "Fields to return, comma-joined on the wire (lower-case names work).",
    "anchor": "Opaque paging anchor from the previous page's reply.",
    "direction": "Paging direction relative to the anchor.",
    "count": "How many items to return.",
    "gid": "Group id.",
    "aid": "Album id.",
    "fid": "Whose data to read (a user id); defaults to the current user.",
    "uids": "User ids.",
    "pagingAnchor": "Opaque paging anchor from the previous page's reply (legacy paging).",
    "pagingDirection": "Paging direction relative to the anchor (legacy paging).",
    "detectTotalCount": "Also return the total number of items.",
}

PAGING = ["FORWARD", "BACKWARD", "AROUND"]

#: how a method only first-party / whitelisted apps may call is marked (no field for it yet)
FIRST_PARTY = "First-party only:"

GROUP_DESCRIPTIONS = {
    "apps": "Games platform: promo, VIP offers, game pushes.",
    "auth": "Sessions of first-party clients and session upkeep.",
    "badges": "User badges.",
    "batch": "Several calls in one request.",
    "discussions": "Discussions (comment threads) and their likes.",
    "friends": "Friends, relatives and app invitations.",
    "group": "Groups (communities): info, members, counters.",
    "market": "Group shop products.",
    "mediatopic": "Media topics (posts) in feeds and groups.",
    "moments": "Moments (short stories).",
    "notifications": "Notifications an app sends to its users.",
    "payment": "Payments and VIP status.",
    "photos": "Photos and albums (first-generation methods).",
    "photosV2": "Photo upload (second-generation methods).",
    "sdk": "Methods of the official mobile SDKs.",
    "search": "Search by tags and mentions.",
    "url": "Resolving OK.ru links.",
    "users": "User profiles, settings and app permissions.",
    "video": "Video upload and editing.",
    "widget": "Embeddable widgets.",
}


def _scalar(seed_type: str) -> str:
    return {
        "string": "string",
        "int": "int",
        "long": "long",
        "float": "float",
        "boolean": "boolean",
        "date": "date",
        "json": "json",
        "enum": "string",
    }.get(seed_type, "string")


def _item_type(item: str | None) -> str:
    if not item:
        return "string"
    head = item.split()[0].lower()
    return {"long": "long", "int": "int", "integer": "int"}.get(head, "string")


def convert_param(seed: dict[str, Any]) -> dict[str, Any]:
    name = seed["name"]
    out: dict[str, Any] = {"name": name}
    if seed["type"] == "list":
        out["type"] = f"list[{_item_type(seed.get('item'))}]"
    else:
        out["type"] = _scalar(seed["type"])
    out["required"] = bool(seed.get("required"))
    values = seed.get("enum")
    if isinstance(values, list):
        clean = [re.sub(r"\(.*\)$", "", str(v)) for v in values if v != "..."]
        # "..." in the seed means the list is known to be incomplete
        out["enum" if "..." not in values else "known_values"] = clean
    if seed.get("enum_ref", "").startswith("PagingDirection") or name in (
        "direction",
        "pagingDirection",
    ):
        out.pop("enum", None)
        out["known_values"] = PAGING
    if "default" in seed:
        out["default"] = seed["default"]
    for key in ("max_items", "max_len"):
        if key in seed:
            out["max_items" if key == "max_items" else "max_length"] = seed[key]
    note = seed.get("note")
    desc = STOCK.get(name) or (note[:1].upper() + note[1:] + "." if note else None)
    desc = desc or f"The {name} parameter (meaning not documented yet)."
    if "max" in seed:
        # a numeric upper bound; the format has no field for it, so say it in words
        desc = desc.rstrip(".") + f" (at most {seed['max']})."
    out["description"] = desc
    out["type_source"] = seed.get("type_source")
    item = seed.get("item") if seed["type"] == "list" else None
    extra = [seed.get("enum_ref"), item if item not in (None, "string", "long (bytes)") else None]
    if note and desc != STOCK.get(name):
        note = None
    if note or any(extra):
        out["note"] = "; ".join(str(x) for x in (note, *extra) if x)
    return out


def _field_schema(spec: str) -> dict[str, Any]:
    text = spec.strip()
    low = text.lower()
    desc = None
    m = re.match(r"^(\w+)\s*\((.*)\)\s*$", text)
    if m:
        low, desc = m.group(1).lower(), m.group(2)
    if low.startswith("list<"):
        return {"type": "array", "items": _field_schema(low[5:-1])}
    if low.startswith("list of user"):
        return {"type": "array", "items": {"$ref": "user.yaml"}, "description": text}
    if low.startswith("list of photo"):
        return {"type": "array", "items": {"$ref": "photo.yaml"}, "description": text}
    if low.startswith("list"):
        return {"type": "array", "items": {"type": "object"}, "description": text}
    if low.startswith("object") or low.startswith("map"):
        return {"type": "object", "description": text}
    kind = low.split()[0] if low else ""
    schema: dict[str, Any] = {
        "string": {"type": "string"},
        "date": {"type": "string"},
        "boolean": {"type": "boolean"},
        "int": {"type": "integer"},
        "long": {"type": "integer"},
        "float": {"type": "number"},
        "double": {"type": "number"},
        "enum": {"type": "string"},
    }.get(kind, {})
    schema = dict(schema)
    if desc or text != kind:
        schema["description"] = desc or text
    return schema


def _example_for(schema: dict[str, Any], name: str = "") -> Any:
    if "$ref" in schema:
        return {"uid": "571234567890"}
    kind = schema.get("type")
    if kind == "string":
        return "571234567890" if name.endswith("id") or name.endswith("Id") else "text"
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [_example_for(schema.get("items", {}), name)]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: _example_for(v, k) for k, v in props.items()}
    return None


def convert_result(
    seed: dict[str, Any], objects_dir: Path
) -> tuple[str, Any, dict[str, Any] | None, str | None]:
    """(result type, example, new object schema or None, object file stem)."""
    name = seed["name"]
    resp = seed.get("response") or {}
    kind = resp.get("type")
    if name in RESULT_OVERRIDES:
        result, example = RESULT_OVERRIDES[name]
        return result, example, None, None
    if kind == "object" and isinstance(resp.get("fields"), dict) and "..." not in resp["fields"]:
        title = RESULT_NAMES.get(name) or class_name(name.replace(".", "_")) + "Result"
        props = {k: _field_schema(str(v)) for k, v in resp["fields"].items()}
        schema: dict[str, Any] = {
            "title": title,
            "description": f"What {name} returns.",
            "type": "object",
            "properties": props,
        }
        return title, _example_for(schema), schema, snake_case(title)
    if kind == "list":
        items = resp.get("items")
        if isinstance(items, str) and items.startswith("string"):
            return "list[string]", ["571234567890"], None, None
        if isinstance(items, dict) and isinstance(items.get("fields"), dict):
            title = RESULT_NAMES.get(name) or class_name(name.replace(".", "_")) + "Item"
            props = {k: _field_schema(str(v)) for k, v in items["fields"].items()}
            schema = {
                "title": title,
                "description": f"One item of what {name} returns.",
                "type": "object",
                "properties": props,
            }
            return f"list[{title}]", [_example_for(schema)], schema, snake_case(title)
        return "list[json]", [{}], None, None
    simple = {"string": ("string", "571234567890"), "boolean": ("boolean", True)}
    simple["int"] = ("int", 1)
    simple["empty"] = ("none", None)
    if kind in simple:
        return simple[kind][0], simple[kind][1], None, None
    return "json", {}, None, None


def _session(seed: dict[str, Any]) -> tuple[str, str | None]:
    raw = seed["session"]
    if raw == "unknown":
        return "optional", "Not confirmed by the sources; optional lets both kinds of call through."
    if raw == "optional_external_required":
        return "optional", "Docs: optional, but external (non-portal) apps must pass a session."
    note = "Inferred, not read on the method page." if seed.get("session_inferred") else None
    return raw, note


def _scopes(seed: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for raw in seed.get("permissions") or []:
        m = re.match(r"^([A-Z_]+)\s*(?:\((.*)\))?$", raw)
        if not m:
            continue
        out.append({"name": m.group(1), "when": m.group(2)} if m.group(2) else m.group(1))
    return out


def _retry_safe(name: str) -> bool:
    verb = name.split(".", 1)[1]
    return bool(re.match(r"(get|is|has|search|check|tag)", verb))


def convert_method(seed: dict[str, Any], objects_dir: Path) -> tuple[dict[str, Any], Any]:
    name = seed["name"]
    session, session_note = _session(seed)
    result, example, obj, stem = convert_result(seed, objects_dir)
    description = seed["description"].strip()
    restricted = seed.get("restricted")
    if restricted:
        # the format has no field for it: say it first, in the description and in notes
        rest = re.sub(r"^(Internal/first-party|First-party)\W*", "", description)
        description = f"{FIRST_PARTY} {rest[:1].lower()}{rest[1:]}"
    entry: dict[str, Any] = {"name": name, "description": description}
    entry["session"] = session
    if session_note:
        entry["session_note"] = session_note
    entry["scopes"] = _scopes(seed)
    entry["params"] = [convert_param(p) for p in seed.get("params") or []]
    entry["result"] = result
    entry["example"] = example
    entry["retry_safe"] = _retry_safe(name)
    if seed.get("signed") is False:
        entry["signed"] = False
    entry["confidence"] = seed["confidence"]
    entry["source"] = list(seed.get("source") or [])
    if seed.get("deprecated"):
        entry["deprecated"] = True
    notes = [f"{FIRST_PARTY} {restricted}." if restricted else None, seed.get("notes")]
    notes += list(seed.get("limits") or [])
    if any(notes):
        entry["notes"] = "; ".join(str(n) for n in notes if n)
    return entry, (obj, stem)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("seed", type=Path)
    parser.add_argument("schema", type=Path)
    parser.add_argument("--min-confidence", choices=list(_RANK), default="medium")
    args = parser.parse_args(argv)
    seed = yaml.safe_load(args.seed.read_text(encoding="utf-8"))
    methods_dir = args.schema / "methods"
    objects_dir = args.schema / "objects"
    methods_dir.mkdir(parents=True, exist_ok=True)
    objects_dir.mkdir(parents=True, exist_ok=True)
    added = 0
    for group, entries in seed["groups"].items():
        chosen = [
            m
            for m in entries
            if m["name"] not in SKIP
            and (_RANK[m["confidence"]] >= _RANK[args.min_confidence] or m["name"] in ALWAYS)
        ]
        if not chosen:
            continue
        path = methods_dir / f"{group}.yaml"
        if path.exists():
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        else:
            doc = {
                "group": group,
                "description": GROUP_DESCRIPTIONS.get(group, f"The {group} methods."),
                "methods": [],
            }
        known = {m["name"] for m in doc["methods"]}
        for seed_method in chosen:
            if seed_method["name"] in known:
                continue
            entry, (obj, stem) = convert_method(seed_method, objects_dir)
            if obj is not None and stem is not None:
                obj_path = objects_dir / f"{stem}.yaml"
                if not obj_path.exists():
                    obj_path.write_text(_dump(obj), encoding="utf-8")
            doc["methods"].append(entry)
            added += 1
        doc["methods"].sort(key=lambda m: m["name"])
        path.write_text(_dump(doc), encoding="utf-8")
    print(f"added {added} method(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
