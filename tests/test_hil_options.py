"""hil_tests beside pytest-embedded: both name the board's port --port."""

import os
import subprocess
import sys

from host_tools.paths import PROJECT_ROOT

PLUGIN_DIR = PROJECT_ROOT / "tests" / "data"


def run_hil_suite(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
         "-p", "embedded_like_plugin", "hil_tests/test_reboot.py", *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(PLUGIN_DIR)})


def test_the_suite_loads_beside_a_plugin_that_owns_port():
    proc = run_hil_suite("--collect-only")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "already" not in proc.stdout + proc.stderr


def test_its_port_option_reaches_the_board_fixture():
    for option in ("--port", "--copflow-port"):
        proc = run_hil_suite(option, "/nonexistent/ttyCOPFLOW", "-x")
        assert proc.returncode != 0
        assert "/nonexistent/ttyCOPFLOW" in proc.stdout + proc.stderr, option


def test_a_real_port_with_parallel_workers_is_one_clear_error():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
         "hil_tests/test_reboot.py", "--port", "/nonexistent/ttyCOPFLOW"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4  # pytest's usage error
    assert "add -n 0" in proc.stderr
