"""Reliability of the real daemon: fuzzed messages, concurrent clients, backpressure, kill -9, refused paths."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
import soundfile as sf
import zmq
from daemon_helpers import CATEGORIES, DaemonProcess, build_tiny_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from ddbridge.frontends.zmq import MAX_FRAME_BYTES
from ddbridge.model.bundle import resolve_category
from ddbridge.protocol.errors import BadRequest
from ddbridge.protocol.messages import MAX_MESSAGE_BYTES
from ddbridge.protocol.osc_map import OSC_REQUESTS
from ddbridge.protocol.schema import ERROR_CODES, OPS

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BATCH = 20  # messages per hypothesis example


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, model):
    with DaemonProcess(model, tmp_path_factory.mktemp("reliability"), pool_size=0, max_queue=8) as d:
        yield d


def _still_answering(daemon: DaemonProcess) -> None:
    assert daemon.alive()
    with daemon.client(timeout=5.0, retries=1) as c:
        assert c.ping()["pong"] is True
        c.pool(size=0)  # fuzzed pool requests may have resized it


# -- fuzzing -----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
FIELDS = (
    "count seconds seed steps sampler model category source strength positions job size wait priority "
    "sample_rate bit_depth loop pool normalize v extra"
).split()
plausible = st.one_of(json_values, st.sampled_from([1, 2, 0.5, -1, 16, 17, "kick", "snare", True, [0.5], "/tmp"]))


@st.composite
def requests(draw) -> dict:
    """Request-shaped objects that always fail before any work: their out_dir can never be used."""
    request = {"id": draw(st.text(min_size=1, max_size=20) | json_values), "op": draw(st.sampled_from([*OPS, "x"]))}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=5, unique=True)):
        request[name] = draw(plausible)
    if request["op"] in ("generate", "variate", "interpolate", "extend"):
        request["out_dir"] = draw(st.sampled_from(["relative/dir", "/no/such/dir", "", 7]))
    return request


def zmq_messages():
    as_frames = st.one_of(
        st.binary(max_size=200).map(lambda b: [b""] + [b]),
        json_values.map(lambda v: [b"", json.dumps(v).encode()]),
        requests().map(lambda r: [b"", json.dumps(r).encode()]),
        st.lists(st.binary(max_size=40), min_size=1, max_size=4),  # odd envelopes and frame counts
        st.just([b"", b'{"id": "deep", "op": "ping", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"]),
        st.just([b"", b"\xff\xfe not utf-8"]),
    )
    return st.lists(as_frames, min_size=BATCH, max_size=BATCH)


def test_fuzzed_zmq_messages_each_get_an_error_or_a_reply(daemon):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(daemon.endpoint)
    sent = 0

    @FUZZ
    @given(batch=zmq_messages())
    def run(batch):
        nonlocal sent
        for frames in batch:
            sock.send_multipart(frames)
        for frames in batch:
            assert sock.poll(10_000), f"no reply to {frames!r:.200}"
            reply = json.loads(sock.recv_multipart()[-1])
            assert isinstance(reply["ok"], bool) and reply["v"] == 1
            if not reply["ok"]:
                assert reply["error"]["code"] in ERROR_CODES and reply["error"]["message"]
                assert reply["error"]["code"] != "internal", reply
        sent += len(batch)

    try:
        run()
    finally:
        sock.close()
    assert sent >= 1200
    _still_answering(daemon)


def _ping_of(size: int) -> bytes:
    """A ping request padded to exactly ``size`` bytes."""
    head, tail = b'{"id": "big", "op": "ping", "pad": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def _peak_memory(pid: int) -> int:
    """The most memory the process has held at once (VmHWM), in bytes."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def test_every_oversized_frame_gets_one_error_and_nothing_after_it_is_lost(daemon):
    sizes = [MAX_MESSAGE_BYTES + 1, (1 << 20) + 1, 4 << 20, MAX_FRAME_BYTES]  # up to ZeroMQ's own limit
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(daemon.endpoint)
    try:
        for i in range(24):
            size, envelope = sizes[i % len(sizes)], [b""] * (i % 2)  # with and without a REQ-style envelope
            sock.send_multipart([*envelope, _ping_of(size)])
            sock.send_multipart([*envelope, json.dumps({"id": f"after-{i}", "op": "ping"}).encode()])
            replies = []
            for _ in range(2):
                assert sock.poll(10_000), f"a reply is missing after a {size}-byte frame"
                frames = sock.recv_multipart()
                assert frames[:-1] == envelope
                replies.append(json.loads(frames[-1]))
            error, pong = replies
            assert error["id"] is None and error["error"]["code"] == "bad_request"
            assert f"message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}" in error["error"]["message"]
            assert pong["id"] == f"after-{i}" and pong["pong"] is True
        assert not sock.poll(300)  # one reply each, nothing more
    finally:
        sock.close()
    _still_answering(daemon)


def test_a_frame_over_the_transport_limit_is_never_read_into_memory(daemon):
    before = _peak_memory(daemon.proc.pid)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(daemon.endpoint)
    try:
        sock.send_multipart([b"", b" " * (128 << 20)])
        assert not sock.poll(2000)  # ZeroMQ drops the connection unread: nothing to reply to
        sock.send_multipart([b"", b'{"id": "later", "op": "ping"}'])  # the socket has reconnected by itself
        assert sock.poll(10_000) and json.loads(sock.recv_multipart()[-1])["pong"] is True
    finally:
        sock.close()
    assert _peak_memory(daemon.proc.pid) - before < 32 << 20
    _still_answering(daemon)


def _usable_category(name: str) -> bool:
    """Whether the test model would generate for ``name`` (a category, an alias, loop, or no category)."""
    try:
        resolve_category("tiny", tuple(CATEGORIES), name)
    except BadRequest:
        return False
    return True


def osc_datagrams():
    no_nul = st.text(max_size=20).filter(lambda s: "\0" not in s)
    addresses = st.sampled_from([*OSC_REQUESTS, "/ddbridge", "/other", "/ddbridge/ping/x"]) | no_nul
    # Job requests never name a usable category or an existing source, so nothing is generated.
    arg = st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.floats(allow_nan=True, width=32),
        no_nul.filter(lambda s: not _usable_category(s)),
        st.binary(min_size=1, max_size=16),
        st.booleans(),
    )

    def build(address: str, args: list) -> bytes:
        builder = OscMessageBuilder(address if address.startswith("/") else "/" + address)
        for a in args:
            builder.add_arg(a)
        return builder.build().dgram

    message = st.builds(build, addresses, st.lists(arg, max_size=6))
    noise = st.binary(max_size=100).filter(lambda b: not b.startswith(b"/"))
    return st.lists(st.one_of(message, message, noise), min_size=BATCH, max_size=BATCH)


def test_fuzzed_osc_datagrams_each_get_an_error_or_are_dropped(daemon):
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind(("127.0.0.1", 0))
    sent = 0

    @FUZZ
    @given(batch=osc_datagrams())
    def run(batch):
        nonlocal sent
        expected = 0
        for data in batch:
            out.sendto(data, ("127.0.0.1", daemon.osc_port))
            expected += data.startswith(b"/")  # well-formed messages; random bytes may or may not parse
        replies = 0
        while True:
            out.settimeout(2.0 if replies < expected else 0.1)  # then drain replies to random bytes that parsed
            try:
                msg = OscMessage(out.recv(65536))
            except TimeoutError:
                break
            if msg.address == "/ddbridge/reply":
                reply = json.loads(msg.params[1])
                assert reply["ok"] or reply["error"]["code"] in ERROR_CODES
                assert reply["ok"] or reply["error"]["code"] != "internal", reply
                replies += 1
        assert replies >= expected
        sent += len(batch)

    try:
        run()
    finally:
        out.close()
    assert sent >= 1000
    _still_answering(daemon)


# -- load -----------------------------------------------------------------------------------------


def test_eight_concurrent_clients_get_distinct_valid_files(daemon):
    out = daemon.out / "concurrent"
    out.mkdir()
    results: list[list[dict]] = [[] for _ in range(8)]
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            with daemon.client() as c:
                for _ in range(25):
                    reply = c.generate(category=CATEGORIES[i % 2], steps=2, out_dir=str(out))
                    results[i] += reply["files"]
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    files = [f for r in results for f in r]
    assert len(files) == 200 and len({f["path"] for f in files}) == 200
    assert sorted(p.name for p in out.glob("*.wav")) == sorted(Path(f["path"]).name for f in files)
    for f in files:
        assert sf.info(f["path"]).frames > 0 and json.loads(Path(f["sidecar"]).read_text())["seed"] == f["seed"]


def test_a_full_queue_answers_busy(daemon):
    out = daemon.out / "busy"
    out.mkdir()
    slow = {"op": "generate", "category": "kick", "seconds": 30, "wait": False, "out_dir": str(out)}
    ids = [f"busy-{i}" for i in range(10)]
    with daemon.client() as c:
        try:
            assert c.call({**slow, "id": ids[0], "steps": 1000})["ok"]
            deadline = time.monotonic() + 10
            while c.status()["queue"]["running"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            # different step counts: jobs that cannot share a batch with the running one or each other
            replies = [c.call({**slow, "id": rid, "steps": 999 - i}) for i, rid in enumerate(ids[1:])]
            states = [r.get("state") or r["error"]["code"] for r in replies]
            assert states == ["queued"] * 8 + ["busy"]  # max_queue is 8
            assert "retry" in replies[-1]["error"]["message"]
        finally:
            for rid in ids:
                c.call({"op": "cancel", "job": rid})
        assert c.generate(category="kick", steps=2, out_dir=str(out))["ok"]
    assert len(list(out.glob("*.wav"))) == 1


# -- files ----------------------------------------------------------------------------------------


def test_refused_output_folders(daemon):
    a_file = daemon.allowed / "a-file.txt"
    a_file.write_text("x")
    escape = daemon.allowed / "escape"
    if not escape.exists():
        escape.symlink_to(daemon.outside, target_is_directory=True)
    cases = {
        "relative/Samples": "absolute",
        str(daemon.allowed / "missing"): "does not exist",
        str(a_file): "is a file",
        str(daemon.outside): "outside the allowed roots",
        str(escape): "outside the allowed roots",
    }
    with daemon.client() as c:
        for folder, words in cases.items():
            for key in ("out_dir", "project_dir"):
                reply = c.call({"op": "generate", "category": "kick", "steps": 2, key: folder})
                assert reply["error"]["code"] == "path_refused" and words in reply["error"]["message"], reply
    assert list(daemon.outside.iterdir()) == []


def test_existing_files_are_never_overwritten(daemon):
    out = daemon.out / "precious"
    out.mkdir()
    precious = {out / f"kick_{n:04d}_s5.wav": f"take {n}".encode() for n in range(1, 4)}
    precious[out / "kick_0004_s5.json"] = b"{}"
    for path, data in precious.items():
        path.write_bytes(data)
    with daemon.client() as c:
        files = [c.generate(category="kick", seed=5, steps=2, out_dir=str(out))["files"][0] for _ in range(3)]
    assert all(path.read_bytes() == data for path, data in precious.items())
    new = [Path(f["path"]) for f in files]
    assert len(set(new)) == 3 and not set(new) & set(precious)
    assert all(sf.info(p).frames > 0 for p in new)


def test_kill_9_mid_burst_leaves_no_partial_wav_and_restart_cleans(tmp_path, model):
    daemon = DaemonProcess(model, tmp_path).start()
    out = daemon.out
    try:
        with daemon.client() as c:
            for i in range(40):
                c.call({"id": f"burst-{i}", "op": "generate", "category": "kick", "count": 4, "steps": 2,
                        "seconds": 1.0, "wait": False, "out_dir": str(out)})  # fmt: skip
        deadline = time.monotonic() + 60
        while len(list(out.glob("*.wav"))) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        daemon.kill()
    visible = sorted(out.glob("*.wav"))
    assert len(visible) >= 8
    for path in visible:  # every visible WAV is complete, with its sidecar
        assert sf.read(path)[0].shape[0] > 0 and path.with_suffix(".json").is_file()
    leftover = out / ".kick_0000deadbeef.wav.partial"  # what a crash mid-write leaves
    leftover.write_bytes(b"RIFF")
    restarted = DaemonProcess(model, tmp_path)
    restarted.start()
    try:
        assert [p for p in out.iterdir() if p.name.endswith(".partial")] == []
        assert sorted(out.glob("*.wav")) == visible
        _graceful_stop_answers_waiting_clients(restarted)
    finally:
        restarted.kill()


def _graceful_stop_answers_waiting_clients(daemon: DaemonProcess) -> None:
    reply: dict = {}

    def wait_for_slow_job() -> None:
        with daemon.client() as c:
            reply.update(c.call({"id": uuid.uuid4().hex, "op": "generate", "category": "kick", "steps": 1000,
                                 "seconds": 30, "pool": False, "out_dir": str(daemon.out)}))  # fmt: skip

    waiter = threading.Thread(target=wait_for_slow_job)
    waiter.start()
    time.sleep(1.0)
    assert daemon.stop() == 0  # SIGTERM
    waiter.join(10)
    assert reply["ok"] is False and reply["error"]["code"] == "unavailable"
    assert not [p for p in daemon.out.iterdir() if p.name.endswith(".partial")]
