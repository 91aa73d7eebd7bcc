"""Issue 15: a BMS talks Modbus RTU to the virtual board as it would to a real one:
pymodbus's client on the board's `bms` pseudo-terminal (the twin UART's far end),
the firmware's slave (drivers/modbus_slave.py, bms.py) on the port's twin."""

import sys

import pytest
from pymodbus.client import ModbusSerialClient
from pymodbus.pdu import ExceptionResponse

from host_tools import hwconfig
from host_tools.link import Link
from host_tools.vboard import VirtualBoard

PROFILES = ("esp32-devkitc", "pico")


@pytest.fixture(scope="module", params=PROFILES)
def bench(request, tmp_path_factory):
    profile = request.param
    hw = hwconfig.with_bms(None, profile)
    uarts = hwconfig.modbus_uarts(hwconfig.check(hw, profile))
    flash = tmp_path_factory.mktemp(profile) / "flash"
    with VirtualBoard(flash, profile=profile, hw=hw, uarts=uarts, log=sys.stderr,
                      restart_delay_s=0.05) as board, \
            Link(board.port, timeout_s=10.0) as link:
        link.wait_for("!boot", 30.0)
        # A pseudo-terminal carries no parity bit: 8N1 here whatever the board's setting.
        client = ModbusSerialClient(port=board.uart_ports["bms"], baudrate=19200, parity="N",
                                    stopbits=1, timeout=2, retries=1)
        assert client.connect()
        try:
            yield link, client
        finally:
            client.close()


def test_the_map_version_and_live_values_read_back(bench):
    link, client = bench
    r = client.read_input_registers(0, count=7, device_id=1)
    assert not r.isError(), r
    status = link.command("status").fields()
    assert r.registers[0] == 1  # map version
    assert r.registers[1] == ("off", "manual", "auto", "standby", "safe").index(status["state"])
    assert r.registers[2] == round(float(status["flow_pct"]) * 10)
    assert r.registers[3] == 0x8000  # no inlet temperature on the bench: missing
    assert r.registers[4] == int(status["alarms"], 16) & 0xFFFF


def test_writing_hr0_changes_the_boards_mode(bench):
    link, client = bench
    assert not client.write_register(0, 1, device_id=1).isError()  # manual
    assert link.command("get mode").fields()["mode"] == "manual"
    assert client.read_holding_registers(0, count=1, device_id=1).registers == [1]
    assert not client.write_registers(0, [2, 305, 0], device_id=1).isError()
    fields = link.command("list").body
    assert link.command("get mode").fields()["mode"] == "auto"
    assert link.command("get manual_output_pct").fields()["manual_output_pct"] == "30.5"
    assert fields is not None


def test_writes_are_refused_while_the_console_is_locked(bench):
    link, client = bench
    assert link.command("pin set 2468").ok
    assert link.command("lock 2468").ok
    try:
        r = client.write_register(0, 0, device_id=1)
        assert isinstance(r, ExceptionResponse) and r.exception_code == 1, r
        assert link.command("get mode").fields()["mode"] == "auto"
        assert client.read_input_registers(0, count=1, device_id=1).registers == [1]
    finally:
        assert link.command("unlock 2468").ok
        assert link.command("pin clear").ok


def test_an_out_of_range_write_is_refused_and_changes_nothing(bench):
    link, client = bench
    r = client.write_registers(1, [500, 7], device_id=1)  # 50.0 %, then no season 7
    assert isinstance(r, ExceptionResponse) and r.exception_code == 3, r
    assert link.command("get manual_output_pct").fields()["manual_output_pct"] == "30.5"
