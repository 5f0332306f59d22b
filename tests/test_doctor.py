"""``ddbridge doctor`` as a user runs it: a subprocess, with and without a JACK server, with a broken config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import jack_helpers
import mido
from daemon_helpers import REPO, free_port

jack = jack_helpers.jack  # one JACK server for the whole session


def doctor(config, **env) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "ddbridge", "doctor", "--config", str(config)]
    full_env = {**os.environ, **env}
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120, env=full_env)


def test_doctor_reports_devices_ports_and_config(jack, tmp_path):
    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK", load=True)
    taken, free, osc = socket.socket(), free_port(), free_port(socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(
        f"[server]\nzmq_port = {busy}\npub_port = {free}\nosc_port = {osc}\n"
        '[midi]\nenabled = true\napi = "jack"\nport = "doctor-pads"\nkeep_note = 60\n'
        '[audition]\ndevice = "system"\n'
    )
    with taken, backend.open_output("pads", virtual=True, client_name="doctor-pads"):
        result = doctor(config)
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert f"file: {config}" in out
    assert '[midi]\n    enabled = true\n    api = "jack"' in out  # the config in force, as TOML
    assert "keep_note = 60" in out and '36 = "kick"' in out
    assert "CUDA:" in out or "CUDA device 0:" in out
    assert "system (JACK Audio Connection Kit): 2 out, 48000 Hz" in out
    assert "audition.device 'system' -> system (JACK Audio Connection Kit)" in out
    assert "jack: 'doctor-pads:pads'" in out
    assert f"requests (ZeroMQ) tcp://127.0.0.1:{busy}: in use" in out
    assert f"events (ZeroMQ) tcp://127.0.0.1:{free}: free" in out
    assert f"OSC udp://127.0.0.1:{osc}: free" in out
    assert result.returncode == 1  # the port another program holds is the one problem
    (problem,) = [line for line in out.splitlines() if line.startswith("  problem:")]
    assert str(busy) in problem


def test_doctor_without_audio_or_midi_names_the_problems(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f"[server]\nzmq_port = {free_port()}\npub_port = {free_port()}\nosc_port = 0\n"
        '[midi]\nenabled = true\napi = "jack"\n'
    )
    result = doctor(config, JACK_DEFAULT_SERVER="ddbridge-test-absent", JACK_NO_START_SERVER="1")
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "PROBLEM: no audio output device found" in out
    assert "PROBLEM: jack: unavailable (MidiInJack::initialize: JACK server not running?)" in out
    assert "OSC: off" in out
    assert result.returncode == 1


def test_doctor_reports_a_broken_config_and_checks_the_rest(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[server]\nzmq_prot = 5555\n")
    result = doctor(config, JACK_DEFAULT_SERVER="ddbridge-test-absent", JACK_NO_START_SERVER="1")
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "PROBLEM:" in out and "unknown setting 'server.zmq_prot'" in out
    assert "the checks below use the defaults" in out
    assert "network ports" in out and "MIDI inputs" in out  # later checks still ran
    assert result.returncode == 1
