"""The protocol rules: published files, schema validity, the validator against a reference implementation."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_vectors import VECTORS, load, substitute

from ddbridge.protocol import messages
from ddbridge.protocol.errors import BadAudio, BadRequest, DDBridgeError, PathRefused
from ddbridge.protocol.published import published_files
from ddbridge.protocol.schema import ERROR_CODES, OPS, REQUEST_SCHEMAS

PROTOCOL_DIR = Path(__file__).resolve().parent.parent / "plugin_protocol"
UPDATE = os.environ.get("DDBRIDGE_UPDATE_PROTOCOL") == "1"


def test_published_files_match_the_rules_the_daemon_uses():
    """plugin_protocol/ is generated from ddbridge.protocol (DDBRIDGE_UPDATE_PROTOCOL=1 rewrites it)."""
    stale = []
    for relative, document in published_files().items():
        path = PROTOCOL_DIR / relative
        text = json.dumps(document, indent=2) + "\n"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
    assert not stale, f"out of date (run with DDBRIDGE_UPDATE_PROTOCOL=1): {stale}"
    published = {p.relative_to(PROTOCOL_DIR).as_posix() for p in (PROTOCOL_DIR / "schemas").glob("*.json")}
    assert published == {r for r in published_files() if r.startswith("schemas/")}


@pytest.mark.parametrize("relative", [r for r in published_files() if r.startswith("schemas/")])
def test_every_schema_is_valid_json_schema(relative):
    jsonschema.Draft202012Validator.check_schema(published_files()[relative])


def test_error_table_matches_the_error_classes():
    codes = {cls.code for cls in DDBridgeError.__subclasses__()} | {DDBridgeError.code}
    assert set(ERROR_CODES) == codes
    spec = (PROTOCOL_DIR / "spec.md").read_text(encoding="utf-8")
    assert all(f"`{code}`" in spec for code in codes)


def test_spec_lists_every_op_and_osc_address():
    spec = (PROTOCOL_DIR / "spec.md").read_text(encoding="utf-8")
    assert all(f"`{op}`" in spec for op in OPS)
    osc = json.loads((PROTOCOL_DIR / "osc_map.json").read_text())
    assert all(address in spec for address in [*osc["requests"], *osc["replies"]])


# -- the validator agrees with a reference JSON Schema implementation ----------------------------------

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["kick", "/abs/dir", "peak", "batch", 1.0, 2.5, 0, 16, 17, 44100, 24]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=6,
)  # fmt: skip
field_names = sorted({n for s in REQUEST_SCHEMAS.values() for n in s["properties"]} - {"op"} | {"junk"})


@st.composite
def request_like(draw) -> dict:
    op = draw(st.sampled_from(OPS))
    request = {"id": draw(st.text(min_size=0, max_size=3) | values), "op": op}
    for name in draw(st.lists(st.sampled_from(field_names), max_size=6, unique=True)):
        request[name] = draw(values)
    return request


@settings(max_examples=700, deadline=None, database=None)
@given(request_like())
def test_validator_agrees_with_jsonschema(request):
    expected = jsonschema.Draft202012Validator(REQUEST_SCHEMAS[request["op"]]).is_valid(request)
    try:
        messages.validate_request(request)
        accepted = True
    except BadRequest:
        accepted = False
    assert accepted == expected


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ([], "must be a JSON object"),
        ({"id": "a"}, "unknown op none"),
        ({"id": "a", "op": "dance"}, "unknown op 'dance'; choose one of: ping"),
        ({"v": 2, "id": "a", "op": "ping"}, "unsupported protocol version 2"),
        ({"id": "a", "op": "ping", "colour": 1}, "unknown field 'colour'"),
        ({"id": "a", "op": "cancel"}, "missing required field 'job'"),
        ({"id": "a", "op": "generate", "count": 40}, "field 'count': must be <= 16, got 40"),
        ({"id": "a", "op": "generate", "count": True}, "field 'count': must be integer, got boolean"),
        ({"id": "a", "op": "generate", "category": "a/b"}, "field 'category': must match"),
        ({"id": "a", "op": "generate", "category": "kick\n"}, "field 'category': must match"),
        ({"id": "a", "op": "generate", "bit_depth": 20}, "field 'bit_depth': must be one of 16, 24, 32; got 20"),
        ({"id": "a", "op": "interpolate", "source_a": "/a", "source_b": "/b", "positions": [0.5, 2]}, "positions[1]"),
        ({"id": "a", "op": "generate", "out_dir": "/a", "project_dir": "/b"}, "give only one of out_dir, project_dir"),
        (messages.parse('{"id": "a", "op": "generate", "seconds": 1e400}'), "field 'seconds': must be a finite number"),
        (messages.parse('{"id": "a", "op": "generate", "count": -1e400}'), "field 'count': must be a finite number"),
        ({"id": "a", "op": "variate", "source": "/a", "strength": float("nan")}, "field 'strength': must be a finite"),
        ({"id": "a", "op": "generate", "category": "loop", "bars": 2}, "'bars' needs 'bpm' too"),
        ({"id": "a", "op": "generate", "category": "loop", "bpm": 120}, "'bpm' needs 'bars' too"),
        ({"id": "a", "op": "generate", "bpm": 120, "bars": 1, "seconds": 2.0}, "give only one of seconds, bpm"),
        ({"id": "a", "op": "generate", "bpm": 400, "bars": 1}, "field 'bpm': must be <= 300, got 400"),
        ({"id": "a", "op": "generate", "bpm": 120, "bars": 1.5}, "field 'bars': must be integer, got number"),
        ({"id": "a", "op": "generate", "bpm": 120, "bars": 1, "genre": "house/techno"}, "field 'genre': must match"),
        ({"id": "a", "op": "variate", "source": "/a", "bpm": 120, "bars": 1}, "unknown field 'bpm'"),
        ({"id": "a", "op": "generate", "out_dir": "/a", "project_dir": "/b", "bpm": 90, "bars": 1}, "of out_dir"),
    ],
)
def test_validation_messages_name_the_problem(request_, words):
    with pytest.raises(BadRequest, match=re.escape(words)):
        messages.validate_request(request_)


def test_parse_refuses_what_is_not_strict_json():
    assert messages.parse(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for raw, words in [
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": Infinity}', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "bytes; the limit"),
        (b"[" * 30_000 + b"]" * 30_000, "not valid JSON"),
        (b"", "not valid JSON"),
    ]:
        with pytest.raises(BadRequest, match=re.escape(words)):
            messages.parse(raw)


def test_replies_and_errors_round_trip():
    reply = messages.error_reply("r1", PathRefused("no"))
    jsonschema.validate(reply, {**json.loads((PROTOCOL_DIR / "schemas" / "reply.generate.json").read_text())})
    assert reply == {"v": 1, "id": "r1", "ok": False, "error": {"code": "path_refused", "message": "no"}}
    error = messages.error_from_body(reply["error"])
    assert isinstance(error, PathRefused) and str(error) == "no"
    assert type(messages.error_from_body({"code": "bad_audio", "message": "m"})) is BadAudio
    assert type(messages.error_from_body({"code": "???", "message": "m"})) is DDBridgeError
    assert json.loads(messages.encode(messages.ok_reply("r2", pong=True))) == {
        "v": 1,
        "id": "r2",
        "ok": True,
        "pong": True,
    }


SAMPLE_VALUES = {
    "RUN": "r1", "OUT_DIR": "/o", "PROJECT_DIR": "/p", "OUTSIDE_DIR": "/q", "MISSING_DIR": "/m", "A_FILE": "/f",
    "MODEL": "tiny", "CATEGORY": "kick", "SOURCE_WAV": "/s.wav", "SOURCE_WAV_2": "/t.wav", "POOL_SIZE": 2,
}  # fmt: skip


def test_vectors_are_well_formed_and_their_successes_are_valid_requests():
    doc = load()
    defined = set(doc["variables"])
    assert defined | {"MODEL", "CATEGORY", "SOURCE_WAV", "SOURCE_WAV_2", "POOL_SIZE"} == set(SAMPLE_VALUES)
    names = set()
    for vector in doc["vectors"]:
        assert vector["name"] not in names and ("send" in vector) != ("send_raw" in vector)
        names.add(vector["name"])
        used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", json.dumps(vector.get("send", vector.get("send_raw")))))
        assert used <= defined, f"{vector['name']} uses undefined {used - defined}"
        defined |= set(vector.get("save", {}))
        if vector["expect"].get("ok") is True:
            request = substitute(vector["send"], SAMPLE_VALUES)
            jsonschema.validate(request, REQUEST_SCHEMAS[request["op"]])
    assert VECTORS.is_file() and len(names) >= 60
