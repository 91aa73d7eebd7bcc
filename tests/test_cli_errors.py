"""Bad input on the command line (issue 14): each case is one `copflow: ...` line on
stderr, a non-zero exit and no traceback, and outputs are checked before a run starts
(a board is never started, nothing is simulated)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

COPFLOW = [sys.executable, "-m", "host_tools.cli"]


def run(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(COPFLOW + args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env)


def one_line_error(proc, *words):
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("copflow: "), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


CASES = {
    # --out naming a file where a folder is expected (before: a traceback after the run)
    "sim-out-file": (["sim", "--season", "winter", "--hours", "0.1", "--out", "afile"],
                     ["--out afile", "is a file"]),
    "sim-out-under-file": (["sim", "--season", "winter", "--out", "afile/sub"],
                           ["--out afile/sub", "cannot create"]),
    "demo-out-file": (["demo", "--out", "afile"], ["--out afile", "is a file"]),
    "hil-out-file": (["hil", "--virtual", "--scenario", "paper-summer", "--out", "afile"],
                     ["--out afile", "is a file"]),
    "hil-out-unwritable": (["hil", "--virtual", "--scenario", "paper-summer", "--out",
                            "/proc/copflow-test"], ["--out /proc/copflow-test"]),
    "coeffs-pull-missing-folder": (["coeffs", "pull", "--port", "loop://", "-o",
                                    "nodir/c.json"], ["no such folder nodir"]),
    "fit-o-missing-folder": (["fit", "s.csv", "--season", "winter", "-o", "nodir/c.json"],
                             ["no such folder nodir"]),
    "sweep-o-folder": (["sweep", "--season", "winter", "-o", "adir"], ["is a folder"]),
    # a device that is not there (before: about 45 lines of mpremote script for deploy)
    "deploy-missing-port": (["deploy", "--port", "/dev/ttyCOPFLOWNONE"],
                            ["cannot open /dev/ttyCOPFLOWNONE: no such device"]),
    "hil-missing-port": (["hil", "--port", "/dev/ttyCOPFLOWNONE", "--scenario",
                          "paper-summer"], ["no such device"]),
    "demo-missing-port": (["demo", "--port", "/dev/ttyCOPFLOWNONE", "--out", "out"],
                          ["no such device"]),
    # argparse errors (before: a usage block and an error line)
    "missing-arguments": (["fit"], ["fit:", "required"]),
    "unknown-command": (["fitt"], ["invalid choice: 'fitt'"]),
    "bad-choice": (["sweep", "--season", "spring", "-o", "x.csv"], ["--season"]),
    "port-and-virtual": (["param", "list", "--port", "loop://", "--virtual"],
                         ["not allowed with"]),
    "demo-virtual-and-port": (["demo", "--virtual", "--port", "/dev/x"], ["not allowed with"]),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line(tmp_path, case):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "s.csv").write_text("flow_percent,t_river_c,cop_s\n50,11,3\n")
    args, words = CASES[case]
    one_line_error(run(args, tmp_path), *words)
    assert not (tmp_path / "nodir").exists() and (tmp_path / "afile").read_text() == "x"


def test_demo_accepts_virtual_in_its_help(tmp_path):
    proc = run(["demo", "--help"], tmp_path)
    assert proc.returncode == 0 and "--virtual" in proc.stdout
