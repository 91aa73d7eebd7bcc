"""`copflow deploy` against a virtual board whose power is cut in the middle (defect 5).

The board starts with an "old" copflow (the same firmware with another version
string), so every deploy really replaces a module. Whatever the moment of the
cut, the board must come back booting the old firmware or the new one, or, cut
in the middle of the switch, into maintenance (outputs safe, no watchdog) from
which the next deploy completes; never a half-written module.
"""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools import __version__, fwbuild
from host_tools.commands import deploy
from host_tools.link import Link
from host_tools.paths import FIRMWARE_DIR
from host_tools.vboard import VirtualBoard

PROFILE = "esp32-devkitc"
OLD_VERSION = "0.0.9"


def old_firmware(tmp_path: Path, maint: bool = True) -> Path:
    """The firmware sources with another VERSION: a previous copflow (without the
    `maint` command if maint is False, as before it existed)."""
    src = tmp_path / "old-src"
    shutil.copytree(FIRMWARE_DIR, src, ignore=shutil.ignore_patterns("__pycache__"))
    app = src / "app.py"
    text, n = re.subn(r'^VERSION = "[^"]*"', f'VERSION = "{OLD_VERSION}"', app.read_text(),
                      flags=re.M)
    assert n == 1
    app.write_text(text)
    if not maint:
        console = src / "console.py"
        text, n = re.subn(r'^ *"maint": Console\.cmd_maint,\n', "", console.read_text(),
                          flags=re.M)
        assert n == 1
        console.write_text(text)
    return src


def start_board(tmp_path: Path, maint: bool = True) -> VirtualBoard:
    flash = tmp_path / "flash"
    flash.mkdir()
    fwbuild.build(flash, "esp32", PROFILE, firmware_dir=old_firmware(tmp_path, maint))
    board = VirtualBoard(flash, profile=PROFILE, restart_delay_s=0.05, log=sys.stderr).start()
    try:
        with Link(board.port, timeout_s=10.0) as link:
            assert f"copflow={OLD_VERSION}" in link.wait_for("!boot", 30.0)
    except BaseException:
        board.stop()
        raise
    return board


@pytest.fixture
def board(tmp_path):
    b = start_board(tmp_path)
    try:
        yield b
    finally:
        b.stop()


def run_deploy(port: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_tools.cli", "deploy", "--port", port,
                           "--board", "esp32", "--profile", PROFILE],
                          capture_output=True, text=True, timeout=300)


def comes_back(board: VirtualBoard) -> str:
    """The first line that says how the board booted: `!boot ...` or `!maint`; a
    traceback (a half-written module) fails the test."""
    with Link(board.port, timeout_s=10.0) as link:
        deadline = time.monotonic() + 40.0
        seen = []
        while True:
            line = link.read_line(deadline)
            assert line is not None, f"the board did not boot after the cut: {seen[-8:]}"
            seen.append(line)
            if line.startswith(("!boot", "!maint")):
                return line
            assert "Error" not in line, f"the board cannot boot: {seen[-8:]}"


def version(board: VirtualBoard) -> str:
    with Link(board.port, timeout_s=10.0) as link:
        return link.command("hello").fields()["copflow"]


def test_power_cut_while_a_module_is_written_leaves_a_board_that_boots(board, tmp_path):
    """Today's deploy copied over the running modules: a cut here left a half-written
    app.mpy and a board that could not import it. Now the copy goes to /new, and
    the running modules are not touched until the switch.

    The cut is placed, not raced: the copy runs to its end, the power goes, and
    the half-written file a cut in the middle of the copy would leave is put in
    /new (a poll for the moment of a half-written file missed it under load)."""
    new = tmp_path / "new-build"
    fwbuild.build(new, "esp32", PROFILE)
    app_mpy = (new / "app.mpy").read_bytes()
    old_app = (board.flash / "app.mpy").read_bytes()
    assert deploy.enter_maintenance(board.port, 5.0)
    entries = deploy.changed(board.port, deploy.manifest(new))
    assert "app.mpy" in [p for p, _ in entries]
    deploy.stage(board.port, new, entries)
    assert (board.flash / "app.mpy").read_bytes() == old_app  # the running module is intact
    assert (board.flash / deploy.STAGE / "app.mpy").read_bytes() == app_mpy
    board.kill()
    (board.flash / deploy.STAGE / "app.mpy").write_bytes(app_mpy[: len(app_mpy) // 2])
    first = comes_back(board)
    assert first.startswith("!boot"), first  # the old firmware, untouched
    assert version(board) == OLD_VERSION
    # The next deploy starts over from a clean staging folder and completes.
    done = run_deploy(board.port)
    assert done.returncode == 0, done.stdout + done.stderr
    assert version(board) == __version__
    assert not (board.flash / deploy.STAGE).exists()


def test_power_cut_after_maintenance_boot_boots_the_old_firmware(board):
    assert deploy.enter_maintenance(board.port, 5.0)
    board.kill()
    assert comes_back(board).startswith("!boot")
    assert version(board) == OLD_VERSION


def staged(board: VirtualBoard, tmp_path: Path, every_file: bool) -> list[tuple[str, str]]:
    """Maintenance, then the build staged and verified: every file (so the switch has
    many renames to be cut between), or only the changed ones, as deploy does."""
    out = tmp_path / "build"
    fwbuild.build(out, "esp32", PROFILE)
    entries = deploy.manifest(out)
    assert deploy.enter_maintenance(board.port, 5.0)
    if not every_file:
        entries = deploy.changed(board.port, entries)
    deploy.stage(board.port, out, entries)
    deploy.verify(board.port, entries)
    return entries


def test_power_cut_in_the_switch_boots_into_maintenance_and_deploy_completes(board, tmp_path):
    """The switch is a series of renames. A cut after any of them (the state a cut
    leaves is exactly the renames done so far) boots into maintenance, never into a
    mixed set of modules; the next deploy completes."""
    entries = staged(board, tmp_path, every_file=True)
    paths = [p for p, _ in entries]
    assert paths[-1] == "main.py"
    done = 0
    for upto in (0, len(paths) // 2, len(paths) - 1):  # none, half, all but main.py
        script = deploy.switch_script(paths[done:], deploy.stale_twins(entries), upto - done)
        deploy.mpremote(board.port, "exec", script)
        done = upto
        board.kill()
        assert comes_back(board).startswith("!maint"), upto
    result = run_deploy(board.port)
    assert result.returncode == 0, result.stdout + result.stderr
    # Only main.py was left in /new, and the old one is the same: nothing to copy.
    assert "staged 0 changed files" in result.stdout, result.stdout
    assert version(board) == __version__
    assert not (board.flash / deploy.MAINT_FLAG.lstrip("/")).exists()


def test_a_staged_file_that_differs_stops_deploy_before_the_switch(board, tmp_path):
    entries = staged(board, tmp_path, every_file=False)
    assert "app.mpy" in [p for p, _ in entries]
    bad = [(path, "0" * 64 if path == "app.mpy" else digest) for path, digest in entries]
    with pytest.raises(deploy.CopflowError, match="app.mpy.*unchanged"):
        deploy.verify(board.port, bad)
    board.kill()  # whatever happens next, the old firmware is intact
    assert comes_back(board).startswith("!boot")
    assert version(board) == OLD_VERSION


def test_a_copflow_without_maint_is_refused_then_recovered_by_removing_main_py(tmp_path):
    """Its watchdog cannot be stopped, so deploy changes nothing and says what to do;
    the recovery in docs/deploy.md then works: mpremote's Ctrl-C and `fs rm :main.py`
    fit in the watchdog window, the watchdog still bites, the board comes back at the
    bare REPL (no copflow, no watchdog), and deploy goes by Ctrl-C."""
    board = start_board(tmp_path, maint=False)
    try:
        refused = run_deploy(board.port)
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1 and "fs rm :main.py" in refused.stderr
        assert version(board) == OLD_VERSION
        deploy.mpremote(board.port, "fs", "rm", ":main.py")
        assert not (board.flash / "main.py").exists()
        with Link(board.port, timeout_s=10.0) as link:
            deadline = time.monotonic() + 30.0
            seen = b""
            while b"MicroPython" not in seen:  # the bite: a fresh interpreter, no main.py
                assert time.monotonic() < deadline, seen[-300:]
                seen += link.serial.read(4096)
        result = run_deploy(board.port)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no copflow console; at the MicroPython REPL" in result.stdout
        assert version(board) == __version__
    finally:
        board.stop()
