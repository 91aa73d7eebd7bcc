"""The runtime end to end on the virtual board with a board profile: the firmware on the
host MicroPython, its port's machine twin as `machine` (vboot.py), the stock heap.
Reboots come back (RP2's reset goes through the watchdog: not reported as WDT_RESET),
Ctrl-C passes the fail-safe and gives the REPL in place, /maint boots to the REPL."""

import sys
import time

import pytest

from core import alarms
from host_tools.link import Link
from host_tools.vboard import VirtualBoard

PROFILES = ("esp32-devkitc", "pico")


@pytest.fixture(params=PROFILES)
def board(request, tmp_path):
    with VirtualBoard(tmp_path / "flash", profile=request.param, restart_delay_s=0.05,
                      log=sys.stderr).boot(30.0) as b:
        yield b


def read_until(link, text, timeout_s=20.0):
    """Raw bytes from the board until `text` shows up; all of it."""
    deadline = time.monotonic() + timeout_s
    seen = b""
    while time.monotonic() < deadline:
        seen += link.serial.read(256)
        if text.encode() in seen:
            return seen.decode(errors="replace")
    raise AssertionError(f"no {text!r} within {timeout_s} s; got {seen[-300:]!r}")


def test_five_reboots_in_a_row_come_back_without_a_watchdog_alarm(board):
    with Link(board.port, timeout_s=10.0) as link:
        said = []
        link.on_unsolicited = said.append
        for _ in range(5):
            link.command("reboot")
            banner = link.wait_for("!boot", 30.0)
            alarm_mask = int(banner.split("alarms=")[1].split()[0], 16)
            assert not alarm_mask & alarms.WDT_RESET, banner
            status = link.command("status").fields()  # answers, after any boot line
            assert status["state"] in ("safe", "standby", "auto")
        assert "!reboot" in said
        assert not [x for x in said if x.startswith(("!error", "!fault"))], said


def test_ctrl_c_stops_safe_and_gives_the_repl_then_ctrl_d_boots(board):
    with Link(board.port, timeout_s=10.0) as link:
        link.command("hello")
        link.serial.write(b"\x03\x03")  # a break takes two (one is line noise)
        text = read_until(link, ">>> ")
        assert "!stopped outputs=safe" in text
        link.serial.write(b"print(6 * 7)\r")
        assert "42" in read_until(link, "42")
        link.serial.write(b"\x04")
        assert "!boot" in read_until(link, "!boot", 30.0)


def test_a_maintenance_flag_boots_to_the_repl_with_no_loop(board):
    (board.flash / "maint").write_text("")
    with Link(board.port, timeout_s=10.0) as link:
        link.command("reboot")
        text = read_until(link, ">>> ", 30.0)
        assert "!maint" in text and "!boot" not in text.split("!maint")[1]
    assert not (board.flash / "maint").exists()


def test_lockstep_ends_by_itself_when_the_host_goes_quiet(board):
    with Link(board.port, timeout_s=10.0) as link:
        link.command("set hil allowed")
        link.command("set hil_timeout_s 1")
        link.command("hil lockstep 40")
        for _ in range(3):
            link.command("hil step 1000 27.6 0.55 1 1")
        line = link.wait_for("!hil off", 10.0)
        assert line == "!hil off reason=timeout"
        assert link.command("hil").fields()["hil"] == "off"
