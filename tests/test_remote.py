"""A daemon reached over the network: CURVE keys and allow-list, audio delivered in the reply, written here."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
import soundfile as sf
import zmq.auth
from daemon_helpers import DaemonProcess, build_tiny_model

from ddbridge.cli import main
from ddbridge.client.connection import Client
from ddbridge.daemon.config import load_config
from ddbridge.protocol.errors import PathRefused, Unavailable
from ddbridge.protocol.remote import ClientKeys, create_keys

CREATED = re.compile(rb'"created":"[^"]*"')


@pytest.fixture(autouse=True)
def no_profile(tmp_path, monkeypatch):
    """No user's remote.toml leaks into a test."""
    monkeypatch.setenv("DDBRIDGE_REMOTE", str(tmp_path / "no-remote.toml"))


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    clients, other = root / "clients", root / "other"
    server = create_keys(root, "server")
    allowed = create_keys(root, "laptop")
    create_keys(other, "stranger")
    create_keys(other, "impostor-server")
    clients.mkdir()
    (clients / "laptop.key").write_bytes(allowed[0].read_bytes())
    return {"root": root, "server": server, "clients": clients, "laptop": allowed, "other": other}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, keys):
    root = tmp_path_factory.mktemp("remote")
    model = build_tiny_model(tmp_path_factory.mktemp("model"))
    d = DaemonProcess(model, root, pool_size=0)
    curve = f'curve_secret_key = "{keys["server"][1]}"\ncurve_clients = "{keys["clients"]}"\n'
    d.config.write_text(d.config.read_text().replace("[server]\n", f"[server]\n{curve}", 1))
    with d:
        yield d


def laptop(keys) -> ClientKeys:
    return ClientKeys.load(keys["server"][0], keys["laptop"][1])


def connect(daemon, keys, **kw) -> Client:
    return Client(daemon.endpoint, keys=laptop(keys), timeout=10.0, job_timeout=120.0, **kw)


def same_bytes(a: Path, b: Path) -> bool:
    """Byte-identical but for the creation time in the metadata."""
    return CREATED.sub(b"", a.read_bytes()) == CREATED.sub(b"", b.read_bytes())


def test_the_ready_line_says_curve(daemon):
    assert " curve " in daemon.ready_line and "osc udp://127.0.0.1:" in daemon.ready_line


def test_an_allowed_client_is_served(daemon, keys):
    with connect(daemon, keys) as c:
        assert c.ping()["pong"] is True


@pytest.mark.parametrize("who", ["unknown key", "wrong server key", "no curve"])
def test_anyone_else_gets_nothing_and_changes_nothing(daemon, keys, who, tmp_path):
    with connect(daemon, keys) as c:
        before = c.status()["jobs"]
    target = daemon.out / f"refused-{who.replace(' ', '-')}"
    target.mkdir()
    stranger = ClientKeys.load(keys["server"][0], keys["other"] / "stranger.key_secret")
    impostor = ClientKeys.load(keys["other"] / "impostor-server.key", keys["laptop"][1])
    chosen = {"unknown key": stranger, "wrong server key": impostor, "no curve": None}[who]
    with Client(daemon.endpoint, keys=chosen, deliver="files", timeout=1.5, job_timeout=1.5, retries=1) as c:
        with pytest.raises(Unavailable):
            c.generate(category="kick", seed=5, out_dir=str(target))
        with pytest.raises(Unavailable):
            c.ping()
    with connect(daemon, keys) as c:
        assert c.status()["jobs"] == before
    assert list(target.iterdir()) == []


def test_delivered_files_match_a_render_on_the_daemon_byte_for_byte(daemon, keys, tmp_path):
    here = tmp_path / "laptop-project"
    here.mkdir()
    request = {"category": "kick", "count": 3, "seed": 11, "bit_depth": 24}
    with connect(daemon, keys) as c:
        assert c.deliver == "reply"
        delivered = c.generate(**request, out_dir=str(here))["files"]
    reference = daemon.out / "reference"
    reference.mkdir()
    with connect(daemon, keys, deliver="files") as c:
        written = c.generate(**request, out_dir=str(reference))["files"]
    assert [Path(f["path"]).name for f in delivered] == ["kick_0001_s11.wav", "kick_0002_s12.wav", "kick_0003_s13.wav"]
    for mine, theirs in zip(delivered, written, strict=True):
        mine_path, their_path = Path(mine["path"]), Path(theirs["path"])
        assert mine_path.parent == here and mine_path.name == their_path.name
        assert same_bytes(mine_path, their_path)
        sidecar = json.loads(Path(mine["sidecar"]).read_text())
        assert sidecar == mine["metadata"] and sidecar["seed"] == mine["seed"]
        assert {k: v for k, v in sidecar.items() if k != "created"} == {
            k: v for k, v in theirs["metadata"].items() if k != "created"
        }
    assert not [p for p in here.iterdir() if p.name.startswith(".")]  # no partial files left


def test_delivered_files_never_overwrite_and_follow_the_project_layout(daemon, keys, tmp_path):
    project = tmp_path / "Song"
    project.mkdir()
    with connect(daemon, keys) as c:
        first = c.generate(category="snare", seed=3, project_dir=str(project))["files"]
        second = c.generate(category="snare", seed=3, project_dir=str(project))["files"]
    folder = project / "Samples" / "Generated" / "snare"
    assert [Path(f["path"]) for f in first + second] == [
        folder / "snare_0001_s3.wav",
        folder / "snare_0002_s3.wav",
    ]
    assert same_bytes(folder / "snare_0001_s3.wav", folder / "snare_0002_s3.wav")


def test_a_missing_local_folder_is_refused_before_anything_is_sent(daemon, keys, tmp_path):
    with connect(daemon, keys) as c:
        before = c.status()["jobs"]
        with pytest.raises(PathRefused):
            c.generate(category="kick", out_dir=str(tmp_path / "nowhere"))
        assert c.status()["jobs"] == before


def test_large_replies_arrive_whole(daemon, keys, tmp_path):
    with connect(daemon, keys) as c:
        files = c.generate(category="kick", count=16, seconds=8.0, seed=1, sample_rate=44100, out_dir=str(tmp_path))[
            "files"
        ]
    assert len(files) == 16 and len({f["path"] for f in files}) == 16
    total = 0
    for f in files:
        info = sf.info(f["path"])
        assert info.samplerate == 44100 and info.frames == round(f["metadata"]["seconds"] * 44100)
        assert info.frames > 4 * 44100  # most of the 8 s survive the trim of leading silence
        total += os.path.getsize(f["path"])
    assert total > 16 * 4 * 44100 * 2 * 3


def test_request_command_with_keys_writes_here(daemon, keys, tmp_path, capsys):
    args = ["request", "generate", "--endpoint", daemon.endpoint, "--category", "kick", "--seed", "9"]
    args += ["--server-key", str(keys["server"][0]), "--key", str(keys["laptop"][1]), "--out-dir", str(tmp_path)]
    assert main(args) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "kick_0001_s9.wav")]


def test_request_send_finds_the_keys_in_remote_toml(daemon, keys, tmp_path, monkeypatch, capsys):
    """REAPER's scripts send through `ddbridge request send` and name only the endpoint."""
    profile = tmp_path / "remote.toml"
    profile.write_text(
        f'[[daemon]]\nendpoint = "{daemon.endpoint}"\n'
        f'server_key = "{keys["server"][0]}"\nclient_key = "{keys["laptop"][1]}"\n'
    )
    monkeypatch.setenv("DDBRIDGE_REMOTE", str(profile))
    media = tmp_path / "media"
    media.mkdir()
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"v": 1, "id": "reaper-1", "op": "generate", "seed": 4, "out_dir": str(media)}))
    result = tmp_path / "reply.json"
    assert main(["request", "send", str(request), "--endpoint", daemon.endpoint, "--result-file", str(result)]) == 0
    reply = json.loads(result.read_text())
    assert reply["ok"] and reply["id"] == "reaper-1"
    assert [Path(f["path"]).parent for f in reply["files"]] == [media]
    assert Path(reply["files"][0]["path"]).is_file()


def test_keys_command_makes_a_pair_and_never_replaces_one(tmp_path, capsys):
    assert main(["keys", "studio", "--dir", str(tmp_path)]) == 0
    public, secret = tmp_path / "studio.key", tmp_path / "studio.key_secret"
    assert public.is_file() and stat.S_IMODE(secret.stat().st_mode) == 0o600
    before = secret.read_bytes()
    assert main(["keys", "studio", "--dir", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err and secret.read_bytes() == before
    zmq.auth.load_certificate(secret)  # a usable pair


def test_serve_refuses_a_network_address_without_curve(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[server]\nosc_port = 0\nweb_port = 0\n")
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0", "--model", str(tmp_path / "none")]) == 2
    assert "refusing to listen on 0.0.0.0 without authentication" in capsys.readouterr().err
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0", "--curve-key", str(tmp_path)]) == 2
    assert "go together" in capsys.readouterr().err


def test_osc_and_the_page_stay_on_the_loopback(keys):
    overrides = {"server.host": "0.0.0.0", "server.curve_secret_key": str(keys["server"][1])}
    overrides["server.curve_clients"] = str(keys["clients"])
    server = load_config(None, overrides).server
    assert (server.local_host(), server.page_host()) == ("127.0.0.1", "127.0.0.1")
    server = load_config(None, {**overrides, "server.web_host": "0.0.0.0"}).server
    assert (server.local_host(), server.page_host()) == ("127.0.0.1", "0.0.0.0")
    assert load_config(None, {"server.host": "127.0.0.2"}).server.local_host() == "127.0.0.2"
