"""The Max for Live device's tests (Node's test runner) against the real daemon over real UDP OSC.

Starts ``python -m ddbridge serve`` with a tiny model on free ports (its ZeroMQ socket with CURVE
keys, for the device's remote mode, which runs the real ``ddbridge request``), and a second one whose
model has no loop network, and runs
``node --test max_for_live/tests/*.test.js``, telling the tests where the daemon is through
environment variables (see max_for_live/tests/env.js).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_helpers import CATEGORIES, REPO, DaemonProcess, build_tiny_model, vector_variables

from ddbridge.protocol.remote import create_keys

M4L_TESTS = REPO / "max_for_live" / "tests"
MIN_NODE = 18  # node:test and --test-reporter


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed (scripts/setup.sh --test installs it)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE:
        pytest.fail(f"Node.js {version} is too old; the device's tests need Node.js {MIN_NODE}+")
    return node


def _curve(daemon: DaemonProcess, folder: Path) -> dict:
    """CURVE on the daemon's ZeroMQ socket; remote.toml files for an allowed and a refused client key."""
    server, allowed, stranger = (create_keys(folder, name) for name in ("server", "laptop", "stranger"))
    clients = folder / "clients"
    clients.mkdir()
    (clients / "laptop.key").write_bytes(allowed[0].read_bytes())
    curve = f'curve_secret_key = "{server[1]}"\ncurve_clients = "{clients}"\n'
    daemon.config.write_text(daemon.config.read_text().replace("[server]\n", f"[server]\n{curve}", 1))
    profiles = {}
    for name, pair in (("allowedProfile", allowed), ("strangerProfile", stranger)):
        profile = folder / f"{name}.toml"
        profile.write_text(
            f'[[daemon]]\nendpoint = "{daemon.endpoint}"\nserver_key = "{server[0]}"\nclient_key = "{pair[1]}"\n'
        )
        profiles[name] = str(profile)
    cli = shutil.which("ddbridge", path=str(Path(sys.executable).parent)) or shutil.which("ddbridge")
    if cli is None:
        pytest.fail("the ddbridge command is not installed (pip install -e . installs it)")
    return {"endpoint": daemon.endpoint, "cli": cli, **profiles}


def test_max_for_live_device(tmp_path_factory):
    node = _node()
    root = tmp_path_factory.mktemp("m4l")
    # the vectors and "Generate loop" ask for loops (a model with a loop network), a bass on a pad for its note
    model = build_tiny_model(tmp_path_factory.mktemp("model"), (*CATEGORIES, "bass"), loops=True)
    daemon = DaemonProcess(model, root, pool_size=0)
    remote = _curve(daemon, tmp_path_factory.mktemp("keys"))
    plain = DaemonProcess(
        build_tiny_model(tmp_path_factory.mktemp("plain model")), tmp_path_factory.mktemp("plain"), pool_size=0
    )
    with daemon, plain:
        env = {
            **os.environ,
            "DDBRIDGE_OSC_PORT": str(daemon.osc_port),
            "DDBRIDGE_PROJECT_DIR": str(daemon.project),
            "DDBRIDGE_DEFAULT_PROJECT_DIR": str(daemon.allowed / "default-project"),
            "DDBRIDGE_CATEGORIES": ",".join(CATEGORIES),
            "DDBRIDGE_VECTOR_VARIABLES": json.dumps(vector_variables(daemon)),
            "DDBRIDGE_REMOTE_TEST": json.dumps(remote),
            "DDBRIDGE_PLAIN_OSC_PORT": str(plain.osc_port),  # a model without a loop network
        }
        files = sorted(str(p) for p in M4L_TESTS.glob("*.test.js"))
        result = subprocess.run(
            [node, "--test", "--test-reporter=tap", *files],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert daemon.alive(), f"the daemon died during the device tests:\n{daemon.log.read_text()}"
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    counts = {k: int(v) for k, v in re.findall(r"^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$", report, re.M)}
    assert counts["fail"] == 0 and counts["cancelled"] == 0, report
    assert counts["skipped"] == 0, f"device tests were skipped although the daemon ran:\n{report}"
    assert counts["pass"] >= 30, report
    # a `todo` test stands for a known bug outside the device: once it passes, it must become a plain test
    fixed = re.findall(r"^ok \d+ - (.*) # TODO", report, re.M)
    assert not fixed, f"these todo tests pass now, drop their todo: {fixed}"
