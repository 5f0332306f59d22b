"""MIDI pads and audition on a real JACK server: notes in over JACK MIDI, sound out on the JACK graph.

The daemon runs as a subprocess with a tiny model; a virtual MIDI output (rtmidi's JACK API) plays
the pads, and a second JACK client records what the daemon's audio output sends.
"""

from __future__ import annotations

import time
from pathlib import Path

import jack_helpers
import mido
import numpy as np
import pytest
import soundfile as sf
from daemon_helpers import SAMPLE_RATE, DaemonProcess, build_tiny_model
from jack_helpers import Recorder, connect, midi_ports, ports

from ddbridge.daemon.config import load_config
from ddbridge.frontends.audition import Audition
from ddbridge.protocol.errors import BadRequest, Unavailable
from ddbridge.sound import render

jack = jack_helpers.jack  # one JACK server for the whole session
KICK, SNARE, KEEP_NOTE, KEEP_CC = 36, 38, 51, 20
LOUD = 0.02


@pytest.fixture(scope="module")
def recorder(jack):
    rec = Recorder().start()
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def pad_daemon(jack, recorder, model, tmp_path_factory):
    """The daemon with MIDI and audition on; yields (daemon, its MIDI input, its audio outputs)."""
    d = DaemonProcess(model, tmp_path_factory.mktemp("pads"), pool_size=2)
    d.config.write_text(
        d.config.read_text()
        + "\n".join(
            [
                "[midi]",
                "enabled = true",
                'api = "jack"',
                f"keep_note = {KEEP_NOTE}",
                f"keep_cc = {KEEP_CC}",
                f'project_dir = "{d.project}"',
                "[audition]",
                'device = "system"',
                "gain_db = 0.0",
                "",
            ]
        )
    )
    before = set(ports())
    with d:
        new = set(ports()) - before
        midi_in = [p for p in midi_ports() if p in new]
        audio_out = sorted(p for p in new if ":out_" in p)
        assert len(midi_in) == 1 and len(audio_out) == 2, (new, d.log.read_text())
        recorder.listen_to(audio_out)
        yield d, midi_in[0]


@pytest.fixture(scope="module")
def pads(pad_daemon):
    """A virtual MIDI output connected to the daemon's MIDI input."""
    _, midi_in = pad_daemon
    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK", load=True)
    out = backend.open_output("pads", virtual=True, client_name="ddbridge-test-pads")
    connect("ddbridge-test-pads:pads", midi_in)
    yield out
    out.close()


def wait_for_pool(client, category: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c["category"] == category and c["ready"] for c in client.pool()["categories"]):
            return
        time.sleep(0.05)
    raise TimeoutError(f"the pool has no {category} ready")


def slot(status: dict, note: int) -> dict:
    return next(s for s in status["midi"]["slots"] if s["note"] == note)


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


def loud_seconds(audio: np.ndarray, rate: int) -> float:
    return float((np.abs(audio).max(axis=1) > LOUD).sum()) / rate


def tone(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.repeat((amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[:, None], 2, axis=1)


def level_at(audio: np.ndarray, rate: int, freq: float) -> float:
    """Amplitude of the ``freq`` component of the first channel."""
    x = audio[:, 0] * np.hanning(len(audio))
    spectrum = np.abs(np.fft.rfft(x)) / (np.hanning(len(audio)).sum() / 2)
    bin_ = int(round(freq * len(audio) / rate))
    return float(spectrum[bin_ - 2 : bin_ + 3].max())


# -- audition on its own ------------------------------------------------------------------------


def test_audition_resamples_mixes_replaces_and_stops(recorder):
    before = set(ports())
    audition = Audition("system", gain_db=0.0)
    audition.start()
    try:
        outputs = sorted(p for p in set(ports()) - before if ":out_" in p)
        assert len(outputs) == 2 and audition.sample_rate == recorder.rate
        recorder.listen_to(outputs)
        rate = recorder.rate

        def record(seconds: float) -> np.ndarray:
            start = time.perf_counter()
            time.sleep(seconds)
            return recorder.since(start)[1]

        # sounds at other rates arrive at the device rate: 440 Hz stays 440 Hz
        audition.play(tone(440, 3.0, 8000), 8000, key="a", gain=0.5)
        audition.play(tone(1000, 3.0, 22050), 22050, key="b")
        both = record(0.4)[-8192:]
        assert level_at(both, rate, 440) == pytest.approx(0.25, rel=0.15)
        assert level_at(both, rate, 1000) == pytest.approx(0.5, rel=0.15)
        assert np.abs(both).max() <= 1.0

        audition.stop("a")  # only voice "a" stops
        only_b = record(0.4)[-8192:]
        assert level_at(only_b, rate, 440) < 0.01
        assert level_at(only_b, rate, 1000) == pytest.approx(0.5, rel=0.15)

        audition.play(tone(660, 3.0, 48000), 48000, key="b")  # a new sound on a key replaces the old one
        replaced = record(0.4)[-8192:]
        assert level_at(replaced, rate, 1000) < 0.01
        assert level_at(replaced, rate, 660) == pytest.approx(0.5, rel=0.15)

        audition.stop("b")
        after = record(0.3)[-4096:]
        assert np.abs(after).max() < 1e-6
        assert audition.state()["played"] == 3 and audition.state()["playing"] == 0
    finally:
        audition.close()


def test_audition_names_a_missing_device(jack):
    audition = Audition("no-such-device-xyz")
    with pytest.raises(Unavailable, match="no-such-device-xyz.*audition is off"):
        audition.start()
    assert not audition.running


# -- pads through the daemon --------------------------------------------------------------------


def test_pad_press_plays_a_pool_sound_fills_its_slot_and_keeps_it(pad_daemon, pads, recorder):
    daemon, _ = pad_daemon
    with daemon.client() as c:
        wait_for_pool(c, "kick")
        start = time.perf_counter()
        pads.send(mido.Message("note_on", note=KICK, velocity=127))
        latency = recorder.wait_for_sound(start, timeout=5.0, threshold=LOUD)
        assert latency is not None, daemon.log.read_text()
        assert latency < 1.0
        time.sleep(0.5)
        audio = recorder.since(start)[1]
        assert np.abs(audio).max() > 0.3  # peak-normalised sound at full velocity, gain 0 dB
        assert loud_seconds(audio, recorder.rate) > 0.05

        status = c.status()
        kick = slot(status, KICK)
        assert kick["state"] == "ready" and kick["category"] == "kick" and kick["from_pool"] is True
        assert isinstance(kick["seed"], int) and kick["presses"] == 1 and kick["error"] is None
        assert status["midi"]["audition"]["played"] == 1 and status["midi"]["last_note"] == KICK
        assert slot(status, SNARE)["state"] == "empty"

        # the keep note writes the last sound into the project folder, once
        folder = daemon.project / "Samples" / "Generated" / "kick"
        pads.send(mido.Message("note_on", note=KEEP_NOTE, velocity=100))
        pads.send(mido.Message("note_off", note=KEEP_NOTE))
        (wav,) = wait_for(lambda: list(folder.glob("*.wav")))
        data, rate = sf.read(wav, dtype="float32")
        assert rate == SAMPLE_RATE and data.shape[1] == 2
        assert len(data) == pytest.approx(kick["seconds"] * SAMPLE_RATE, abs=1)
        assert render.read_metadata(wav)["seed"] == kick["seed"]
        assert wav.name.startswith("kick_") and f"_s{kick['seed']}" in wav.name
        assert wait_for(lambda: slot(c.status(), KICK)["kept"]) == str(wav)
        pads.send(mido.Message("note_on", note=KEEP_NOTE, velocity=100))
        time.sleep(0.5)
        assert list(folder.glob("*.wav")) == [wav]  # the same sound is not kept twice
        assert not list(folder.glob(".*"))  # no partial files

        # a new press brings a new sound; the keep controller keeps that one beside the first
        wait_for_pool(c, "kick")
        pads.send(mido.Message("note_on", note=KICK, velocity=127))
        again = wait_for(lambda: (s := slot(c.status(), KICK))["presses"] == 2 and s["state"] == "ready" and s)
        new_seed = again["seed"]
        pads.send(mido.Message("control_change", control=KEEP_CC, value=127))
        wait_for(lambda: len(list(folder.glob("*.wav"))) == 2)
        second = next(p for p in folder.glob("*.wav") if p != wav)
        assert render.read_metadata(second)["seed"] == new_seed != kick["seed"]


def test_release_cuts_the_sound_and_velocity_scales_it(pad_daemon, pads, recorder):
    daemon, _ = pad_daemon
    with daemon.client() as c:
        rate = recorder.rate
        pads.send(mido.Message("note_off", note=KICK))
        wait_for_pool(c, "kick")
        start = time.perf_counter()
        pads.send(mido.Message("note_on", note=KICK, velocity=127))
        time.sleep(0.8)
        full = recorder.since(start)[1]

        wait_for_pool(c, "kick")
        start = time.perf_counter()
        pads.send(mido.Message("note_on", note=KICK, velocity=32))
        time.sleep(0.8)
        soft = recorder.since(start)[1]

        wait_for_pool(c, "kick")
        start = time.perf_counter()
        pads.send(mido.Message("note_on", note=KICK, velocity=127))
        pads.send(mido.Message("note_on", note=KICK, velocity=0))  # velocity 0 is a note-off
        time.sleep(0.8)
        cut = recorder.since(start)[1]

    assert loud_seconds(full, rate) > 0.05
    assert loud_seconds(cut, rate) < loud_seconds(full, rate) / 4
    # every sound is peak-normalised, so velocity 32 of 127 plays at about a quarter of the level
    assert np.abs(soft).max() == pytest.approx(np.abs(full).max() * 32 / 127, rel=0.2)


def test_daemon_without_audio_or_midi_still_serves(model, tmp_path, monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "ddbridge-test-absent")  # neither PortAudio nor MIDI finds JACK
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    d = DaemonProcess(model, tmp_path, pool_size=0)
    d.config.write_text(d.config.read_text() + '[midi]\nenabled = true\napi = "jack"\n')
    with d, d.client() as c:
        reply = c.generate(category="kick", seed=5, out_dir=str(d.out))
        assert Path(reply["files"][0]["path"]).is_file()
        assert "midi" not in c.status()
        assert "midi" not in d.ready_line
    log = d.log.read_text()
    assert "audition is off" in log
    assert "MIDI is off: cannot open a virtual MIDI input 'ddbridge' (jack MIDI API)" in log
    assert "Traceback" not in log


# -- the [midi] settings ------------------------------------------------------------------------


def test_midi_settings_read_a_note_table_and_refuse_bad_values(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[midi]\nenabled = true\nkeep_note = 60\n[midi.notes]\n36 = "kick"\n40 = "snare"\n')
    config = load_config(path)
    assert config.midi.note_map() == {36: "kick", 40: "snare"}  # the table replaces the default map
    assert load_config(None).midi.note_map()[42] == "hat_closed"
    for text, message in (
        ('[midi.notes]\n128 = "kick"\n', "not a MIDI note"),
        ('[midi.notes]\nkick = "kick"\n', "not a MIDI note"),
        ("[midi]\nkeep_note = 36\n", "also mapped"),
        ("[midi]\nchannel = 17\n", "midi.channel"),
        ('[midi]\napi = "oss"\n', "midi.api"),
        ("[audition]\ngain_db = 40.0\n", "audition.gain_db"),
    ):
        path.write_text(text)
        with pytest.raises(BadRequest, match=message):
            load_config(path)
