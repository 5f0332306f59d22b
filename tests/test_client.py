"""The Python client and ``ddbridge request`` against real ZeroMQ sockets (a ROUTER played by the test)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import zmq
from daemon_helpers import REPO, free_port

from ddbridge.client.connection import Client
from ddbridge.protocol.errors import PathRefused, Unavailable


class Router:
    """A ROUTER on a free port whose answers the test scripts: ``answer(request, attempt) -> reply | None``."""

    def __init__(self, answer) -> None:
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.answer, self.seen = answer, []
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(self.endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(50):
                continue
            frames = self.sock.recv_multipart()
            request = json.loads(frames[-1])
            self.seen.append(request)
            reply = self.answer(request, len(self.seen))
            if reply is not None:
                self.sock.send_multipart([*frames[:-1], json.dumps(reply).encode()])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def router(request):
    r = Router(request.param)
    yield r
    r.close()


def _ok(request, _attempt):
    return {"v": 1, "id": request["id"], "ok": True, "pong": True, "version": "x", "protocol": 1}


def _second_try(request, attempt):
    return _ok(request, attempt) if attempt >= 2 else None


@pytest.mark.parametrize("router", [_second_try], indirect=True)
def test_lazy_pirate_resends_the_same_request_after_a_timeout(router):
    with Client(router.endpoint, timeout=0.3, retries=3) as c:
        reply = c.ping()
    assert reply["pong"] is True
    assert len(router.seen) == 2 and router.seen[0] == router.seen[1]  # same id: the daemon dedupes it


def _stale_then_right(request, attempt):
    if attempt == 1:
        return {"v": 1, "id": "someone-else", "ok": True}
    return _ok(request, attempt)


@pytest.mark.parametrize("router", [_stale_then_right], indirect=True)
def test_replies_to_other_requests_are_skipped(router):
    with Client(router.endpoint, timeout=0.5, retries=2) as c:
        reply = c.call({"id": "mine", "op": "ping"})
    assert reply["id"] == "mine"


def _refuse(request, _attempt):
    return {"v": 1, "id": request["id"], "ok": False, "error": {"code": "path_refused", "message": "not there"}}


@pytest.mark.parametrize("router", [_refuse], indirect=True)
def test_error_replies_raise_their_error_class(router):
    with Client(router.endpoint, timeout=1.0) as c:
        with pytest.raises(PathRefused, match="not there"):
            c.generate(category="kick", out_dir="/nowhere")
        assert c.call({"op": "generate"})["error"]["code"] == "path_refused"  # call() returns it as is
    assert router.seen[0]["category"] == "kick" and "seed" not in router.seen[0]  # None fields are left out


def test_no_daemon_gives_a_clear_error_in_bounded_time():
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with Client(endpoint, timeout=0.2, retries=2) as c, pytest.raises(Unavailable, match="after 2 tries"):
        c.ping()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("router", [_ok], indirect=True)
def test_cli_request_prints_a_summary_or_json(router):
    run = [sys.executable, "-m", "ddbridge", "request", "ping", "--endpoint", router.endpoint]
    human = subprocess.run(run, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert human.returncode == 0 and human.stdout.strip() == "pong: ddbridge x, protocol 1"
    machine = subprocess.run([*run, "--json"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert json.loads(machine.stdout)["pong"] is True


def test_cli_request_generate_sends_tempo_genre_and_note_as_the_protocol_takes_them():
    from ddbridge.cli import build_parser
    from ddbridge.commands.request import request_fields

    loop = build_parser().parse_args(["request", "generate", "--bpm", "124", "--bars", "2", "--genre", "house"])
    assert request_fields(loop) == {"bpm": 124.0, "bars": 2, "genre": "house", "wait": False}
    assert request_fields(build_parser().parse_args(["request", "generate", "--note", "36"]))["note"] == 36
    assert request_fields(build_parser().parse_args(["request", "generate", "--note", "F#1"]))["note"] == "F#1"


def test_cli_request_without_a_daemon_prints_one_line():
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    args = [sys.executable, "-m", "ddbridge", "request", "status", "--endpoint", endpoint, "--timeout", "0.2"]
    result = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("ddbridge: error: no reply from the daemon") and result.stderr.count("\n") == 1


def test_clients_and_front_ends_never_import_torch():
    code = (
        "import sys, ddbridge.client.connection, ddbridge.client.delivery, ddbridge.client.via_daemon, "
        "ddbridge.protocol.messages, ddbridge.protocol.published, ddbridge.frontends.zmq, ddbridge.frontends.osc, "
        "ddbridge.commands.request; print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
