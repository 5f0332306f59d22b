"""``ddbridge doctor``: what the daemon would find here (config, GPU, audio outputs, MIDI ports, network ports).

Prints one section per check and a list of problems at the end; exits 1 when there are any.
Problems are what would stop something configured from working (a broken config, a port taken
by another program, the configured MIDI port or audio device missing); missing audio or MIDI
when MIDI is off is only reported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import sys
from dataclasses import fields, is_dataclass

from ddbridge import __version__


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check this machine: config, GPU, audio outputs, MIDI ports, network ports",
        description="Report what `ddbridge serve` would find on this machine, and any problems.",
    )
    p.add_argument("--config", metavar="PATH", help="TOML config file (default: the user config folder's config.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = Report()
    print(f"ddbridge {__version__} · Python {platform.python_version()} · {platform.platform(terse=True)}")
    config = check_config(report, args.config)
    check_gpu(report, config)
    check_audio(report, config)
    check_midi(report, config)
    check_ports(report, config)
    report.section("summary")
    if not report.problems:
        report.line("no problems found")
        return 0
    for problem in report.problems:
        report.line(f"problem: {problem}")
    return 1


class Report:
    """Collects problems while printing sections."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, title: str) -> None:
        print(f"\n{title}")

    def line(self, text: str) -> None:
        print(f"  {text}")

    def problem(self, text: str) -> None:
        self.problems.append(text)
        self.line(f"PROBLEM: {text}")


@contextlib.contextmanager
def quiet_stderr():
    """Hide what native libraries (ALSA, JACK) print on the process's stderr while probing."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# -- config -------------------------------------------------------------------------------------


def check_config(report: Report, path: str | None):
    from ddbridge.daemon.config import Config, default_config_path, load_config
    from ddbridge.protocol.errors import DDBridgeError

    report.section("config")
    source = path or default_config_path()
    exists = os.path.isfile(os.path.expanduser(str(source)))
    report.line(f"file: {source}" + ("" if exists or path else " (not there: defaults apply)"))
    try:
        config = load_config(path)
    except DDBridgeError as e:
        report.problem(f"{e}; the checks below use the defaults")
        config = Config()
    report.line("in force:")
    for text in toml_lines(config):
        print(f"    {text}" if text else "")
    return config


def toml_lines(config) -> list[str]:
    """The config as TOML: one table per section (nested tables after their parent)."""
    top, tables = [], []
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            tables.append((f.name, value))
        else:
            top.append(f"{f.name} = {_toml_value(value)}")
    lines = list(top)
    for name, section in tables:
        body, nested = [], []
        for f in fields(section):
            value = getattr(section, f.name)
            if isinstance(value, dict):
                nested.append((f"{name}.{f.name}", value))
            else:
                body.append(f"{f.name} = {_toml_value(value)}")
        lines += ["", f"[{name}]", *body]
        for nested_name, table in nested:
            lines += ["", f"[{nested_name}]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
    return lines


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # numbers, strings and lists of strings read the same in TOML


# -- GPU ----------------------------------------------------------------------------------------


def check_gpu(report: Report, config) -> None:
    report.section("compute")
    try:
        import torch
    except ImportError as e:
        report.problem(f"PyTorch cannot be imported ({e}); reinstall ddbridge")
        return
    report.line(f"torch {torch.__version__}")
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            report.line(f"CUDA device {i}: {props.name}, {props.total_memory / 2**30:.1f} GiB")
    else:
        built = f" (torch built for CUDA {torch.version.cuda})" if torch.version.cuda else ""
        report.line(f"CUDA: not available{built}")
    mps = getattr(torch.backends, "mps", None)
    report.line(f"Apple MPS: {'available' if mps and mps.is_available() else 'not available'}")
    report.line(f"CPU threads for torch: {config.models.threads or torch.get_num_threads()}")
    from ddbridge.daemon.engine import pick_device
    from ddbridge.protocol.errors import DDBridgeError

    try:
        report.line(f"models.device = {config.models.device!r} -> runs on {pick_device(config.models.device)}")
    except DDBridgeError as e:
        report.problem(str(e))


# -- audio --------------------------------------------------------------------------------------


def check_audio(report: Report, config) -> None:
    from ddbridge.frontends.audition import import_sounddevice, parse_device
    from ddbridge.protocol.errors import Unavailable

    report.section("audio outputs")
    wanted = config.midi.enabled and config.audition.enabled
    flag = report.problem if wanted else report.line
    try:
        with quiet_stderr():
            sd = import_sounddevice()
            devices, apis = sd.query_devices(), sd.query_hostapis()
    except Unavailable as e:
        flag(str(e))
        return
    report.line("host APIs: " + ", ".join(f"{a['name']} ({len(a['devices'])} devices)" for a in apis))
    outputs = [d for d in devices if d["max_output_channels"] > 0]
    default = sd.default.device[1]
    if outputs:
        report.line("outputs (* the default):")
    for d in outputs:
        mark = "*" if d["index"] == default else " "
        api = apis[d["hostapi"]]["name"]
        channels, rate = d["max_output_channels"], d["default_samplerate"]
        report.line(f"{mark} [{d['index']}] {d['name']} ({api}): {channels} out, {rate:.0f} Hz")
    if not outputs:
        flag("no audio output device found (no sound card, JACK or PulseAudio); auditions would be silent")
        return
    device = parse_device(config.audition.device)
    try:
        chosen = sd.query_devices(device, kind="output")
    except (sd.PortAudioError, ValueError) as e:
        flag(f"audition.device {config.audition.device!r}: {str(e).strip().splitlines()[0]}")
        return
    report.line(f"audition.device {config.audition.device!r} -> {chosen['name']} ({apis[chosen['hostapi']]['name']})")


# -- MIDI ---------------------------------------------------------------------------------------


def check_midi(report: Report, config) -> None:
    from ddbridge.frontends.midi import RTMIDI_APIS, midi_backend
    from ddbridge.protocol.errors import Unavailable

    report.section("MIDI inputs")
    midi = config.midi
    report.line(f"midi.enabled = {'true' if midi.enabled else 'false'}")
    flag = report.problem if midi.enabled else report.line
    try:
        import rtmidi

        compiled = set(rtmidi.get_compiled_api())
    except ImportError:
        flag("MIDI needs the python-rtmidi package: pip install python-rtmidi")
        return
    for api, name in RTMIDI_APIS.items():
        if getattr(rtmidi, f"API_{name}", None) not in compiled:
            continue
        try:
            with quiet_stderr():
                names = midi_backend(api).get_input_names()
        except Unavailable as e:
            flag(str(e))
            return
        except Exception as e:
            text = f"{api}: unavailable ({str(e).strip() or type(e).__name__})"
            (flag if midi.enabled and midi.api == api else report.line)(text)
            continue
        report.line(f"{api}: " + (", ".join(f"'{n}'" for n in names) or "no inputs"))
        if midi.enabled and midi.port and (midi.api or _default_api(compiled, rtmidi, RTMIDI_APIS)) == api:
            if not any(midi.port.lower() in n.lower() for n in names):
                report.problem(f"midi.port {midi.port!r} matches no {api} input")
    where = f"the input matching {midi.port!r}" if midi.port else "a virtual input named 'ddbridge'"
    report.line(f"the daemon would listen on {where} ({midi.api or 'default'} API)")


def _default_api(compiled: set, rtmidi, apis: dict[str, str]) -> str:
    """The API mido's rtmidi backend uses when none is named: the first one compiled in."""
    for api, name in apis.items():
        if getattr(rtmidi, f"API_{name}", None) in compiled:
            return api
    return ""


# -- network ports ------------------------------------------------------------------------------


def check_ports(report: Report, config) -> None:
    s = config.server
    report.section("network ports")
    host = "0.0.0.0" if s.host in ("*", "") else s.host
    checks = [("requests (ZeroMQ)", "tcp", s.zmq_port), ("events (ZeroMQ)", "tcp", s.pub_port)]
    checks.append(("OSC", "udp", s.osc_port))
    checks.append(("page (HTTP)", "tcp", s.web_port))
    for label, kind, port in checks:
        where = f"{kind}://{s.host}:{port}"
        if not port:
            report.line(f"{label}: off")
            continue
        error = bind_error(host, port, kind)
        if error is None:
            report.line(f"{label} {where}: free")
            continue
        version = ddbridge_version(host, port) if label.startswith("requests") else None
        if version:
            report.line(f"{label} {where}: in use by a running ddbridge daemon (version {version})")
        else:
            report.problem(f"{label} {where}: in use ({error}); stop that program or change server.* in the config")


def bind_error(host: str, port: int, kind: str) -> str | None:
    """None when ``host:port`` can be bound now (as the daemon would), else the reason."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM) as sock:
        if kind == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            return e.strerror or str(e)
    return None


def ddbridge_version(host: str, port: int) -> str | None:
    """The version of a ddbridge daemon answering on ``host:port``, or None."""
    from ddbridge.client.connection import Client
    from ddbridge.protocol.errors import DDBridgeError

    target = "127.0.0.1" if host == "0.0.0.0" else host
    try:
        with Client(f"tcp://{target}:{port}", timeout=0.5, retries=1) as c:
            return c.ping().get("version")
    except DDBridgeError:
        return None
