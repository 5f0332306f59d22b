"""Helpers for tests that drive a real JACK server: start one when none runs, find and connect ports, record.

Also used by ``bench/midi_latency.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from ddbridge.frontends.audition import import_sounddevice, set_jack_client_name

JACKD = ["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "512"]
TEST_CLIENT = "ddbridge-test"
SILENCE = 1e-4


def jack_running() -> bool:
    try:
        return subprocess.run(["jack_lsp"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def jack_server() -> Iterator[None]:
    """A running JACK server: the one already running, or a dummy-driver ``jackd`` started and stopped here.

    Raises ``FileNotFoundError`` when ``jackd`` is not installed.
    """
    if jack_running():
        yield
        return
    if shutil.which("jackd") is None:
        raise FileNotFoundError("jackd is not installed (Debian/Ubuntu: apt install jackd2)")
    proc = subprocess.Popen(JACKD, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_jack_env())
    try:
        deadline = time.monotonic() + 15
        while not jack_running():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jackd did not start (exit {proc.poll()})")
            time.sleep(0.1)
        yield
    finally:
        try:
            _release_portaudio()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture(scope="session")
def jack() -> Iterator[None]:
    """A JACK server for the whole test session; skips the test when ``jackd`` is not installed."""
    try:
        with jack_server():
            yield
    except FileNotFoundError as e:
        pytest.skip(str(e))


def _release_portaudio() -> None:
    """PortAudio in this process must let go of a server before it stops (else it aborts at exit)."""
    sd = sys.modules.get("sounddevice")
    if sd is not None and getattr(sd, "_initialized", 0):
        sd._terminate()


def _jack_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "JACK_DEFAULT_SERVER"}


def ports() -> list[str]:
    """The names of every port on the graph."""
    out = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10).stdout
    return [line for line in out.splitlines() if line and not line[0].isspace()]


def midi_ports() -> list[str]:
    """Names of the MIDI ports on the graph."""
    out = subprocess.run(["jack_lsp", "-t"], capture_output=True, text=True, timeout=10).stdout.splitlines()
    return [name for name, kind in zip(out, out[1:], strict=False) if not name[0].isspace() and "midi" in kind]


def wait_for_ports(predicate, timeout: float = 20.0) -> list[str]:
    """Wait until some ports satisfy ``predicate(name)``; returns them (``TimeoutError`` otherwise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in ports() if predicate(p)]
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError(f"no matching JACK port appeared; ports: {ports()}")


def connect(source: str, destination: str) -> None:
    subprocess.run(["jack_connect", source, destination], check=True, capture_output=True, timeout=10)


class Recorder:
    """A second JACK client (PortAudio's JACK host API) that records what is connected to its inputs.

    Every block is stored with the ``time.perf_counter()`` at which the audio callback received it.
    """

    def __init__(self, channels: int = 2) -> None:
        set_jack_client_name(TEST_CLIENT)  # only the first PortAudio user in a process names the client
        self.sd = import_sounddevice()
        self.channels = channels
        self.blocks: list[tuple[float, np.ndarray]] = []
        self.inputs: list[str] = []
        self.rate = 0
        self._lock = threading.Lock()
        self._stream = None

    def start(self) -> Recorder:
        before = set(ports())
        device = jack_system_device(self.sd)
        self._stream = self.sd.InputStream(
            device=device["index"],
            channels=self.channels,
            samplerate=device["default_samplerate"],
            dtype="float32",
            latency="low",
            callback=self._callback,
        )
        self._stream.start()
        self.rate = int(self._stream.samplerate)
        self.inputs = sorted(p for p in set(ports()) - before if ":in_" in p)
        return self

    def _callback(self, indata: np.ndarray, _frames: int, _time, _status) -> None:
        with self._lock:
            self.blocks.append((time.perf_counter(), indata.copy()))

    def listen_to(self, outputs: list[str]) -> None:
        """Connect ``outputs`` to this recorder's inputs, one to one, and cut its automatic connections."""
        for port in self.inputs:
            for other in _connections(port):
                subprocess.run(["jack_disconnect", other, port], capture_output=True, timeout=10)
        for source, destination in zip(outputs, self.inputs, strict=False):
            connect(source, destination)

    def since(self, start: float) -> tuple[list[float], np.ndarray]:
        """Block arrival times and the audio ``[L, C]`` recorded in blocks that arrived after ``start``."""
        with self._lock:
            chosen = [(t, b) for t, b in self.blocks if t >= start]
        if not chosen:
            return [], np.zeros((0, self.channels), np.float32)
        return [t for t, _ in chosen], np.concatenate([b for _, b in chosen])

    def first_sound(self, start: float, threshold: float = SILENCE) -> float | None:
        """Seconds from ``start`` to the first sample above ``threshold`` (block time + offset in block)."""
        with self._lock:
            chosen = [(t, b) for t, b in self.blocks if t >= start]
        for t, block in chosen:
            loud = np.flatnonzero(np.abs(block).max(axis=1) > threshold)
            if loud.size:
                return t - start + loud[0] / self.rate
        return None

    def wait_for_sound(self, start: float, timeout: float, threshold: float = SILENCE) -> float | None:
        """``first_sound``, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.first_sound(start, threshold)
            if found is not None:
                return found
            time.sleep(0.01)
        return None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None


def jack_system_device(sd) -> dict:
    """PortAudio's device for JACK's physical ports ("system"; other JACK clients are listed as devices too)."""
    for device in sd.query_devices():
        if device["name"] == "system" and "JACK" in sd.query_hostapis(device["hostapi"])["name"]:
            return device
    raise RuntimeError("PortAudio lists no JACK 'system' device; is JACK running?")


def _connections(port: str) -> list[str]:
    out = subprocess.run(["jack_lsp", "-c", port], capture_output=True, text=True, timeout=10).stdout
    return [line.strip() for line in out.splitlines() if line.startswith((" ", "\t"))]
