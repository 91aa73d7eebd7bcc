"""Issue 11 item 7, firmware half: the Modbus RTU master on the twins' UARTs.
A stray byte when DE releases must not cost the reply, and DE must not drop
before the last stop bit has left, even where flush() returns early (RP2 before
v1.24: FIFO empty, last character still shifting out)."""

import struct

import pytest

import hal_board
import hw
from drivers import modbus_rtu as mb
from drivers.params import validate
from drivers.vfd import PARAMS, Vfd
from host_tools import hwconfig
from host_tools.twins import PORTS, make_machine
from twin_board import machine_io

UART_ID = {"esp32": 2, "rp2": 0}
PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}




class Slave:
    """A Modbus RTU slave: 16 and 03 on a block of registers; `junk` goes out
    before every reply (what a transceiver glitch puts on the line)."""

    def __init__(self, address=1, junk=b""):
        self.address = address
        self.regs = [0] * 16
        self.junk = junk
        self.frames = []

    def respond(self, frame):
        self.frames.append(bytes(frame))
        if len(frame) < 8 or mb.crc16(frame) != 0 or frame[0] != self.address:
            return b""
        fn = frame[1]
        addr, count = struct.unpack(">HH", frame[2:6])
        if fn == 16:
            for i in range(count):
                self.regs[addr + i] = struct.unpack(">H", frame[7 + 2 * i:9 + 2 * i])[0]
            body = frame[:6]
        elif fn == 3:
            body = bytes([self.address, 3, 2 * count]) + b"".join(
                struct.pack(">H", self.regs[addr + i]) for i in range(count))
        else:
            return b""
        crc = mb.crc16(body)
        return self.junk + body + bytes([crc & 0xFF, crc >> 8])


def build_vfd(m, slave, params=None):
    prof = hwconfig.load_profile(PROFILE[m.port])
    p = hw.plan({"actuator": {"driver": "vfd", "params": params or {}}}, prof)
    m.world.uart(UART_ID[m.port]).peer = slave
    return hal_board.build_drivers(p, machine_io(m))["actuator"], p


def run(m, drv, ms):
    clock = m.world.clock
    for _ in range(ms // 10):
        clock.advance_ms(10)
        drv.poll(clock.ticks_ms())


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("junk", [b"\x00", b"\xff", b"\x01"])
def test_a_stray_byte_before_the_reply_is_skipped_and_the_link_stays_up(port, junk):
    m = make_machine(port)
    slave = Slave(junk=junk)
    drv, _ = build_vfd(m, slave)
    drv.apply(60.0, True)
    run(m, drv, 3000)
    assert drv.fault == 0  # no VFD_LINK
    assert drv.master.bad_replies == 0 and drv.master.crc_errors == 0
    assert slave.regs[0] == 1 and slave.regs[1] == 6000  # run, 60.00 %
    assert drv.running is not None  # status reads came back too


@pytest.mark.parametrize("port", PORTS)
def test_a_corrupt_reply_is_still_refused_by_the_crc(port):
    m = make_machine(port)

    class Corrupt(Slave):
        def respond(self, frame):
            reply = bytearray(Slave.respond(self, frame))
            if reply:
                reply[-3] ^= 0x10
            return bytes(reply)

    drv, _ = build_vfd(m, Corrupt())
    drv.apply(60.0, True)
    run(m, drv, 3000)
    assert drv.master.crc_errors > 0 and drv.fault  # VFD_LINK


class TimedPin:
    """A twin output pin that records when each level was written."""

    def __init__(self, pin, clock):
        self.pin = pin
        self.clock = clock
        self.log = []

    def value(self, *v):
        if v:
            self.log.append((v[0], self.clock.us))
        return self.pin.value(*v)


class EarlyFlushUart:
    """RP2's UART as it was before v1.24: flush() returns once the FIFO is empty,
    with the last character still in the shift register (txdone() tells)."""

    def __init__(self, uart, line):
        self._u = uart
        self._line = line

    def __getattr__(self, name):
        return getattr(self._u, name)

    def flush(self):
        line = self._line
        line.clock.advance_to(line.tx_end_us - line.char_us())


@pytest.mark.parametrize("early", [False, True])
def test_de_drops_only_after_the_last_stop_bit_on_rp2(early):
    m = make_machine("rp2")
    clock = m.world.clock
    far = m.world.uart(0)
    far.peer = Slave()
    uart = m.UART(0, baudrate=9600, tx=m.Pin(0), rx=m.Pin(1))
    line = m.world._board.lines[0]
    if early:
        uart = EarlyFlushUart(uart, line)
    de = TimedPin(m.Pin(6, m.Pin.OUT, value=0), clock)
    params = validate(PARAMS, {"baud": 9600}, "vfd")
    drv = Vfd(uart, params, de=de, sleep_us=clock.sleep_us)
    drv.apply(50.0, True)
    for _ in range(50):
        clock.advance_ms(10)
        drv.poll(clock.ticks_ms())
        if drv.master.frames_sent:
            break
    lows = [t for v, t in de.log if v == 0]
    assert de.log[-1][0] == 0
    assert lows[-1] >= line.tx_end_us  # the whole frame was on the wire with DE high
    # and not much later: the reply starts right after the frame
    assert lows[-1] - line.tx_end_us <= line.char_us()


def test_the_documented_rs485_bias_gives_more_than_the_receiver_threshold():
    """docs/wiring.md's bias table: idle V_AB = 3.3 V * 60 / (60 + 2 R_b) with two
    120 ohm terminations; the recommended value clears 200 mV with the supply 5 % low
    and keeps the drivers' load at or above TIA-485's 54 ohm."""
    import re

    from host_tools.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "wiring.md").read_text()
    rows = re.findall(r"^\| \**(\d+) Ω\** \| \**(\d+) mV", text, re.M)
    assert len(rows) >= 4
    for r_b, mv in rows:
        assert round(3300 * 60 / (60 + 2 * int(r_b))) == int(mv)
    chosen = int(re.search(r"Use \*\*(\d+) Ω\*\*", text)[1])
    assert 3135 * 60 / (60 + 2 * chosen) > 200
    assert 60 * 2 * chosen / (60 + 2 * chosen) >= 54
    assert 3300 * 60 / (60 + 2 * 680) < 200  # the old 680 ohm: 139 mV, under the threshold
