"""The real daemon over real ZeroMQ sockets: generate, variate, interpolate, extend, cancel, pool, events, vectors."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import soundfile as sf
import zmq
from daemon_helpers import SAMPLE_RATE, DaemonProcess, build_tiny_model, vector_variables
from protocol_vectors import run as run_vectors

from ddbridge.client.connection import Events
from ddbridge.protocol.errors import Cancelled
from ddbridge.protocol.schema import ERROR_REPLY, EVENT_SCHEMAS, reply_schema
from ddbridge.sound.render import read_metadata


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("zmq")
    model = build_tiny_model(tmp_path_factory.mktemp("model"), loops=True)  # the vectors ask for loops
    with DaemonProcess(model, root, pool_size=2) as d:
        yield d


@pytest.fixture
def client(daemon):
    with daemon.client() as c:
        yield c


@pytest.fixture
def out_dir(daemon):
    d = daemon.out / uuid.uuid4().hex[:8]
    d.mkdir()
    return d


def test_generate_writes_finished_wavs_with_metadata(client, out_dir):
    reply = client.generate(category="kick", count=2, seed=42, out_dir=str(out_dir))
    assert reply["state"] == "done" and reply["from_pool"] is False
    assert [f["seed"] for f in reply["files"]] == [42, 43]
    for f in reply["files"]:
        path = Path(f["path"])
        assert path.parent == out_dir and re.fullmatch(rf"kick_\d{{4}}_s{f['seed']}\.wav", path.name)
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 2, "PCM_24")
        assert 0 < info.frames <= 2048
        audio, _ = sf.read(path)
        assert np.abs(audio).max() > 0.5  # peak-normalised, not silence
        meta = f["metadata"]
        assert meta["seed"] == f["seed"] and meta["category"] == "kick" and meta["model"] == "tiny"
        assert meta["sampler"] == "v-iplms" and meta["steps"] == 2 and meta["op"] == "generate"
        assert read_metadata(path) == meta  # inside the WAV (RIFF LIST/INFO)
        assert json.loads(Path(f["sidecar"]).read_text()) == meta


def test_output_rate_and_bit_depth_follow_the_request(client, out_dir):
    for rate, depth, subtype in ((44100, 16, "PCM_16"), (48000, 32, "FLOAT")):
        (f,) = client.generate(category="snare", seed=1, sample_rate=rate, bit_depth=depth, out_dir=str(out_dir))[
            "files"
        ]
        info = sf.info(f["path"])
        assert (info.samplerate, info.subtype) == (rate, subtype)
        assert (f["metadata"]["sample_rate"], f["metadata"]["bit_depth"]) == (rate, depth)


def test_metadata_regenerates_the_same_sound(client, out_dir):
    first = client.generate(category="kick", count=3, seed=500, out_dir=str(out_dir))["files"][2]
    meta = read_metadata(first["path"])
    again = client.generate(
        category=meta["category"],
        seed=meta["seed"],
        steps=meta["steps"],
        sampler=meta["sampler"],
        model=meta["model"],
        out_dir=str(out_dir),
    )["files"][0]
    assert again["path"] != first["path"]
    a, _ = sf.read(first["path"])
    b, _ = sf.read(again["path"])
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_seconds_are_honoured(client, out_dir):
    (f,) = client.generate(category="kick", seed=3, seconds=0.1, out_dir=str(out_dir))["files"]
    assert sf.info(f["path"]).frames <= round(0.1 * SAMPLE_RATE)


def test_project_dir_and_default_layout(daemon, client):
    (f,) = client.generate(category="snare", seed=2, project_dir=str(daemon.project))["files"]
    assert Path(f["path"]).parent == daemon.project / "Samples" / "Generated" / "snare"
    (g,) = client.generate(seed=2)["files"]  # no category, no folder: the configured default project
    assert Path(g["path"]).parent == daemon.allowed / "default-project" / "Samples" / "Generated" / "sample"
    assert g["metadata"]["category"] is None


def test_variate_from_an_existing_file(client, out_dir):
    (src,) = client.generate(category="kick", seed=11, out_dir=str(out_dir))["files"]
    reply = client.variate(src["path"], strength=0.4, count=2, seed=5, out_dir=str(out_dir))
    assert len(reply["files"]) == 2
    for f in reply["files"]:
        assert Path(f["path"]).name.startswith("variation_") and Path(f["path"]).is_file()
        assert f["metadata"]["source"] == src["path"] and f["metadata"]["strength"] == 0.4
        assert sf.info(f["path"]).frames > 0
    a, _ = sf.read(reply["files"][0]["path"])
    b, _ = sf.read(reply["files"][1]["path"])
    assert a.shape != b.shape or not np.allclose(a, b)  # different seeds, different variations


def test_interpolate_and_extend(client, out_dir):
    a, b = client.generate(category="kick", count=2, seed=70, out_dir=str(out_dir))["files"]
    mids = client.interpolate(a["path"], b["path"], positions=[0.3, 0.6], out_dir=str(out_dir))["files"]
    assert [f["metadata"]["position"] for f in mids] == [0.3, 0.6]
    (longer,) = client.extend(a["path"], 0.25, out_dir=str(out_dir))["files"]
    assert sf.info(longer["path"]).frames > sf.info(a["path"]).frames


def test_progress_and_done_events_are_published(daemon, client, out_dir):
    with Events(daemon.pub_endpoint) as events:
        time.sleep(0.3)  # let the subscription reach the publisher
        rid = uuid.uuid4().hex
        accepted = client.call(
            {
                "id": rid,
                "op": "generate",
                "category": "kick",
                "steps": 20,
                "out_dir": str(out_dir),
                "wait": False,
                "pool": False,
            }
        )
        assert accepted["ok"] and accepted["job"] == rid and accepted["state"] in ("queued", "running")
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (seen and seen[-1]["event"] != "progress"):
            ev = events.recv(1.0)
            if ev and ev["id"] == rid:
                jsonschema.validate(ev, EVENT_SCHEMAS[ev["event"]])
                seen.append(ev)
    progress = [e["progress"] for e in seen if e["event"] == "progress"]
    assert len(progress) >= 5 and progress == sorted(progress) and progress[-1] == 1.0
    assert seen[-1]["event"] == "done" and Path(seen[-1]["files"][0]["path"]).is_file()


def test_cancel_queued_and_running_jobs(daemon, client, out_dir):
    before = client.status()["jobs"]["cancelled"]
    slow = {"op": "generate", "category": "kick", "steps": 1000, "seconds": 30, "pool": False, "out_dir": str(out_dir)}
    waiting: dict = {}

    def wait_for_slow_job() -> None:
        with daemon.client() as other:
            waiting.update(other.call({**slow, "id": "slow-wait"}))

    waiter = threading.Thread(target=wait_for_slow_job)
    waiter.start()
    time.sleep(0.5)
    queued = client.call({**slow, "id": "slow-queued", "wait": False, "priority": "batch"})
    assert queued.get("state") == "queued", queued
    assert client.cancel("slow-queued")["state"] == "cancelled"
    assert client.cancel("slow-wait")["state"] == "cancelled"
    waiter.join(30)
    assert waiting["ok"] is False and waiting["error"]["code"] == Cancelled.code
    assert client.cancel("slow-wait")["state"] == "cancelled"  # asking again reports the final state
    assert list(out_dir.iterdir()) == []  # neither job wrote anything
    assert client.status()["jobs"]["cancelled"] == before + 2
    started = time.monotonic()
    client.generate(category="kick", seed=1, out_dir=str(out_dir))
    assert time.monotonic() - started < 5  # the worker is free again


def test_pool_serves_at_once_and_refills(daemon, client, out_dir):
    def ready(category):
        return next(c["ready"] for c in client.pool()["categories"] if c["category"] == category)

    deadline = time.monotonic() + 30
    while ready("snare") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready("snare") == 2
    started = time.monotonic()
    reply = client.generate(category="snare", out_dir=str(out_dir))
    elapsed = time.monotonic() - started
    assert reply["from_pool"] is True and elapsed < 1.0
    (f,) = reply["files"]
    assert Path(f["path"]).is_file() and f["metadata"]["seed"] == f["seed"]
    assert ready("snare") == 1
    assert client.generate(category="snare", pool=False, out_dir=str(out_dir))["from_pool"] is False
    while ready("snare") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready("snare") == 2  # refilled in the background


def test_a_note_is_applied_to_new_and_pooled_sounds_and_a_bad_one_changes_nothing(daemon, client, out_dir):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if next(c["ready"] for c in client.pool()["categories"] if c["category"] == "kick") == 2:
            break
        time.sleep(0.1)
    pooled = client.generate(category="kick", note="C2", out_dir=str(out_dir))
    fresh = client.generate(category="kick", note=36, pool=False, seed=8, out_dir=str(out_dir))
    assert pooled["from_pool"] is True and fresh["from_pool"] is False
    for reply in (pooled, fresh):
        (f,) = reply["files"]
        meta = f["metadata"]
        assert meta["note_asked"] == "C2" and isinstance(meta["tuned"], bool) and meta["tuning"]
        assert read_metadata(f["path"]) == meta and ("midi_note" in meta) is meta["tuned"]
        assert (meta.get("note"), meta.get("midi_note")) in ((None, None), ("C2", 36)) or "nearest" in meta["tuning"]
    before = sorted(out_dir.iterdir())
    for note in ("H9", 200, "B#9"):
        with pytest.raises(Exception, match="note") as error:
            client.generate(category="kick", note=note, out_dir=str(out_dir))
        assert getattr(error.value, "code", None) == "bad_request"
    with pytest.raises(Exception, match="note is for one-shots"):
        client.generate(category="loop", note="C2", out_dir=str(out_dir))
    assert sorted(out_dir.iterdir()) == before


def test_pool_can_be_resized(client):
    emptied = client.pool(size=0)["categories"]
    assert [(c["category"], c["ready"]) for c in emptied] == [("kick", 0), ("snare", 0)]
    assert client.pool(size=2)["size"] == 2


def test_a_resent_request_is_answered_once(client, out_dir):
    request = {"id": "resend-1", "op": "generate", "category": "kick", "seed": 9, "out_dir": str(out_dir)}
    first = client.call(request)
    second = client.call(request)
    assert first["files"] == second["files"] and len(list(out_dir.glob("*.wav"))) == 1
    clash = client.call({**request, "seed": 10, "wait": False, "steps": 1000, "seconds": 30})
    clash_again = client.call({**request, "seed": 11})
    assert (
        clash["ok"]
        and clash_again["error"]["code"] == "bad_request"
        and "running job" in clash_again["error"]["message"]
    )
    client.cancel("resend-1")


def test_a_running_jobs_id_is_refused_for_every_op(client, out_dir):
    rid = f"running-{uuid.uuid4().hex[:8]}"
    slow = {"op": "generate", "category": "kick", "steps": 1000, "seconds": 30, "pool": False, "out_dir": str(out_dir)}
    assert client.call({**slow, "id": rid, "wait": False})["ok"]
    try:
        others = ({"op": "ping"}, {"op": "status"}, {"op": "models"}, {"op": "pool"}, {"op": "cancel", "job": rid})
        for request in others:
            reply = client.call({**request, "id": rid})
            assert reply["id"] == rid and reply["ok"] is False, reply
            assert reply["error"]["code"] == "bad_request" and "running job" in reply["error"]["message"]
    finally:
        assert client.cancel(rid)["state"] == "cancelled"  # the refusals left the job running
    deadline = time.monotonic() + 10  # the job stops at its next sampling step; then its id may be used again
    while not (reply := client.call({"id": rid, "op": "ping"}))["ok"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reply["pong"] is True


def test_seeds_wrap_past_the_largest(client, out_dir):
    reply = client.generate(category="kick", count=3, seed=2**32 - 2, out_dir=str(out_dir))
    assert [f["seed"] for f in reply["files"]] == [2**32 - 2, 2**32 - 1, 0]
    assert [f["metadata"]["seed"] for f in reply["files"]] == [2**32 - 2, 2**32 - 1, 0]
    assert Path(reply["files"][2]["path"]).name.endswith("_s0.wav")


def test_protocol_vectors_pass_over_zmq(daemon):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(daemon.endpoint)

    def send(text: str) -> dict:
        sock.send_multipart([b"", text.encode()])
        assert sock.poll(60_000), f"no reply to {text[:80]}"
        return json.loads(sock.recv_multipart()[-1])

    def check(reply: dict, request: dict | None) -> None:
        op = request.get("op") if isinstance(request, dict) else None
        schema = reply_schema(op) if isinstance(op, str) and reply["ok"] else ERROR_REPLY
        jsonschema.validate(reply, schema)
        for f in reply.get("files", []):
            assert Path(f["path"]).is_file() and Path(f["sidecar"]).is_file()

    variables = vector_variables(daemon)
    try:
        names, failures = run_vectors(send, variables, check)
    finally:
        sock.close()
    assert not failures, "\n".join(failures)
    assert len(names) >= 60
