"""Helpers for the daemon tests: a tiny model, free ports, and the real daemon as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tiny_models import save_with_loop_network, tiny_bundle

from ddbridge.client.connection import Client
from ddbridge.model.checkpoints import save_model

REPO = Path(__file__).resolve().parent.parent
CATEGORIES = ("kick", "snare")
SAMPLE_RATE = 8000
SAMPLE_SIZE = 2048


def build_tiny_model(
    folder: Path, categories: tuple[str, ...] = CATEGORIES, guidance: float = 1.0, *, loops: bool = False
) -> Path:
    """A class-conditioned network of ~14k parameters (depth 3) saved in the own format;
    ``guidance`` is its default guidance scale; ``loops``: it carries a tiny loop network (loops at a tempo)."""
    bundle = tiny_bundle(
        categories,
        sample_rate=SAMPLE_RATE,
        sample_size=SAMPLE_SIZE,
        defaults={"default_steps": 2, "default_guidance": guidance},
        width=8,
        class_dim=4,
    )
    if loops:
        return save_with_loop_network(bundle, folder)
    return save_model(bundle, folder / "tiny")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaemonProcess:
    """``python -m ddbridge serve`` on random free ports, configured through a TOML file.

    Layout under ``root``: ``allowed/`` (the only allowed output root, holding ``out/`` and
    ``project/``), ``outside/`` (an existing folder outside it) and ``state/``.
    """

    def __init__(
        self,
        model: Path,
        root: Path,
        *,
        pool_size: int = 2,
        max_queue: int = 64,
        max_batch: int = 16,
        osc_reply_port: int = 0,
        extra_config: str = "",
        threads: int = 1,
    ) -> None:
        self.model, self.root = model, root
        self.allowed, self.outside, self.state = root / "allowed", root / "outside", root / "state"
        self.out, self.project = self.allowed / "out", self.allowed / "project"
        for d in (self.out, self.project, self.outside, self.state):
            d.mkdir(parents=True, exist_ok=True)
        self.config = root / "config.toml"
        self.config.write_text(
            "\n".join(
                [
                    "[server]",
                    "zmq_port = 0",
                    "pub_port = 0",
                    "osc_port = 0",
                    f"osc_reply_port = {osc_reply_port}",
                    "web_port = 0",
                    "[models]",
                    f"threads = {threads}",
                    "[output]",
                    f'allowed_roots = ["{self.allowed}"]',
                    f'default_project_dir = "{self.allowed / "default-project"}"',
                    "[jobs]",
                    f"max_queue = {max_queue}",
                    f"max_batch = {max_batch}",
                    "[pool]",
                    f"size = {pool_size}",
                    extra_config,
                    "",
                ]
            )
        )
        self._pick_ports()
        self.log = root / "daemon.log"
        self.proc: subprocess.Popen | None = None
        self.ready_line = ""

    def _pick_ports(self) -> None:
        """Pick free ports and set them in the config file (any other setting a test added stays)."""
        self.port, self.pub_port, self.osc_port = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
        self.web_port = free_port()
        self.endpoint, self.pub_endpoint = f"tcp://127.0.0.1:{self.port}", f"tcp://127.0.0.1:{self.pub_port}"
        self.url = f"http://127.0.0.1:{self.web_port}/"
        text = self.config.read_text()
        for key, port in (("zmq", self.port), ("pub", self.pub_port), ("osc", self.osc_port), ("web", self.web_port)):
            text = re.sub(rf"(?m)^{key}_port = \d+$", f"{key}_port = {port}", text)
        self.config.write_text(text)

    def start(self, timeout: float = 90.0, tries: int = 3) -> DaemonProcess:
        """Start the daemon and wait for its ready line; raises with its log if it dies first. A port that was free
        when picked but taken by the time the daemon binds it (another process's connection) gets new ports, up
        to ``tries`` times in all."""
        args = [sys.executable, "-m", "ddbridge", "serve", "--config", str(self.config), "--model", str(self.model)]
        args += ["--state-dir", str(self.state)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        logged = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stdout:
                if "ready" in line:
                    self.ready_line = line.strip()
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                if tries > 1 and b"address already in use" in self.log.read_bytes()[logged:]:
                    self._pick_ports()
                    return self.start(timeout, tries - 1)
                raise RuntimeError(f"daemon did not start:\n{self.log.read_text()}")
        return self

    def client(self, **kw) -> Client:
        return Client(self.endpoint, **{"timeout": 10.0, "job_timeout": 120.0, **kw})

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            self.kill()


def vector_variables(daemon: DaemonProcess) -> dict:
    """Fresh values for the variables of ``plugin_protocol/test_vectors.json``."""
    run = uuid.uuid4().hex[:8]
    out, project = daemon.out / f"vectors-{run}", daemon.allowed / f"project-{run}"
    out.mkdir()
    project.mkdir()
    a_file = daemon.allowed / f"notes-{run}.txt"
    a_file.write_text("not audio")
    return {
        "RUN": run,
        "OUT_DIR": str(out),
        "PROJECT_DIR": str(project),
        "OUTSIDE_DIR": str(daemon.outside),
        "MISSING_DIR": str(daemon.allowed / "no-such-folder"),
        "A_FILE": str(a_file),
    }
