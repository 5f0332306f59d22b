"""The Max for Live device's tests (Node's test runner) against the real daemon over real UDP OSC.

Starts ``python -m ddbridge serve`` with a tiny model on free ports and runs
``node --test max_for_live/tests/*.test.js``, telling the tests where the daemon is through
environment variables (see max_for_live/tests/env.js).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from daemon_helpers import CATEGORIES, REPO, DaemonProcess, build_tiny_model, vector_variables

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


def test_max_for_live_device(tmp_path_factory):
    node = _node()
    root = tmp_path_factory.mktemp("m4l")
    model = build_tiny_model(tmp_path_factory.mktemp("model"))
    with DaemonProcess(model, root, pool_size=0) as daemon:
        env = {
            **os.environ,
            "DDBRIDGE_OSC_PORT": str(daemon.osc_port),
            "DDBRIDGE_PROJECT_DIR": str(daemon.project),
            "DDBRIDGE_DEFAULT_PROJECT_DIR": str(daemon.allowed / "default-project"),
            "DDBRIDGE_CATEGORIES": ",".join(CATEGORIES),
            "DDBRIDGE_VECTOR_VARIABLES": json.dumps(vector_variables(daemon)),
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
