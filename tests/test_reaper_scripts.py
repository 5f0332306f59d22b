"""The REAPER scripts, run by real lua5.4 under a stand-in `reaper` table, against the real daemon.

The stand-in (tests/reaper_standin/) implements exactly the documented ReaScript functions the
scripts call and fails on any other. Its ExecProcess really starts the command in the background
and its defer loop drives the scripts' polling, so each action goes through `ddbridge request send`
and the daemon's real ZeroMQ protocol.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from daemon_helpers import DaemonProcess, build_tiny_model, free_port, vector_variables
from protocol_vectors import load as load_vectors
from riff_reader import riff_chunks

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "reaper_scripts"
STANDIN = Path(__file__).resolve().parent / "reaper_standin"
LUA = shutil.which("lua5.4") or "lua5.4"
LUAC = shutil.which("luac5.4") or "luac5.4"
BIN = Path(sys.executable).parent  # where the ddbridge command of this environment lives
CATEGORIES = ("kick", "snare", "hat", "clap", "perc", "bass", "loop")
RS5K = "ReaSamplOmatic5000 (Cockos)"


def header_tags(path: Path) -> dict[str, list[str]]:
    """ReaPack header tags of a script: {tag: [value, indented lines...]}."""
    tags: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^-- @(\w+)\s*(.*?)\s*$", line):
            current = tags[m.group(1)] = [m.group(2)] if m.group(2) else []
        elif current is not None and line.startswith("--  "):
            current.append(line[2:].strip())
        elif not line.startswith("--"):
            break
        else:
            current = None
    return tags


def provided() -> list[tuple[str, str, bool]]:
    """(source, installed name, is an action) for each @provides line of the package file."""
    out = []
    for entry in header_tags(SCRIPTS / "ddbridge.lua")["provides"]:
        main = entry.startswith("[main]")
        entry = entry.removeprefix("[main]").strip()
        source, _, target = (part.strip() for part in entry.partition(">"))
        out.append((source, target or source, main))
    return out


def install(folder: Path) -> Path:
    """Install the package the way ReaPack does: every provided file under its installed name."""
    for source, target, _ in provided():
        dest = folder / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCRIPTS / source, dest)
    return folder


def calls(record: dict, fn: str) -> list[list]:
    return [c["args"] for c in record["calls"] if c["fn"] == fn]


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    model = build_tiny_model(tmp_path_factory.mktemp("model"), loops=True)  # the vectors ask for loops
    with DaemonProcess(model, tmp_path_factory.mktemp("reaper daemon"), pool_size=0) as d:
        yield d


@pytest.fixture(scope="module")
def plain_daemon(tmp_path_factory):
    """A daemon whose model has no loop network (it makes no loops at a tempo)."""
    model = build_tiny_model(tmp_path_factory.mktemp("plain model"))
    with DaemonProcess(model, tmp_path_factory.mktemp("plain daemon"), pool_size=0) as d:
        yield d


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> Path:
    return install(tmp_path_factory.mktemp("REAPER Scripts") / "ddbridge")


@pytest.fixture
def project(daemon) -> Path:
    folder = daemon.allowed / f"My Song {uuid.uuid4().hex[:6]}" / "Media"
    folder.mkdir(parents=True)
    return folder


# run.lua rewrites its heartbeat file about once a second while its loop turns; this long without
# a beat, it is stuck (a script that blocks), however slow the machine. How long a whole run takes
# is not limited: run.lua stops a run that starts no process for a while (see its header).
STUCK_AFTER = 60


def run_standin(args: list[str], env: dict, heartbeat: Path) -> subprocess.CompletedProcess:
    """Run run.lua; killed only when its heartbeat stops."""
    with open(heartbeat.with_suffix(".out"), "w+") as out, open(heartbeat.with_suffix(".err"), "w+") as err:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True)
        last, changed = None, time.monotonic()
        while proc.poll() is None:
            time.sleep(0.1)
            beat = heartbeat.read_text() if heartbeat.exists() else None
            if beat != last:
                last, changed = beat, time.monotonic()
            elif time.monotonic() - changed > STUCK_AFTER:
                proc.kill()
                proc.wait()
                err.seek(0)
                pytest.fail(f"run.lua stopped turning its loop for {STUCK_AFTER} s (a script blocks):\n{err.read()}")
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read())


@pytest.fixture
def run(tmp_path, scripts):
    """run(action file name, scenario fields) -> the stand-in's record of the run."""
    temp = tmp_path / "temp files"
    temp.mkdir()

    def run_script(name: str, scenario: dict, *, script: Path | None = None, env: dict | None = None) -> dict:
        heartbeat = tmp_path / "heartbeat"
        heartbeat.unlink(missing_ok=True)
        scenario = {"script": str(script or scripts / name), "heartbeat": str(heartbeat), **scenario}
        scenario_path, record_path = tmp_path / "scenario.json", tmp_path / "record.json"
        scenario_path.write_text(json.dumps(scenario))
        environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "TMPDIR": str(temp)}
        started = time.monotonic()
        proc = run_standin(
            [LUA, str(STANDIN / "run.lua"), str(scenario_path), str(record_path)],
            {**environment, **(env or {})},
            heartbeat,
        )
        record = json.loads(record_path.read_text())
        record.update(returncode=proc.returncode, stderr=proc.stderr, wall=time.monotonic() - started)
        record["leftovers"] = sorted(p.name for p in temp.iterdir())
        return record

    return run_script


def settings(daemon: DaemonProcess, **extra: str) -> dict:
    return {"ddbridge": {"endpoint": daemon.endpoint, "connect_timeout": "10", "job_timeout": "60", **extra}}


def one_track(project: Path, daemon: DaemonProcess, **fields) -> dict:
    return {
        "project_path": str(project),
        "cursor": 1.5,
        "tracks": [{"name": "Other"}, {"name": "Drums", "selected": True, **fields}],
        "extstate": settings(daemon),
    }


def assert_clean(record: dict) -> None:
    assert record["error"] is None and record["returncode"] == 0, record["stderr"]
    assert record["messages"] == [], record["messages"]
    assert record["leftovers"] == []  # request and reply files were removed


def assert_wav_in(path: str, folder: Path, rate: int = 8000) -> None:
    p = Path(path)
    assert p.is_file() and p.parent == folder, (p, folder)
    audio, file_rate = sf.read(p)
    assert file_rate == rate and audio.ndim == 2 and audio.shape[1] == 2 and len(audio) > 0


# -- static checks ----------------------------------------------------------------------------


LUA_FILES = sorted([*SCRIPTS.rglob("*.lua"), *STANDIN.glob("*.lua")])


@pytest.mark.parametrize("path", LUA_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_lua_file_compiles_with_luac(path):
    result = subprocess.run([LUAC, "-p", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_action_carries_reapack_headers():
    actions = sorted(SCRIPTS.glob("ddbridge - *.lua"))
    package = header_tags(SCRIPTS / "ddbridge.lua")
    assert "metapackage" in package and len(package["version"]) == 1
    for path in [SCRIPTS / "ddbridge.lua", *actions]:
        tags = header_tags(path)
        for tag in ("description", "version", "author", "about"):
            assert tags.get(tag), f"{path.name} lacks @{tag}"
        assert tags["version"] == package["version"], path.name
    for path in SCRIPTS.joinpath("ddbridge").glob("*.lua"):
        assert path.read_text().startswith("-- @noindex\n"), path.name  # modules are not packages
    installed_actions = {target for _, target, main in provided() if main}
    assert {p.name for p in actions} <= installed_actions
    assert {f"ddbridge - Generate {c} at edit cursor.lua" for c in CATEGORIES} <= installed_actions
    assert {"ddbridge/actions.lua", "ddbridge/client.lua", "ddbridge/json.lua"} <= {s for s, _, _ in provided()}


def test_index_xml_lists_every_provided_file_and_is_up_to_date():
    check = subprocess.run([LUA, str(SCRIPTS / "tools" / "make_index.lua"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    package = ET.parse(SCRIPTS / "index.xml").getroot().find("category/reapack")
    version = header_tags(SCRIPTS / "ddbridge.lua")["version"][0]
    assert package.get("type") == "script" and package.find("version").get("name") == version
    sources = {s.get("file"): s for s in package.iter("source")}
    assert set(sources) == {target for _, target, _ in provided()}
    release = json.loads((SCRIPTS / "release.json").read_text())
    owner_name = release["repository"].removeprefix("https://github.com/")
    base = f"https://raw.githubusercontent.com/{owner_name}/{release['ref']}/reaper_scripts/"
    assert release["ref"] == f"v{version}" or re.fullmatch(r"[0-9a-f]{40}", release["ref"])  # pinned, not a branch
    for source, target, main in provided():
        assert sources[target].text == base + source.replace(" ", "%20")
        assert (sources[target].get("main") == "main") == main


def test_index_urls_are_pinned_to_a_release_and_the_readme_imports_that_index():
    make_index = [LUA, str(SCRIPTS / "tools" / "make_index.lua")]
    url = subprocess.run([*make_index, "--import-url"], capture_output=True, text=True, check=True).stdout.strip()
    release = json.loads((SCRIPTS / "release.json").read_text())
    assert url == (
        f"https://raw.githubusercontent.com/{release['repository'].removeprefix('https://github.com/')}"
        f"/{release['ref']}/reaper_scripts/index.xml"
    )
    assert url in (SCRIPTS / "README.md").read_text().split()
    branch = subprocess.run([*make_index, "--ref", "main", "--check"], capture_output=True, text=True)
    assert branch.returncode == 2 and "a branch would change" in branch.stderr


# -- the stand-in itself ----------------------------------------------------------------------


def test_standin_fails_loudly_on_functions_it_does_not_implement(run, tmp_path):
    script = tmp_path / "uses an unknown function.lua"
    script.write_text("reaper.ShowConsoleMsg('hello')\nreaper.GetTrackColor(0)\n")
    record = run("", {"project_path": str(tmp_path)}, script=script)
    assert record["returncode"] == 1 and "reaper.GetTrackColor is not one of the documented" in record["error"]
    assert record["console"] == "hello"


def test_standin_checks_documented_argument_types(run, tmp_path):
    script = tmp_path / "wrong types.lua"
    script.write_text("reaper.defer(function() reaper.InsertMedia('x.wav', 0.5) end)\n")
    record = run("", {"project_path": str(tmp_path)}, script=script)
    assert record["returncode"] == 1 and "reaper.InsertMedia: argument 2 must be integer" in record["error"]


def test_standin_stops_a_run_that_defers_without_ever_starting_a_process(run, tmp_path):
    script = tmp_path / "defers forever.lua"
    script.write_text("local function again() reaper.defer(again) end\nagain()\n")
    record = run("", {"project_path": str(tmp_path), "stall_seconds": 1}, script=script)
    assert record["returncode"] == 1
    assert record["error"] == "the script still deferred 1 s after it last started a process"
    assert record["ticks"] > 1


# -- actions against the daemon ---------------------------------------------------------------


def test_generate_kick_at_edit_cursor_inserts_a_new_wav_from_the_project_folder(run, daemon, project):
    # REAPER's current (last touched) track is "Other", the selected one "Drums": InsertMedia mode 0
    # would add to "Other"; the action names the track it captured in the mode's high word
    scenario = {**one_track(project, daemon), "last_touched": 1}
    record = run("ddbridge - Generate kick at edit cursor.lua", scenario)
    assert_clean(record)
    ((path, mode),) = calls(record, "InsertMedia")
    assert mode == 512 | (1 << 16)
    assert_wav_in(path, project / "Samples" / "Generated" / "kick")
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    assert meta["category"] == "kick" and meta["op"] == "generate"
    drums = record["project"]["tracks"][1]
    ((item),) = drums["items"]
    assert {k: item[k] for k in ("position", "takes", "active", "selected")} == {
        "position": 1.5,
        "takes": [path],
        "active": 1,
        "selected": True,
    }
    assert item["length"] == pytest.approx(sf.info(path).duration) and item["info"] == {}  # as long as the file
    assert record["project"]["tracks"][0]["items"] == []
    ((cmd, timeout),) = calls(record, "ExecProcess")
    assert timeout == -1 and cmd.startswith(f'"{BIN / "ddbridge"}" "request" "send" "')
    assert record["ticks"] >= 2  # the script returned at once and polled for the reply
    assert record["undo_blocks"] == ["ddbridge: generate kick at edit cursor"]
    assert "generating kick" in record["console"] and path in record["console"]


def test_the_plain_generate_action_asks_for_the_category_and_follows_the_project_rate(run, daemon, project):
    scenario = {**one_track(project, daemon), "user_inputs": [{"ok": True, "answer": "snare"}], "project_srate": 11025}
    record = run("ddbridge - Generate at edit cursor.lua", scenario)
    assert_clean(record)
    ((path, _),) = calls(record, "InsertMedia")
    assert_wav_in(path, project / "Samples" / "Generated" / "snare", rate=11025)
    assert record["extstate"]["ddbridge"]["category"] == "snare"


@pytest.mark.parametrize("existing", [[], ["ReaEQ (Cockos)", RS5K]], ids=["adds RS5k", "reuses RS5k"])
def test_generate_into_rs5k_loads_file0_then_done(run, daemon, project, existing):
    scenario = {**one_track(project, daemon, fx=existing), "user_inputs": [{"ok": True, "answer": "kick"}]}
    record = run("ddbridge - Generate into ReaSamplOmatic5000 on selected track.lua", scenario)
    assert_clean(record)
    ((track, name, rec_fx, instantiate),) = calls(record, "TrackFX_AddByName")
    assert (name, rec_fx, instantiate) == (RS5K, False, 1)  # 1: reuse, add only when missing
    fx = record["project"]["tracks"][1]["fx"]
    assert [f["name"] for f in fx] == (existing or [RS5K])
    rs5k = next(f for f in fx if f["name"] == RS5K)
    (file0, done) = rs5k["config"]
    assert file0["parm"] == "FILE0" and done == {"parm": "DONE", "value": ""}
    assert_wav_in(file0["value"], project / "Samples" / "Generated" / "kick")
    assert calls(record, "InsertMedia") == []


def test_generate_into_rs5k_asks_for_a_root_note_and_says_what_was_done(run, daemon, project):
    scenario = {**one_track(project, daemon), "user_inputs": [{"ok": True, "answer": "kick, C2"}]}
    record = run("ddbridge - Generate into ReaSamplOmatic5000 on selected track.lua", scenario)
    assert_clean(record)
    rs5k = next(f for f in record["project"]["tracks"][1]["fx"] if f["name"] == RS5K)
    path = Path(rs5k["config"][0]["value"])
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["note_asked"] == "C2" and isinstance(meta["tuned"], bool) and meta["tuning"] in record["console"]
    assert record["extstate"]["ddbridge"]["sampler"] == "kick,C2"
    scenario["user_inputs"] = [{"ok": True, "answer": "kick,36"}]  # a MIDI number goes as a number
    record = run("ddbridge - Generate into ReaSamplOmatic5000 on selected track.lua", scenario)
    assert_clean(record)
    rs5k = next(f for f in record["project"]["tracks"][1]["fx"] if f["name"] == RS5K)
    assert json.loads(Path(rs5k["config"][0]["value"]).with_suffix(".json").read_text())["note_asked"] == "C2"


@pytest.mark.parametrize("note", ["H9", "200"])
def test_a_bad_root_note_is_refused_by_the_daemon_and_nothing_is_loaded(run, daemon, project, note):
    scenario = {**one_track(project, daemon), "user_inputs": [{"ok": True, "answer": f"kick,{note}"}]}
    record = run("ddbridge - Generate into ReaSamplOmatic5000 on selected track.lua", scenario)
    assert record["error"] is None and record["returncode"] == 0, record["stderr"]
    assert len(record["messages"]) == 1 and "note" in record["messages"][0]["text"]
    assert calls(record, "TrackFX_AddByName") == [] and not list(project.rglob("*.wav"))


def write_source(project: Path) -> Path:
    path = project / "loop one.wav"
    rng = np.random.default_rng(0)
    sf.write(path, (0.3 * rng.standard_normal((4000, 2))).astype(np.float32), 8000)
    return path


def item_scenario(project: Path, daemon: DaemonProcess, source: Path, **extra) -> dict:
    return {
        **one_track(project, daemon),
        "items": [
            {"track": 2, "position": 0.0, "takes": [str(source)]},
            {"track": 2, "position": 4.0, "takes": [str(source)], "selected": True},
        ],
        **extra,
    }


def test_variate_selected_item_adds_the_variation_as_a_new_take(run, daemon, project):
    source = write_source(project)
    record = run("ddbridge - Variate selected item.lua", item_scenario(project, daemon, source))
    assert_clean(record)
    ((path, mode),) = calls(record, "InsertMedia")
    assert mode == 3
    assert_wav_in(path, project / "Samples" / "Generated" / "variation")
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    assert meta["op"] == "variate" and meta["source"] == str(source)
    first, second = record["project"]["tracks"][1]["items"]
    assert first["takes"] == [str(source)]  # the other item is untouched
    assert second["takes"] == [str(source), path] and second["active"] == 2


def test_generate_n_variations_adds_n_takes_with_the_chosen_strength(run, daemon, project):
    source = write_source(project)
    scenario = item_scenario(project, daemon, source, user_inputs=[{"ok": True, "answer": "3, 0.4"}])
    record = run("ddbridge - Generate N variations.lua", scenario)
    assert_clean(record)
    paths = [args[0] for args in calls(record, "InsertMedia")]
    assert len(set(paths)) == 3 and all(args[1] == 3 for args in calls(record, "InsertMedia"))
    for path in paths:
        assert_wav_in(path, project / "Samples" / "Generated" / "variation")
        assert json.loads(Path(path).with_suffix(".json").read_text())["strength"] == pytest.approx(0.4)
    assert record["project"]["tracks"][1]["items"][1]["takes"] == [str(source), *paths]


# -- Generate loop at project tempo ----------------------------------------------------------

LOOP_ACTION = "ddbridge - Generate loop at project tempo.lua"
LOOP_CAPTIONS = "Bars (1/2/4):,Genre (any/house/techno/hiphop/trap/breakbeat/dnb/electro):,extrawidth=150"


def assert_loop(path: str, folder: Path, *, bpm: float, bars: int, genre: str) -> float:
    """The daemon's loop at a tempo: exactly bars x 4 x 60 / bpm s (the model's rate), the tempo in its name,
    sidecar, `acid` chunk (stretch flag, beats, tempo) and `smpl` loop (the whole file). Its length in seconds."""
    p = Path(path)
    assert p.is_file() and p.parent == folder, (p, folder)
    info = sf.info(p)
    assert info.samplerate == 8000 and info.frames == round(bars * 4 * 60 / bpm * 8000), info
    assert p.name.startswith(f"loop_{genre}_{bpm:g}bpm_" if genre != "any" else f"loop_{bpm:g}bpm_"), p.name
    meta = json.loads(p.with_suffix(".json").read_text())
    assert (meta["loop"], meta["bpm"], meta["bars"], meta["beats"], meta["genre"]) == (True, bpm, bars, bars * 4, genre)
    chunks = riff_chunks(p)
    flags, beats, tempo = struct.unpack("<I", chunks[b"acid"][:4])[0], *struct.unpack("<I4xf", chunks[b"acid"][12:24])
    assert flags & 0x04 and beats == bars * 4 and tempo == pytest.approx(bpm)
    loop_start, loop_end = struct.unpack("<II", chunks[b"smpl"][44:52])
    assert (loop_start, loop_end) == (0, info.frames - 1)
    return info.frames / 8000


def loop_scenario(project: Path, daemon: DaemonProcess, tempo: list[dict], **extra) -> dict:
    return {**one_track(project, daemon), "tempo": tempo, **extra}


def test_generate_loop_at_project_tempo_inserts_a_looped_item_that_follows_the_tempo(run, daemon, project):
    scenario = loop_scenario(
        project, daemon, [{"time": 0.0, "bpm": 124.0}], user_inputs=[{"ok": True, "answer": "2, house"}]
    )
    record = run(LOOP_ACTION, scenario)
    assert_clean(record)
    # first the daemon's loop network, then the bars and genre it offers, then the loop
    assert len(calls(record, "ExecProcess")) == 2
    assert calls(record, "TimeMap_GetTimeSigAtTime") == [[0, 1.5]]
    (prompt,) = record["prompts"]
    assert prompt == {"title": "ddbridge: loop at 124 BPM", "captions": LOOP_CAPTIONS, "defaults": "1,any"}
    ((path, mode),) = calls(record, "InsertMedia")
    assert mode == 512 | (1 << 16)  # the selected track, named in the mode
    seconds = assert_loop(path, project / "Samples" / "Generated" / "loop", bpm=124, bars=2, genre="house")
    ((item),) = record["project"]["tracks"][1]["items"]
    assert (item["position"], item["takes"], item["length"]) == (1.5, [path], pytest.approx(seconds))
    assert item["info"] == {"B_LOOPSRC": 1, "C_BEATATTACHMODE": 1, "C_AUTOSTRETCH": 1}  # looped, beats, auto-stretch
    assert item["preserve_pitch"] is True and item["stretch_markers"] == []  # one tempo: nothing to stretch
    assert record["undo_blocks"] == ["ddbridge: loop at project tempo (124 BPM)"]
    assert record["extstate"]["ddbridge"]["loop"] == "2,house"  # the next run offers the same
    assert "looped, at the project tempo" in record["console"]


def test_a_tempo_change_within_the_bars_stretches_the_loop_onto_the_projects_beats(run, daemon, project):
    # 120 BPM until 2.5 s, then 90: from the cursor at 1.5 s (quarter note 3) one bar ends at quarter note 7,
    # 2.5 s + 2 x 60 / 90 = 3.8333 s
    tempo = [{"time": 0.0, "bpm": 120.0}, {"time": 2.5, "bpm": 90.0}]
    record = run(LOOP_ACTION, loop_scenario(project, daemon, tempo, user_inputs=[{"ok": True, "answer": "1,any"}]))
    assert_clean(record)
    ((path, _),) = calls(record, "InsertMedia")
    assert_loop(path, project / "Samples" / "Generated" / "loop", bpm=120, bars=1, genre="any")  # the cursor's tempo
    ((item),) = record["project"]["tracks"][1]["items"]
    assert item["length"] == pytest.approx(3.8333333 - 1.5)
    beat = 60 / 120  # the loop's beat in the file
    expected = [(0.0, 0), (0.5, beat), (1.0, 2 * beat), (1.0 + 60 / 90, 3 * beat), (1.0 + 120 / 90, 4 * beat)]
    assert item["stretch_markers"] == [[pytest.approx(pos), pytest.approx(src)] for pos, src in expected]
    assert item["info"] == {"B_LOOPSRC": 1, "C_BEATATTACHMODE": 1, "C_AUTOSTRETCH": 1}
    assert "stretched to the tempo changes within it" in record["console"]


def test_loop_at_a_tempo_outside_the_loop_networks_range_says_so_and_does_nothing(run, daemon, project):
    record = run(LOOP_ACTION, loop_scenario(project, daemon, [{"time": 0.0, "bpm": 60.0}]))
    assert record["error"] is None, record["stderr"]
    (message,) = record["messages"]
    assert message["text"].startswith(
        "The tempo at the edit cursor is 60 BPM; the loop network makes loops at 70 to 180"
    )
    assert len(calls(record, "ExecProcess")) == 1 and record["prompts"] == []  # only the question about the network
    assert calls(record, "InsertMedia") == [] and not (project / "Samples").exists()


def test_loop_from_a_model_without_a_loop_network_says_so_and_does_nothing(run, plain_daemon, project):
    record = run(LOOP_ACTION, loop_scenario(project, plain_daemon, [{"time": 0.0, "bpm": 124.0}]))
    assert record["error"] is None, record["stderr"]
    (message,) = record["messages"]
    assert message["text"].startswith("The daemon's model 'tiny' has no loop network, so it makes no loops at a tempo.")
    assert record["prompts"] == [] and calls(record, "InsertMedia") == [] and record["leftovers"] == []


def test_loop_with_the_daemon_down_shows_how_to_start_it(run, tmp_path):
    silent = f"tcp://127.0.0.1:{free_port()}"
    scenario = {
        "project_path": str(tmp_path),
        "tracks": [{"name": "Drums", "selected": True}],
        "extstate": {"ddbridge": {"endpoint": silent, "connect_timeout": "2"}},
    }
    record = run(LOOP_ACTION, scenario)
    assert record["error"] is None and record["prompts"] == []
    (message,) = record["messages"]
    assert f"did not answer at {silent}" in message["text"] and "ddbridge serve" in message["text"]


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        ({"ok": False}, None),  # Cancel
        ({"ok": True, "answer": "3,house"}, "Bars must be 1, 2, 4, not '3'."),
        (
            {"ok": True, "answer": "1,$rock"},
            "'$rock' is not a genre name (any, house, techno, hiphop, trap, breakbeat, dnb,",
        ),
    ],
    ids=["cancelled", "bars", "genre"],
)
def test_a_cancelled_or_wrong_loop_dialog_makes_nothing(run, daemon, project, answer, text):
    record = run(LOOP_ACTION, loop_scenario(project, daemon, [{"time": 0.0, "bpm": 124.0}], user_inputs=[answer]))
    assert record["error"] is None, record["stderr"]
    assert [m["text"][: len(text)] for m in record["messages"]] == ([text] if text else [])
    assert len(calls(record, "ExecProcess")) == 1 and calls(record, "InsertMedia") == []
    assert "loop" not in record["extstate"]["ddbridge"]


def test_daemon_errors_are_shown_in_a_message(run, daemon, project):
    scenario = {**one_track(project, daemon), "user_inputs": [{"ok": True, "answer": "gong"}]}
    record = run("ddbridge - Generate at edit cursor.lua", scenario)
    assert record["error"] is None and calls(record, "InsertMedia") == []
    (message,) = record["messages"]
    assert message["text"].startswith("ddbridge could not do it (bad_request)") and "gong" in message["text"]


def test_a_trimmed_reversed_sped_up_take_sends_only_the_part_the_item_plays(run, daemon, project):
    source = write_source(project)  # 0.5 s at 8 kHz
    section = {"offset": 0.1, "length": 0.3, "reverse": True}
    take = {"file": str(source), "start_offset": 0.05, "playrate": 2.0, "section": section}
    scenario = {
        **one_track(project, daemon),
        "items": [{"track": 2, "position": 4.0, "length": 0.1, "takes": [take], "selected": True}],
    }
    record = run("ddbridge - Variate selected item.lua", scenario)
    assert_clean(record)
    ((path, mode),) = calls(record, "InsertMedia")
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    # the item plays 0.1 s at rate 2 = 0.2 s of the reversed section [0.1, 0.4] from 0.05 on,
    # which is the file's [0.15, 0.35] backwards
    assert meta["source"] == str(source) and meta["source_reverse"] is True and meta["source_playrate"] == 2.0
    assert meta["source_start"] == pytest.approx(0.15) and meta["source_seconds"] == pytest.approx(0.2)
    assert sf.info(path).duration <= 0.1 + 1e-3
    assert record["project"]["tracks"][1]["items"][0]["takes"] == [str(source), path]


def test_a_take_that_preserves_pitch_is_sent_unstretched(run, daemon, project):
    source = write_source(project)
    take = {"file": str(source), "start_offset": 0.1, "playrate": 0.5, "preserve_pitch": True}
    scenario = {
        **one_track(project, daemon),
        "items": [{"track": 2, "position": 0.0, "length": 0.4, "takes": [take], "selected": True}],
    }
    record = run("ddbridge - Variate selected item.lua", scenario)
    assert_clean(record)
    ((path, _),) = calls(record, "InsertMedia")
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    assert (meta["source_start"], meta["source_reverse"]) == (0.1, False) and "source_playrate" not in meta
    assert meta["source_seconds"] == pytest.approx(0.2)


def unsaved(project: Path, daemon: DaemonProcess, **extra) -> dict:
    """A project never saved: GetProjectPath gives REAPER's default recording path, EnumProjects no file."""
    recordings = daemon.allowed / "REAPER Media"
    recordings.mkdir(exist_ok=True)
    return {**one_track(project, daemon), "project_path": str(recordings), "project_file": "", **extra}


def test_an_unsaved_project_asks_and_no_puts_the_files_in_ddbridges_own_folder(run, daemon, project):
    record = run("ddbridge - Generate kick at edit cursor.lua", unsaved(project, daemon, mb_answers=[7]))
    assert record["error"] is None, record["stderr"]
    (question,) = record["messages"]
    assert question["type"] == 3 and "has not been saved" in question["text"]
    ((path, _),) = calls(record, "InsertMedia")
    assert_wav_in(path, daemon.allowed / "default-project" / "Samples" / "Generated" / "kick")
    assert not any((daemon.allowed / "REAPER Media").iterdir())


def test_an_unsaved_project_can_be_saved_first_or_the_action_cancelled(run, daemon, project, tmp_path):
    saved = project.parent / "Saved Song.rpp"
    record = run(
        "ddbridge - Generate kick at edit cursor.lua", unsaved(project, daemon, mb_answers=[6], save_as=str(saved))
    )
    assert record["error"] is None and record["dialogs"] == ["save as"]
    ((path, _),) = calls(record, "InsertMedia")
    assert_wav_in(path, project.parent / "Samples" / "Generated" / "kick")
    for answers in ([2], [6]):  # Cancel; Yes, then Cancel in the Save As dialog
        record = run("ddbridge - Generate kick at edit cursor.lua", unsaved(project, daemon, mb_answers=answers))
        assert record["error"] is None and calls(record, "ExecProcess") == [] and calls(record, "InsertMedia") == []


def test_two_overlapping_runs_of_an_action_both_finish_without_reapers_dialog(run, daemon, project):
    action = "ddbridge - Generate kick at edit cursor.lua"
    record = run(action, {**one_track(project, daemon), "launches": [{"script": "", "at_tick": 3}]})
    assert record["error"] is None, record["stderr"]
    assert record["dialogs"] == [] and record["instances"] == 2
    paths = [args[0] for args in calls(record, "InsertMedia")]
    assert len(set(paths)) == 2 and calls(record, "set_action_options") == [[3], [3]]
    assert [len(t["items"]) for t in record["project"]["tracks"]] == [0, 2]
    jobs = record["extstate"].get("ddbridge.jobs", {})
    assert set(jobs.values()) <= {"[]"} and not any(key.startswith("alive") for key in jobs)  # nothing left


def test_before_reaper_7_03_a_second_run_is_refused_by_reaper_and_the_first_still_finishes(run, daemon, project):
    scenario = {**one_track(project, daemon), "reaper_version": 7.0, "launches": [{"script": "", "at_tick": 3}]}
    record = run("ddbridge - Generate kick at edit cursor.lua", scenario)
    assert record["error"] is None and len(record["dialogs"]) == 1 and record["instances"] == 1
    assert len(calls(record, "InsertMedia")) == 1


# -- failures that must end quickly -----------------------------------------------------------


def test_daemon_down_shows_how_to_start_it_within_bounded_time(run, tmp_path):
    silent = f"tcp://127.0.0.1:{free_port()}"  # nothing listens here
    scenario = {
        "project_path": str(tmp_path),
        "tracks": [{"name": "Drums", "selected": True}],
        "extstate": {"ddbridge": {"endpoint": silent, "connect_timeout": "2"}},
    }
    record = run("ddbridge - Generate kick at edit cursor.lua", scenario)
    assert record["error"] is None and record["wall"] < 15
    (message,) = record["messages"]
    assert f"did not answer at {silent}" in message["text"] and "ddbridge serve" in message["text"]
    assert calls(record, "InsertMedia") == [] and record["leftovers"] == []


def test_a_missing_ddbridge_command_is_reported_without_starting_anything(run, tmp_path):
    scenario = {
        "project_path": str(tmp_path),
        "tracks": [{"name": "Drums", "selected": True}],
        "extstate": {"ddbridge": {"executable": str(tmp_path / "no" / "ddbridge")}},
    }
    record = run("ddbridge - Generate kick at edit cursor.lua", scenario)
    assert record["error"] is None and calls(record, "ExecProcess") == []
    (message,) = record["messages"]
    assert "does not exist" in message["text"] and "ddbridge - Settings" in message["text"]


def test_a_command_that_cannot_start_fails_at_once(run, tmp_path):
    not_a_program = tmp_path / "ddbridge"
    not_a_program.write_text("not executable")  # exists, so it passes the lookup, but cannot run
    scenario = {
        "project_path": str(tmp_path),
        "tracks": [{"name": "Drums", "selected": True}],
        "extstate": {"ddbridge": {"executable": str(not_a_program), "connect_timeout": "30"}},
    }
    record = run("ddbridge - Generate kick at edit cursor.lua", scenario)
    assert record["error"] is None and record["wall"] < 5 and record["ticks"] == 0
    (message,) = record["messages"]
    assert "could not be started" in message["text"] and str(not_a_program) in message["text"]
    assert record["leftovers"] == []


def test_nothing_selected_is_explained(run, tmp_path):
    base = {"project_path": str(tmp_path), "tracks": [{"name": "Drums"}]}
    no_track = run("ddbridge - Generate kick at edit cursor.lua", base)
    no_item = run("ddbridge - Variate selected item.lua", base)
    assert [m["text"] for m in no_track["messages"] + no_item["messages"]] == [
        "Select a track first.",
        "Select an audio item first.",
    ]
    assert calls(no_track, "ExecProcess") == calls(no_item, "ExecProcess") == []


def test_settings_are_saved_and_checked_against_the_daemon(run, daemon, tmp_path):
    answer = f"ddbridge,{daemon.endpoint},4,90"
    record = run(
        "ddbridge - Settings.lua", {"project_path": str(tmp_path), "user_inputs": [{"ok": True, "answer": answer}]}
    )
    saved = record["extstate"]["ddbridge"]
    assert (saved["endpoint"], saved["connect_timeout"], saved["job_timeout"]) == (daemon.endpoint, "4", "90")
    (message,) = record["messages"]
    assert re.fullmatch(r"Settings saved\. ddbridge \S+ is answering\.", message["text"])


def test_request_cli_reports_a_down_daemon_after_its_timeout_and_writes_the_reply_file(tmp_path):
    reply_file = tmp_path / "reply.json"
    args = ["generate", "--wait", "--out-dir", str(tmp_path), "--timeout", "1", "--retries", "1"]
    started = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "ddbridge"), "request", *args, "--endpoint", f"tcp://127.0.0.1:{free_port()}"]
        + ["--result-file", str(reply_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and time.monotonic() - started < 15  # the ping's timeout, not --job-timeout
    assert "is `ddbridge serve` running?" in proc.stderr
    reply = json.loads(reply_file.read_text())
    assert reply["ok"] is False and reply["error"]["code"] == "unavailable"
    assert [p.name for p in tmp_path.iterdir()] == ["reply.json"]  # no temp file left beside it


# -- the protocol's vectors through the Lua client ---------------------------------------------


def test_protocol_vectors_pass_through_the_lua_client(run, daemon, scripts, tmp_path):
    config, result = tmp_path / "vectors.json", tmp_path / "vector results.json"
    variables = vector_variables(daemon)
    config.write_text(
        json.dumps(
            {
                "vectors": str(REPO / "plugin_protocol" / "test_vectors.json"),
                "variables": variables,
                "result": str(result),
            }
        )
    )
    scenario = {"project_path": variables["PROJECT_DIR"], "extstate": settings(daemon)}
    record = run(
        "",
        scenario,
        script=STANDIN / "vectors.lua",
        env={"DDBRIDGE_VECTORS_CONFIG": str(config), "DDBRIDGE_SCRIPTS_DIR": str(scripts)},
    )
    assert record["error"] is None, record["stderr"]
    outcome = json.loads(result.read_text())
    assert outcome["failures"] == []
    assert outcome["names"] == [v["name"] for v in load_vectors()["vectors"]]
    assert record["spawned"] == len(outcome["names"])  # one background request per vector


# -- pieces of the client ---------------------------------------------------------------------


def lua(code: str, scripts: Path) -> subprocess.CompletedProcess:
    prelude = f"package.path = {json.dumps(str(scripts) + '/?.lua;')} .. package.path\n"
    return subprocess.run([LUA, "-e", prelude + code], capture_output=True, text=True)


def test_client_quotes_arguments_and_refuses_what_a_command_line_cannot_carry(scripts):
    result = lua(
        """
        reaper = {}
        local client = require("ddbridge.client")
        print(client.command_line({"/opt/my tools/ddbridge", "request", "it's"}))
        for _, bad in ipairs({'say "hi"', "$HOME", "a`b", "two\\nlines"}) do
          print(pcall(client.quote, bad))
        end
        """,
        scripts,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == '"/opt/my tools/ddbridge" "request" "it\'s"'
    assert len(lines) == 5 and all(line.startswith("false\tcannot pass") for line in lines[1:])


def test_json_module_round_trips_and_rejects_invalid_text(scripts):
    result = lua(
        r"""
        local json = require("ddbridge.json")
        local text = [[{"a":[1,-2.5,1e3,true,false,null],"b":{},"c":[],"s":"\u00e9\ud83c\udfb5\n\"q\""}]]
        local v = json.decode(text)
        print(json.encode(v))
        print(math.type(v.a[1]), math.type(v.a[3]), v.a[6] == json.null, json.kind(v.b), json.kind(v.c))
        for _, bad in ipairs({"{not json", "[1, 2,]", "01", "NaN", "[1] x", [["\ud800"]], '{"a" 1}'}) do
          print((pcall(json.decode, bad)))
        end
        print(pcall(json.encode, {x = 0/0}))
        """,
        scripts,
    )
    lines = result.stdout.splitlines()
    assert json.loads(lines[0]) == {"a": [1, -2.5, 1000.0, True, False, None], "b": {}, "c": [], "s": 'é🎵\n"q"'}
    assert lines[1] == "integer\tfloat\ttrue\tobject\tarray"
    assert lines[2:9] == ["false"] * 7
    assert lines[9].startswith("false\tJSON has no NaN")
