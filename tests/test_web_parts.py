"""The page's server-side parts on their own: guard, form translation, library checks, waveforms and the map."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from daemon_helpers import DaemonProcess, build_tiny_model

from ddbridge.commands.serve import config_overrides
from ddbridge.daemon.config import load_config
from ddbridge.protocol.errors import BadAudio, BadRequest, PathRefused
from ddbridge.web import analysis, forms
from ddbridge.web.guard import Guard
from ddbridge.web.library import Library


def headers(**h: str) -> dict:
    return {k.replace("_", "-"): v for k, v in h.items()}


def test_guard_accepts_the_page_itself_and_refuses_other_hosts_and_sites():
    guard = Guard("127.0.0.1", 5557)
    own = {"Host": "127.0.0.1:5557"}
    assert guard.refusal("GET", "/", own) is None
    assert guard.refusal("GET", "/", {"Host": "localhost:5557"}) is None
    assert guard.refusal("POST", "/api/jobs", {**own, "Origin": "http://127.0.0.1:5557"}) is None
    assert "Host" in guard.refusal("GET", "/", {"Host": "127.0.0.1:5558"})
    assert "Host" in guard.refusal("GET", "/", {"Host": "rebind.example:5557"})
    assert "Host" in guard.refusal("GET", "/", {})
    assert "another site" in guard.refusal("GET", "/api/library", {**own, "Origin": "http://localhost:5558"})
    assert "Origin" in guard.refusal("POST", "/api/jobs", own)
    assert "Origin" in guard.refusal("GET", "/api/events", {**own, "Upgrade": "websocket"})
    cross = {**own, "Sec-Fetch-Site": "cross-site"}
    assert guard.refusal("GET", "/", {**cross, "Sec-Fetch-Mode": "navigate"}) is None  # a link to the page
    assert "another site" in guard.refusal("GET", "/api/file", {**cross, "Sec-Fetch-Mode": "no-cors"})
    assert "another site" in guard.refusal("GET", "/", {**own, "Sec-Fetch-Site": "same-site"})


def test_guard_takes_configured_host_names_and_a_specific_bind_address():
    guard = Guard("192.0.2.10", 8000, ["studio.local"])
    assert guard.refusal("GET", "/", {"Host": "studio.local:8000"}) is None
    assert guard.refusal("GET", "/", {"Host": "192.0.2.10:8000"}) is None
    assert (
        guard.refusal("POST", "/api/jobs", {"Host": "studio.local:8000", "Origin": "http://studio.local:8000"}) is None
    )
    assert guard.refusal("GET", "/", {"Host": "other.local:8000"}) is not None
    assert Guard("0.0.0.0", 8000).hosts == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}


def test_job_forms_become_protocol_requests():
    ok = Path("/abs/sound.wav")
    request = forms.job_request(
        {
            "op": "generate",
            "category": "kick",
            "count": 2,
            "seed": "",
            "steps": None,
            "loop": True,
            "bars": 2,
            "bpm": 124.5,
            "genre": "boom-bap",
        },
        lambda v: ok,
    )
    assert request["wait"] is False and request["id"]
    assert (request["bpm"], request["bars"], request["genre"]) == (124.5, 2, "boom-bap")  # the protocol's own fields
    assert not {"seconds", "seed", "steps"} & set(request)
    assert forms.job_request({"op": "variate", "source": "/x.wav"}, lambda v: ok)["source"] == str(ok)
    for form, words in (({"op": "delete"}, "unknown op"), ([], "JSON object")):
        with pytest.raises(BadRequest, match=words):
            forms.job_request(form, lambda v: ok)


def test_regenerate_requests_follow_the_metadata_of_both_writers(tmp_path):
    path = tmp_path / "kick_0001_s7.wav"
    daemon_meta = {"seed": 7, "model": "default", "sampler": "dpmpp-2m", "steps": 6, "category": "kick",
                   "op": "generate", "guidance_scale": 3.0, "loop": False, "sample_rate": 44100, "bit_depth": 24,
                   "normalize": "peak", "request_seconds": 0.5}  # fmt: skip
    r = forms.regenerate_request(path, daemon_meta)
    assert {k: r[k] for k in ("op", "seed", "model", "steps", "guidance_scale", "seconds", "out_dir")} == {
        "op": "generate", "seed": 7, "model": "default", "steps": 6, "guidance_scale": 3.0, "seconds": 0.5,
        "out_dir": str(tmp_path),
    }  # fmt: skip
    assert forms.regenerate_request(path, {**daemon_meta, "note_asked": "C2", "tuned": False})["note"] == "C2"
    cli_meta = {"seed": 3, "model": "default", "task": "interpolate", "sources": ["/a.wav", "/b.wav"], "position": 0.25}
    r = forms.regenerate_request(path, cli_meta)
    assert (r["op"], r["source_a"], r["source_b"], r["positions"], r["guidance_scale"]) == (
        "interpolate", "/a.wav", "/b.wav", [0.25], 1.0)  # fmt: skip
    with pytest.raises(BadRequest, match="lacks source"):
        forms.regenerate_request(path, {"seed": 1, "model": "m", "op": "variate", "strength": 0.5})


def test_regenerating_a_loop_asks_for_its_tempo_and_genre_again(tmp_path):
    path = tmp_path / "loop_house_124bpm_0001_s7.wav"
    meta = {"seed": 7, "model": "default", "category": "loop", "op": "generate", "loop": True, "bpm": 124.0, "bars": 2,
            "beats": 8, "genre": "house", "request_seconds": 3.871}  # fmt: skip
    r = forms.regenerate_request(path, meta)
    assert {k: r.get(k) for k in ("loop", "bpm", "bars", "genre", "seconds")} == {
        "loop": True, "bpm": 124.0, "bars": 2, "genre": "house", "seconds": None}  # fmt: skip
    r = forms.regenerate_request(path, {**meta, "genre": "any"})  # none sent: a model without a loop network takes it
    assert (r["bpm"], r["bars"]) == (124.0, 2) and "genre" not in r
    with pytest.raises(BadRequest, match="lacks bars"):
        forms.regenerate_request(path, {**meta, "bars": None})
    more = forms.more_like_this_request(path, meta, None, None)
    assert (more["op"], more["loop"], more["category"]) == ("variate", True, "loop")


def write_sound(folder: Path, name: str, meta: dict | None = None, seconds: float = 0.25) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rate = 8000
    t = np.arange(int(rate * seconds)) / rate
    path = folder / name
    sf.write(path, (np.sin(2 * np.pi * 110 * t) * np.exp(-t * 20)).astype(np.float32), rate)
    if meta is not None:
        path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def test_the_library_lists_only_sounds_ddbridge_wrote_inside_the_roots(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    meta = {"seed": 1, "model": "m", "category": "kick"}
    old = write_sound(root / "a", "kick_0001_s1.wav", meta)
    os.utime(old, (1, 1))
    new = write_sound(root / "a" / "deeper", "kick_0002_s2.wav", {**meta, "seed": 2})
    write_sound(root / "a", "foreign.wav")  # no sidecar
    write_sound(root / "a", "bad.wav").with_suffix(".json").write_text("[1, 2]")  # not ddbridge's metadata
    secret = write_sound(outside, "secret.wav", meta)
    (root / "a" / "link.wav").symlink_to(secret)
    (root / "a" / "link.json").write_text(json.dumps(meta))
    library = Library([root], lambda: [root / "a", outside, root / "missing"], tmp_path / "marks.json", tmp_path / "up")

    assert [e["path"] for e in library.sounds()] == [str(new), str(old)]
    entry = library.sounds()[0]
    assert (entry["category"], entry["op"], entry["meta"]["seed"]) == ("kick", "generate", 2)
    assert len(entry["peaks"]["min"]) == analysis.PEAK_BUCKETS and max(entry["peaks"]["max"]) > 50

    library.mark(new, "hidden", True)
    library.mark(old, "favourite", True)
    assert [e["path"] for e in library.sounds()] == [str(old)] and library.sounds()[0]["favourite"]
    reread = Library([root], lambda: [root / "a"], tmp_path / "marks.json", tmp_path / "up")
    assert [e["path"] for e in reread.sounds(include_hidden=True)] == [str(new), str(old)]
    assert reread.sounds(include_hidden=True)[0]["hidden"] and new.is_file()
    with pytest.raises(BadRequest, match="unknown mark"):
        library.mark(new, "deleted", True)

    for value, error, words in (
        (str(root / "a" / ".." / "a" / "kick_0001_s1.wav"), PathRefused, "traversal"),
        (str(secret), PathRefused, "outside"),
        (str(root / "a" / "link.wav"), PathRefused, "outside"),
        (str(root / "a" / "foreign.wav"), PathRefused, "sidecar"),
        (str(root / "a" / "nothing.wav"), BadAudio, "does not exist"),
        ("kick_0001_s1.wav", PathRefused, "absolute"),
        (None, BadRequest, "non-empty"),
    ):
        with pytest.raises(error, match=words):
            library.sound(value)
    upload = tmp_path / "up" / "x.wav"
    write_sound(upload.parent, upload.name)
    assert library.source(str(upload)) == upload.resolve()
    with pytest.raises(PathRefused):
        library.source(str(root / "a" / "foreign.wav"))


def test_a_loop_is_listed_as_a_loop_even_without_a_category(tmp_path):
    folder = tmp_path / "a"
    write_sound(folder, "loop_124bpm_0001_s3.wav", {"seed": 3, "model": "m", "loop": True, "bpm": 124.0, "bars": 1})
    write_sound(folder, "sample_0001_s4.wav", {"seed": 4, "model": "m", "loop": False})
    library = Library([tmp_path], lambda: [folder], tmp_path / "marks.json", tmp_path / "up")
    listed = {Path(e["path"]).name: e["category"] for e in library.sounds()}
    assert listed == {"loop_124bpm_0001_s3.wav": "loop", "sample_0001_s4.wav": ""}


def test_spectrogram_and_map_layout():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 5))
    b = rng.normal(size=(6, 5)) + 10.0
    coords = analysis.layout(np.concatenate([a, b]))
    assert coords.shape == (12, 2) and coords.min() >= 0 and coords.max() <= 1
    assert abs(coords[:6, 0].mean() - coords[6:, 0].mean()) > 0.5  # the two groups land apart
    assert analysis.layout(np.ones((3, 4))).tolist() == [[0.5, 0.5]] * 3
    assert analysis.layout(np.ones((1, 4))).tolist() == [[0.5, 0.5]]


def test_spectrogram_puts_a_tone_in_its_band(tmp_path):
    path = write_sound(tmp_path, "tone.wav", seconds=0.5)
    spec = analysis.spectrogram(path)
    image = np.frombuffer(base64.b64decode(spec["data"]), dtype=np.uint8).reshape(spec["rows"], spec["columns"])
    freqs = np.geomspace(spec["low_hz"], spec["high_hz"], spec["rows"])
    loudest = freqs[image[:, 10].argmax()]
    assert 80 < loudest < 150, loudest


def test_web_settings_and_serve_flags():
    config = load_config(None, {"server.web_port": 0, "web.allowed_hosts": ["studio.local"], "web.open": True})
    assert (config.server.web_port, config.web.allowed_hosts, config.web.open) == (0, ["studio.local"], True)
    with pytest.raises(BadRequest, match="web_port"):
        load_config(None, {"server.web_port": 70000})
    with pytest.raises(BadRequest, match="not a host name"):
        load_config(None, {"web.allowed_hosts": ["http://studio.local:80"]})
    from ddbridge.cli import build_parser

    args = build_parser().parse_args(["serve", "--open", "--web-port", "8080"])
    assert {k: v for k, v in config_overrides(args).items() if k in ("web.open", "server.web_port")} == {
        "web.open": True, "server.web_port": 8080}  # fmt: skip


def test_open_starts_the_browser_on_the_page(tmp_path, monkeypatch):
    """``web.open`` (``serve --open``) hands the page's address to the system browser ($BROWSER here)."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n"
    )
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BROWSER", str(browser))
    model = build_tiny_model(tmp_path)
    with DaemonProcess(model, tmp_path / "d", pool_size=0, extra_config="[web]\nopen = true\n") as daemon:
        from browser_helpers import wait_for

        assert wait_for(lambda: opened.exists() and opened.read_text(), 20, "the browser") == daemon.url
        assert f"page {daemon.url}" in daemon.ready_line
