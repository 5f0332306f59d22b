"""Daemon settings: a TOML file (``<user config dir>/ddbridge/config.toml``) overridden by command-line flags.

Example ``config.toml``::

    [server]
    host = "127.0.0.1"      # ZeroMQ's bind address; any other than the loopback needs the CURVE keys below
    zmq_port = 5555
    pub_port = 5556
    osc_port = 9000         # 0 turns the OSC front end off
    osc_reply_port = 0      # 0: reply to the sender's port
    web_port = 5557         # the page: http://127.0.0.1:5557/ (0 turns it off)
    web_host = ""           # the page's bind address; "": host when that is loopback, else 127.0.0.1
                            # (OSC has no authentication: it always stays on the loopback)
    curve_secret_key = ""   # this daemon's key pair (NAME.key_secret from `ddbridge keys`): CURVE on
    curve_clients = ""      # folder of the allowed clients' public keys (*.key)

    [models]
    load = ["default"]      # names or paths; the first is the default model
    device = "auto"         # auto (cuda > mps > cpu), cuda, mps, cpu
    dtype = "float32"       # float32, bfloat16 or float16 (half precision on CUDA only)
    compile = false         # torch.compile on CUDA, warmed at start-up
    threads = 0             # CPU threads for torch; 0: PyTorch's default
    steps = 0               # 0: each model's own default number of steps
    sampler = ""            # "": each model's own default sampler

    [output]
    allowed_roots = ["~"]   # out_dir / project_dir must lie under one of these
    default_project_dir = "~/Music/ddbridge"
    sample_rate = 0         # 0: the model's rate
    bit_depth = 24

    [jobs]
    max_queue = 64          # queued jobs before requests are answered "busy"
    max_batch = 16          # sounds computed together in one batch
    batch_window_ms = 30.0  # how long a batch waits for companions when clients are concurrent

    [pool]
    size = 2                # finished candidates kept ready per category (0 = off)
    categories = []         # []: every category of the default model
    check = true            # keep only candidates the drum judge accepts (on-category, clean tail)

    [midi]
    enabled = false         # pads: a mapped note generates a new one-shot and auditions it
    api = ""                # "": the platform's MIDI API; alsa, jack, coremidi or windows
    port = ""               # an existing MIDI port to listen to (its name or part of it);
                            # "": open a virtual input named "ddbridge" (not on Windows)
    channel = 0             # 1-16: only this channel; 0: any
    keep_note = 51          # saves the last auditioned sound into the project folder (-1: none)
    keep_cc = -1            # the same for a controller (value >= 64), e.g. a button (-1: none)
    note_off_stops = true   # a note-off stops that note's sound; false: one-shots play out
    project_dir = ""        # kept sounds go to <project_dir>/Samples/Generated/<category>/;
                            # "": output.default_project_dir

    [midi.notes]            # note number -> category (this table replaces the default map)
    36 = "kick"             # the default: General MIDI drum notes
    37 = "perc"             # rim
    38 = "snare"
    39 = "clap"
    41 = "tom"
    42 = "hat_closed"
    45 = "tom"
    46 = "hat_open"
    48 = "tom"

    [audition]
    enabled = true          # play what MIDI notes generate (when midi.enabled)
    device = ""             # output device: its name (or part of it) or index; "": the default
    gain_db = -3.0          # audition level; note velocity scales it further

    [web]
    open = false            # open the page in the browser when the daemon is ready
    allowed_hosts = []      # more host names the page answers to (loopback names always work)
    library_dirs = []       # more folders (under the allowed roots) whose sounds the page lists
    reveal_command = []     # e.g. ["nautilus", "--select", "{path}"]; []: the system's file manager
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from ddbridge.protocol.errors import BadRequest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    zmq_port: int = 5555
    pub_port: int = 5556
    osc_port: int = 9000
    osc_reply_port: int = 0
    web_port: int = 5557
    web_host: str = ""
    curve_secret_key: str = ""
    curve_clients: str = ""

    def local_host(self) -> str:
        """Where OSC binds: ``host`` when that is a loopback address, else 127.0.0.1."""
        from ddbridge.protocol.remote import is_loopback

        return self.host if is_loopback(self.host) else "127.0.0.1"

    def page_host(self) -> str:
        """Where the page binds: ``web_host`` when set, else ``local_host()``."""
        return self.web_host or self.local_host()


@dataclass
class ModelsConfig:
    load: list[str] = field(default_factory=lambda: ["default"])
    device: str = "auto"
    dtype: str = "float32"
    compile: bool = False
    threads: int = 0
    steps: int = 0
    sampler: str = ""


@dataclass
class OutputConfig:
    allowed_roots: list[str] = field(default_factory=lambda: ["~"])
    default_project_dir: str = "~/Music/ddbridge"
    sample_rate: int = 0
    bit_depth: int = 24


@dataclass
class JobsConfig:
    max_queue: int = 64
    max_batch: int = 16
    batch_window_ms: float = 30.0


@dataclass
class PoolConfig:
    size: int = 2
    categories: list[str] = field(default_factory=list)
    check: bool = True


GM_DRUM_NOTES = {
    "36": "kick",
    "37": "perc",
    "38": "snare",
    "39": "clap",
    "41": "tom",
    "42": "hat_closed",
    "45": "tom",
    "46": "hat_open",
    "48": "tom",
}
MIDI_APIS = ("", "alsa", "jack", "coremidi", "windows")


@dataclass
class MidiConfig:
    enabled: bool = False
    api: str = ""
    port: str = ""
    channel: int = 0
    notes: dict[str, str] = field(default_factory=lambda: dict(GM_DRUM_NOTES))
    keep_note: int = 51
    keep_cc: int = -1
    note_off_stops: bool = True
    project_dir: str = ""

    def note_map(self) -> dict[int, str]:
        """``notes`` with integer keys (checked when the config is loaded)."""
        return {int(note): category for note, category in self.notes.items()}


@dataclass
class AuditionConfig:
    enabled: bool = True
    device: str = ""
    gain_db: float = -3.0


@dataclass
class WebConfig:
    open: bool = False
    allowed_hosts: list[str] = field(default_factory=list)
    library_dirs: list[str] = field(default_factory=list)
    reveal_command: list[str] = field(default_factory=list)


@dataclass
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    pool: PoolConfig = field(default_factory=PoolConfig)
    midi: MidiConfig = field(default_factory=MidiConfig)
    audition: AuditionConfig = field(default_factory=AuditionConfig)
    web: WebConfig = field(default_factory=WebConfig)
    state_dir: str = ""

    def allowed_roots(self) -> list[Path]:
        """The allowed output roots, expanded and resolved."""
        return [Path(r).expanduser().resolve() for r in self.output.allowed_roots]

    def default_project_dir(self) -> Path:
        return Path(self.output.default_project_dir).expanduser()

    def state_path(self) -> Path:
        """Folder for the daemon's own state (the list of folders it wrote to)."""
        if self.state_dir:
            return Path(self.state_dir).expanduser()
        import platformdirs

        return Path(platformdirs.user_state_dir("ddbridge"))


def default_config_path() -> Path:
    """``config.toml`` in the platform's user config folder for ddbridge."""
    import platformdirs

    return Path(platformdirs.user_config_dir("ddbridge")) / "config.toml"


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read ``path`` (or the default file when it exists), then apply ``overrides`` (``"section.key": value``).

    Raises ``BadRequest`` with the file and key for unknown keys, wrong types or bad values.
    """
    config = Config()
    source = Path(path).expanduser() if path else default_config_path()
    if path and not source.is_file():
        raise BadRequest(f"config file {source} does not exist")
    if source.is_file():
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise BadRequest(f"config file {source}: {e}") from None
        _apply(config, data, str(source))
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        *sections, key = dotted.split(".")
        target = config
        for s in sections:
            target = getattr(target, s)
        _set(target, key, value, "command line")
    _check(config)
    return config


def _apply(target: object, data: dict, where: str, prefix: str = "") -> None:
    known = {f.name: f for f in fields(target)}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise BadRequest(f"{where}: unknown setting '{name}'; known: {', '.join(prefix + k for k in known)}")
        current = getattr(target, key)
        if is_dataclass(current):
            if not isinstance(value, dict):
                raise BadRequest(f"{where}: '{name}' must be a table")
            _apply(current, value, where, f"{name}.")
        else:
            _set(target, key, value, where, name)


def _set(target: object, key: str, value: Any, where: str, name: str | None = None) -> None:
    name = name or key
    current = getattr(target, key)
    if isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(current, list):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = [str(v) for v in value] if ok else value
    elif isinstance(current, dict):
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        value = {str(k): v for k, v in value.items()} if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise BadRequest(f"{where}: '{name}' must be {type(current).__name__}, got {value!r}")
    setattr(target, key, value)


def _check(config: Config) -> None:
    s, m, o, j, p = config.server, config.models, config.output, config.jobs, config.pool
    for name in ("zmq_port", "pub_port", "osc_port", "osc_reply_port", "web_port"):
        port = getattr(s, name)
        if not 0 <= port <= 65535 or (port == 0 and name in ("zmq_port", "pub_port")):
            raise BadRequest(f"server.{name} must be a port number, got {port}")
    _check_curve(s)
    if m.device not in ("auto", "cuda", "mps", "cpu") and not m.device.startswith("cuda:"):
        raise BadRequest(f"models.device must be auto, cuda, mps or cpu, got '{m.device}'")
    if m.dtype not in ("float32", "bfloat16", "float16"):
        raise BadRequest(f"models.dtype must be float32, bfloat16 or float16, got '{m.dtype}'")
    if not m.load:
        raise BadRequest("models.load must name at least one model")
    if m.threads < 0:
        raise BadRequest(f"models.threads must be >= 0, got {m.threads}")
    if m.steps < 0:
        raise BadRequest(f"models.steps must be >= 0, got {m.steps}")
    if o.bit_depth not in (16, 24, 32):
        raise BadRequest(f"output.bit_depth must be 16, 24 or 32, got {o.bit_depth}")
    if o.sample_rate and not 8000 <= o.sample_rate <= 192000:
        raise BadRequest(f"output.sample_rate must be 0 or 8000..192000, got {o.sample_rate}")
    if not o.allowed_roots:
        raise BadRequest("output.allowed_roots must name at least one folder")
    if j.max_queue < 1 or j.max_batch < 1 or j.batch_window_ms < 0:
        raise BadRequest("jobs.max_queue and jobs.max_batch must be >= 1, jobs.batch_window_ms >= 0")
    if not 0 <= p.size <= 64:
        raise BadRequest(f"pool.size must be 0..64, got {p.size}")
    _check_midi(config.midi)
    for name in config.web.allowed_hosts:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]", name):
            raise BadRequest(f"web.allowed_hosts: '{name}' is not a host name (no scheme or port)")
    if not -60.0 <= config.audition.gain_db <= 24.0:
        raise BadRequest(f"audition.gain_db must be -60..24, got {config.audition.gain_db}")


def _check_curve(s: ServerConfig) -> None:
    from ddbridge.protocol.remote import is_loopback

    if bool(s.curve_secret_key) != bool(s.curve_clients):
        raise BadRequest("server.curve_secret_key and server.curve_clients go together")
    if not is_loopback(s.host) and not s.curve_secret_key:
        raise BadRequest(
            f"refusing to listen on {s.host} without authentication: make keys with `ddbridge keys`, then set "
            "server.curve_secret_key and server.curve_clients (--curve-key, --curve-clients), or bind 127.0.0.1"
        )


def _check_midi(midi: MidiConfig) -> None:
    if midi.api not in MIDI_APIS:
        raise BadRequest(f"midi.api must be one of: {', '.join(repr(a) for a in MIDI_APIS)}; got '{midi.api}'")
    if not 0 <= midi.channel <= 16:
        raise BadRequest(f"midi.channel must be 1..16, or 0 for any, got {midi.channel}")
    for note, category in midi.notes.items():
        if not (note.isdigit() and 0 <= int(note) <= 127):
            raise BadRequest(f"midi.notes: '{note}' is not a MIDI note number (0..127)")
        if not category:
            raise BadRequest(f"midi.notes: note {note} needs a category name")
    for name in ("keep_note", "keep_cc"):
        if not -1 <= getattr(midi, name) <= 127:
            raise BadRequest(f"midi.{name} must be 0..127, or -1 for none, got {getattr(midi, name)}")
    if str(midi.keep_note) in midi.notes:
        raise BadRequest(f"midi.keep_note {midi.keep_note} is also mapped in midi.notes; pick another note")
