"""Issue 15: the virtual board's VFD line as a port of its own. With the VFD on
Modbus and no plant attached, `copflow board` prints `vfd PATH`; a real pymodbus
RTU server there is the drive, and the firmware's master (drivers/vfd.py on the
port's twin UART) drives it exactly as it would a drive on an RS-485 adapter."""

import sys
import time

import pytest

from drivers import vfd_maps
from host_tools import hwconfig
from host_tools.link import Link
from host_tools.vboard import VirtualBoard
from modbus_peer import DriveModel, PymodbusPeer

VFD_HW = {"temperature": {"driver": "ds18b20"},
          "actuator": {"driver": "vfd", "params": {"baud": 19200, "parity": "none"}}}


def wait_until(cond, timeout_s=10.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("profile", ["esp32-devkitc", "pico"])
def test_the_boards_master_drives_a_pymodbus_drive_on_the_vfd_port(profile, tmp_path):
    uarts = hwconfig.modbus_uarts(hwconfig.check(VFD_HW, profile))
    assert set(uarts) == {"vfd"}
    with VirtualBoard(tmp_path / "flash", profile=profile, hw=VFD_HW, uarts=uarts,
                      log=sys.stderr, restart_delay_s=0.05) as board, \
            Link(board.port, timeout_s=10.0) as link:
        link.wait_for("!boot", 30.0)
        model = DriveModel(vfd_maps.GENERIC)
        peer = PymodbusPeer(board.uart_ports["vfd"], [(0, 7)], model=model,
                            baudrate=19200).start()
        try:
            assert link.command("mode manual").ok
            assert link.command("out 42.5").ok
            assert wait_until(lambda: model.running and model.ref == 4250), \
                (model.cw, model.ref, model.writes[-3:])
            # The status read-back arrives too: the link is healthy (no VFD_LINK).
            assert wait_until(lambda: not int(link.command("status").fields()["alarms"], 16)
                              & (1 << 25))
            assert link.command("out 10").ok
            # The output ramps down (out_rate_pct_per_s); the drive hears each step.
            assert wait_until(lambda: model.ref < 4000), (model.ref, model.writes[-3:])
        finally:
            peer.stop()
