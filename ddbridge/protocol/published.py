"""The files of ``plugin_protocol/``, written out from the schemas, the OSC map and the error table."""

from __future__ import annotations

from ddbridge.protocol.osc_map import osc_map
from ddbridge.protocol.schema import ERROR_CODES, EVENT_SCHEMAS, REQUEST_SCHEMAS, reply_schema


def published_files() -> dict[str, object]:
    """Every generated ``plugin_protocol/`` file: relative path -> JSON document."""
    files: dict[str, object] = {}
    for op, schema in REQUEST_SCHEMAS.items():
        files[f"schemas/request.{op}.json"] = schema
        files[f"schemas/reply.{op}.json"] = reply_schema(op)
    for name, schema in EVENT_SCHEMAS.items():
        files[f"schemas/event.{name}.json"] = schema
    files["osc_map.json"] = osc_map()
    files["errors.json"] = {code: {"meaning": m, "client_action": a} for code, (m, a) in ERROR_CODES.items()}
    return files
