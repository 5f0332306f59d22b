"""The page's forms and buttons as protocol requests; the protocol validator then checks every field.

The page sends the protocol's own field names. Only what a form adds is handled here: blank
fields mean "the default", a loop's length may be given as ``bars`` at ``bpm``, and every source
must be a library sound or a file dropped on the page. Jobs never wait: progress and results come
back as events.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadRequest
from ddbridge.protocol.schema import JOB_OPS
from ddbridge.web.library import operation

SOURCES = ("source", "source_a", "source_b")
BEATS_PER_BAR = 4
MORE_LIKE_THIS_COUNT = 4


def job_request(form: object, check_source: Callable[[object], Path]) -> dict:
    """A protocol job request from the page's form; ``BadRequest`` naming the field that is wrong."""
    if not isinstance(form, dict):
        raise BadRequest("a job must be a JSON object")
    request = {k: v for k, v in form.items() if v is not None and v != ""}
    op = request.get("op")
    if op not in JOB_OPS:
        raise BadRequest(f"unknown op {str(op)[:40]!r}; choose one of: {', '.join(JOB_OPS)}")
    bars, bpm = request.pop("bars", None), request.pop("bpm", None)
    if bars is not None or bpm is not None:
        if bars is None or bpm is None:
            raise BadRequest("give both bars and bpm for a length in bars")
        if "seconds" in request:
            raise BadRequest("give either seconds or bars at a bpm, not both")
        request["seconds"] = _positive("bars", bars) * BEATS_PER_BAR * 60 / _positive("bpm", bpm)
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
    if op == "generate" and meta.get("request_seconds") is not None:
        request["seconds"] = meta["request_seconds"]
    elif op == "variate":
        request.update(source=meta.get("source"), strength=meta.get("strength"))
    elif op == "interpolate":
        request.update(source_a=sources[0], source_b=sources[1], positions=[meta.get("position", 0.5)])
    elif op == "extend":
        request.update(source=meta.get("source"), seconds=meta.get("extend_seconds"))
    missing = [k for k in ("source", "strength", "source_a", "source_b", "seconds") if k in request and not request[k]]
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
    return {**request, "id": messages.new_id(), "wait": False}


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise BadRequest(f"field '{name}': must be a number > 0, got {str(value)[:40]}")
    return float(value)
