"""The wire protocol as data: JSON Schemas for every request, reply and event, and the error table.

These dictionaries are the source of ``plugin_protocol/`` (written out with the OSC map by
``published.published_files``), and the daemon validates requests against them. Pure Python, no
third-party imports, so front ends and clients can use it without torch.
"""

from __future__ import annotations

import copy

from ddbridge.categories import NAME_PATTERN
from ddbridge.notes import NOTE_PATTERN

PROTOCOL_VERSION = 1
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://ddbridge.local/protocol/v1/"

OPS = ("ping", "status", "models", "generate", "variate", "interpolate", "extend", "cancel", "pool")
JOB_OPS = ("generate", "variate", "interpolate", "extend")
PRIORITIES = ("audition", "interactive", "batch")
STATES = ("queued", "running", "done", "failed", "cancelled")
EVENTS = ("progress", "done", "error")
DELIVERY = ("files", "reply")
MAX_COUNT = 16
MAX_SECONDS = 60.0
SEED_MAX = 2**32 - 1

# code -> (meaning, what a client should do). Codes match ddbridge.protocol.errors.
ERROR_CODES: dict[str, tuple[str, str]] = {
    "bad_request": ("The request is malformed or a field is invalid (the message names it).", "Fix the request."),
    "unknown_model": ("The request names a model the daemon has not loaded.", "Use a name from the models reply."),
    "model_load_failed": ("A model could not be loaded.", "Check the model file; see the daemon's log."),
    "bad_audio": ("A source file is missing, unreadable or not audio.", "Pick another source file."),
    "path_refused": (
        "The output folder is relative, missing, a file, not writable or outside the allowed roots.",
        "Pick an existing absolute folder under an allowed root (see the daemon's config).",
    ),
    "busy": ("The job queue is full.", "Retry later; do not resend in a tight loop."),
    "cancelled": ("The job was cancelled before it produced files.", "None; the cancel was honoured."),
    "unavailable": ("The daemon is shutting down or cannot serve the request now.", "Retry after restarting it."),
    "internal": ("An unexpected daemon fault (reported in its log).", "Report it with the daemon's log."),
}

# -- building blocks ------------------------------------------------------------------------------

_ID = {"type": "string", "minLength": 1, "maxLength": 128, "description": "Client-chosen id, unique per request."}
_ABS_PATH = {"type": "string", "minLength": 1, "maxLength": 4096}
_CATEGORY = {
    "type": "string",
    "pattern": NAME_PATTERN,
    "description": "A category of the model (see the models reply), an alias of one such as hat or 808, or loop "
    "(a seamless loop); a model without categories takes any such name as a label only.",
}
_COUNT = {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
_SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS}
_SEED = {"type": "integer", "minimum": 0, "maximum": SEED_MAX, "description": "Item i uses seed + i."}

_SAMPLING = {
    "seed": _SEED,
    "steps": {"type": "integer", "minimum": 1, "maximum": 1000},
    "sampler": {"type": "string", "minLength": 1, "maxLength": 64},
    "model": {"type": "string", "minLength": 1, "maxLength": 256},
    "category": _CATEGORY,
    "guidance_scale": {"type": "number", "minimum": 0, "maximum": 30},
}
_OUTPUT = {
    "out_dir": {**_ABS_PATH, "description": "Absolute existing folder; files go straight into it."},
    "project_dir": {
        **_ABS_PATH,
        "description": "Absolute existing project folder; files go into <project_dir>/Samples/Generated/<category>/.",
    },
    "sample_rate": {"type": "integer", "minimum": 8000, "maximum": 192000},
    "bit_depth": {"enum": [16, 24, 32], "description": "16 or 24 bit PCM, or 32 bit float."},
    "normalize": {"enum": ["peak", "loudness", "none"]},
    "wait": {"type": "boolean", "description": "true (default): reply when the files exist; false: reply at once."},
    "priority": {"enum": list(PRIORITIES)},
    "deliver": {
        "enum": list(DELIVERY),
        "description": "files (default): the daemon writes the files; reply: the reply carries them as WAV bytes "
        "in extra ZeroMQ frames, the client writes them (no out_dir, project_dir or wait false).",
    },
}
_NOT_BOTH_DIRS = {"not": {"required": ["out_dir", "project_dir"]}}
# A loop's tempo (generate only). The daemon adds what depends on the model: bpm, bars and genre only for a loop
# (category loop or loop true); a loop network takes 70-180 BPM and 1, 2 or 4 bars and knows the genres; a model
# without one takes any tempo these limits allow, and no genre.
_TEMPO = {
    "bpm": {
        "type": "number", "minimum": 20, "maximum": 300,
        "description": "A loop's tempo in beats per minute; goes with bars, not with seconds [a loop network: 120].",
    },
    "bars": {
        "type": "integer", "minimum": 1, "maximum": 16,
        "description": "A loop's length in bars of 4/4 at bpm, exactly bars * 4 * 60 / bpm seconds [loop network: 1].",
    },
    "genre": {
        "type": "string", "pattern": NAME_PATTERN,
        "description": "A loop's genre (house, techno, hiphop, trap, breakbeat, dnb, electro; aliases such as "
        "boom-bap or jungle; any: none in particular); only for a model with a loop network.",
    },
}  # fmt: skip
_NOTE = {
    "type": ["string", "integer"], "pattern": NOTE_PATTERN, "minimum": 0, "maximum": 127,
    "description": "A one-shot's root note: a name (C2, F#1, Bb0; C4 is MIDI 60) or a MIDI note number. The sound's "
    "pitch is detected and retuned to it; one without a clear pitch is left as it is and its metadata says so.",
}  # fmt: skip
_TEMPO_RULES = {
    "dependentRequired": {"bpm": ["bars"], "bars": ["bpm"]},
    "allOf": [_NOT_BOTH_DIRS, {"not": {"required": ["seconds", "bpm"]}}],
}
# The part of a variate source that a DAW shows (a trimmed, reversed or sped-up take or sample).
_SOURCE_REGION = {
    "source_start": {
        "type": "number",
        "minimum": 0,
        "description": "Seconds into the source file where the part starts [0].",
    },
    "source_seconds": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "Seconds of the source file from source_start [to its end]; cut at the file's end.",
    },
    "source_reverse": {"type": "boolean", "description": "Reverse the part [false]."},
    "source_playrate": {
        "type": "number",
        "minimum": 0.0625,
        "maximum": 16,
        "description": "Play the part at this rate, pitch following, as a DAW plays a take [1].",
    },
}
SOURCE_REGION = tuple(_SOURCE_REGION)


def _request(op: str, properties: dict, required: tuple[str, ...] = (), **extra) -> dict:
    schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}request.{op}.json",
        "title": f"{op} request",
        "type": "object",
        "properties": {"v": {"const": PROTOCOL_VERSION}, "id": _ID, "op": {"const": op}, **properties},
        "required": ["id", "op", *required],
        "additionalProperties": False,
    }
    schema.update(extra)
    return schema


REQUEST_SCHEMAS: dict[str, dict] = {
    "ping": _request("ping", {}),
    "status": _request("status", {}),
    "models": _request("models", {}),
    "cancel": _request("cancel", {"job": {**_ID, "description": "The id of the job's request."}}, ("job",)),
    "pool": _request("pool", {"size": {"type": "integer", "minimum": 0, "maximum": 64}}),
    "generate": _request(
        "generate",
        {
            "count": _COUNT,
            "seconds": _SECONDS,
            "loop": {"type": "boolean"},
            **_TEMPO,
            "note": _NOTE,
            "pool": {"type": "boolean", "description": "false: never serve from the pre-generated pool."},
            **_SAMPLING,
            **_OUTPUT,
        },
        **_TEMPO_RULES,
    ),
    "variate": _request(
        "variate",
        {
            "source": {**_ABS_PATH, "description": "Absolute path of the audio file to vary."},
            **_SOURCE_REGION,
            "strength": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "count": _COUNT,
            "loop": {"type": "boolean"},
            **_SAMPLING,
            **_OUTPUT,
        },
        ("source",),
        **_NOT_BOTH_DIRS,
    ),
    "interpolate": _request(
        "interpolate",
        {
            "source_a": _ABS_PATH,
            "source_b": _ABS_PATH,
            "positions": {
                "type": "array",
                "items": {"type": "number", "minimum": 0, "maximum": 1},
                "minItems": 1,
                "maxItems": MAX_COUNT,
            },
            **_SAMPLING,
            **_OUTPUT,
        },
        ("source_a", "source_b"),
        **_NOT_BOTH_DIRS,
    ),
    "extend": _request(
        "extend",
        {
            "source": _ABS_PATH,
            "seconds": {**_SECONDS, "description": "Seconds of new material after the source."},
            "count": _COUNT,
            **_SAMPLING,
            **_OUTPUT,
        },
        ("source", "seconds"),
        **_NOT_BOTH_DIRS,
    ),
}

_ERROR_OBJECT = {
    "type": "object",
    "properties": {"code": {"enum": list(ERROR_CODES)}, "message": {"type": "string", "minLength": 1}},
    "required": ["code", "message"],
}
ERROR_REPLY = {
    "type": "object",
    "properties": {
        "v": {"const": PROTOCOL_VERSION},
        "id": {"type": ["string", "null"], "description": "The request's id; null when it had no usable one."},
        "ok": {"const": False},
        "error": _ERROR_OBJECT,
    },
    "required": ["v", "id", "ok", "error"],
}
_FILE = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "minLength": 2},
        "sidecar": {"type": "string", "minLength": 2},
        "name": {"type": "string", "minLength": 1, "description": "deliver reply: the file name's stem."},
        "folder": {
            "type": "string",
            "minLength": 1,
            "description": "deliver reply: the folder under a project's Samples/Generated/ (default: name).",
        },
        "frame": {"type": "integer", "minimum": 1, "description": "deliver reply: the frame after the JSON."},
        "bytes": {"type": "integer", "minimum": 44, "description": "deliver reply: that frame's length."},
        "seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX},
        "metadata": {
            "type": "object",
            "properties": {
                "seed": {"type": "integer"},
                "model": {"type": "string"},
                "sampler": {"type": "string"},
                "steps": {"type": "integer"},
                "category": {"type": ["string", "null"]},
                "conditioned": {"type": "boolean", "description": "Whether the model was conditioned on the category."},
                "op": {"enum": list(JOB_OPS)},
                "sample_rate": {"type": "integer"},
                "bit_depth": {"enum": [16, 24, 32]},
                "loop": {"type": "boolean"},
                "bpm": {"type": "number", "description": "A loop at a tempo: its tempo (as in its acid chunk)."},
                "bars": {"type": "integer", "description": "A loop at a tempo: its bars of 4/4."},
                "beats": {"type": "integer", "description": "A loop at a tempo: bars * 4."},
                "genre": {"type": "string", "description": "A loop at a tempo: its genre, any when none was asked."},
                "note_asked": {"type": "string", "description": "A note was asked: its name (C2)."},
                "tuned": {"type": "boolean", "description": "A note was asked: whether the sound was retuned."},
                "tuning": {"type": "string", "description": "A note was asked: what was done, or why not, in words."},
                "note": {"type": "string", "description": "Tuned: the root note the sound has (also in smpl)."},
                "midi_note": {"type": "integer", "description": "Tuned: that root note's MIDI number."},
                "detected_hz": {"type": "number", "description": "Tuned: the pitch found before tuning."},
            },
            "required": ["seed", "model", "sampler", "steps", "category", "op", "sample_rate", "bit_depth"],
        },
    },
    "required": ["seed", "metadata"],
    "anyOf": [{"required": ["path", "sidecar"]}, {"required": ["name"]}],
}
_POOL_COUNTS = {"considered": {"type": "integer", "minimum": 0}, "rejected": {"type": "integer", "minimum": 0}}
_POOL_STATE = {
    "type": "object",
    "properties": {
        "size": {"type": "integer", "minimum": 0},
        "model": {"type": ["string", "null"]},
        "categories": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "category": {"type": ["string", "null"]},
                    "ready": {"type": "integer", "minimum": 0},
                    "checked": {"type": "boolean", "description": "the judge knows this category"},
                    **_POOL_COUNTS,
                    "kept_rejected": {"type": "integer", "minimum": 0, "description": "kept after every try failed"},
                    "gave_up": {"type": "boolean", "description": "rejected so often that every candidate is kept"},
                },
                "required": ["category", "ready"],
            },
        },
        "loop": {
            "type": ["object", "null"],
            "description": "The loops kept ready at the tempo last asked (null until a loop at a tempo is asked)",
            "properties": {
                "bpm": {"type": "number"},
                "bars": {"type": "integer"},
                "genre": {"type": "string"},
                "ready": {"type": "integer", "minimum": 0},
            },
            "required": ["bpm", "bars", "genre", "ready"],
        },
        "check": {"type": "boolean", "description": "pool.check: candidates are judged before they are kept"},
        **_POOL_COUNTS,
        "rejection_rate": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["size", "model", "categories", "loop"],
}


def _ok(properties: dict, required: tuple[str, ...]) -> dict:
    return {
        "type": "object",
        "properties": {"v": {"const": PROTOCOL_VERSION}, "id": {"type": "string"}, "ok": {"const": True}, **properties},
        "required": ["v", "id", "ok", *required],
    }


_JOB_OK = _ok(
    {
        "job": {"type": "string"},
        "state": {"enum": list(STATES)},
        "from_pool": {"type": "boolean"},
        "files": {"type": "array", "items": _FILE, "minItems": 1},
    },
    ("job", "state"),
)
# What a model with a loop network makes at a tempo (absent from a model without one).
_LOOPS = {
    "type": "object",
    "description": "Only for a model with a loop network: the genres it knows (besides any), its tempo range "
    "[low, high] in BPM and the bar counts it makes.",
    "properties": {
        "genres": {"type": "array", "items": {"type": "string"}},
        "bpm": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "bars": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
    },
    "required": ["genres", "bpm", "bars"],
}
_OK_REPLIES: dict[str, dict] = {
    "ping": _ok(
        {"pong": {"const": True}, "version": {"type": "string"}, "protocol": {"const": PROTOCOL_VERSION}},
        ("pong", "version", "protocol"),
    ),
    "status": _ok(
        {
            "version": {"type": "string"},
            "device": {"type": "string"},
            "default_model": {"type": "string"},
            "models": {"type": "array", "items": {"type": "string"}},
            "uptime_s": {"type": "number", "minimum": 0},
            "queue": {
                "type": "object",
                "properties": {n: {"type": "integer", "minimum": 0} for n in ("queued", "running", "capacity")},
                "required": ["queued", "running", "capacity"],
            },
            "jobs": {
                "type": "object",
                "properties": {n: {"type": "integer", "minimum": 0} for n in ("done", "failed", "cancelled")},
                "required": ["done", "failed", "cancelled"],
            },
            "pool": _POOL_STATE,
        },
        ("version", "device", "default_model", "models", "uptime_s", "queue", "jobs", "pool"),
    ),
    "models": _ok(
        {
            "models": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "default": {"type": "boolean"},
                        "sample_rate": {"type": "integer"},
                        "sample_size": {"type": "integer"},
                        "seconds": {"type": "number"},
                        "categories": {"type": "array", "items": {"type": "string"}},
                        "default_sampler": {"type": "string"},
                        "default_steps": {"type": "integer"},
                        "loops": _LOOPS,
                    },
                    "required": [
                        "name",
                        "default",
                        "sample_rate",
                        "sample_size",
                        "seconds",
                        "categories",
                        "default_sampler",
                        "default_steps",
                    ],
                },
            },
            "samplers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        ("models", "samplers"),
    ),
    "cancel": _ok({"job": {"type": "string"}, "state": {"enum": list(STATES)}}, ("job", "state")),
    "pool": _ok(_POOL_STATE["properties"], tuple(_POOL_STATE["required"])),
    **{op: _JOB_OK for op in JOB_OPS},
}


def reply_schema(op: str) -> dict:
    """The schema of any reply to ``op``: its success shape or the error shape."""
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}reply.{op}.json",
        "title": f"{op} reply",
        "anyOf": [copy.deepcopy(_OK_REPLIES[op]), copy.deepcopy(ERROR_REPLY)],
    }


def _event(name: str, properties: dict, required: tuple[str, ...]) -> dict:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}event.{name}.json",
        "title": f"{name} event (PUB topic '{name}')",
        "type": "object",
        "properties": {
            "v": {"const": PROTOCOL_VERSION},
            "event": {"const": name},
            "id": {"type": "string"},
            "job": {"type": "string"},
            **properties,
        },
        "required": ["v", "event", "id", "job", *required],
    }


EVENT_SCHEMAS: dict[str, dict] = {
    "progress": _event("progress", {"progress": {"type": "number", "minimum": 0, "maximum": 1}}, ("progress",)),
    "done": _event("done", {"files": _JOB_OK["properties"]["files"]}, ("files",)),
    "error": _event("error", {"error": _ERROR_OBJECT}, ("error",)),
}
