"""Parse and validate protocol messages, and build replies and events; shared by every front end and client.

Requests are checked against the JSON Schemas in ``protocol.schema`` with a small validator for
the subset of JSON Schema those use. Pure Python: importing this never imports torch.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from functools import lru_cache

from ddbridge.protocol.errors import BadAudio, BadRequest, DDBridgeError
from ddbridge.protocol.schema import OPS, PROTOCOL_VERSION, REQUEST_SCHEMAS

MAX_MESSAGE_BYTES = 64 * 1024
_IGNORED = {"$schema", "$id", "title", "description"}


def new_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def encode(message: dict) -> bytes:
    """One message as compact UTF-8 JSON."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def encode_frames(message: dict) -> list[bytes]:
    """A reply as ZeroMQ frames: the JSON, then one frame per file that carries its WAV bytes (``wav``).

    Each such file entry is sent with ``frame`` (its frame's index after the JSON, from 1) and
    ``bytes`` (that frame's length) in place of ``wav``.
    """
    files = message.get("files")
    if not isinstance(files, list) or not any("wav" in f for f in files):
        return [encode(message)]
    frames: list[bytes] = []
    entries = []
    for entry in files:
        entry = dict(entry)
        data = entry.pop("wav", None)
        if data is not None:
            frames.append(data)
            entry.update(frame=len(frames), bytes=len(data))
        entries.append(entry)
    return [encode({**message, "files": entries}), *frames]


def attach_frames(reply: dict, frames: list[bytes]) -> dict:
    """Put the WAV bytes of ``frames`` (the frames after the JSON) back into ``reply``'s file entries as ``wav``.

    ``BadAudio`` when an entry names a frame that is missing or of another length.
    """
    files = reply.get("files")
    if not isinstance(files, list):
        return reply
    for entry in files:
        if not isinstance(entry, dict) or "frame" not in entry:
            continue
        index = entry["frame"]
        if not (isinstance(index, int) and 1 <= index <= len(frames)) or len(frames[index - 1]) != entry.get("bytes"):
            raise BadAudio(f"the reply's audio frame {index!r} is missing or incomplete")
        entry["wav"] = frames[index - 1]
    return reply


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def check_size(size: int) -> None:
    """``BadRequest`` for a message of ``size`` bytes when that is over ``MAX_MESSAGE_BYTES``."""
    if size > MAX_MESSAGE_BYTES:
        raise BadRequest(f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}")


def parse(raw: bytes | str) -> object:
    """Decode one JSON frame; ``BadRequest`` for oversized, non-UTF-8 or invalid JSON (NaN/Infinity included)."""
    check_size(len(raw))
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray, memoryview)) else raw
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise BadRequest("message is not UTF-8 text") from None
    except (ValueError, RecursionError) as e:
        raise BadRequest(f"message is not valid JSON: {str(e)[:120]}") from None


def request_id(message: object) -> str | None:
    """The message's id when it is a usable one (a string of 1..128 characters), else None."""
    if isinstance(message, dict):
        rid = message.get("id")
        if isinstance(rid, str) and 0 < len(rid) <= 128:
            return rid
    return None


def validate_request(message: object) -> dict:
    """Return ``message`` if it is a valid request of a known op; otherwise raise ``BadRequest`` saying why."""
    if not isinstance(message, dict):
        raise BadRequest(f"a request must be a JSON object, got {_json_type(message)}")
    if "v" in message and not _json_equal(message["v"], PROTOCOL_VERSION):
        raise BadRequest(f"unsupported protocol version {message['v']!r}; this daemon speaks v{PROTOCOL_VERSION}")
    op = message.get("op")
    if op not in OPS:
        shown = repr(op)[:40] if op is not None else "none"
        raise BadRequest(f"unknown op {shown}; choose one of: {', '.join(OPS)}")
    validate(message, REQUEST_SCHEMAS[op])
    return message


def ok_reply(rid: str, **fields) -> dict:
    """A success reply to request ``rid``."""
    return {"v": PROTOCOL_VERSION, "id": rid, "ok": True, **fields}


def error_reply(rid: str | None, error: DDBridgeError) -> dict:
    """An error reply to request ``rid`` (None when the request had no usable id)."""
    return {"v": PROTOCOL_VERSION, "id": rid, "ok": False, "error": error_body(error)}


def error_body(error: DDBridgeError) -> dict:
    """The ``{"code", "message"}`` object for an error."""
    return {"code": error.code, "message": str(error) or error.code}


def event(name: str, rid: str, **fields) -> dict:
    """A PUB/notify event about the job started by request ``rid``."""
    return {"v": PROTOCOL_VERSION, "event": name, "id": rid, "job": rid, **fields}


def error_from_body(body: dict) -> DDBridgeError:
    """The ``DDBridgeError`` subclass for an error object received from a daemon."""
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    cls = _error_classes().get(code, DDBridgeError)
    return cls(str(message or code or "unknown error"))


@lru_cache(maxsize=1)
def _error_classes() -> dict[str, type[DDBridgeError]]:
    return {cls.code: cls for cls in DDBridgeError.__subclasses__()}


# -- validator for the JSON Schema subset used by the schemas -----------------------------------------


def validate(instance: object, schema: dict, where: str = "") -> None:
    """Raise ``BadRequest`` naming the first place where ``instance`` breaks ``schema``."""
    for key, rule in schema.items():
        if key in _IGNORED or key in _CHILD_KEYS:
            continue
        check = _CHECKS.get(key)
        if check is None:
            raise ValueError(f"schema keyword {key!r} is not supported")
        problem = check(instance, rule, where)
        if problem:
            raise BadRequest(f"{_place(where)}{problem}")
    if isinstance(instance, dict):
        _validate_object(instance, schema, where)
    elif isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            validate(item, schema["items"], f"{where}[{i}]")


def _validate_object(instance: dict, schema: dict, where: str) -> None:
    props = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in instance:
            raise BadRequest(f"{_place(where)}missing required field '{name}'")
    if schema.get("additionalProperties") is False:
        for name in instance:
            if name not in props:
                raise BadRequest(f"{_place(where)}unknown field {str(name)[:60]!r}")
    for name, sub in props.items():
        if name in instance:
            validate(instance[name], sub, f"{where}.{name}" if where else name)


def _place(where: str) -> str:
    return f"field '{where}': " if where else ""


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: object, name: str) -> bool:
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number") and math.isfinite(value)
    if name == "integer" and actual == "number":
        return math.isfinite(value) and float(value).is_integer()
    return actual == name


def _json_equal(a: object, b: object) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _show(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_type(value, rule, _where) -> str | None:
    names = rule if isinstance(rule, list) else [rule]
    if any(_is_type(value, n) for n in names):
        return None
    if isinstance(value, float) and not math.isfinite(value) and {"number", "integer"} & set(names):
        # JSON has no NaN or Infinity: here they come from a literal beyond the float range (1e400) or from OSC.
        shown = "NaN" if math.isnan(value) else "a number beyond the float range (±1.8e308)"
        return f"must be a finite number, got {shown}"
    return f"must be {' or '.join(names)}, got {_json_type(value)}"


def _check_enum(value, rule, _where) -> str | None:
    if any(_json_equal(value, option) for option in rule):
        return None
    return f"must be one of {', '.join(_show(o) for o in rule)}; got {_show(value)}"


def _check_const(value, rule, _where) -> str | None:
    return None if _json_equal(value, rule) else f"must be {_show(rule)}, got {_show(value)}"


def _numeric(check):
    def wrapped(value, rule, where):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value):
            return "must be a finite number"
        return check(value, rule)

    return wrapped


def _sized(kind, check):
    def wrapped(value, rule, where):
        return check(value, rule) if isinstance(value, kind) else None

    return wrapped


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern:
    # ECMA-262 '$' (no multiline) matches only at the very end; Python's also before a final newline.
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def _check_any_of(value, rule, where) -> str | None:
    for option in rule:
        try:
            validate(value, option, where)
            return None
        except BadRequest:
            continue
    return "matches none of the allowed shapes"


def _check_all_of(value, rule, where) -> str | None:
    for option in rule:
        validate(value, option, where)  # the first shape it breaks names the problem
    return None


def _check_dependent_required(value, rule, where) -> str | None:
    if not isinstance(value, dict):
        return None
    for name, needed in rule.items():
        missing = [n for n in needed if n not in value]
        if name in value and missing:
            return f"'{name}' needs {', '.join(repr(n) for n in missing)} too"
    return None


def _check_not(value, rule, where) -> str | None:
    try:
        validate(value, rule, where)
    except BadRequest:
        return None
    if set(rule) == {"required"}:
        return f"give only one of {', '.join(rule['required'])}"
    return "matches a forbidden shape"


_CHILD_KEYS = {"properties", "required", "additionalProperties", "items"}
_CHECKS = {
    "type": _check_type,
    "enum": _check_enum,
    "const": _check_const,
    "anyOf": _check_any_of,
    "allOf": _check_all_of,
    "not": _check_not,
    "dependentRequired": _check_dependent_required,
    "minimum": _numeric(lambda v, r: None if v >= r else f"must be >= {r}, got {_show(v)}"),
    "maximum": _numeric(lambda v, r: None if v <= r else f"must be <= {r}, got {_show(v)}"),
    "exclusiveMinimum": _numeric(lambda v, r: None if v > r else f"must be > {r}, got {_show(v)}"),
    "exclusiveMaximum": _numeric(lambda v, r: None if v < r else f"must be < {r}, got {_show(v)}"),
    "minLength": _sized(str, lambda v, r: None if len(v) >= r else f"must have at least {r} characters"),
    "maxLength": _sized(str, lambda v, r: None if len(v) <= r else f"must have at most {r} characters"),
    "pattern": _sized(str, lambda v, r: None if _regex(r).search(v) else f"must match {r}, got {_show(v)}"),
    "minItems": _sized(list, lambda v, r: None if len(v) >= r else f"must have at least {r} items"),
    "maxItems": _sized(list, lambda v, r: None if len(v) <= r else f"must have at most {r} items"),
}
