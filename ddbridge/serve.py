"""The daemon: clean up after crashes, load the models, start the core and front ends, stop on SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from ddbridge.daemon.config import Config
from ddbridge.protocol.errors import Unavailable

log = logging.getLogger("ddbridge")

SWITCH_INTERVAL_S = 0.0005


def serve(config: Config, stop: threading.Event | None = None) -> int:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives; returns the exit status.

    Prints one ``ddbridge: ready ...`` line on stdout once every socket listens.
    """
    from ddbridge.daemon.core import Core
    from ddbridge.daemon.engine import Engine
    from ddbridge.daemon.outputs import Outputs
    from ddbridge.frontends.osc import OscFrontend
    from ddbridge.frontends.zmq import ZmqFrontend

    stop = stop or threading.Event()
    # Socket threads must get the interpreter back quickly from the compute thread after each I/O wait.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _on_signals(stop)
    curve = _curve(config)
    outputs = Outputs(config.allowed_roots(), config.default_project_dir(), config.state_path())
    removed = outputs.clean_recorded()
    if removed:
        log.info("removed %d partial file(s) left by an earlier run", len(removed))
    m, s = config.models, config.server
    engine = Engine(
        m.load, device=m.device, dtype=m.dtype, compile=m.compile, steps=m.steps, sampler=m.sampler, threads=m.threads
    )
    core = Core(engine, config, outputs)
    frontends = [ZmqFrontend(core, s.host, s.zmq_port, s.pub_port, curve)]
    if s.osc_port:
        frontends.append(OscFrontend(core, s.local_host(), s.osc_port, s.osc_reply_port))
    page = _web_frontend(core, config, outputs)
    if page is not None:
        frontends.append(page)
    started, midi = [], None
    try:
        for frontend in frontends:
            frontend.start()
            started.append(frontend)
        core.start()
        midi = _start_midi(core, config)
        osc = f" osc udp://{s.local_host()}:{s.osc_port}" if s.osc_port else ""
        secured = " curve" if curve else ""
        pads = f" {midi.describe()}" if midi else ""
        web = f" page {page.url}" if page else ""
        print(
            f"ddbridge: ready model={engine.default_model} device={engine.device_name} "
            f"zmq tcp://{s.host}:{s.zmq_port} events tcp://{s.host}:{s.pub_port}{secured}{osc}{web}{pads}",
            flush=True,
        )
        if page is not None and config.web.open:
            _open_page(page.url)
        while not stop.wait(0.5):
            pass
        log.info("shutting down")
    finally:
        if midi is not None:
            midi.stop()
        core.stop()
        for frontend in reversed(started):
            frontend.stop()
    return 0


def _web_frontend(core, config: Config, outputs):
    """The page's front end when ``server.web_port`` is set (aiohttp is imported only then)."""
    if not config.server.web_port:
        return None
    from ddbridge.frontends.web import WebFrontend

    return WebFrontend(core, config, outputs, config.server.page_host(), config.server.web_port)


def _curve(config: Config):
    """The CURVE keys and allow-list for ZeroMQ when configured (checked before any model loads)."""
    if not config.server.curve_secret_key:
        return None
    from ddbridge.protocol.remote import CurveServer

    return CurveServer(config.server.curve_secret_key, config.server.curve_clients)


def _open_page(url: str) -> None:
    import webbrowser

    if not webbrowser.open(url):
        log.warning("no browser could be opened; visit %s", url)


def _start_midi(core, config: Config):
    """The MIDI front end (with audition) when configured; a warning, not a failure, when MIDI is unavailable."""
    if not config.midi.enabled:
        return None
    from ddbridge.frontends.midi import MidiFrontend

    midi = MidiFrontend(core, config.midi, config.audition)
    try:
        midi.start()
    except Unavailable as e:
        log.warning("MIDI is off: %s", e)
        return None
    return midi


def _on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, _frame) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
