"""Issue 11: every actuator driver has safe(), the fail-safe's one call that puts
its outputs in their safe state at once: 0-10 V at 0 V with the pump run relay
off, both valve relays off, the VFD sent a stop word with DE left low."""

import struct

import pytest

import hal_board
import hw
from drivers import modbus_rtu as mb
from host_tools import hwconfig
from host_tools.twins import PORTS, make_machine
from twin_board import machine_io

PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}
UART_ID = {"esp32": 2, "rp2": 0}




def build(m, actuator):
    prof = hwconfig.load_profile(PROFILE[m.port])
    plan = hw.plan({"actuator": actuator, "watchdog_s": 0}, prof)
    return plan, hal_board.build_drivers(plan, machine_io(m))["actuator"]


def run(m, drv, ms):
    clock = m.world.clock
    for _ in range(ms // 10):
        clock.advance_ms(10)
        drv.poll(clock.ticks_ms())


@pytest.mark.parametrize("port", PORTS)
def test_analog_output_and_pump_run_relay_go_safe(port):
    m = make_machine(port)
    kind = "dac" if port == "esp32" else "pwm"
    plan, drv = build(m, {"driver": "analog", "params": {"kind": kind}})
    pins = plan["actuator"]["pins"]
    w = m.world
    drv.apply(70.0, True)
    run(m, drv, 50)
    assert w.level(pins["run"]) == 1  # the run relay follows pump_run
    drv.safe()
    assert w.level(pins["run"]) == 0
    if kind == "dac":
        assert w.dac(pins["out"]).value == 0
    else:
        assert w.pwm(pins["out"]).duty_u16 == 0


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("active", ["high", "low"])
def test_valve_relays_both_off_mid_move(port, active):
    m = make_machine(port)
    plan, drv = build(m, {"driver": "valve_3point", "params": {"active": active}})
    pins = plan["actuator"]["pins"]
    w = m.world
    off = 0 if active == "high" else 1
    drv.apply(100.0, True)
    run(m, drv, 2000)  # the boot sync is running the motor open
    assert drv.direction != 0
    drv.safe()
    assert w.level(pins["open"]) == off and w.level(pins["close"]) == off
    assert drv.direction == 0 and drv.position_pct is None  # resyncs when it restarts
    run(m, drv, 100)  # a poll after safe() starts over from both off
    assert w.level(pins["open"]) == off and w.level(pins["close"]) == off


class Drive:
    def __init__(self):
        self.frames = []
        self.regs = [0] * 16

    def respond(self, frame):
        self.frames.append(bytes(frame))
        if frame[1] == 16:
            count = struct.unpack(">H", frame[4:6])[0]
            for i in range(count):
                self.regs[i] = struct.unpack(">H", frame[7 + 2 * i:9 + 2 * i])[0]
            body = frame[:6]
        else:
            count = struct.unpack(">H", frame[4:6])[0]
            body = bytes([1, 3, 2 * count]) + bytes(2 * count)
        crc = mb.crc16(body)
        return body + bytes([crc & 0xFF, crc >> 8])


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("midway", [False, True])
def test_vfd_gets_a_stop_word_and_de_ends_low(port, midway):
    m = make_machine(port)
    drive = Drive()
    m.world.uart(UART_ID[m.port]).peer = drive
    plan, drv = build(m, {"driver": "vfd"})
    de = plan["actuator"]["pins"]["de"]
    drv.apply(80.0, True)
    run(m, drv, 500)
    assert drive.regs[0] == 1 and drive.regs[1] == 8000
    if midway:
        # A Ctrl-C between de.value(1) and de.value(0): DE stuck high, a
        # transaction half done.
        m.Pin(de).value(1)
        drv.master.read_holding(1, 2, 5)
    drv.safe()
    m.world.clock.advance_ms(20)
    m.world.uart(UART_ID[m.port]).take_tx()
    assert m.world.level(de) == 0
    assert drive.regs[0] == 0 and drive.regs[1] == 0  # the stop word, reference 0
    assert drive.frames[-1][1] == 16
