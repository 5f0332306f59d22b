"""The web page in a real browser: headless Chromium against a real daemon serving a tiny model.

One daemon and one browser serve the whole module; every test works on sounds it makes itself.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import jsonschema
import numpy as np
import pytest
import soundfile as sf
from browser_helpers import chromium, console_errors, wait_for
from daemon_helpers import CATEGORIES, SAMPLE_RATE, SAMPLE_SIZE, DaemonProcess, build_tiny_model, free_port
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from tiny_models import save_with_loop_network, tiny_bundle, tiny_loop_network

from ddbridge.loops.genres import GENRES
from ddbridge.protocol.schema import reply_schema


def build_model_with_loops(folder: Path) -> Path:
    """``build_tiny_model``'s one-shot model carrying a tiny loop network over every genre (``info["loop_model"]``)."""
    bundle = tiny_bundle(CATEGORIES, sample_rate=SAMPLE_RATE, sample_size=SAMPLE_SIZE,
                         defaults={"default_steps": 2, "default_guidance": 1.0}, width=8, class_dim=4)  # fmt: skip
    return save_with_loop_network(bundle, folder, tiny_loop_network(sample_rate=SAMPLE_RATE, bands=1))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    model = build_model_with_loops(root)
    revealed = root / "revealed.txt"
    recorder = root / "reveal.py"
    recorder.write_text(f"import sys, pathlib\npathlib.Path({str(revealed)!r}).write_text(sys.argv[1])\n")
    allowed = root / "allowed"
    extra = f'[web]\nreveal_command = ["{sys.executable}", "{recorder}", "{{path}}"]\nlibrary_dirs = ["{allowed}"]\n'
    with DaemonProcess(model, root, pool_size=0, extra_config=extra) as d:
        d.revealed = revealed
        yield d


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(daemon, browser):
    """The page freshly loaded; after the test, the browser's console must hold no errors."""
    p = Page(browser, daemon)
    p.open()
    yield p
    assert console_errors(browser, p.expected_errors) == []


class Page:
    """What a user does on the page, through the real browser."""

    def __init__(self, driver, daemon: DaemonProcess) -> None:
        self.driver, self.daemon = driver, daemon
        self.expected_errors: tuple[str, ...] = ()

    def open(self) -> None:
        self.driver.get(self.daemon.url)
        ready = "return document.body.dataset.ready === '1' && !!document.querySelector('#f-model option')"
        wait_for(lambda: self.js(ready), what="the page to load")

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def rows(self) -> list[dict]:
        return self.js(
            "return [...document.querySelectorAll('.sound')].map(r => ({path: r.dataset.path, op: r.dataset.op,"
            " category: r.dataset.category, selected: r.classList.contains('selected')}))"
        )

    def paths(self) -> set[str]:
        return {r["path"] for r in self.rows()}

    def row(self, path: str):
        return self.find(f'.sound[data-path="{path}"]')

    def tab(self, op: str) -> None:
        self.find(f'.tabs button[data-op="{op}"]').click()

    def type(self, css: str, value: object) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(str(value))

    def advanced(self, **fields: object) -> None:
        """Fill the "Model and sampler" fields (``steps``, ``seed``) after opening that section."""
        if not self.js("return document.querySelector('details.advanced').open"):
            self.find("details.advanced summary").click()
        for name, value in fields.items():
            self.type(f"#f-{name}", value)

    def generate(self, category: str, count: int, **advanced: object) -> None:
        self.tab("generate")
        Select(self.find("#f-length")).select_by_value("oneshot")
        Select(self.find("#f-category")).select_by_value(category)
        self.type("#f-count", count)
        self.advanced(**advanced)
        self.find("#submit").click()

    def new_rows(self, before: set[str], count: int, op: str | None = None, timeout: float = 60.0) -> list[str]:
        """Wait until ``count`` new sounds (of ``op``) are listed; their paths in list order."""

        def fresh():
            found = [r["path"] for r in self.rows() if r["path"] not in before and (op is None or r["op"] == op)]
            return found if len(found) >= count else None

        return wait_for(fresh, timeout, f"{count} new {op or ''} sound(s) in the library")

    def player(self) -> dict:
        return self.js(
            "const p = document.querySelector('#player'); return {src: p.src, time: p.currentTime, paused: p.paused,"
            " ended: p.ended, played: p.played.length ? p.played.end(0) : 0, error: p.error && p.error.message}"
        )

    def job_rows(self) -> list[dict]:
        return self.js("return [...document.querySelectorAll('.job')].map(j => ({...j.dataset}))")

    def record_jobs(self) -> None:
        """From now on keep what the page posts to ``/api/jobs`` in ``window.sentJobs`` (the posts still go out)."""
        self.js(
            "window.sentJobs = []; const send = window.fetch; window.fetch = (url, options) => {"
            " if (url === '/api/jobs') window.sentJobs.push(JSON.parse(options.body)); return send(url, options); }"
        )

    def loop_form(self, bpm: object, bars: object, **advanced: object) -> None:
        """The Generate form set to one loop of ``bars`` at ``bpm`` (blank: cleared)."""
        self.tab("generate")
        Select(self.find("#f-length")).select_by_value("loop")
        self.type("#f-count", 1)
        self.type("#f-bpm", bpm)
        self.type("#f-bars", bars)
        self.advanced(**advanced)

    def bpm_limits(self) -> tuple[str, str, str]:
        """The BPM field's min and max and the range the form shows beside it."""
        bpm = self.find("#f-bpm")
        return bpm.get_attribute("min"), bpm.get_attribute("max"), self.find("#f-bpm-range").text

    def loop_playing(self) -> dict | None:
        return self.js(
            "const l = state.loop; return l && {path: l.path, loop: l.source.loop, duration: l.duration,"
            " frames: l.source.buffer.length, rate: l.source.buffer.sampleRate, playing: state.playing,"
            " elapsed: l.source.context.currentTime - l.started, audio: l.source.context.state}"
        )


def file_url(daemon: DaemonProcess, path: str) -> str:
    return f"{daemon.url}api/file?path={quote(path, safe='')}"


def sidecar(path: str) -> dict:
    return json.loads(Path(path).with_suffix(".json").read_text())


def request(daemon: DaemonProcess, method: str, target: str, headers: dict, body: bytes | None = None):
    """One raw HTTP request with exactly these headers (``Host`` included); (status, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.web_port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        if response.status == 101:
            return 101, ""  # a WebSocket: the connection stays open, there is no body to read
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def own_host(daemon: DaemonProcess) -> str:
    return f"127.0.0.1:{daemon.web_port}"


# -- the page -------------------------------------------------------------------------------------


def test_page_loads_with_no_console_errors(page):
    assert page.driver.title == "ddbridge"
    assert "tiny" in page.find("#status").text
    options = [o.get_attribute("value") for o in page.driver.find_elements(By.CSS_SELECTOR, "#f-category option")]
    assert {"kick", "snare", "loop"} <= set(options)
    assert "dot on" in wait_for(lambda: "on" in page.find("#conn").get_attribute("class") and "dot on", what="events")


def test_generating_a_kick_shows_progress_then_the_sound_with_its_waveform(page):
    before = page.paths()
    page.js(
        "window.seenJobs = []; new MutationObserver(records => records.forEach(r => window.seenJobs.push("
        "{state: r.target.dataset.state, progress: r.target.dataset.progress}))).observe("
        "document.querySelector('#jobs'), {attributes: true, subtree: true, attributeFilter: ['data-progress']})"
    )
    page.generate("kick", 1, steps=80)
    (path,) = page.new_rows(before, 1)
    seen = page.js("return window.seenJobs")
    progress = [float(s["progress"]) for s in seen if s["state"] == "running"]
    assert any(0 < p < 1 for p in progress), seen
    assert progress == sorted(progress)
    assert wait_for(lambda: [j for j in page.job_rows() if j["state"] == "done"], what="the job shown as done")

    assert Path(path).is_file() and Path(path).parent.parts[-3:] == ("Samples", "Generated", "kick")
    meta = sidecar(path)
    assert (meta["category"], meta["steps"], meta["op"]) == ("kick", 80, "generate")
    drawn = page.js(
        "const c = arguments[0]; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n / (c.width * c.height)",
        page.row(path).find_element(By.TAG_NAME, "canvas"),
    )
    assert drawn > 0.05, f"the waveform covers {drawn:.1%} of its canvas"
    assert "kick" in page.row(path).text and str(meta["seed"]) in page.row(path).text


def values(page: Page, css: str) -> list[str]:
    return [o.get_attribute("value") for o in page.driver.find_elements(By.CSS_SELECTOR, css)]


def make_loop(page: Page, bpm: int, bars: int, genre: str, **advanced: object) -> str:
    """One loop made through the Generate form; its path."""
    before = page.paths()
    page.loop_form(bpm, bars, **advanced)
    Select(page.find("#f-genre")).select_by_value(genre)
    page.find("#submit").click()
    (path,) = page.new_rows(before, 1)
    return path


def test_a_loop_at_a_tempo_in_a_genre(page, daemon):
    with daemon.client() as client:
        models = client.call({"op": "models"})
    jsonschema.validate(models, reply_schema("models"))
    assert models["models"][0]["loops"] == {"genres": list(GENRES), "bpm": [70, 180], "bars": [1, 2, 4]}
    page.tab("generate")
    assert not page.find("#f-genre").is_displayed() and page.find("#f-category").is_displayed()
    page.record_jobs()
    page.loop_form(150, 2)
    assert not page.find("#f-seconds").is_displayed() and not page.find("#f-category").is_displayed()
    assert values(page, "#f-genre option") == ["any", *GENRES]
    assert values(page, "#f-bars-list option") == ["1", "2", "4"] and page.bpm_limits() == ("70", "180", "70–180")
    before = page.paths()
    Select(page.find("#f-genre")).select_by_value("house")
    page.find("#submit").click()
    (path,) = page.new_rows(before, 1)
    (sent,) = page.js("return window.sentJobs")
    assert {k: sent.get(k) for k in ("op", "category", "loop", "bpm", "bars", "genre")} == {
        "op": "generate", "category": "loop", "loop": True, "bpm": 150, "bars": 2, "genre": "house"}  # fmt: skip
    assert "seconds" not in sent
    meta = sidecar(path)
    assert (meta["loop"], meta["bpm"], meta["bars"], meta["beats"], meta["genre"]) == (True, 150, 2, 8, "house")
    assert "request_seconds" not in meta and Path(path).name.startswith("loop_house_150bpm_")
    assert sf.info(path).frames == 2 * 4 * 60 * meta["sample_rate"] // 150  # exactly two 4/4 bars at 150 BPM
    assert "house loop · 150 BPM · 2 bars" in page.row(path).text


def test_a_loop_plays_seamlessly_until_stopped(page, daemon):
    before = page.paths()
    page.generate("kick", 1)
    (kick,) = page.new_rows(before, 1)
    path = make_loop(page, 180, 1, "techno")
    page.row(path).find_element(By.CSS_SELECTOR, ".play").click()
    playing = wait_for(page.loop_playing, what="the loop to play")
    frames = sf.info(path).frames
    assert (playing["path"], playing["playing"], playing["loop"]) == (path, path, True)
    assert (playing["frames"], playing["rate"]) == (frames, sidecar(path)["sample_rate"])  # decoded, not resampled
    assert page.player()["paused"]  # not the <audio> element, which gaps at the wrap

    def rounds() -> float:
        return (page.loop_playing() or {}).get("elapsed", 0) / playing["duration"]

    wait_for(lambda: rounds() > 2.5, 15, "the loop to go round two and a half times")
    still = page.loop_playing()
    assert (still["path"], still["playing"], still["audio"]) == (path, path, "running"), still
    assert "⟳" in page.find("#now-time").text and "■" in page.row(path).find_element(By.CSS_SELECTOR, ".play").text

    page.js("window.loopEnded = false; state.loop.source.addEventListener('ended', () => window.loopEnded = true)")
    page.find("body").send_keys(" ")
    wait_for(lambda: page.js("return window.loopEnded"), what="space to stop the loop")
    assert page.js("return [state.loop, state.playing]") == [None, None]
    assert page.find("#play-toggle").text == "▶"

    page.find("#play-toggle").click()  # the selected loop again, then a one-shot takes over
    wait_for(page.loop_playing, what="the loop to play again")
    page.js("window.loopEnded = false; state.loop.source.addEventListener('ended', () => window.loopEnded = true)")
    page.row(kick).find_element(By.CSS_SELECTOR, ".play").click()
    wait_for(lambda: page.js("return window.loopEnded"), what="the loop to stop for the kick")
    assert page.loop_playing() is None and page.player()["src"] == file_url(daemon, kick)
    wait_for(lambda: page.player()["played"] > 0.05, what="the kick to play")


def test_regenerate_makes_the_same_loop_again(page):
    original = make_loop(page, 96, 1, "hiphop", seed=4343, steps=3)
    before = page.paths()
    page.row(original).find_element(By.XPATH, ".//button[contains(., 'Regenerate')]").click()
    (again,) = page.new_rows(before, 1)
    keys = ("seed", "bpm", "bars", "genre", "loop")
    meta = sidecar(again)
    assert {k: meta[k] for k in keys} == {k: sidecar(original)[k] for k in keys} == {
        "seed": 4343, "bpm": 96, "bars": 1, "genre": "hiphop", "loop": True}  # fmt: skip
    assert Path(again).name.startswith("loop_hiphop_96bpm_") and "request_seconds" not in meta
    np.testing.assert_allclose(sf.read(again)[0], sf.read(original)[0], atol=1e-4)


def test_bad_loop_input_gets_the_protocol_error(page, daemon):
    page.expected_errors = ("/api/jobs",)  # the browser logs the refused requests itself
    files_before = set(Path(daemon.allowed).rglob("*.wav"))
    loop = {"op": "generate", "category": "loop", "loop": True, "count": 1, "genre": "any"}
    with daemon.client() as client:
        for bpm, bars, field in ((200, 1, "bpm"), (120, "", "bars"), (120, 3, "bars"), (400, 1, "bpm")):
            tempo = {"bpm": bpm, **({"bars": bars} if bars != "" else {})}
            message = client.call({**loop, **tempo})["error"]["message"]
            assert field in message
            page.loop_form(bpm, bars)
            page.find("#submit").click()
            wait_for(lambda m=message: page.find("#form-error").text == m, what=f"the error '{message}' on the page")
    assert set(Path(daemon.allowed).rglob("*.wav")) == files_before


@pytest.fixture(scope="module")
def plain_daemon(tmp_path_factory):
    """A daemon whose model has no loop network."""
    root = tmp_path_factory.mktemp("web-plain")
    with DaemonProcess(build_tiny_model(root), root, pool_size=0) as d:
        yield d


def test_a_model_without_a_loop_network_takes_a_tempo_but_no_genre(plain_daemon, browser):
    page = Page(browser, plain_daemon)
    page.open()
    page.record_jobs()
    page.loop_form(100, 3)
    assert not page.find("#f-genre").is_displayed() and page.find("#f-category").is_displayed()
    assert page.bpm_limits() == ("20", "300", "20–300") and values(page, "#f-bars-list option") == []
    Select(page.find("#f-category")).select_by_value("kick")
    before = page.paths()
    page.find("#submit").click()
    (path,) = page.new_rows(before, 1)
    (sent,) = page.js("return window.sentJobs")
    assert (sent["category"], sent["loop"], sent["bpm"], sent["bars"]) == ("kick", True, 100, 3) and "genre" not in sent
    meta = sidecar(path)
    assert (meta["bpm"], meta["bars"], meta["genre"], meta["category"]) == (100, 3, "any", "kick")
    assert sf.info(path).frames == 3 * 4 * 60 * meta["sample_rate"] // 100  # exactly three 4/4 bars at 100 BPM
    assert "loop · 100 BPM · 3 bars" in page.row(path).text
    assert console_errors(browser) == []


def test_playing_a_sound_advances_the_audio_element(page, daemon):
    before = page.paths()
    page.generate("snare", 1)
    (path,) = page.new_rows(before, 1)
    page.row(path).find_element(By.CSS_SELECTOR, ".play").click()
    assert page.player()["src"] == file_url(daemon, path)
    wait_for(lambda: page.player()["played"] > 0.05, what="the audio element to play")
    assert page.player()["error"] is None
    assert "snare" in page.find("#now-name").text


def test_variate_from_a_library_sound(page):
    before = page.paths()
    page.generate("kick", 1)
    (source,) = page.new_rows(before, 1)
    page.row(source).click()
    page.tab("variate")
    assert Path(source).name in page.find("#src-source").text
    page.type("#f-count", 2)
    page.find("#submit").click()
    variations = page.new_rows(before | {source}, 2, op="variate")
    for path in variations:
        meta = sidecar(path)
        assert (meta["op"], meta["source"], meta["strength"]) == ("variate", source, 0.5)

    more_before = page.paths()
    page.row(source).find_element(By.XPATH, ".//button[contains(., 'More like this')]").click()
    for path in page.new_rows(more_before, 4, op="variate"):
        assert sidecar(path)["source"] == source and Path(path).parent == Path(source).parent


def test_keyboard_audition_moves_through_a_batch(page, daemon):
    before = page.paths()
    page.generate("snare", 4)
    batch = page.new_rows(before, 4)
    order = [r["path"] for r in page.rows() if r["path"] in batch]
    page.row(order[0]).click()
    heard = [page.player()["src"]]
    body = page.find("body")
    for _ in range(3):
        body.send_keys(Keys.ARROW_DOWN)
        heard.append(wait_for(lambda h=heard: page.player()["src"] not in h and page.player()["src"], what="next"))
    assert heard == [file_url(daemon, p) for p in order]
    assert [r["path"] for r in page.rows() if r["selected"]] == [order[3]]
    body.send_keys(Keys.ARROW_UP)
    wait_for(lambda: page.player()["src"] == file_url(daemon, order[2]), what="the previous sound")
    wait_for(lambda: page.player()["ended"], what="the sound to play to its end")
    page.js("document.querySelector('#player').addEventListener('play', () => window.spacePlayed = true)")
    body.send_keys(" ")
    wait_for(lambda: page.js("return window.spacePlayed"), what="space to play the selected sound again")
    assert page.player()["src"] == file_url(daemon, order[2])


def test_interpolate_and_extend_library_sounds(page):
    before = page.paths()
    page.generate("kick", 2)
    a, b = page.new_rows(before, 2)
    page.tab("interpolate")
    page.row(a).click()
    page.find("#src-a .use-selected").click()
    page.row(b).click()
    page.find("#src-b .use-selected").click()
    page.type("#f-steps-between", 2)
    page.find("#submit").click()
    between = page.new_rows(before | {a, b}, 2, op="interpolate")
    assert sorted(sidecar(p)["position"] for p in between) == [0.333, 0.667]
    assert {(sidecar(p)["source_a"], sidecar(p)["source_b"]) for p in between} == {(a, b)}

    page.row(a).click()
    page.tab("extend")
    page.type("#f-count", 1)
    page.type("#f-extend", 0.25)
    page.find("#submit").click()
    (extended,) = page.new_rows(page.paths() - {a}, 1, op="extend")
    assert sidecar(extended)["source"] == a
    assert sf.info(extended).duration > sf.info(a).duration


def test_a_file_dropped_on_the_page_is_the_variation_source(page, daemon):
    rate = 8000
    t = np.arange(rate // 4) / rate
    tone = (0.5 * np.sin(2 * np.pi * 220 * t) * np.exp(-t * 12)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, tone, rate, format="WAV")
    page.js(
        "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
        "const data = new DataTransfer(); data.items.add(new File([bytes], 'my hit.wav', {type: 'audio/wav'}));"
        "window.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}))",
        base64.b64encode(buffer.getvalue()).decode(),
    )
    wait_for(lambda: "Dropped: my hit.wav" in page.find("#src-source").text, what="the dropped file as source")
    before = page.paths()
    page.type("#f-count", 1)
    page.find("#submit").click()
    (path,) = page.new_rows(before, 1, op="variate")
    source = Path(sidecar(path)["source"])
    assert source.parent == daemon.state / "uploads" and sf.read(source)[0].shape == tone.shape


def test_regenerate_makes_the_same_sound_again(page):
    before = page.paths()
    page.generate("kick", 1, seed=4242, steps=3)
    (original,) = page.new_rows(before, 1)
    page.row(original).find_element(By.XPATH, ".//button[contains(., 'Regenerate')]").click()
    (again,) = page.new_rows(before | {original}, 1)
    assert again != original and Path(original).is_file()
    assert sidecar(again)["seed"] == 4242 == sidecar(original)["seed"]
    np.testing.assert_allclose(sf.read(again)[0], sf.read(original)[0], atol=1e-4)


def test_cancel_a_running_job(page):
    files_before = set(Path(page.daemon.allowed).rglob("*.wav"))
    page.generate("kick", 1, steps=1000)
    job = wait_for(lambda: [j for j in page.job_rows() if j["state"] == "running"], what="a running job")[0]
    page.find(f'.job[data-job="{job["job"]}"] .cancel').click()
    wait_for(lambda: [j for j in page.job_rows() if j["job"] == job["job"] and j["state"] == "cancelled"],
             what="the job shown as cancelled")  # fmt: skip
    assert set(Path(page.daemon.allowed).rglob("*.wav")) == files_before


def test_bad_form_input_gets_the_protocol_error(page, daemon):
    page.expected_errors = ("/api/jobs",)  # the browser logs the refused request itself
    files_before = set(Path(daemon.allowed).rglob("*.wav"))
    page.generate("kick", 1, steps=0)
    error = wait_for(lambda: page.find("#form-error").text, what="the error under the form")
    with daemon.client() as client:
        reply = client.call({"op": "generate", "category": "kick", "count": 1, "steps": 0})
    assert error == reply["error"]["message"] and "steps" in error
    page.type("#f-steps", 2)
    page.type("#f-count", 17)
    page.find("#submit").click()
    wait_for(lambda: "count" in page.find("#form-error").text, what="the count error")
    assert set(Path(daemon.allowed).rglob("*.wav")) == files_before


def test_the_note_field_asks_for_a_root_note_and_a_bad_one_gets_the_protocol_error(page, daemon):
    page.expected_errors = ("/api/jobs",)
    before = page.paths()
    page.type("#f-note", "H9")
    page.generate("kick", 1, steps=2)
    wait_for(lambda: "note" in page.find("#form-error").text, what="the note error")
    page.type("#f-note", "C2")
    page.find("#submit").click()
    (path,) = page.new_rows(before, 1)
    meta = sidecar(path)
    assert meta["note_asked"] == "C2" and isinstance(meta["tuned"], bool)
    page.type("#f-note", "")


def test_favourites_search_hide_and_reveal_never_touch_the_files(page, daemon):
    before = page.paths()
    page.generate("snare", 2, seed=777, steps=2)
    first, second = page.new_rows(before, 2)
    page.row(first).click()
    page.find("body").send_keys("f")
    wait_for(lambda: "★" in page.row(first).find_element(By.CSS_SELECTOR, ".name").text, what="the star")
    page.find("#fav-filter").click()
    assert first in page.paths() and second not in page.paths()
    page.find("#fav-filter").click()
    # Its name, not its seed alone: other sounds' random seeds may hold the same digits.
    page.type("#search", Path(second).stem)
    assert page.paths() == {second}
    page.type("#search", " ")

    page.row(second).find_element(By.CSS_SELECTOR, ".reveal").click()
    wait_for(lambda: daemon.revealed.exists() and daemon.revealed.read_text() == second, what="the reveal command")

    page.row(second).find_element(By.CSS_SELECTOR, ".hide").click()
    wait_for(lambda: second not in page.paths(), what="the hidden sound to leave the list")
    assert Path(second).is_file() and Path(second).with_suffix(".json").is_file()
    page.open()
    assert second not in page.paths() and first in page.paths()  # the marks outlive a reload
    page.find("#hidden-filter").click()
    wait_for(lambda: second in page.paths(), what="hidden sounds shown again")
    page.row(second).find_element(By.CSS_SELECTOR, ".hide").click()
    page.find("#hidden-filter").click()
    wait_for(lambda: second in page.paths(), what="the sound unhidden")


def test_drag_out_offers_the_wav_on_disk(page, daemon):
    before = page.paths()
    page.generate("kick", 1)
    (path,) = page.new_rows(before, 1)
    offered = page.js(
        "const data = new DataTransfer(); arguments[0].dispatchEvent(new DragEvent('dragstart',"
        " {dataTransfer: data, bubbles: true})); return [data.getData('DownloadURL'), data.getData('text/uri-list'),"
        " data.getData('text/plain')]",
        page.row(path),
    )
    download, uri, plain = offered
    assert download == f"audio/wav:{Path(path).name}:{file_url(daemon, path)}"
    assert uri == Path(path).as_uri() and plain == path
    status, _ = request(daemon, "GET", file_url(daemon, path).split(str(daemon.web_port), 1)[1],
                        {"Host": own_host(daemon)})  # fmt: skip
    assert status == 200


def test_the_map_lays_out_the_library_and_hover_auditions(page, daemon):
    before = page.paths()
    page.generate("kick", 2)
    page.new_rows(before, 2)
    page.find("#view-map").click()
    canvas = page.find("#map")
    count = wait_for(lambda: int(canvas.get_attribute("data-points") or 0), what="points on the map")
    assert count == len(page.js("return state.sounds"))
    points = page.js("return state.mapPoints")
    assert all(0 <= p["x"] <= 1 and 0 <= p["y"] <= 1 for p in points)
    target = points[0]
    rect = page.js("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", canvas)
    pad = 28
    x = pad + target["x"] * (rect[0] - 2 * pad) - rect[0] / 2
    y = pad + (1 - target["y"]) * (rect[1] - 2 * pad) - rect[1] / 2
    ActionChains(page.driver).move_to_element_with_offset(canvas, round(x), round(y)).perform()
    wait_for(lambda: page.player()["src"] == file_url(daemon, target["path"]), what="hover to audition")


# -- safety ---------------------------------------------------------------------------------------


def test_foreign_host_and_origin_are_refused(daemon):
    own = own_host(daemon)
    job = json.dumps({"op": "generate", "category": "kick"}).encode()
    files_before = set(Path(daemon.allowed).rglob("*.wav"))
    json_type = {"Content-Type": "application/json"}
    for host in (f"evil.example:{daemon.web_port}", "127.0.0.1.nip.io", f"localhost.evil.example:{daemon.web_port}"):
        status, text = request(daemon, "GET", "/api/library", {"Host": host})
        assert status == 403 and "Host" in text, text
    foreign = {"Host": own, "Origin": "http://evil.example", **json_type}
    status, text = request(daemon, "POST", "/api/jobs", foreign, job)
    assert status == 403 and "another site" in text
    status, text = request(daemon, "POST", "/api/jobs", {"Host": own, **json_type}, job)  # no Origin
    assert status == 403 and "Origin" in text
    status, text = request(daemon, "POST", "/api/jobs", {"Host": own, "Origin": f"http://{own}",
                                                          "Sec-Fetch-Site": "same-site", **json_type}, job)  # fmt: skip
    assert status == 403 and "another site or port" in text
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}  # fmt: skip
    status, _ = request(daemon, "GET", "/api/events", {"Host": own, "Origin": "http://evil.example", **upgrade})
    assert status == 403
    status, _ = request(daemon, "GET", "/api/events", {"Host": own, "Origin": f"http://{own}", **upgrade})
    assert status == 101
    assert set(Path(daemon.allowed).rglob("*.wav")) == files_before


def test_another_page_in_the_same_browser_cannot_use_the_daemon(daemon, browser, tmp_path):
    """A page from another origin fetches, posts a form and embeds audio: the daemon refuses all three."""
    with daemon.client() as client:
        (sound,) = client.request("generate", category="kick", out_dir=str(daemon.out))["files"]
    files_before = set(Path(daemon.allowed).rglob("*.wav"))
    (tmp_path / "evil.html").write_text(
        f"""<!doctype html><title>evil</title><body>
<form id="f" method="post" action="{daemon.url}api/jobs" enctype="text/plain" target="sink">
<input name='{{"op":"generate","category":"kick","x":"' value='"}}'></form><iframe name="sink"></iframe>
<script>
const results = {{}};
fetch("{daemon.url}api/jobs", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{op: "generate", category: "kick"}})}})
  .then(() => results.fetch = "sent", () => results.fetch = "failed");
const audio = new Audio("{file_url(daemon, sound["path"])}");
audio.addEventListener("error", () => results.audio = "error");
audio.addEventListener("loadedmetadata", () => results.audio = "loaded");
document.getElementById("f").submit();
window.results = results;
</script>"""
    )
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{port}/evil.html")
        results = wait_for(lambda: (r := browser.execute_script("return window.results")) and len(r) == 2 and r,
                           what="the foreign page's attempts")  # fmt: skip
    finally:
        server.shutdown()
        console_errors(browser)  # that page's own failures are expected
    assert results["audio"] == "error"
    log = (daemon.root / "daemon.log").read_text()
    assert log.count("page: refused POST /api/jobs") >= 2 and "page: refused GET /api/file" in log
    assert set(Path(daemon.allowed).rglob("*.wav")) == files_before


def test_traversal_and_files_ddbridge_did_not_write_are_refused(daemon):
    own = {"Host": own_host(daemon)}
    secret = daemon.outside / "secret.wav"
    sf.write(secret, np.zeros(800, dtype=np.float32), 8000)
    secret.with_suffix(".json").write_text(json.dumps({"seed": 1, "model": "tiny"}))
    plain = daemon.allowed / "plain.wav"
    sf.write(plain, np.zeros(800, dtype=np.float32), 8000)
    link = daemon.allowed / "link.wav"
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    link.with_suffix(".json").write_text(json.dumps({"seed": 1, "model": "tiny"}))
    cases = {
        f"{daemon.allowed}/../outside/secret.wav": (403, "traversal"),
        str(secret): (403, "outside the allowed roots"),
        str(link): (403, "outside the allowed roots"),
        str(plain): (403, "no ddbridge sidecar"),
        str(link.with_suffix(".json")): (403, "not a WAV"),
        "outside/secret.wav": (403, "absolute"),
        str(daemon.allowed / "missing.wav"): (404, "does not exist"),
    }
    for path, (code, words) in cases.items():
        status, text = request(daemon, "GET", f"/api/file?path={quote(path, safe='')}", own)
        assert status == code and words in json.loads(text)["error"]["message"], (path, text)
    for target in ("/static/..%2F..%2Fdaemon%2Fconfig.py", "/static/%2e%2e/%2e%2e/daemon/core.py",
                   "/static/../web/routes.py", "/static/index.html%00.js"):  # fmt: skip
        status, text = request(daemon, "GET", target, own)
        assert status == 404 and "def " not in text, (target, text)
    for action in ("regenerate", "reveal", "more"):
        body = json.dumps({"path": f"{daemon.allowed}/../outside/secret.wav"}).encode()
        headers = {**own, "Origin": f"http://{own['Host']}", "Content-Type": "application/json"}
        status, text = request(daemon, "POST", f"/api/{action}", headers, body)
        assert status == 403 and "traversal" in text
    status, text = request(daemon, "GET", "/api/library", own)
    listed = {s["path"] for s in json.loads(text)["sounds"]}
    assert not any("secret" in p or p.endswith(("plain.wav", "link.wav")) for p in listed)
