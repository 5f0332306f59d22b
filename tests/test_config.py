"""Daemon settings: TOML file, command-line overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddbridge.daemon.config import load_config
from ddbridge.protocol.errors import BadRequest


def test_file_values_then_flag_overrides(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[server]\nzmq_port = 6000\nosc_port = 0\n[models]\nload = ["a", "b"]\nthreads = 1\n'
        '[output]\nallowed_roots = ["~/Music", "/Volumes/Samples"]\n[jobs]\nbatch_window_ms = 2\n'
        '[pool]\nsize = 4\ncategories = ["kick"]\n'
    )
    config = load_config(path, {"server.zmq_port": 7000, "pool.size": None, "state_dir": "/tmp/s"})
    assert config.server.zmq_port == 7000 and config.server.osc_port == 0 and config.server.host == "127.0.0.1"
    assert config.models.load == ["a", "b"] and config.models.threads == 1
    assert config.jobs.batch_window_ms == 2.0 and config.pool.size == 4 and config.pool.categories == ["kick"]
    assert config.allowed_roots() == [(Path.home() / "Music").resolve(), Path("/Volumes/Samples")]
    assert config.state_path() == Path("/tmp/s")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[server]\nport = 1\n", "unknown setting 'server.port'; known: server.host"),
        ("[server]\nzmq_port = '5555'\n", "'server.zmq_port' must be int"),
        ("[server]\nzmq_port = 70000\n", "server.zmq_port must be a port number"),
        ("[models]\ncompile = 1\n", "'models.compile' must be bool"),
        ("[models]\ndevice = 'tpu'\n", "models.device must be auto, cuda, mps or cpu"),
        ("[output]\nbit_depth = 20\n", "output.bit_depth must be 16, 24 or 32"),
        ("[pool]\nsize = 100\n", "pool.size must be 0..64"),
        ("server = 1\n", "'server' must be a table"),
        ("[server\n", "config.toml"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(BadRequest, match=words.replace("(", r"\(").replace(".", r"\.")):
        load_config(path)


def test_a_named_config_file_must_exist(tmp_path):
    with pytest.raises(BadRequest, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_serve_flags_override_the_file(tmp_path):
    from ddbridge.cli import build_parser
    from ddbridge.commands.serve import config_overrides

    path = tmp_path / "config.toml"
    path.write_text('[midi]\nenabled = false\nport = "pads"\n[audition]\ndevice = "hw:1"\n')
    args = build_parser().parse_args(["serve", "--midi", "--audio-device", "3", "--port", "6001", "--threads", "1"])
    config = load_config(path, config_overrides(args))
    assert config.midi.enabled is True and config.midi.port == "pads" and config.audition.device == "3"
    assert config.server.zmq_port == 6001 and config.models.threads == 1
    args = build_parser().parse_args(["serve", "--no-midi", "--midi-port", "keys"])
    config = load_config(path, config_overrides(args))
    assert config.midi.enabled is False and config.midi.port == "keys" and config.audition.device == "hw:1"
