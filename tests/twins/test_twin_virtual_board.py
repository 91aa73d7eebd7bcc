"""The virtual board with a profile runs the firmware on its port's machine twin:
machine.Pin is there, reset_cause() follows the port after machine.reset(), and
the watchdog cannot be stopped (it bites at the REPL, and a soft reset keeps it)."""

import sys

import pytest

from host_tools.vboard import VirtualBoard
from serial_repl import SerialRepl

PROFILES = {"esp32": "esp32-devkitc", "rp2": "pico"}
CAUSE_AFTER_RESET = {"esp32": 2, "rp2": 3}  # HARD_RESET; rp2: WDT_RESET (watchdog_reboot)


@pytest.fixture(params=sorted(PROFILES))
def board(request, tmp_path):
    b = VirtualBoard(tmp_path / "flash", profile=PROFILES[request.param], restart_delay_s=0.05,
                     log=sys.stderr)
    b.port_name = request.param
    c = SerialRepl(b.port)
    b.start()
    try:
        c.read_until(b"!boot")
        yield b, c
    finally:
        b.stop()


def test_firmware_runs_on_the_twin_and_reset_cause_follows_the_port(board):
    b, c = board
    c.repl()
    c.eval("import machine, gc")
    assert c.eval("hasattr(machine, 'Pin'), machine.reset_cause()") == "(True, 1)"
    assert c.eval("gc.isenabled()") == "False"  # the host keeps collection manual
    c.s.write(b"machine.reset()\r")
    c.read_until(b"!boot")
    c.repl()
    c.eval("import machine")
    assert c.eval("machine.reset_cause()") == str(CAUSE_AFTER_RESET[b.port_name])


def test_watchdog_bites_at_the_repl(board):
    b, c = board
    c.repl()
    c.eval("import machine; w = machine.WDT(timeout=800)")
    c.read_until(b"!boot", limit=10)  # nobody feeds it at the REPL: the board resets
    c.repl()
    c.eval("import machine")
    assert c.eval("machine.reset_cause()") == "3"  # WDT_RESET on both ports


def test_watchdog_survives_a_soft_reset(board):
    b, c = board
    c.repl()
    c.eval("import machine; w = machine.WDT(timeout=1500)")
    c.s.write(b"\x01")  # raw REPL, then an empty Ctrl-D: mpremote's soft reset
    c.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    c.s.write(b"\x04")
    c.read_until(b"soft reboot")
    c.read_until(b"!boot", limit=10)  # still running after the soft reset: it bites
    assert b.boots == 3
