"""The virtual board boots with each board profile: the profile's drivers run on the host
MicroPython over the port's machine twin with nothing wired, so each reports its own fault."""

import sys
import time

from host_tools.link import Link
from host_tools.vboard import VirtualBoard


def boot(tmp_path, profile, hw=None):
    unsolicited: list[str] = []
    board = VirtualBoard(tmp_path / "flash", board="esp32" if profile.startswith("esp") else "rp2",
                         profile=profile, hw=hw, restart_delay_s=0.05, log=sys.stderr)
    board.start()
    link = Link(board.port, timeout_s=10.0, on_unsolicited=unsolicited.append)
    banner = link.wait_for("!boot", 30.0)
    return board, link, banner, unsolicited


def alarm_names(link, expected, wait_s=30.0):
    """The board's alarm names once all of `expected` are among them (or at the deadline:
    the assertion then shows what there was)."""
    deadline = time.monotonic() + wait_s
    while True:
        names = link.command("alarms").fields()["names"]
        if all(e in names for e in expected) or time.monotonic() > deadline:
            return names
        time.sleep(0.1)


def until(cond, wait_s=30.0):
    deadline = time.monotonic() + wait_s
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.1)
    return cond()


def test_esp32_devkitc_default_wiring_reports_the_missing_ds18b20(tmp_path):
    board, link, banner, unsolicited = boot(tmp_path, "esp32-devkitc")
    try:
        assert "board=esp32-devkitc" in banner
        assert not [u for u in unsolicited if u.startswith("!error")]
        names = alarm_names(link, ("A17:T_NO_SENSOR", "A01:T_MISSING"))
        assert "A17:T_NO_SENSOR" in names and "A01:T_MISSING" in names
        status = link.command("status").fields()
        assert status["state"] == "safe" and status["pump"] == "1"
        # HIL replaces the drivers' readings, faults included.
        link.command("set hil allowed")
        link.command("hil lockstep 50")
        for _ in range(15):
            step = link.command("hil step 1000 27.6 0.55 1 1").fields()
        # No sensor alarms (a loaded host may add the sticky LOOP_OVERRUN, 0x800).
        assert step["state"] == "auto" and int(step["alarms"], 16) & ~0x800 == 0
        link.command("hil off")
        # Leaving HIL hands the loop back to the drivers: the missing sensor shows again.
        # (after fault_ticks, 3, one-second ticks)
        assert until(lambda: link.command("status").fields()["state"] == "safe")
        assert int(link.command("status").fields()["alarms"], 16) & (1 << 16)  # T_NO_SENSOR
    finally:
        link.close()
        board.stop()


def test_pico_with_ntc_current_loop_and_modbus_vfd_reports_each_fault(tmp_path):
    hw = {"temperature": {"driver": "ntc"},
          "flow": {"driver": "current_loop", "params": {"range_high": 2.0}},
          "actuator": {"driver": "vfd", "params": {"parity": "none", "stop_bits": 2}},
          "inputs": {"unit_running": True}}
    board, link, banner, _ = boot(tmp_path, "pico", hw)
    try:
        assert "board=pico" in banner
        names = alarm_names(link, ("A21:T_SHORT", "A22:FLOW_LOOP_LOW", "A26:VFD_LINK"))
        # Unwired: the NTC's ADC reads 0 (a short for the default low-side divider),
        # the 4-20 mA loop reads 0 mA, the drive never answers.
        for name in ("A21:T_SHORT", "A22:FLOW_LOOP_LOW", "A26:VFD_LINK"):
            assert name in names
        assert link.command("status").fields()["state"] == "standby"  # contact open
        assert link.command("mem").fields()["free"] != "-1"
    finally:
        link.close()
        board.stop()


def test_a_wrong_pin_is_a_boot_error_on_the_console_not_a_crash(tmp_path):
    hw = {"actuator": {"driver": "valve_3point", "pins": {"open": 34, "close": 33}}}
    board, link, banner, unsolicited = boot(tmp_path, "esp32-devkitc", hw)
    try:
        link.command("hello")
        errors = [u for u in unsolicited if u.startswith("!error")]
        assert errors == ["!error hw: actuator.pins.open: GPIO 34 is input-only on "
                          "esp32-devkitc"]
        assert board.boots == 1  # no reset loop
        assert link.command("status").fields()["t_in_c"] == "none"
    finally:
        link.close()
        board.stop()


def test_a_corrupt_hw_file_is_named_and_kept(tmp_path):
    board, link, banner, unsolicited = boot(tmp_path, "pico")
    try:
        (board.flash / "hw.json").write_text('{"temperature": ')
        link.command("reboot")
        link.wait_for("!boot", 30.0)
        link.command("hello")
        assert any("/hw.json is not valid JSON" in u for u in unsolicited)
        assert (board.flash / "hw.json").read_text() == '{"temperature": '
    finally:
        link.close()
        board.stop()
