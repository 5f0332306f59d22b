"""The real daemon over real OSC (UDP) sockets, replying to a configured reply port."""

from __future__ import annotations

import json
import re
import socket
import struct
import time
from pathlib import Path

import jsonschema
import pytest
import soundfile as sf
from daemon_helpers import SAMPLE_RATE, DaemonProcess, build_tiny_model, vector_variables
from protocol_vectors import run as run_vectors
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from riff_reader import riff_chunks

from ddbridge.frontends.osc import DROP_NOTE_INTERVAL_S
from ddbridge.protocol.schema import ERROR_REPLY, reply_schema


class OscPeer:
    """Sends OSC to the daemon from one socket; collects replies on another (the configured reply port)."""

    def __init__(self, port: int, inbox: socket.socket) -> None:
        self.port, self.inbox = port, inbox
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.pending: list[tuple[str, list]] = []

    def send(self, address: str, *args) -> None:
        builder = OscMessageBuilder(address)
        for a in args:
            builder.add_arg(a)
        self.out.sendto(builder.build().dgram, ("127.0.0.1", self.port))

    def send_raw(self, data: bytes) -> None:
        self.out.sendto(data, ("127.0.0.1", self.port))

    def receive(self, timeout: float) -> tuple[str, list] | None:
        self.inbox.settimeout(timeout)
        try:
            data = self.inbox.recv(65536)
        except TimeoutError:
            return None
        msg = OscMessage(data)
        return msg.address, list(msg.params)

    def collect(self, rid: str, until: str = "/ddbridge/reply", timeout: float = 60.0) -> list[tuple[str, list]]:
        """Messages whose first argument is ``rid``, up to and including the first ``until`` message."""
        got, deadline = [], time.monotonic() + timeout
        kept = [m for m in self.pending if m[1][:1] == [rid]]
        self.pending = [m for m in self.pending if m[1][:1] != [rid]]
        for m in kept:
            got.append(m)
            if m[0] == until:
                return got
        while time.monotonic() < deadline:
            m = self.receive(deadline - time.monotonic())
            if m is None:
                break
            if m[1][:1] != [rid]:
                self.pending.append(m)
                continue
            got.append(m)
            if m[0] == until:
                return got
        raise AssertionError(f"no {until} for {rid!r}; got {got}")

    def close(self) -> None:
        self.out.close()


@pytest.fixture(scope="module")
def inbox():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, inbox):
    root = tmp_path_factory.mktemp("osc")
    model = build_tiny_model(tmp_path_factory.mktemp("model"), loops=True)  # the vectors ask for loops
    with DaemonProcess(model, root, pool_size=0, osc_reply_port=inbox.getsockname()[1]) as d:
        yield d


@pytest.fixture
def osc(daemon, inbox):
    peer = OscPeer(daemon.osc_port, inbox)
    yield peer
    peer.close()


def _reply(messages: list[tuple[str, list]]) -> dict:
    address, args = messages[-1]
    assert address == "/ddbridge/reply"
    return json.loads(args[1])


def test_ping_replies_on_the_configured_port(osc):
    osc.send("/ddbridge/ping", "p-1")
    msgs = osc.collect("p-1")
    assert msgs[0][0] == "/ddbridge/pong" and isinstance(msgs[0][1][1], str)
    assert _reply(msgs)["pong"] is True


def test_generate_with_positional_arguments(daemon, osc):
    osc.send("/ddbridge/generate", "g-1", "kick", 2, 0.2)
    msgs = osc.collect("g-1")
    done = [args for address, args in msgs if address == "/ddbridge/done"]
    assert [(d[3], d[4]) for d in done] == [(0, 2), (1, 2)]
    folder = daemon.allowed / "default-project" / "Samples" / "Generated" / "kick"
    for _, path, seed, _, _ in done:
        assert Path(path).parent == folder and path.endswith(f"_s{seed}.wav")
        assert 0 < sf.info(path).frames <= round(0.2 * SAMPLE_RATE)
    reply = _reply(msgs)
    assert reply["ok"] and [f["path"] for f in reply["files"]] == [d[1] for d in done]


def test_ints_and_floats_are_accepted_where_they_lose_nothing(osc):
    osc.send("/ddbridge/generate", 77, "snare", 1.0, 1)
    reply = _reply(osc.collect("77"))
    assert reply["ok"] and reply["id"] == "77" and len(reply["files"]) == 1
    osc.send("/ddbridge/generate", "g-2", "snare", 1.5)
    msgs = osc.collect("g-2")
    assert msgs[0][0] == "/ddbridge/error" and msgs[0][1][1] == "bad_request" and "count" in msgs[0][1][2]


def test_generate_takes_a_root_note_after_the_seed(osc):
    osc.send("/ddbridge/generate", "g-note", "kick", 1, 0.2, 7, "C2")
    reply = _reply(osc.collect("g-note"))
    assert reply["ok"], reply
    meta = reply["files"][0]["metadata"]
    assert meta["note_asked"] == "C2" and isinstance(meta["tuned"], bool) and meta["tuning"]
    assert meta.get("midi_note") == (36 if meta["tuned"] else None)
    osc.send("/ddbridge/generate", "g-bad-note", "kick", 1, 0.2, 7, "H9")
    msgs = osc.collect("g-bad-note")
    assert msgs[0][0] == "/ddbridge/error" and msgs[0][1][1] == "bad_request" and "note" in msgs[0][1][2]


def test_loop_at_a_tempo_answers_like_generate(daemon, osc):
    osc.send("/ddbridge/loop", "l-1", "house", 124, 2, 2)  # an int tempo is taken as the float it is
    msgs = osc.collect("l-1")
    done = [args for address, args in msgs if address == "/ddbridge/done"]
    assert [(d[3], d[4]) for d in done] == [(0, 2), (1, 2)]
    reply = _reply(msgs)
    jsonschema.validate(reply, reply_schema("generate"))
    assert reply["ok"] and [f["path"] for f in reply["files"]] == [d[1] for d in done]
    folder = daemon.allowed / "default-project" / "Samples" / "Generated" / "loop"
    frames = round(2 * 4 * 60 / 124 * SAMPLE_RATE)  # exactly two bars of 4/4 at 124 BPM
    for (_, path, seed, _, _), entry in zip(done, reply["files"], strict=True):
        assert Path(path).parent == folder and re.fullmatch(rf"loop_house_124bpm_\d{{4}}_s{seed}\.wav", Path(path).name)
        assert sf.info(path).frames == frames
        meta = json.loads(Path(path).with_suffix(".json").read_text())
        assert (meta["loop"], meta["bpm"], meta["bars"], meta["beats"], meta["genre"]) == (True, 124, 2, 8, "house")
        assert entry["metadata"] == meta
        chunks = riff_chunks(path)
        flags, note, _, _, beats, denominator, numerator, tempo = struct.unpack("<IHHfIHHf", chunks[b"acid"])
        assert (flags & 0x01, beats, numerator, denominator, tempo) == (0, 8, 4, 4, 124.0)  # a loop, not a one-shot
        smpl = struct.unpack("<9I6I", chunks[b"smpl"])
        assert (smpl[3], smpl[7], smpl[11], smpl[12]) == (60, 1, 0, frames - 1)  # unity note, one loop, its ends


def test_loop_tempo_and_seconds_arrive_as_the_decimals_sent(daemon, osc):
    osc.send("/ddbridge/loop", "l-2", "", 128.3, 1, 1, 9)  # 128.3 as float32 is 128.300003...: read as 128.3
    (entry,) = _reply(osc.collect("l-2"))["files"]
    assert Path(entry["path"]).name.startswith("loop_128-3bpm_") and entry["path"].endswith("_s9.wav")
    assert (entry["metadata"]["bpm"], entry["metadata"]["genre"]) == (128.3, "any")
    assert struct.unpack("<IHHfIHHf", riff_chunks(entry["path"])[b"acid"])[-1] == pytest.approx(128.3, abs=1e-4)
    assert sf.info(entry["path"]).frames == round(4 * 60 / 128.3 * SAMPLE_RATE)
    osc.send("/ddbridge/generate", "g-3", "kick", 1, 0.3)
    (entry,) = _reply(osc.collect("g-3"))["files"]
    assert entry["metadata"]["request_seconds"] == 0.3


def test_async_request_reports_progress_then_done(daemon, osc):
    request = {
        "id": "a-1",
        "op": "generate",
        "category": "kick",
        "steps": 30,
        "wait": False,
        "out_dir": str(daemon.out),
    }
    osc.send("/ddbridge/request", json.dumps(request))
    assert _reply(osc.collect("a-1"))["state"] in ("queued", "running")
    msgs = osc.collect("a-1", until="/ddbridge/done")
    progress = [args[1] for address, args in msgs if address == "/ddbridge/progress"]
    assert len(progress) >= 5 and progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert Path(msgs[-1][1][1]).is_file()


def test_variate_and_cancel(daemon, osc):
    osc.send("/ddbridge/generate", "src-1", "kick", 1)
    (source,) = [args[1] for address, args in osc.collect("src-1") if address == "/ddbridge/done"]
    osc.send("/ddbridge/variate", "v-1", source, 0.5, 2)
    reply = _reply(osc.collect("v-1"))
    assert reply["ok"] and all(f["metadata"]["source"] == source for f in reply["files"])

    slow = {"id": "slow-osc", "op": "generate", "category": "kick", "steps": 1000, "seconds": 30, "wait": False}
    osc.send("/ddbridge/request", json.dumps({**slow, "out_dir": str(daemon.out)}))
    assert _reply(osc.collect("slow-osc"))["ok"]
    osc.send("/ddbridge/cancel", "c-1", "slow-osc")
    assert _reply(osc.collect("c-1"))["state"] == "cancelled"
    (error,) = osc.collect("slow-osc", until="/ddbridge/error")
    assert error[1][1] == "cancelled"


@pytest.mark.parametrize(
    ("address", "args", "rid", "words"),
    [
        ("/ddbridge/dance", ["e-1"], "e-1", "unknown OSC address"),
        ("/ddbridge/extend", ["e-2"], "e-2", "missing: source, seconds"),
        ("/ddbridge/ping", ["e-3", 1], "e-3", "at most 0 arguments"),
        ("/ddbridge/ping", [], "", "request id"),
        ("/ddbridge/generate", ["e-4", "hihat"], "e-4", "unknown category"),
        ("/ddbridge/generate", ["e-5", "kick", 1, 1.0, 1, "C2", "extra"], "e-5", "at most 5"),
        ("/ddbridge/request", ["{broken"], "", "not valid JSON"),
        ("/ddbridge/loop", ["e-6", "house", 120.0], "e-6", "missing: bars"),
        ("/ddbridge/loop", ["e-7", "house", 60.0, 1], "e-7", "bpm must be 70-180"),
        ("/ddbridge/loop", ["e-8", "polka", 120.0, 1], "e-8", "unknown genre 'polka'"),
        ("/ddbridge/loop", ["e-9", "techno", 120.0, 3], "e-9", "bars must be one of 1, 2, 4"),
        ("/ddbridge/loop", ["e-10", "house", 400.0, 1], "e-10", "field 'bpm': must be <= 300"),
    ],
)
def test_errors_name_the_problem(osc, address, args, rid, words):
    osc.send(address, *args)
    msgs = osc.collect(rid)
    (error,) = [a for addr, a in msgs if addr == "/ddbridge/error"]
    assert error[1] == "bad_request" and words in error[2]
    assert _reply(msgs)["error"]["code"] == "bad_request"


def test_datagrams_that_are_not_osc_are_dropped(osc):
    osc.send_raw(b"hello, daemon")
    osc.send_raw(b"/ddbridge/ping\0\0,i\0\0")  # promises an int it does not carry
    osc.send_raw(b"#bundle\0\0\0")  # a bundle without its time tag
    assert osc.receive(0.5) is None
    osc.send("/ddbridge/ping", "after")
    assert _reply(osc.collect("after"))["ok"]


def _bundle(*elements: bytes) -> bytes:
    """An OSC bundle to be run at once holding ``elements``, each preceded by its size."""
    return b"#bundle\0" + struct.pack(">Q", 1) + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def test_unreadable_datagrams_are_dropped_whole_with_one_short_log_line_at_a_time(daemon, osc):
    garbage = bytes(range(256)) * 234  # 59,904 bytes that are neither an OSC message nor a bundle
    ping = OscMessageBuilder("/ddbridge/ping")
    ping.add_arg("in-a-bad-bundle")

    def handled(step: int) -> None:  # every datagram sent before this one has been handled (one thread)
        osc.send("/ddbridge/ping", f"sync-{step}")
        assert _reply(osc.collect(f"sync-{step}"))["ok"]

    time.sleep(DROP_NOTE_INTERVAL_S)  # no note from an earlier test holds back the first one here
    before = daemon.log.stat().st_size
    for step in range(100):
        osc.send_raw(_bundle(garbage))
        handled(step)  # one at a time, so that no datagram overflows the daemon's receive buffer
    osc.send_raw(_bundle(garbage, ping.build().dgram))  # dropped whole, the ping inside too
    osc.send_raw(b"/ddbridge/ping\0\0,sX\0in-an-odd-message\0\0\0")  # X is no OSC type tag
    osc.send_raw(b"/ddbridge/ping\0\0," + b"X" * 60_000 + b"\0\0\0\0")
    handled(100)
    assert not osc.pending and osc.receive(0.3) is None  # nothing answered any of them
    grown = daemon.log.read_bytes()[before:].decode("utf-8", "replace")
    assert len(grown) < 2000 and "dropped a 59924-byte datagram" in grown.splitlines()[0]
    time.sleep(DROP_NOTE_INTERVAL_S)  # past the limit, the next note counts what went unnoted
    osc.send_raw(b"#bundle\0\0\0")
    handled(101)
    logged = daemon.log.read_bytes()[before:].decode("utf-8", "replace").splitlines()
    notes = [line for line in logged if "dropped a" in line]
    assert "dropped a 10-byte datagram" in notes[-1] and all(len(line) < 300 for line in notes)
    # The first note's count is of drops before this test; every later one counts what went unnoted since.
    unnoted = [int(m.group(1)) for line in notes[1:] if (m := re.search(r"; (\d+) more since the last note", line))]
    assert len(notes) + sum(unnoted) == 104  # every datagram was dropped and counted


def test_protocol_vectors_pass_over_osc(daemon, osc):
    def send(text: str) -> dict:
        try:
            request = json.loads(text, parse_constant=_not_json)
        except ValueError:
            request = None
        rid = request.get("id") if isinstance(request, dict) else None
        rid = rid if isinstance(rid, str) and 0 < len(rid) <= 128 else ""
        osc.send("/ddbridge/request", text)
        return _reply(osc.collect(rid))

    def check(reply: dict, request: dict | None) -> None:
        op = request.get("op") if isinstance(request, dict) else None
        jsonschema.validate(reply, reply_schema(op) if isinstance(op, str) and reply["ok"] else ERROR_REPLY)

    names, failures = run_vectors(send, vector_variables(daemon), check)
    assert not failures, "\n".join(failures)
    assert len(names) >= 60


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")  # a message with NaN has no id the daemon could echo
