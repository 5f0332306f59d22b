"""The Ardour scripts in the real Ardour 7 (Debian's ``ardour``), against the real daemon.

Two ways in, neither with a stand-in:

* ``ardour7-lua``, Ardour's headless Lua interpreter on the "None (Dummy)" audio backend, loads the
  scripts' GUI-free core (``ardour_scripts/ddbridge/core.lua``) into a real session and runs it: the
  dialogs are answered by the test, everything else (the session, its tempo map and playhead, the
  ``ddbridge request send`` command through ``io.popen``, the daemon) is real.
* Ardour itself under ``Xvfb``: the scripts are installed in its scripts folder and bound to Script
  Manager slots, as a user does, and an editor hook presses the slots. This is the only way to reach
  ``Editor:do_import`` (Ardour's import has no binding outside the editor); the saved session, its
  undo history and the imported files are then read back.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from daemon_helpers import SAMPLE_RATE, SAMPLE_SIZE, DaemonProcess, build_tiny_model, free_port
from riff_reader import riff_chunks

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "ardour_scripts"
ARDOUR_LUA = shutil.which("ardour7-lua") or "ardour7-lua"
ARDOUR = shutil.which("ardour") or "ardour"
XVFB = shutil.which("Xvfb") or "Xvfb"
BIN = Path(sys.executable).parent  # where the ddbridge command of this environment lives
RATE = 48000  # the sessions' sample rate
SUPERCLOCK = 282240000  # Ardour 7's superclock ticks per second: positions in the session file
PLAYHEAD = 72000  # 1.5 s
LOOP_BPM = 125  # the editor's session tempo: 2 bars are 3.84 s, 184320 samples
LOOP_AT = 384000  # 8 s, where the editor's loop goes
ACTIONS = ("ddbridge_generate.lua", "ddbridge_variate.lua", "ddbridge_loop.lua", "ddbridge_settings.lua")


# -- installing, as the README says ----------------------------------------------------------


def install(config_home: Path, *, executable: str, endpoint: str, connect_timeout: str = "10") -> Path:
    """Ardour's configuration folder under ``config_home`` with the scripts in its ``scripts`` folder
    and ddbridge's settings file."""
    config = config_home / "ardour7"
    scripts = config / "scripts"
    scripts.mkdir(parents=True)
    for name in ACTIONS:
        shutil.copyfile(SCRIPTS / name, scripts / name)
    shutil.copytree(SCRIPTS / "ddbridge", scripts / "ddbridge")
    settings = {"executable": executable, "endpoint": endpoint, "connect_timeout": connect_timeout, "job_timeout": "60"}
    (config / "ddbridge.json").write_text(json.dumps(settings))
    return config


def environment(home: Path, **extra: str) -> dict:
    temp = home / "tmp"
    temp.mkdir(exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(temp),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra,
    }


# -- the headless interpreter ----------------------------------------------------------------

PRELUDE = r"""
local SCRIPTS = os.getenv("DDBRIDGE_TEST_SCRIPTS")
AudioEngine:set_backend("None (Dummy)", "", "")
assert(AudioEngine:start(false) == 0, "the Dummy backend did not start")
local core = assert(loadfile(SCRIPTS .. "/ddbridge/core.lua"))(SCRIPTS .. "/ddbridge")
local json = core.json
local result = {}

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function locate(sample)
  Session:request_locate(sample, false, ARDOUR.LocateTransportDisposition.MustStop,
    ARDOUR.TransportRequestSource.TRS_UI)
  for _ = 1, 500 do
    if Session:transport_sample() == sample then return end
    ARDOUR.LuaAPI.usleep(10000)
  end
  error("the playhead did not move to " .. sample)
end

local function save()
  Session:save_state("", false, false, false, false, false)
  return read(Session:path() .. "/" .. Session:snap_name() .. ".ardour")
end

-- A session named `name` in `dir` with an audio track "Drums", saved; the playhead at `playhead`.
local function new_session(dir, name, playhead)
  assert(create_session(dir, name, 48000), "no session")
  local tracks = Session:new_audio_track(2, 2, nil, 1, "Drums", ARDOUR.PresentationInfo.max_order,
    ARDOUR.TrackMode.Normal, true, false)
  locate(playhead)
  return tracks:front(), save()
end

local function set_tempo(bpm, at_sample)
  local map = Temporal.TempoMap.fetch_writable()
  map:set_tempo(Temporal.Tempo(bpm, bpm, 4), Temporal.timepos_t(at_sample))
  Temporal.TempoMap.update(map)
end

-- The `ui` the GUI layer would pass: dialogs answered from `answers` in order (none left: cancelled),
-- messages and import requests recorded.
local function test_ui(answers, track)
  local ui = { asked = json.as_array(), messages = json.as_array(), imports = json.as_array(), track = track }
  function ui.ask(dialog)
    local fields = {}
    for i, f in ipairs(dialog.fields) do
      fields[i] = { key = f.key or json.null, type = f.type, title = f.title }
    end
    ui.asked[#ui.asked + 1] = { title = dialog.title, fields = fields }
    local answer = answers[#ui.asked]
    if answer == "defaults" then -- OK pressed on the dialog as it opened: each field's default (a dropdown's value)
      answer = {}
      for _, f in ipairs(dialog.fields) do
        if f.key then answer[f.key] = f.type == "dropdown" and f.values[f.default] or f.default end
      end
    end
    return answer
  end
  function ui.message(text) ui.messages[#ui.messages + 1] = text end
  function ui.import(path)
    ui.imports[#ui.imports + 1] = path
    return nil, "no import outside the editor"
  end
  return ui
end

local function plain_job(job)
  if not job then return json.null end
  local placements = {}
  for i, p in ipairs(job.placements) do
    placements[i] = { path = p.path, position = p.position, after = p.after or false,
      track = p.track and p.track:name() or json.null, new_track = p.new_track or json.null, track_name = p.track_name }
  end
  return { request = job.request, files = job.files, placements = placements, undo = job.undo }
end

local function finish()
  io.write("\nRESULT ", json.encode(result), "\n")
  io.flush()
end
"""


def run_lua(home: Path, config: Path, body: str, timeout: float = 180) -> dict:
    """Run PRELUDE + ``body`` in ardour7-lua; the ``result`` table it prints."""
    script = home / f"test_{time.monotonic_ns()}.lua"
    script.write_text(PRELUDE + body + "\nfinish()\n")
    proc = subprocess.run(
        [ARDOUR_LUA, str(script)],
        env=environment(home, DDBRIDGE_TEST_SCRIPTS=str(config / "scripts")),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, (
        f"ardour7-lua ended without a result (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return json.loads(lines[-1].removeprefix("RESULT "))


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string literal


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"), loops=True)  # kick, snare and a loop network
    with DaemonProcess(model, tmp_path_factory.mktemp("ardour daemon"), pool_size=0) as d:
        yield d


@pytest.fixture(scope="module")
def plain_daemon(tmp_path_factory):
    """A daemon whose model has no loop network (it makes no loops at a tempo)."""
    model = build_tiny_model(tmp_path_factory.mktemp("plain model"))
    with DaemonProcess(model, tmp_path_factory.mktemp("plain daemon"), pool_size=0) as d:
        yield d


@pytest.fixture
def home(daemon, tmp_path_factory) -> Path:
    """A user's home inside the daemon's allowed root, so that sessions there may receive files."""
    path = daemon.allowed / f"home-{tmp_path_factory.mktemp('x').name}"
    path.mkdir()
    return path


@pytest.fixture
def config(home, daemon) -> Path:
    return install(home / ".config", executable=str(BIN / "ddbridge"), endpoint=daemon.endpoint)


def session_dir(home: Path, name: str = "song") -> Path:
    return home / "Sessions" / name


# -- static checks in Ardour's own Lua ---------------------------------------------------------


SCAN = r"""
-- What Ardour's script scanner and Script Manager do with an action file: run it in a sandbox
-- (no io, os, loadfile, require...) with ardour{} recording the descriptor, then keep only the
-- bytecode of `factory`, stripped (so the factory may not use anything defined outside it).
local out = {}
for path in (os.getenv("DDBRIDGE_TEST_FILES")):gmatch("[^\n]+") do
  local entry = { path = path }
  local env = {}
  for k, v in pairs(_G) do env[k] = v end
  for _, name in ipairs({ "dofile", "require", "package", "debug", "rawget", "rawset", "coroutine", "module",
                          "os", "io", "loadfile" }) do env[name] = nil end
  env.ardour = function(t) entry.type, entry.name, entry.description = t["type"], t.name, t.description end
  local chunk, err = loadfile(path, "t", env)
  if not chunk then
    entry.error = err
  else
    local ok, run_err = pcall(chunk)
    if not ok then entry.error = tostring(run_err) end
    entry.has_factory = type(env.factory) == "function"
    if entry.has_factory then
      local upvalues = {}
      local i = 1
      while debug.getupvalue(env.factory, i) do upvalues[i] = debug.getupvalue(env.factory, i) i = i + 1 end
      entry.factory_upvalues = upvalues
    end
    if type(env.action_params) == "function" then
      local params = {}
      for key, p in pairs(env.action_params()) do params[key] = { title = p.title, optional = p.optional or false } end
      entry.params = params
    end
  end
  out[#out + 1] = entry
end
result.scripts = out
local modules = {}
for _, name in ipairs({ "core", "gui", "json" }) do
  local chunk, err = loadfile(SCRIPTS .. "/ddbridge/" .. name .. ".lua")
  modules[name] = chunk and "compiles" or err
end
result.modules = modules
"""


def test_the_scripts_load_in_ardours_lua_as_action_scripts(tmp_path):
    config = install(tmp_path / ".config", executable="ddbridge", endpoint="tcp://127.0.0.1:5555")
    files = "\n".join(str(config / "scripts" / name) for name in ACTIONS)
    out = run_lua(tmp_path, config, SCAN.replace('os.getenv("DDBRIDGE_TEST_FILES")', lua_string(files)))
    assert out["modules"] == {"core": "compiles", "gui": "compiles", "json": "compiles"}
    names = {}
    for entry in out["scripts"]:
        assert "error" not in entry, entry
        assert entry["type"] == "EditorAction" and entry["name"].startswith("ddbridge: ") and entry["description"]
        assert entry["has_factory"]
        # Ardour keeps the factory's bytecode only: it may reach nothing but globals
        assert entry["factory_upvalues"] in ([], ["_ENV"]), entry
        names[Path(entry["path"]).name] = entry
    assert names["ddbridge_generate.lua"]["name"] == "ddbridge: Generate at playhead"
    assert names["ddbridge_variate.lua"]["name"] == "ddbridge: Variate selected region"
    assert names["ddbridge_loop.lua"]["name"] == "ddbridge: Generate loop at session tempo"
    assert names["ddbridge_settings.lua"]["name"] == "ddbridge: Settings"
    generate = names["ddbridge_generate.lua"]["params"]
    assert set(generate) == {"category", "count", "seconds", "where"} and all(p["optional"] for p in generate.values())
    assert set(names["ddbridge_loop.lua"]["params"]) == {"genre", "bars", "count"}
    assert set(names["ddbridge_variate.lua"]["params"]) == {"strength", "count", "where"}


def test_json_module_is_the_reaper_clients_code():
    ardour = (SCRIPTS / "ddbridge" / "json.lua").read_text().splitlines()
    reaper = (REPO / "reaper_scripts" / "ddbridge" / "json.lua").read_text().splitlines()
    assert ardour[:1] == ["-- JSON for the ddbridge Ardour scripts: encode Lua values, decode replies."]
    assert ardour[2:] == reaper[2:]


def test_command_lines_reach_the_command_unchanged(tmp_path):
    """core.quote / core.command_line through the real shell io.popen uses: each argument arrives whole."""
    config = install(tmp_path / ".config", executable="ddbridge", endpoint="tcp://127.0.0.1:5555")
    args = ["plain", "with space", "it's", 'say "hi"', "$HOME", "a`b`", "back\\slash", "semi;colon && echo x", "*"]
    body = f"""
local args = json.decode({lua_string(json.dumps(args))})
local line = core.command_line({{ "printf", "%s\\\\n", table.unpack(args) }})
local pipe = io.popen(line, "r")
result.output = pipe:read("a")
pipe:close()
result.refused = {{ pcall(core.quote, "two\\nlines") }}
"""
    out = run_lua(tmp_path, config, body)
    assert out["output"].splitlines() == args
    assert out["refused"][0] is False and "control character" in out["refused"][1]


# -- the core against the daemon, in a real session -------------------------------------------


def assert_wav(path: str, folder: Path, seconds: float | None = None) -> None:
    p = Path(path)
    assert p.is_file() and p.parent == folder, (p, folder)
    info = sf.info(p)
    assert info.samplerate == RATE and info.channels == 2
    if seconds is not None:
        assert info.duration == pytest.approx(seconds, abs=1e-3)


def test_generate_asks_and_brings_files_at_the_session_rate_for_the_selected_track(home, config):
    song = session_dir(home)
    body = f"""
local track = new_session({lua_string(str(song))}, "song", {PLAYHEAD})
local ui = test_ui({{ {{ category = "snare", count = 2.0, seconds = 0.5, where = "after" }} }}, track)
result.job = plain_job(core.generate_job(Session, ui, {{}}))
result.asked, result.messages, result.imports = ui.asked, ui.messages, ui.imports
result.settings = json.decode(read(core.settings_path()))
"""
    out = run_lua(home, config, body)
    assert out["messages"] == [] and out["imports"] == []
    ((dialog),) = out["asked"]
    assert dialog["title"] == "ddbridge: generate at the playhead"
    assert [f["key"] for f in dialog["fields"]] == ["category", "count", "seconds", "where"]
    job = out["job"]
    request = job["request"]
    assert request["op"] == "generate" and request["category"] == "snare" and request["count"] == 2
    assert request["seconds"] == 0.5 and request["sample_rate"] == RATE and request["wait"] is True
    assert Path(request["project_dir"]) == song
    files = [f["path"] for f in job["files"]]
    assert len(set(files)) == 2
    for path in files:
        assert_wav(path, song / "Samples" / "Generated" / "snare", seconds=0.5)
        sidecar = json.loads(Path(path).with_suffix(".json").read_text())
        assert sidecar["category"] == "snare" and sidecar["op"] == "generate"
    # both at the playhead on the selected track, the second after the first
    assert [(p["path"], p["position"], p["after"], p["track"]) for p in job["placements"]] == [
        (path, PLAYHEAD, True, "Drums") for path in files
    ]
    assert job["undo"] == "ddbridge: generate snare"
    last = out["settings"]["last"]
    assert (last["generate.category"], last["generate.count"], last["generate.where"]) == ("snare", 2, "after")


def test_slot_parameters_answer_without_a_dialog_and_no_track_means_new_tracks(home, config):
    song = session_dir(home)
    body = f"""
local track = new_session({lua_string(str(song))}, "song", {PLAYHEAD})
local ui = test_ui({{}}, nil)
local params = {{ category = "kick", count = "2", seconds = "0", where = "tracks" }}
result.job = plain_job(core.generate_job(Session, ui, params))
result.asked, result.messages = ui.asked, ui.messages
local alone = test_ui({{}}, nil)
params.where = "after"
result.alone = plain_job(core.generate_job(Session, alone, params))
"""
    out = run_lua(home, config, body)
    assert out["asked"] == [] and out["messages"] == []
    request = out["job"]["request"]
    assert request["category"] == "kick" and request["count"] == 2 and "seconds" not in request
    for path in (f["path"] for f in out["job"]["files"]):
        assert_wav(path, song / "Samples" / "Generated" / "kick", seconds=SAMPLE_SIZE / SAMPLE_RATE)
    # "tracks": each on a new track of its own at the playhead
    assert [(p["track"], p["new_track"], p["after"], p["position"]) for p in out["job"]["placements"]] == [
        (None, 1, False, PLAYHEAD),
        (None, 2, False, PLAYHEAD),
    ]
    # no track selected and several sounds: one new track, one after another
    assert [(p["track"], p["new_track"], p["after"]) for p in out["alone"]["placements"]] == [(None, "all", True)] * 2


def session_state(song: Path) -> tuple[bytes, list[str]]:
    audio = song / "interchange" / song.name / "audiofiles"
    return (song / f"{song.name}.ardour").read_bytes(), sorted(
        p.name for p in audio.iterdir()
    ) if audio.exists() else []


FAILING_RUN = """
local track, before = new_session({song}, "song", {playhead})
local ui = test_ui({answers}, track)
result.placed = {action}(Session, ui, {params}) ~= nil
result.asked, result.messages, result.imports = ui.asked, ui.messages, ui.imports
result.unchanged = save() == before
"""


def failing_run(home: Path, config: Path, *, action: str = "core.generate", answers: str = "{}", params: str = "{}"):
    song = session_dir(home)
    body = FAILING_RUN.format(
        song=lua_string(str(song)), playhead=PLAYHEAD, answers=answers, action=action, params=params
    )
    return song, run_lua(home, config, body)


def test_no_daemon_shows_how_to_start_it_and_leaves_the_session_unchanged(home, tmp_path):
    silent = f"tcp://127.0.0.1:{free_port()}"  # nothing listens here
    config = install(home / ".config", executable=str(BIN / "ddbridge"), endpoint=silent, connect_timeout="2")
    started = time.monotonic()
    song, out = failing_run(home, config, params='{ category = "kick", count = "1", seconds = "0", where = "after" }')
    assert time.monotonic() - started < 60  # the ping's timeout, not the job's
    (message,) = out["messages"]
    assert f"did not answer at {silent}" in message and "ddbridge serve" in message
    assert out["placed"] is False and out["imports"] == [] and out["unchanged"] is True
    assert not (song / "Samples").exists() and session_state(song)[1] == []
    assert list((home / "tmp").iterdir()) == []  # request and reply files removed


def test_a_daemon_error_is_shown_and_nothing_is_imported(home, config):
    song, out = failing_run(home, config, params='{ category = "gong", count = "1", seconds = "0", where = "after" }')
    (message,) = out["messages"]
    assert message.startswith("ddbridge could not do it (bad_request)") and "gong" in message
    assert out["placed"] is False and out["imports"] == [] and out["unchanged"] is True
    assert session_state(song)[1] == []


def test_a_missing_command_is_reported_with_the_way_to_fix_it(home, daemon):
    config = install(home / ".config", executable=str(home / "no" / "ddbridge"), endpoint=daemon.endpoint)
    _, out = failing_run(home, config, params='{ category = "kick", count = "1", seconds = "0", where = "after" }')
    (message,) = out["messages"]
    assert "does not exist" in message and "ddbridge: Settings" in message
    assert out["unchanged"] is True


def test_a_cancelled_dialog_does_nothing(home, config, daemon):
    before = daemon.client().request("status")["jobs"]
    song, out = failing_run(home, config, answers="{}")  # the dialog's Cancel: no answers
    assert len(out["asked"]) == 1 and out["messages"] == [] and out["placed"] is False
    assert out["unchanged"] is True and not (song / "Samples").exists()
    assert daemon.client().request("status")["jobs"] == before  # nothing was sent


def test_bad_answers_in_the_dialog_are_explained(home, config):
    _, out = failing_run(
        home, config, answers='{ { category = "two words", count = 1.0, seconds = 0.0, where = "after" } }'
    )
    assert out["messages"] == ["'two words' is not a category name (letters, digits, '-' and '_')."]
    assert out["unchanged"] is True


LOOP_RUN = """
local track, before = new_session({song}, "song", {playhead})
set_tempo(100, 0)
set_tempo({bpm}, 48000)
before = save()
local ui = test_ui({answers}, track)
local sent = json.as_array()
local send = core.send
core.send = function(settings, message)
  sent[#sent + 1] = {{ op = message.op, category = message.category or json.null, bpm = message.bpm or json.null,
    bars = message.bars or json.null, count = message.count or json.null, genre = message.genre or json.null,
    sample_rate = message.sample_rate or json.null, project_dir = message.project_dir or json.null }}
  return send(settings, message)
end
result.job = plain_job(core.loop_job(Session, ui, {params}))
result.sent, result.asked, result.messages, result.imports = sent, ui.asked, ui.messages, ui.imports
result.unchanged = save() == before
"""


def loop_run(
    home: Path, config: Path, *, bpm: float = 124.5, answers: str = "{}", params: str = "{}", name: str = "song"
) -> dict:
    """core.loop_job in a session whose tempo map says 100 BPM until 1 s and ``bpm`` from there, the
    playhead at 1.5 s, the track "Drums" selected; every request it sent is in ``sent``."""
    body = LOOP_RUN.format(
        song=lua_string(str(session_dir(home, name))), playhead=PLAYHEAD, bpm=bpm, answers=answers, params=params
    )
    return run_lua(home, config, body)


def assert_loop_file(path: Path, folder: Path, *, bpm: float, bars: int, genre: str) -> None:
    """A loop at a tempo as the daemon writes it: exactly bars x 4 x 60 / bpm seconds at the session rate, its
    tempo in the name, the sidecar and the RIFF `acid` chunk (tempo, beats)."""
    assert path.is_file() and path.parent == folder, (path, folder)
    info = sf.info(path)
    assert info.samplerate == RATE and info.channels == 2
    assert info.frames == round(bars * 4 * 60 / bpm * RATE), info.frames  # exact to the sample at the session rate
    tempo = f"{bpm:g}".replace(".", "-")
    stem = f"loop_{genre}_{tempo}bpm_" if genre != "any" else f"loop_{tempo}bpm_"
    assert path.name.startswith(stem), path.name
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert (sidecar["bpm"], sidecar["bars"], sidecar["beats"], sidecar["genre"]) == (bpm, bars, bars * 4, genre)
    assert sidecar["loop"] is True
    acid = riff_chunks(path)[b"acid"]
    beats, tempo_f = struct.unpack("<I", acid[12:16])[0], struct.unpack("<f", acid[20:24])[0]
    assert beats == bars * 4 and tempo_f == pytest.approx(bpm)


@pytest.mark.parametrize("genre", ["any", "house"])
def test_loop_sends_the_tempo_at_the_playhead_and_brings_an_exact_loop(home, config, genre):
    """The tempo map says 100 BPM until 1 s and 124.5 BPM from there; the playhead is at 1.5 s.

    The action asks the daemon for its loop network first, then for the genre, the bars and how many
    (the dialog offers the network's genres and bars), and sends category loop, bpm 124.5 (the tempo
    at the playhead), the bars and the genre ("any": none). The loop is exactly 2 bars at 124.5 BPM at
    the session's rate and goes onto the selected track at the playhead.
    """
    out = loop_run(home, config, answers=f'{{ {{ genre = "{genre}", bars = 2, count = 1.0 }} }}')
    assert out["messages"] == []
    ((dialog),) = out["asked"]
    assert dialog["title"] == "ddbridge: generate a loop at the session tempo"
    assert dialog["fields"][0] == {"key": None, "type": "heading", "title": "Tempo at the playhead: 124.5 BPM, 4/4"}
    assert [f["key"] for f in dialog["fields"][1:]] == ["genre", "bars", "count"]
    models, request = out["sent"]
    assert models["op"] == "models"
    assert (request["op"], request["category"], request["bpm"], request["bars"], request["count"]) == (
        "generate",
        "loop",
        124.5,
        2,
        1,
    )
    assert request["genre"] == (None if genre == "any" else genre)
    song = session_dir(home)
    assert request["sample_rate"] == RATE and Path(request["project_dir"]) == song
    ((file),) = out["job"]["files"]
    assert_loop_file(Path(file["path"]), song / "Samples" / "Generated" / "loop", bpm=124.5, bars=2, genre=genre)
    ((placement),) = out["job"]["placements"]
    assert (placement["track"], placement["position"], placement["path"]) == ("Drums", PLAYHEAD, file["path"])
    assert out["job"]["undo"] == f"ddbridge: loop {genre}"
    assert out["imports"] == [] and out["unchanged"] is True  # headless: Ardour's import is the editor's


def test_a_loop_at_the_session_rate_is_exact_to_the_sample(home, config):
    """The model runs at 8 kHz, the session at 48 kHz: 2 bars at 124.5 BPM are round(3.8554 s x 48000) samples."""
    out = loop_run(home, config, params='{ genre = "any", bars = "2", count = "1" }')
    ((file),) = out["job"]["files"]
    assert sf.info(file["path"]).frames == round(2 * 4 * 60 / 124.5 * RATE)


def test_loop_defaults_to_one_bar_of_any_genre_and_fixed_slots_ask_nothing(home, config):
    out = loop_run(home, config, params='{ genre = "", bars = "", count = "1" }', answers='{ "defaults" }')
    ((dialog),) = out["asked"]  # genre and bars left empty in the slot: asked, with their defaults
    assert [f["key"] for f in dialog["fields"][1:]] == ["genre", "bars"]
    _, request = out["sent"]
    assert (request["bars"], request["genre"], request["count"]) == (1, None, 1)  # the defaults: 1 bar, any
    ((file),) = out["job"]["files"]
    assert_loop_file(
        Path(file["path"]), session_dir(home) / "Samples" / "Generated" / "loop", bpm=124.5, bars=1, genre="any"
    )
    fixed = loop_run(home, config, params='{ genre = "techno", bars = "4", count = "1" }', name="fixed")
    assert fixed["asked"] == [] and fixed["messages"] == []
    _, request = fixed["sent"]
    assert (request["bars"], request["genre"]) == (4, "techno")


def test_loop_bars_the_network_cannot_make_are_explained(home, config):
    out = loop_run(home, config, params='{ genre = "any", bars = "3", count = "1" }')
    assert out["messages"] == ["Bars must be 1, 2, 4, not '3'."]
    assert [r["op"] for r in out["sent"]] == ["models"] and out["job"] is None and out["unchanged"] is True


def test_loop_at_a_tempo_outside_the_loop_networks_range_says_so_and_does_nothing(home, config, daemon):
    before = daemon.client().request("status")["jobs"]
    out = loop_run(home, config, bpm=60, params='{ genre = "house", bars = "1", count = "1" }')
    (message,) = out["messages"]
    assert message.startswith("The tempo at the playhead is 60 BPM; the loop network makes loops at 70 to 180 BPM.")
    assert [r["op"] for r in out["sent"]] == ["models"] and out["asked"] == []
    assert out["job"] is None and out["unchanged"] is True and not (session_dir(home) / "Samples").exists()
    assert daemon.client().request("status")["jobs"] == before  # no job was sent


def test_loop_from_a_model_without_a_loop_network_says_so_and_does_nothing(home, plain_daemon):
    config = install(home / ".config", executable=str(BIN / "ddbridge"), endpoint=plain_daemon.endpoint)
    out = loop_run(home, config, answers='{ { genre = "house", bars = 1, count = 1.0 } }')
    (message,) = out["messages"]
    assert message.startswith("The daemon's model 'tiny' has no loop network, so it makes no loops at a tempo.")
    assert [r["op"] for r in out["sent"]] == ["models"] and out["asked"] == []  # nothing asked, nothing made
    assert out["job"] is None and out["unchanged"] is True and not (session_dir(home) / "Samples").exists()


def test_loop_with_the_daemon_down_shows_how_to_start_it(home):
    silent = f"tcp://127.0.0.1:{free_port()}"
    config = install(home / ".config", executable=str(BIN / "ddbridge"), endpoint=silent, connect_timeout="2")
    out = loop_run(home, config, answers='{ { genre = "house", bars = 1, count = 1.0 } }')
    (message,) = out["messages"]
    assert f"did not answer at {silent}" in message and "ddbridge serve" in message
    assert out["asked"] == [] and out["job"] is None and out["unchanged"] is True


def test_settings_are_saved_and_checked_against_the_daemon(home, config, daemon):
    fields = f'executable = "ddbridge", endpoint = "{daemon.endpoint}", connect_timeout = " 4 ", job_timeout = "90"'
    answers = "{ {" + fields + "} }"
    body = f"""
assert(create_session({lua_string(str(session_dir(home)))}, "song", 48000))
local ui = test_ui({answers}, nil)
result.reply = core.settings(Session, ui)
result.messages = ui.messages
result.saved = json.decode(read(core.settings_path()))
local bad = test_ui({{ {{ executable = "ddbridge", endpoint = "x", connect_timeout = "soon", job_timeout = "9" }} }})
core.settings(Session, bad)
result.bad = bad.messages
"""
    out = run_lua(home, config, body)
    saved = out["saved"]
    assert (saved["executable"], saved["endpoint"], saved["connect_timeout"], saved["job_timeout"]) == (
        "ddbridge",  # found on PATH
        daemon.endpoint,
        "4",
        "90",
    )
    (message,) = out["messages"]
    assert re.fullmatch(rf"Settings saved\. ddbridge \S+ is answering at {re.escape(daemon.endpoint)}\.", message)
    assert out["bad"] == ["The setting 'connect_timeout' must be a positive number of seconds, not 'soon'."]


# -- Ardour itself, under Xvfb ------------------------------------------------------------------

ENGINE_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<Ardour>
  <Config>
    <Option name="hide-dummy-backend" value="0"/>
    <Option name="try-autostart-engine" value="1"/>
    <Option name="discover-plugins-on-start" value="0"/>
  </Config>
  <Extra>
    <AudioMIDISetup>
      <EngineStates>
        <State backend="None (Dummy)" driver="" device="Silence" input-device="" output-device="" sample-rate="48000"
               buffer-size="1024" n-periods="2" input-latency="0" output-latency="0" lm-input="" lm-output=""
               active="1" use-buffered-io="0" midi-option="" lru="1700000000"><MIDIDevices/></State>
      </EngineStates>
    </AudioMIDISetup>
  </Extra>
</Ardour>
"""

# The Script Manager's "Add/Set" of an action slot: Ardour compiles the script in a sandbox, keeps
# the stripped bytecode of its factory and the parameters the user typed, and stores the slots as
# Lua text in <config>/ui_scripts. This writes that text for `slots` (path, name, parameters).
SLOTS = r"""
local slots = json.decode(os.getenv("DDBRIDGE_TEST_SLOTS"))
local out = { "scripts = {} " }
for i, slot in ipairs(slots) do
  local env = {}
  for k, v in pairs(_G) do env[k] = v end
  for _, name in ipairs({ "dofile", "require", "package", "debug", "rawget", "rawset", "coroutine", "module",
                          "os", "io", "loadfile" }) do env[name] = nil end
  env.ardour = function() end
  local source = read(slot.path)
  assert(load(source, "=" .. slot.path, "t", env))()
  local prefix = string.format("scripts[%d]", i)
  out[#out + 1] = string.format("%s = {} %s[\"n\"] = %q %s[\"s\"] = %q %s[\"f\"] = %q %s[\"a\"] = {} ",
    prefix, prefix, slot.name, prefix, source, prefix, string.dump(env.factory, true), prefix)
  for key, value in pairs(slot.params) do
    out[#out + 1] = string.format("%s[\"a\"][%q] = %q ", prefix, key, value)
  end
end
local f = assert(io.open(os.getenv("DDBRIDGE_TEST_STATE"), "wb"))  -- bytecode: binary, not JSON
f:write(table.concat(out))
f:close()
"""

# The test's driver: an editor hook (Ardour runs it every 0.1 s) that works through `steps`
# one at a time, the way a user would: move the playhead, select, press the slots, save.
DRIVER = r"""
local SCRIPTS, LOG = %(scripts)s, %(log)s
local json = assert(loadfile(SCRIPTS .. "/ddbridge/json.lua"))()
local log = io.open(LOG, "w")
local function say(kind, data)
  log:write(kind, " ", json.encode(data or {}), "\n")
  log:flush()
end

local function track(name) return Session:route_by_name(name):to_track() end

local function regions(name)
  local out = {}
  for r in track(name):playlist():region_list():iter() do out[#out + 1] = r end
  return out
end

local waits = 0
local function at(sample)
  if Session:transport_sample() == sample then return true end
  if waits == 0 then
    Session:request_locate(sample, false, ARDOUR.LocateTransportDisposition.MustStop,
      ARDOUR.TransportRequestSource.TRS_UI)
  end
  waits = waits + 1
  assert(waits < 1200, "the playhead did not move to " .. sample) -- 2 minutes: a hang, not a slow machine
  return false
end

local steps = {
  -- 1: the playhead at 1.5 s, the track "Drums" (the only one) selected: press slot 1 (generate 2 kicks)
  function()
    if not at(%(playhead)d) then return false end
    Editor:select_all_tracks()
    Editor:access_action("LuaAction", "script-1")
    say("generated", { regions = #regions("Drums") })
    return true
  end,
  -- 2: select the first new region on "Drums": press slot 2 (one variation on top of it)
  function()
    local first = regions("Drums")[1]
    local list = ArdourUI.SelectionList()
    list:push_back(Editor:regionview_from_region(first))
    Editor:set_selection(list, ArdourUI.SelectionOp.Set)
    say("varying", { region = first:name() })
    Editor:access_action("LuaAction", "script-2")
    say("varied", { regions = #regions("Drums") })
    return true
  end,
  -- 3: nothing selected, the playhead at 4 s: press slot 3 (two snares, each on a new track)
  function()
    waits = 0
    Editor:deselect_all()
    return true
  end,
  function()
    if not at(192000) then return false end
    Editor:access_action("LuaAction", "script-3")
    local names = {}
    for r in Session:get_tracks():iter() do names[#names + 1] = r:name() end
    say("tracks", { names = names })
    return true
  end,
  -- 4: nothing selected, the playhead at 8 s: press slot 4 (a 2-bar house loop at the session's tempo)
  function()
    waits = 0
    Editor:deselect_all()
    return true
  end,
  function()
    if not at(%(loop_at)d) then return false end
    Editor:access_action("LuaAction", "script-4")
    local names = {}
    for r in Session:get_tracks():iter() do names[#names + 1] = r:name() end
    say("looped", { names = names })
    return true
  end,
  -- 5: save
  function()
    Editor:access_action("Common", "Save")
    say("DONE")
    return true
  end,
}

local step, busy, since = 1, false, 0
return function(signal, ref, ...)
  if step > #steps then return end
  if busy then -- a step runs (Ardour's import and dialogs turn the main loop meanwhile)
    if since and os.time() - since > 120 then -- a dialog waits for an answer: say so, once
      say("STUCK", { step = step })
      since = nil
    end
    return
  end
  busy, since = true, os.time()
  local ok, done = pcall(steps[step])
  if not ok then
    say("ERROR", { step = step, error = tostring(done) })
    step = #steps + 1
  elseif done then
    step = step + 1
  end
  busy = false
end
"""


def lua_quote(text: str) -> str:
    """A Lua string literal for any text (as Lua's %q writes it, minus the cases plain text never has)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def ui_scripts(config: Path, home: Path, slots: list[dict], driver: str) -> None:
    """<config>/ui_scripts: the action slots and the driver hook, in the format Ardour saves them."""
    env_slots = json.dumps([{**s, "path": str(config / "scripts" / s["file"])} for s in slots])
    script, state = home / "slots.lua", home / "slots.state"
    script.write_text(PRELUDE + SLOTS + "\nfinish()\n")
    proc = subprocess.run(
        [ARDOUR_LUA, str(script)],
        env=environment(
            home,
            DDBRIDGE_TEST_SCRIPTS=str(config / "scripts"),
            DDBRIDGE_TEST_SLOTS=env_slots,
            DDBRIDGE_TEST_STATE=str(state),
        ),
        capture_output=True,
        timeout=120,
    )
    assert state.exists(), proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    actions = state.read_bytes()
    hook = f's = {{}} s["n"] = "ddbridge test driver" s["s"] = "" s["f"] = {lua_quote(driver)} s["a"] = {{}} '
    timer_ds = "1" + "0" * 47  # LuaSignal LuaTimerDS (the 48th signal in Ardour 7.3)
    (config / "ui_scripts").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<UIScripts>\n'
        f"  <ActionScript>{base64.b64encode(actions).decode()}</ActionScript>\n"
        "  <ActionHooks>\n"
        f'    <LuaCallback lua="Lua 5.3" id="4242" name="ddbridge test driver" signals="{timer_ds}">'
        f"{base64.b64encode(hook.encode()).decode()}</LuaCallback>\n"
        "  </ActionHooks>\n</UIScripts>\n"
    )


@pytest.fixture(scope="module")
def display():
    """A private X display (Xvfb) for Ardour's editor."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        [XVFB, "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1280x1024x24"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    assert number.isdigit(), "Xvfb did not start"
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def in_ardour(daemon, display, tmp_path_factory):
    """One Ardour session worked on in the editor by the driver hook; what it left behind."""
    home = daemon.allowed / "ardour user"
    home.mkdir()
    config = install(home / ".config", executable="ddbridge", endpoint=daemon.endpoint)
    (config / ".a7").touch()  # not a new user: no first-run wizard
    (config / "config").write_text(ENGINE_CONFIG)
    song = session_dir(home)
    out = run_lua(home, config, f'new_session({lua_string(str(song))}, "song", 0)\nset_tempo({LOOP_BPM}, 0)\nsave()\n')
    assert out == {}
    log = home / "driver.log"
    slots = [
        {
            "file": "ddbridge_generate.lua",
            "name": "kick",
            "params": {"category": "kick", "count": "2", "seconds": "0", "where": "after"},
        },
        {"file": "ddbridge_variate.lua", "name": "vary", "params": {"strength": "0.5", "count": "1", "where": "top"}},
        {
            "file": "ddbridge_generate.lua",
            "name": "snares",
            "params": {"category": "snare", "count": "2", "seconds": "0.5", "where": "tracks"},
        },
        {"file": "ddbridge_loop.lua", "name": "house loop", "params": {"genre": "house", "bars": "2", "count": "1"}},
    ]
    driver = DRIVER % {
        "scripts": lua_quote(str(config / "scripts")),
        "log": lua_quote(str(log)),
        "playhead": PLAYHEAD,
        "loop_at": LOOP_AT,
    }
    ui_scripts(config, home, slots, driver)
    env = environment(home, DISPLAY=display, ARDOUR_TRY_AUTOSTART_ENGINE="1")
    output = home / "ardour.log"
    with open(output, "wb") as sink:
        proc = subprocess.Popen([ARDOUR, "-n", "-a", str(song / "song.ardour")], env=env, stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 400  # a hang guard: the driver says STUCK when a dialog waits
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text() if log.exists() else ""
            if "DONE" in text or "ERROR" in text or "STUCK" in text:
                break
            time.sleep(0.2)
        events = [line.split(" ", 1) for line in (log.read_text() if log.exists() else "").splitlines()]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    record = {kind: json.loads(data) for kind, data in events}
    assert "DONE" in record, f"driver: {events}\n\nArdour's output:\n{output.read_text(errors='replace')[-6000:]}"
    return {"song": song, "events": record, "log": output.read_text(errors="replace")}


def samples(superclock: str) -> int:
    """A time in the session file ("a<superclock ticks>") in samples."""
    ticks = int(superclock.removeprefix("a"))
    assert superclock.startswith("a") and ticks * RATE % SUPERCLOCK == 0, superclock
    return ticks * RATE // SUPERCLOCK


def position(region: ET.Element) -> int:
    return samples(region.get("length").split("@")[1])  # a region's length carries its position


def length(region: ET.Element) -> int:
    return samples(region.get("length").split("@")[0])


def session_xml(song: Path) -> ET.Element:
    return ET.parse(song / f"{song.name}.ardour").getroot()


def playlist_regions(root: ET.Element, track: str) -> list[ET.Element]:
    route = next(r for r in root.iter("Route") if r.get("name") == track)
    playlist = next(p for p in root.iter("Playlist") if p.get("id") == route.get("audio-playlist"))
    return sorted(playlist.findall("Region"), key=lambda r: (position(r), int(r.get("layering-index"))))


def region_files(root: ET.Element, song: Path, region: ET.Element) -> list[Path]:
    sources = {s.get("id"): s.get("name") for s in root.iter("Source")}
    names = [sources[region.get(f"source-{i}")] for i in range(int(region.get("channels")))]
    return [song / "interchange" / song.name / "audiofiles" / name for name in names]


def riff_info(path: Path) -> dict:
    """The LIST/INFO chunk of a WAV, read chunk by chunk from its RIFF layout."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, info = 12, {}
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"LIST" and body[:4] == b"INFO":
            p = 4
            while p + 8 <= len(body):
                key, n = body[p : p + 4].decode(), struct.unpack("<I", body[p + 4 : p + 8])[0]
                info[key] = body[p + 8 : p + 8 + n].rstrip(b"\0").decode()
                p += 8 + n + (n & 1)
        pos += 8 + size + (size & 1)
    return info


def assert_imported_copy(root: ET.Element, song: Path, region: ET.Element, generated: Path) -> None:
    """The region's sources are Ardour's copies (one file per channel) of the generated WAV, whose
    audio, RIFF INFO and sidecar are intact in the session folder."""
    audio, rate = sf.read(generated, always_2d=True)
    assert rate == RATE
    copies = region_files(root, song, region)
    assert [p.name for p in copies] == [f"{generated.stem}%L.wav", f"{generated.stem}%R.wav"]
    for channel, copy in enumerate(copies):
        data, copy_rate = sf.read(copy)
        assert copy_rate == RATE and np.array_equal(data, audio[:, channel].astype(data.dtype)), copy
    assert length(region) == len(audio)
    sidecar = json.loads(generated.with_suffix(".json").read_text())
    assert json.loads(riff_info(generated)["ICMT"]) == sidecar and riff_info(generated)["ISFT"] == "ddbridge"


def undo_steps(song: Path) -> list[ET.Element]:
    return ET.parse(song / f"{song.name}.history").getroot().findall("UndoTransaction")


def test_generate_in_ardour_imports_at_the_playhead_one_after_another(in_ardour):
    song = in_ardour["song"]
    root = session_xml(song)
    kicks = sorted((song / "Samples" / "Generated" / "kick").glob("*.wav"))
    assert len(kicks) == 2
    drums = playlist_regions(root, "Drums")
    first, second = (r for r in drums if r.get("name").startswith("kick"))
    assert position(first) == PLAYHEAD and length(first) == SAMPLE_SIZE * RATE // SAMPLE_RATE
    assert position(second) == PLAYHEAD + length(first)
    assert_imported_copy(root, song, first, kicks[0])
    assert_imported_copy(root, song, second, kicks[1])
    assert in_ardour["events"]["generated"] == {"regions": 2}


def test_each_action_is_one_undo_step(in_ardour):
    song = in_ardour["song"]
    root = session_xml(song)
    playlists = {r.get("name"): r.get("audio-playlist") for r in root.iter("Route")}
    steps = undo_steps(song)
    ours = [s for s in steps if s.get("name").startswith("ddbridge: ")]
    varied = in_ardour["events"]["varying"]["region"]
    assert [s.get("name") for s in ours] == [
        "ddbridge: generate kick",
        f"ddbridge: variate {varied}",
        "ddbridge: generate snare",
        "ddbridge: loop house",
    ]

    def adds(step: ET.Element) -> list[tuple[str, int]]:
        return [(c.get("obj-id"), len(c.findall("Changes/Regions/Add"))) for c in step]

    assert adds(ours[0]) == [(playlists["Drums"], 2)]  # both kicks, one change of the track's playlist
    assert adds(ours[1]) == [(playlists["Drums"], 1)]
    assert sorted(adds(ours[2])) == sorted([(playlists["snare"], 1), (playlists["snare 1"], 1)])
    assert adds(ours[3]) == [(playlists["loop house"], 1)]
    # Ardour records each file's import as a step of its own that changes nothing but the selection
    for step in steps:
        if step not in ours:
            assert step.get("name") == "insert file" and {c.get("type-name") for c in step} == {"SelectionMemento"}


def test_variate_in_ardour_puts_the_variation_on_top_of_the_region(in_ardour):
    song = in_ardour["song"]
    root = session_xml(song)
    varied = in_ardour["events"]["varying"]["region"]
    drums = playlist_regions(root, "Drums")
    original = next(r for r in drums if r.get("name") == varied)
    (variation,) = [r for r in drums if r.get("name").startswith("variation")]
    assert position(variation) == position(original) == PLAYHEAD
    assert int(variation.get("layering-index")) > int(original.get("layering-index"))  # it plays
    (generated,) = sorted((song / "Samples" / "Generated" / "variation").glob("*.wav"))
    assert_imported_copy(root, song, variation, generated)
    meta = json.loads(generated.with_suffix(".json").read_text())
    left = region_files(root, song, original)[0]
    assert meta["op"] == "variate" and Path(meta["source"]) == left  # the file Ardour plays the region from
    assert meta["source_start"] == 0 and meta["source_seconds"] == pytest.approx(SAMPLE_SIZE / SAMPLE_RATE)
    assert meta["strength"] == pytest.approx(0.5)


def test_generate_without_a_selected_track_puts_each_sound_on_a_new_track(in_ardour):
    song = in_ardour["song"]
    root = session_xml(song)
    snares = sorted((song / "Samples" / "Generated" / "snare").glob("*.wav"))
    assert len(snares) == 2
    new_tracks = [r.get("name") for r in root.iter("Route") if r.get("name") not in ("Master", "Drums", "loop house")]
    assert len(new_tracks) == 2 and all(name.startswith("snare") for name in new_tracks)
    placed = []
    for name in new_tracks:
        (region,) = playlist_regions(root, name)
        assert position(region) == 192000
        placed.append(region)
    for region, generated in zip(sorted(placed, key=lambda r: r.get("name")), snares, strict=True):
        assert_imported_copy(root, song, region, generated)


def test_loop_in_ardour_lands_at_the_playhead_at_the_session_tempo(in_ardour):
    """Slot 4 (genre house, 2 bars) with nothing selected and the playhead at 8 s, the session at 125 BPM:
    a new track "loop house" holds Ardour's copy of a loop of exactly 2 bars at 125 BPM, at the playhead."""
    song = in_ardour["song"]
    root = session_xml(song)
    assert "loop house" in in_ardour["events"]["looped"]["names"]
    (generated,) = sorted((song / "Samples" / "Generated" / "loop").glob("*.wav"))
    assert_loop_file(generated, song / "Samples" / "Generated" / "loop", bpm=LOOP_BPM, bars=2, genre="house")
    (region,) = playlist_regions(root, "loop house")
    assert position(region) == LOOP_AT and length(region) == 2 * 4 * 60 * RATE // LOOP_BPM
    assert_imported_copy(root, song, region, generated)
