"""The page's forms and buttons as protocol requests; the protocol validator then checks every field.

The page sends the protocol's own field names (a loop's ``bpm``, ``bars`` and ``genre`` too). Only
what a form adds is handled here: blank fields mean "the default", and every source must be a
library sound or a file dropped on the page. Jobs never wait: progress and results come back as
events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ddbridge.loops.genres import ANY
from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadRequest
from ddbridge.protocol.schema import JOB_OPS
from ddbridge.web.library import operation

SOURCES = ("source", "source_a", "source_b")
NEEDED = ("source", "strength", "source_a", "source_b", "seconds", "bars")  # a regenerated request cannot lack these
MORE_LIKE_THIS_COUNT = 4


def job_request(form: object, check_source: Callable[[object], Path]) -> dict:
    """A protocol job request from the page's form; ``BadRequest`` naming the field that is wrong."""
    if not isinstance(form, dict):
        raise BadRequest("a job must be a JSON object")
    request = {k: v for k, v in form.items() if v is not None and v != ""}
    op = request.get("op")
    if op not in JOB_OPS:
        raise BadRequest(f"unknown op {str(op)[:40]!r}; choose one of: {', '.join(JOB_OPS)}")
    for name in SOURCES:
        if name in request:
            request[name] = str(check_source(request[name]))
    return {**request, "id": messages.new_id(), "wait": False}


def regenerate_request(path: Path, meta: dict) -> dict:
    """The request that makes ``path``'s sound again from its metadata (same seed), into the same folder."""
    op = operation(meta)
    request: dict = {"op": op, "seed": meta["seed"], "model": meta["model"], "out_dir": str(path.parent)}
    for key in ("sampler", "steps", "category", "sample_rate", "bit_depth", "normalize"):
        if meta.get(key) is not None:
            request[key] = meta[key]
    request["guidance_scale"] = meta.get("guidance_scale", 1.0)  # the command line records only other scales
    if meta.get("loop") and op in ("generate", "variate"):
        request["loop"] = True
    sources = meta.get("sources") or [meta.get("source_a"), meta.get("source_b")]
    if op == "generate" and meta.get("bpm") is not None:
        request.update(_tempo(meta))
    elif op == "generate" and meta.get("request_seconds") is not None:
        request["seconds"] = meta["request_seconds"]
    elif op == "variate":
        request.update(source=meta.get("source"), strength=meta.get("strength"))
    elif op == "interpolate":
        request.update(source_a=sources[0], source_b=sources[1], positions=[meta.get("position", 0.5)])
    elif op == "extend":
        request.update(source=meta.get("source"), seconds=meta.get("extend_seconds"))
    if op == "generate" and meta.get("note_asked"):
        request["note"] = meta["note_asked"]  # retuned (or not) the same way again
    missing = [k for k in NEEDED if k in request and not request[k]]
    if missing:
        raise BadRequest(f"'{path.name}' cannot be regenerated: its metadata lacks {', '.join(missing)}")
    return {**request, "id": messages.new_id(), "wait": False}


def more_like_this_request(path: Path, meta: dict, strength: object, count: object) -> dict:
    """Variations of ``path`` with its model and category, into the same folder."""
    request: dict = {
        "op": "variate",
        "source": str(path),
        "model": meta["model"],
        "out_dir": str(path.parent),
        "strength": strength if strength is not None else 0.5,
        "count": count if count is not None else MORE_LIKE_THIS_COUNT,
    }
    if meta.get("category"):
        request["category"] = meta["category"]
    if meta.get("loop"):
        request["loop"] = True  # variations of a loop loop too
    return {**request, "id": messages.new_id(), "wait": False}


def _tempo(meta: dict) -> dict:
    """A loop's ``bpm`` and ``bars`` from its metadata, and its ``genre`` unless it had none (``any``)."""
    tempo = {"bpm": meta["bpm"], "bars": meta.get("bars")}
    genre = meta.get("genre")
    return {**tempo, "genre": genre} if genre and genre != ANY else tempo
