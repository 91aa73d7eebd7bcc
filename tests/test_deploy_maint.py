"""The maintenance path (defect 5) and deploy's errors, without a full deploy.

The console's `maint` writes the flag main.py looks for and asks for the reboot
(a hard reset on a board: the only thing that stops a running watchdog); the
virtual board boots into maintenance, where the watchdog never starts.
"""

import os
import pty
import subprocess
import sys
import time
import tty

import pytest

from console import Console
from fakeapp import FakeApp
from host_tools.commands import deploy
from host_tools.link import Link
from host_tools.vboard import VirtualBoard
from serial_repl import SerialRepl


def _console(tmp_path):
    out = []
    console = Console(FakeApp(), out.append)
    console.maint_file = str(tmp_path / "maint")
    return console, out


def _send(console, out, text):
    del out[:]
    for b in text.encode():
        console.feed(b)
    return "".join(out)


def test_maint_writes_the_flag_and_asks_for_the_reset(tmp_path):
    c, out = _console(tmp_path)
    assert _send(c, out, "maint\n") == "ok maint\n"
    assert (tmp_path / "maint").exists()
    assert c.app.rebooted


def test_maint_is_refused_while_locked_and_with_arguments(tmp_path):
    c, out = _console(tmp_path)
    _send(c, out, "pin set 1234\n")
    _send(c, out, "lock 1234\n")
    assert _send(c, out, "maint\n").startswith("err E_LOCKED")
    assert _send(c, out, "maint now\n").startswith("err E_LOCKED")
    _send(c, out, "unlock 1234\n")
    assert _send(c, out, "maint now\n").startswith("err E_SYNTAX")
    assert not (tmp_path / "maint").exists() and not c.app.rebooted


def test_maint_that_cannot_write_the_flag_changes_nothing(tmp_path):
    c, out = _console(tmp_path)
    c.maint_file = str(tmp_path / "no-such-folder" / "maint")
    assert _send(c, out, "maint\n").startswith("err E_STORAGE")
    assert not c.app.rebooted


def test_the_switch_renames_main_py_last_under_the_flag():
    entries = [("app.mpy", "x"), ("core/pi.mpy", "y"), ("main.py", "z")]
    script = deploy.switch_script([p for p, _ in entries], deploy.stale_twins(entries))
    lines = script.splitlines()
    flag = lines.index("f = open('/maint', 'w')")
    renames = [i for i, line in enumerate(lines) if line.startswith("mv(")]
    assert flag < renames[0] and lines[renames[-1]] == "mv('main.py')"
    assert lines.index("rm('/maint')") > renames[-1]
    assert "rm('/app.py')" in lines and "rm('/core/pi.py')" in lines


def test_the_manifest_puts_main_py_last(tmp_path):
    for name in ("main.py", "app.mpy", "zz.json"):
        (tmp_path / name).write_bytes(name.encode())
    assert [p for p, _ in deploy.manifest(tmp_path)] == ["app.mpy", "zz.json", "main.py"]


def _deploy(*args):
    return subprocess.run([sys.executable, "-m", "host_tools.cli", "deploy", *args],
                          capture_output=True, text=True, timeout=120)


def test_deploy_virtual_goes_through_maintenance_on_the_pico(tmp_path):
    result = _deploy("--virtual", "--board", "rp2", "--flash", str(tmp_path / "flash"))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "in maintenance (watchdog stopped, outputs safe)" in out
    assert "verified" in out and "switched" in out and "boot ok" in out and "on pico" in out
    assert "WDT_RESET" not in out  # rp2 resets through its watchdog: maint is not a bite
    assert not (tmp_path / "flash" / "maint").exists()
    assert not (tmp_path / "flash" / deploy.STAGE).exists()


def test_deploy_to_a_missing_port_is_one_line(tmp_path):
    result = _deploy("--port", str(tmp_path / "ttyNONE"))
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("copflow: "), result.stderr
    assert "ttyNONE" in errors[0]


def test_deploy_to_a_board_that_does_not_answer_is_one_line():
    master, slave = pty.openpty()  # a port with nothing behind it
    tty.setraw(slave)
    try:
        result = _deploy("--port", os.ttyname(slave), "--timeout", "1")
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("copflow: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture
def wdt_board(tmp_path):
    """A board whose firmware runs its watchdog with a short timeout (5 s)."""
    with VirtualBoard(tmp_path / "flash", profile="esp32-devkitc", hw={"watchdog_s": 5},
                      restart_delay_s=0.05, log=sys.stderr) as b:
        with Link(b.port, timeout_s=10.0) as link:
            link.wait_for("!boot", 30.0)
        yield b


def test_ctrl_c_leaves_the_watchdog_running_and_maint_does_not(wdt_board):
    """Defect 5 on the twin: after Ctrl-C the watchdog (the twin's, world.wdt) still runs
    and cuts the session; a soft reset keeps it; after `maint` (a hard reset) the
    maintenance boot never starts it and the REPL stays."""
    board = wdt_board
    repl = SerialRepl(board.port)
    try:
        repl.s.write(b"\x03\x03")  # a break takes two Ctrl-C (one is line noise)
        repl.read_until(b">>> ")
        repl.eval("import machine")
        assert repl.eval("machine.world.wdt is not None") == "True"
        repl.s.write(b"\x01")  # raw REPL and an empty Ctrl-D: mpremote's soft reset
        repl.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        repl.s.write(b"\x04")
        repl.read_until(b"soft reboot")
        repl.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        repl.s.write(b"\x02")
        repl.read_until(b">>> ")
        repl.eval("import machine")
        assert repl.eval("machine.world.wdt is not None") == "True"  # it survived
        repl.read_until(b"!boot", limit=20.0)  # nobody feeds it at the REPL: it bites
        repl.s.write(b"\x03\x03")
        repl.read_until(b">>> ")
        repl.eval("import machine")
        assert repl.eval("machine.reset_cause() == machine.WDT_RESET") == "True"
        repl.read_until(b"!boot", limit=20.0)  # cut again: nobody feeds it at the REPL
    finally:
        repl.close()
    assert deploy.enter_maintenance(board.port, 5.0)
    assert not (board.flash / "maint").exists()  # consumed by the maintenance boot
    repl = SerialRepl(board.port)
    try:
        repl.s.write(b"\r")
        repl.read_until(b">>> ")
        repl.eval("import machine")
        assert repl.eval("machine.world.wdt is None") == "True"
    finally:
        repl.close()
    # mpremote sessions longer than the watchdog's timeout are not cut: its soft resets
    # restart the interpreter (one boot each), nothing else does.
    boots = board.boots
    first = deploy.mpremote(board.port, "exec", "print('t0')")
    time.sleep(7.0)
    later = deploy.mpremote(board.port, "exec", "print('still', 6 * 7)")
    assert "t0" in first and "still 42" in later
    assert board.boots - boots == 2
