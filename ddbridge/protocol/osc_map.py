"""The OSC address map: request addresses and their arguments, reply addresses, as published in
``plugin_protocol/osc_map.json``. Pure Python; the OSC front end maps these addresses onto core requests.
"""

from __future__ import annotations

import copy

from ddbridge.protocol.schema import PROTOCOL_VERSION

# Request addresses: the first argument is always the request id (string; an int is accepted and
# turned into its decimal string). Types: s string, i int32, f float32 (i accepted), T/F booleans.
# "fields": fixed fields of the request an address sends (besides its arguments).

OSC_REQUESTS: dict[str, dict] = {
    "/ddbridge/ping": {"op": "ping", "args": []},
    "/ddbridge/status": {"op": "status", "args": []},
    "/ddbridge/models": {"op": "models", "args": []},
    "/ddbridge/generate": {
        "op": "generate",
        "args": [
            {"name": "category", "type": "s", "note": "empty string: no category"},
            {"name": "count", "type": "i", "optional": True},
            {"name": "seconds", "type": "f", "optional": True},
            {"name": "seed", "type": "i", "optional": True, "note": "int32, or int64 (h) above 2**31 - 1"},
            {
                "name": "note",
                "type": "s",
                "optional": True,
                "note": "a root note: C2, F#1 (or i: MIDI 0-127); '': none",
            },
        ],
    },
    "/ddbridge/loop": {
        "op": "generate",
        "fields": {"category": "loop"},
        "args": [
            {"name": "genre", "type": "s", "note": "empty string: no genre (any)"},
            {"name": "bpm", "type": "f"},
            {"name": "bars", "type": "i"},
            {"name": "count", "type": "i", "optional": True},
            {"name": "seed", "type": "i", "optional": True, "note": "int32, or int64 (h) above 2**31 - 1"},
        ],
    },
    "/ddbridge/variate": {
        "op": "variate",
        "args": [
            {"name": "source", "type": "s"},
            {"name": "strength", "type": "f", "optional": True},
            {"name": "count", "type": "i", "optional": True},
            {"name": "seed", "type": "i", "optional": True},
        ],
    },
    "/ddbridge/interpolate": {
        "op": "interpolate",
        "args": [
            {"name": "source_a", "type": "s"},
            {"name": "source_b", "type": "s"},
            {"name": "position", "type": "f", "optional": True, "note": "sent as positions: [position]"},
        ],
    },
    "/ddbridge/extend": {
        "op": "extend",
        "args": [{"name": "source", "type": "s"}, {"name": "seconds", "type": "f"}],
    },
    "/ddbridge/cancel": {"op": "cancel", "args": [{"name": "job", "type": "s"}]},
    "/ddbridge/pool": {"op": "pool", "args": [{"name": "size", "type": "i", "optional": True}]},
    "/ddbridge/request": {
        "op": None,
        "args": [{"name": "json", "type": "s", "note": "a whole JSON request; its id replaces the OSC id argument"}],
        "no_id_argument": True,
    },
}

OSC_REPLIES: dict[str, dict] = {
    "/ddbridge/reply": {
        "args": [{"name": "id", "type": "s"}, {"name": "json", "type": "s"}],
        "when": "last message for every request: the full JSON reply, as over ZeroMQ",
    },
    "/ddbridge/pong": {
        "args": [{"name": "id", "type": "s"}, {"name": "version", "type": "s"}],
        "when": "ping succeeded (before /ddbridge/reply)",
    },
    "/ddbridge/progress": {
        "args": [{"name": "job", "type": "s"}, {"name": "progress", "type": "f"}],
        "when": "while a job runs; job is the request id",
    },
    "/ddbridge/done": {
        "args": [
            {"name": "job", "type": "s"},
            {"name": "path", "type": "s"},
            {"name": "seed", "type": "s", "note": "decimal string: seeds reach 2**32 - 1, beyond int32"},
            {"name": "index", "type": "i"},
            {"name": "count", "type": "i"},
        ],
        "when": "once per finished file; job is the request id",
    },
    "/ddbridge/error": {
        "args": [{"name": "job", "type": "s"}, {"name": "code", "type": "s"}, {"name": "message", "type": "s"}],
        "when": "the request or its job failed; job is the request id ('' when it had none)",
    },
}


def osc_map() -> dict:
    """The OSC address map as published in ``plugin_protocol/osc_map.json``."""
    return {
        "protocol": PROTOCOL_VERSION,
        "port": 9000,
        "id_argument": {"name": "id", "type": "s", "note": "first argument of every request except /ddbridge/request"},
        "requests": copy.deepcopy(OSC_REQUESTS),
        "replies": copy.deepcopy(OSC_REPLIES),
    }
