"""Modbus RTU master and VFD driver on the twin's UART, in the board's time: bytes
take their character time at the line's baud rate, flush() blocks until the
frame has left, the slave answers once the request is on the wire.

The slave side (modbus_peer.FakeSlave, at the UART's far end) frames replies
with pymodbus's CRC, so a wrong CRC in the master would show here, not cancel
out.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.framer.rtu import FramerRTU

from core import alarms
from core.config import ConfigError
from drivers import modbus_rtu as mb
from drivers import vfd_maps
from drivers.params import validate
from drivers.vfd import PARAMS, Vfd
from host_tools.twins import make_machine
from modbus_peer import DriveModel, FakeSlave, rtu_crc
from twin_io import machine_io, profile_pin

TICKS_MAX = (1 << 30) - 1


class Line:
    """A board's Modbus UART, built as the board HAL builds it (hal_board.MachineIO
    .uart on the profile's VFD pins), its far end and the board's clock."""

    def __init__(self, port, uart_class=None, **settings):
        self.m = m = make_machine(port)
        self.w = m.world
        self.clock = self.w.clock
        self.uart_id = profile_pin(port, "vfd.uart")
        tx, rx = profile_pin(port, "vfd.tx"), profile_pin(port, "vfd.rx")
        if uart_class is None:
            self.uart = machine_io(m).uart(self.uart_id, tx, rx)
        else:  # a variant of the port's UART class, set up as MachineIO.uart does
            cls = uart_class(m)
            settings.setdefault("baudrate", 9600)
            self.uart = cls(self.uart_id, tx=m.Pin(tx), rx=m.Pin(rx), **settings)
        self.end = self.w.uart(self.uart_id)

    def now(self) -> int:
        return self.clock.ticks_ms()

    def at_ms(self, ms):
        """Move the board's time on to `ms` after the start (never back)."""
        self.clock.advance_to(ms * 1000)

    def sent(self) -> bytes:
        """The bytes that have left the board so far."""
        self.end.pending()  # brings the far end up to now
        return bytes(self.end.tx)

    def arrive(self, data):
        """Bytes arrive from the bus; time passes until the last one is in."""
        self.end.feed(data)
        self.clock.advance_us(len(data) * 2000)  # 2 ms a byte covers 9600 baud and up


def make_master(port, peer=None, baud=19200, **kw):
    line = Line(port)
    line.uart.init(baudrate=baud, bits=8, parity=0, stop=1)  # 8E1: 11 bits a character
    line.end.peer = peer
    kw.setdefault("timeout_ms", 100)
    kw.setdefault("retries", 2)
    return mb.ModbusMaster(line.uart, baud=baud, **kw), line


def run(master, line, step=10, limit=500):
    """Poll every `step` ms of board time until the transaction ends; returns
    (state, now). A poll that blocks (the frame going out) takes its time."""
    t_us = line.clock.us
    for _ in range(limit):
        state = master.poll(line.now())
        if not master.busy:
            return state, line.now()
        t_us += step * 1000
        line.clock.advance_to(t_us)
    raise AssertionError("transaction never finished")


def frame(*data) -> bytes:
    body = bytes(data)
    return body + rtu_crc(body)


# ---- CRC ---------------------------------------------------------------------


def test_crc_known_vectors():
    # CRC-16/MODBUS check value, and the classic request frames with their CRCs
    # (Modbus over serial line guide; low byte first on the wire).
    assert mb.crc16(b"123456789") == 0x4B37
    assert mb.crc16(bytes.fromhex("01030000000A")).to_bytes(2, "little") == b"\xc5\xcd"
    assert mb.crc16(bytes.fromhex("1103006B0003")).to_bytes(2, "little") == b"\x76\x87"
    assert mb.crc16(b"") == 0xFFFF


@given(st.binary(max_size=256))
def test_crc_matches_pymodbus(data):
    assert mb.crc16(data).to_bytes(2, "little") == FramerRTU.compute_CRC(data).to_bytes(2, "big")


@given(st.binary(min_size=1, max_size=64), st.data())
def test_crc_catches_every_single_bit_error(data, draw):
    sent = data + mb.crc16(data).to_bytes(2, "little")
    assert mb.crc16(sent) == 0  # a frame with its CRC appended leaves no residue
    bit = draw.draw(st.integers(0, 8 * len(sent) - 1))
    bad = bytearray(sent)
    bad[bit // 8] ^= 1 << (bit % 8)
    assert mb.crc16(bad) != 0


def test_crc_of_a_prefix_only():
    buf = bytearray(b"123456789xyz")
    assert mb.crc16(buf, 9) == 0x4B37


# ---- request frames ------------------------------------------------------------


@pytest.mark.parametrize("call, expected", [
    (lambda m: m.read_holding(0x11, 0x006B, 3), "1103006B00037687"),
    (lambda m: m.write_single(0x11, 0x0001, 0x0003), "1106000100039A9B"),
    (lambda m: m.write_multiple(0x11, 0x0001, [0x000A, 0x0102]), "11100001000204000A0102C6F0"),
])
def test_request_frames_are_the_spec_examples(port, call, expected):
    master, line = make_master(port)
    call(master)
    master.poll(line.now())
    line.clock.advance_ms(20)  # time for the frame to leave at 19200 baud
    assert line.sent() == bytes.fromhex(expected)
    assert master.state == mb.WAITING


@pytest.mark.parametrize("args", [
    (0, mb.READ_HOLDING, 0, 1), (248, mb.READ_HOLDING, 0, 1), (1, mb.READ_HOLDING, 70000, 1),
    (1, mb.READ_HOLDING, 0, 0), (1, mb.READ_HOLDING, 0, 126), (1, mb.WRITE_SINGLE, 0, 65536),
    (1, 5, 0, 1), (1, mb.WRITE_MULTIPLE, 0, 17, [0] * 17),
])
def test_bad_requests_are_refused(port, args):
    master, _ = make_master(port)
    with pytest.raises(mb.ModbusError):
        master.start_request(*args)


def test_a_second_request_while_busy_is_refused(port):
    master, _ = make_master(port)
    master.read_holding(1, 0, 1)
    with pytest.raises(mb.ModbusError):
        master.read_holding(1, 0, 1)


# ---- transactions ----------------------------------------------------------------


def test_read_returns_the_registers(port):
    slave = FakeSlave(1, {10: 0x1234, 11: 0xFFFF, 12: 0})
    master, line = make_master(port, slave)
    master.read_holding(1, 10, 3)
    state, _ = run(master, line)
    assert state == mb.OK
    assert [master.register(i) for i in range(3)] == [0x1234, 0xFFFF, 0]
    assert master.frames_sent == 1


def test_writes_land_in_the_slave(port):
    slave = FakeSlave(1, {0: 0, 1: 0, 2: 0})
    master, line = make_master(port, slave)
    master.write_multiple(1, 0, [7, 8, 9])
    assert run(master, line)[0] == mb.OK
    line.clock.advance_ms(100)
    master.write_single(1, 1, 0xBEEF)
    assert run(master, line)[0] == mb.OK
    assert slave.regs == {0: 7, 1: 0xBEEF, 2: 9}


def test_reply_arriving_in_pieces(port):
    master, line = make_master(port)
    master.read_holding(1, 0, 2)
    master.poll(line.now())
    reply = frame(1, 3, 4, 0, 5, 0, 6)
    for byte in reply:
        line.arrive(bytes([byte]))
        state = master.poll(line.now())
    assert state == mb.OK
    assert (master.register(0), master.register(1)) == (5, 6)


def test_exception_response_is_an_answer_not_retried(port):
    slave = FakeSlave(1, {0: 0})
    master, line = make_master(port, slave)
    master.read_holding(1, 100, 1)
    assert run(master, line)[0] == mb.EXCEPTION
    assert master.exception_code == 2  # illegal data address
    assert master.frames_sent == 1


def test_silence_is_retried_then_reported_as_timeout(port):
    slave = FakeSlave(1, {0: 0})
    slave.silent = True
    master, line = make_master(port, slave, retries=2, timeout_ms=100)
    master.read_holding(1, 0, 1)
    master.poll(line.now())
    # Not before the reply could have come: 8 + 7 bytes at 19200 baud plus 100 ms.
    line.at_ms(100)
    assert master.poll(line.now()) == mb.WAITING
    state, _ = run(master, line, step=1, limit=2000)
    assert state == mb.TIMEOUT
    assert master.frames_sent == 3
    assert master.timeouts == 3
    assert line.sent() == bytes.fromhex("010300000001840A") * 3


def test_one_bad_crc_is_retried_and_recovers(port):
    slave = FakeSlave(1, {0: 42})
    slave.corrupt = 1
    master, line = make_master(port, slave)
    master.read_holding(1, 0, 1)
    assert run(master, line)[0] == mb.OK
    assert master.register(0) == 42
    assert (master.crc_errors, master.frames_sent) == (1, 2)


def test_bad_crc_on_every_attempt_is_reported(port):
    slave = FakeSlave(1, {0: 42})
    slave.corrupt = 99
    master, line = make_master(port, slave, retries=1)
    master.read_holding(1, 0, 1)
    assert run(master, line)[0] == mb.CRC_ERROR
    assert (master.crc_errors, master.frames_sent) == (2, 2)


@pytest.mark.parametrize("reply", [
    frame(2, 3, 2, 0, 1),  # another slave's address
    frame(1, 4, 2, 0, 1),  # another function
    frame(1, 3, 4, 0, 1, 0, 2),  # wrong byte count
])
def test_replies_that_are_not_ours_are_bad_and_retried(port, reply):
    master, line = make_master(port, retries=0)
    master.read_holding(1, 0, 1)
    master.poll(line.now())
    line.arrive(reply)
    assert master.poll(line.now()) == mb.BAD_REPLY
    assert master.bad_replies == 1


def test_a_write_echo_must_match_the_request(port):
    master, line = make_master(port, retries=0)
    master.write_single(1, 5, 100)
    master.poll(line.now())
    line.arrive(frame(1, 6, 0, 5, 0, 99))
    assert master.poll(line.now()) == mb.BAD_REPLY


def test_next_request_waits_for_the_inter_frame_silence(port):
    # 9600 baud, 8E1: 11 bits = 1146 us per char, t3.5 = 4.0 ms -> 6 ms in ticks.
    slave = FakeSlave(1, {0: 1})
    master, line = make_master(port, slave, baud=9600)
    assert master.gap_ms == 6
    master.read_holding(1, 0, 1)
    state, t = run(master, line, step=1)  # the reply's last bytes seen at t
    assert state == mb.OK
    sent = len(line.sent())
    master.read_holding(1, 0, 1)
    for dt in range(6):
        line.at_ms(t + dt)
        assert master.poll(line.now()) == mb.SENDING
    assert len(line.sent()) == sent
    line.at_ms(t + 6)
    assert master.poll(line.now()) == mb.WAITING  # sent once the silence has passed
    line.clock.advance_ms(10)  # on the wire
    assert len(line.sent()) == 2 * sent


def test_above_19200_baud_the_silence_is_fixed(port):
    master, _ = make_master(port, baud=115200)
    assert master.gap_ms == 3  # 1.75 ms rounded up, plus a tick


def test_stray_bytes_are_drained_and_delay_the_request(port):
    master, line = make_master(port, baud=19200)
    master.read_holding(1, 0, 1)
    line.at_ms(40)
    line.arrive(b"\x00\xff\x13")
    t = line.clock.us // 1000
    assert master.poll(line.now()) == mb.SENDING
    assert line.sent() == b"" and line.uart.any() == 0
    line.at_ms(t + master.gap_ms)
    assert master.poll(line.now()) == mb.WAITING
    line.clock.advance_ms(10)
    assert len(line.sent()) == 8


def test_late_reply_is_discarded_before_the_retry(port):
    master, line = make_master(port, retries=1, timeout_ms=20)
    master.read_holding(1, 0, 1)
    master.poll(line.now())
    while master.state == mb.WAITING:
        line.clock.advance_ms(1)
        master.poll(line.now())
    assert master.state == mb.SENDING  # first attempt timed out
    line.arrive(frame(1, 3, 2, 0, 111))  # the old answer, late
    master.poll(line.now())
    assert master.state == mb.SENDING  # drained; waiting for silence again
    line.clock.advance_ms(master.gap_ms)
    assert master.poll(line.now()) == mb.WAITING
    line.clock.advance_ms(10)  # the request is on the wire
    line.arrive(frame(1, 3, 2, 0, 222))
    assert master.poll(line.now()) == mb.OK
    assert master.register(0) == 222


def test_timeouts_work_across_the_tick_wrap(port):
    slave = FakeSlave(1, {0: 0})
    slave.silent = True
    master, line = make_master(port, slave, retries=0, timeout_ms=100)
    master.read_holding(1, 0, 1)
    line.at_ms(TICKS_MAX - 30)
    master.poll(line.now())
    line.at_ms(TICKS_MAX - 30 + 50)
    assert master.poll(line.now()) == mb.WAITING
    line.at_ms(TICKS_MAX - 30 + 200)
    assert line.now() < 200  # the tick has wrapped
    assert master.poll(line.now()) == mb.TIMEOUT


def test_direction_pin_spans_the_frame_until_the_last_bit_has_left(port):
    # DE high before the first bit, low only once the last stop bit is out:
    # earlier cuts the frame's end, later talks over the slave's reply.
    slave = FakeSlave(1, {0: 0})
    master_line = Line(port)
    line = master_line
    line.end.peer = slave
    seen = []
    de_pin = profile_pin(port, "vfd.de")

    class LoggedPin(line.m.Pin):
        def value(self, *x):
            out = super().value(*x)
            if x:
                seen.append((line.w.level(de_pin), len(line.sent()), line.end.pending()))
            return out

    de = LoggedPin(de_pin, line.m.Pin.OUT, value=0)
    line.uart.init(baudrate=19200, bits=8, parity=0, stop=1)
    master = mb.ModbusMaster(line.uart, de, baud=19200)
    seen.clear()
    master.read_holding(1, 0, 1)
    assert run(master, line)[0] == mb.OK
    # (DE level, bytes already on the wire, bytes still in the TX path) at each write
    assert seen == [(1, 0, 0), (0, 8, 0)]
    assert line.w.level(de_pin) == 0


def no_flush(m):
    """The port's UART class without flush(): a UART that cannot say when a
    frame has left (the driver must then sleep the frame time)."""

    class NoFlushUart(m.UART):
        flush = None  # type: ignore[assignment]

    return NoFlushUart


def test_without_flush_the_frame_time_is_slept(port):
    line = Line(port, no_flush, bits=8, parity=0, stop=1)
    uart = line.uart
    line.end.peer = FakeSlave(1, {0: 0})
    slept = []
    de_pin = profile_pin(port, "vfd.de")
    de = line.m.Pin(de_pin, line.m.Pin.OUT, value=0)
    master = mb.ModbusMaster(uart, de, baud=9600, bits_per_char=11, sleep_us=slept.append)
    master.read_holding(1, 0, 1)
    assert run(master, line)[0] == mb.OK
    assert slept == [8 * 1146]  # 8 bytes x 11 bits at 9600 baud
    assert line.w.writes(de_pin)[-2:] == [1, 0]


def test_a_direction_pin_needs_a_way_to_wait(port):
    line = Line(port, no_flush)
    with pytest.raises(mb.ModbusError):
        mb.ModbusMaster(line.uart, line.m.Pin(profile_pin(port, "vfd.de"), line.m.Pin.OUT))


# ---- VFD driver ------------------------------------------------------------------


def generic_regs():
    return {a: 0 for a in range(7)}


def make_vfd(port, regmap=vfd_maps.GENERIC, slave_regs=None, model=True, **given):
    """A Vfd on the board's Modbus UART (as the board HAL builds it) with a
    slave (and its drive model) at the far end; returns (vfd, slave, drive, sim)."""
    given.setdefault("map", regmap["name"])
    params = validate(PARAMS, given, "vfd")
    drive = DriveModel(regmap) if model else None
    if slave_regs is None:
        slave_regs = {}
        for first, count in regmap["reads"]:
            for a in range(first, first + count):
                slave_regs[a] = 0
        slave_regs[regmap["control"]] = 0
        slave_regs[regmap["reference"]] = 0
    slave = FakeSlave(params["address"], slave_regs, drive)
    line = Line(port)
    line.end.peer = slave
    vfd = Vfd(line.uart, params)
    return vfd, slave, drive, Sim(vfd, line)


class Sim:
    """The HAL's 10 ms slices on the board's clock (a slice that blocks, e.g.
    on a frame going out, delays the next one's start, never its count)."""

    def __init__(self, vfd, line):
        self.vfd = vfd
        self.line = line
        self.seen = 0  # every fault bit raised during the last run_ms

    def run_ms(self, ms, step=10):
        self.seen = 0
        clock = self.line.clock
        t_us = clock.us
        for _ in range(ms // step):
            self.vfd.poll(clock.ticks_ms())
            self.seen |= self.vfd.fault
            t_us += step * 1000
            clock.advance_to(t_us)


def writes_of(slave, fc):
    return [r for r in slave.requests if r[1] == fc]



def test_nonstandard_baud_is_a_config_error(port):
    with pytest.raises(ConfigError) as info:
        make_vfd(port, baud=12345)
    assert info.value.key == "baud"


def test_a_map_must_keep_reference_next_to_control():
    bad = dict(vfd_maps.GENERIC, reference=5)
    with pytest.raises(ConfigError):
        Vfd._check_map(bad)


def test_uart_is_set_up_from_the_params(port):
    _, _, _, sim = make_vfd(port, baud=9600, parity="none", stop_bits=2)
    assert sim.line.end.baudrate == 9600
    assert sim.line.end.format == (8, None, 2)


def test_run_command_and_reference_go_out_in_one_write(port):
    vfd, slave, drive, sim = make_vfd(port, address=7)
    vfd.apply(37.5, True)
    sim.run_ms(50)
    first = slave.requests[0]
    assert first == frame(7, 16, 0, 0, 0, 2, 4, 0, 1, 0x0E, 0xA6)  # run, 3750
    assert slave.regs[0] == 1 and slave.regs[1] == 3750


@settings(max_examples=30, deadline=None)
@given(st.floats(-50.0, 150.0), st.floats(-50.0, 150.0))
def test_reference_scaling_is_monotonic_and_clamped(port, a, b):
    refs = []
    for pct in (a, b):
        vfd, slave, _, sim = make_vfd(port)
        vfd.apply(pct, True)
        sim.run_ms(30)
        refs.append(slave.regs[1])
        assert 0 <= slave.regs[1] <= 10000
        assert abs(slave.regs[1] - min(max(pct, 0.0), 100.0) * 100) <= 0.5
    if a <= b:
        assert refs[0] <= refs[1]


def test_not_a_number_stops_the_drive(port):
    vfd, slave, _, sim = make_vfd(port)
    vfd.apply(math.nan, True)
    sim.run_ms(50)
    assert slave.regs[0] == 0 and slave.regs[1] == 0


def test_status_read_backs(port):
    vfd, _, _, sim = make_vfd(port)
    assert vfd.position_pct is None and vfd.freq_hz is None and vfd.trip_code is None
    vfd.apply(80.0, True)
    sim.run_ms(100)
    assert vfd.fault == 0
    assert vfd.running is True
    assert vfd.position_pct == pytest.approx(80.0)
    assert vfd.freq_hz == pytest.approx(40.0)
    assert vfd.power_kw == pytest.approx(0.8**3 * 2.2, abs=0.01)
    assert vfd.trip_code == 0


def test_command_is_refreshed_and_status_read_periodically(port):
    vfd, slave, _, sim = make_vfd(port, refresh_ms=500, status_period_ms=1000)
    vfd.apply(50.0, True)
    sim.run_ms(10_000)
    # ~10 s: a write every 500 ms and a read every second, give or take one.
    assert 19 <= len(writes_of(slave, 16)) <= 22
    assert 10 <= len(writes_of(slave, 3)) <= 11


def test_a_changed_output_is_written_at_once(port):
    vfd, slave, _, sim = make_vfd(port, refresh_ms=60000, status_period_ms=60000)
    vfd.apply(10.0, True)
    sim.run_ms(200)
    before = len(writes_of(slave, 16))
    vfd.apply(20.0, True)
    sim.run_ms(30)
    assert len(writes_of(slave, 16)) == before + 1
    assert slave.regs[1] == 2000


def test_exception_raises_vfd_reject_until_that_request_succeeds(port):
    regs = {0: 0, 1: 0, 2: 0}  # status block 2..6 is not all there
    vfd, slave, _, sim = make_vfd(port, slave_regs=regs, model=False, status_period_ms=200)
    vfd.apply(50.0, True)
    sim.run_ms(100)
    assert vfd.fault == alarms.VFD_REJECT
    assert vfd.last_exception == 2
    assert vfd.freq_hz is None and vfd.position_pct is None
    sim.run_ms(1000)  # good command writes in between do not hide it
    assert vfd.fault == alarms.VFD_REJECT
    for a in range(3, 7):
        slave.regs[a] = 0
    sim.run_ms(300)
    assert vfd.fault == 0
    assert vfd.position_pct == 0.0


def test_no_reply_raises_vfd_link_and_it_clears_on_the_next_answer(port):
    vfd, slave, _, sim = make_vfd(port, retries=2, timeout_ms=50)
    vfd.apply(60.0, True)
    sim.run_ms(200)
    assert vfd.fault == 0 and vfd.position_pct == pytest.approx(60.0)
    slave.silent = True
    sent = vfd.master.frames_sent
    sim.run_ms(1500)
    assert vfd.fault == alarms.VFD_LINK
    assert vfd.master.frames_sent - sent >= 3  # the first failure took all retries
    assert vfd.position_pct is None and vfd.freq_hz is None and vfd.running is None
    slave.silent = False
    slave.regs[0] = slave.regs[1] = 0  # the drive lost its command (power cycle)
    sim.run_ms(300)
    assert vfd.fault == 0
    assert slave.regs[0] == 1 and slave.regs[1] == 6000  # rewritten after the outage


def test_bad_crc_after_all_retries_is_vfd_link_but_one_is_not(port):
    vfd, slave, _, sim = make_vfd(port, retries=1)
    vfd.apply(50.0, True)
    sim.run_ms(100)
    slave.corrupt = 1
    sim.run_ms(1500)
    assert sim.seen == 0 and vfd.master.crc_errors == 1
    slave.corrupt = 2
    sim.run_ms(1500)
    assert sim.seen == alarms.VFD_LINK and vfd.master.crc_errors == 3
    assert vfd.fault == 0  # the next transaction got through


def test_trip_is_reported_and_clears_after_reset(port):
    vfd, slave, drive, sim = make_vfd(port, status_period_ms=200)
    vfd.apply(50.0, True)
    sim.run_ms(100)
    drive.trip(16)
    sim.run_ms(300)
    assert vfd.fault == alarms.VFD_TRIP
    assert vfd.trip_code == 16 and vfd.running is False
    sim.run_ms(1000)
    assert vfd.fault == alarms.VFD_TRIP  # no automatic reset
    vfd.reset()
    sim.run_ms(400)
    assert vfd.fault == 0 and vfd.trip_code == 0
    assert vfd.running is True
    assert (0, [0x0080]) in drive.writes


def test_abb_drive_gets_the_stop_word_before_run(port):
    vfd, slave, drive, sim = make_vfd(port, vfd_maps.ABB_ACS355, full_scale_hz=50.0)
    assert drive.inhibited
    vfd.apply(50.0, True)
    sim.run_ms(200)
    words = [values[0] for address, values in drive.writes if address == 0]
    assert words[:2] == [0x0476, 0x047F]
    assert slave.regs[1] == 10000  # REF1: 20000 = 100 %
    assert vfd.running is True and vfd.fault == 0
    assert vfd.freq_hz == pytest.approx(25.0)
    assert vfd.position_pct == pytest.approx(50.0)


def test_abb_trip_reset_goes_through_switch_on_inhibit(port):
    vfd, slave, drive, sim = make_vfd(port, vfd_maps.ABB_ACS355, status_period_ms=200)
    vfd.apply(70.0, True)
    sim.run_ms(200)
    assert vfd.running
    drive.trip(2)  # DC OVERVOLT
    sim.run_ms(300)
    assert vfd.fault == alarms.VFD_TRIP and vfd.trip_code == 2
    vfd.reset()
    sim.run_ms(500)
    words = [values[0] for address, values in drive.writes if address == 0]
    assert 0x04F6 in words
    after = words[words.index(0x04F6) + 1:]
    assert after[:2] == [0x0476, 0x047F]
    assert vfd.fault == 0 and vfd.running is True


def test_stop_writes_the_stop_word(port):
    vfd, slave, drive, sim = make_vfd(port, vfd_maps.ABB_ACS355)
    vfd.apply(50.0, True)
    sim.run_ms(200)
    vfd.apply(50.0, False)
    sim.run_ms(1200)
    assert slave.regs[0] == 0x0476
    assert vfd.running is False and vfd.position_pct == 0.0


# ---- on MicroPython: no allocation in the steady state -----------------------------

_HEAP_LOCK_SNIPPET = r"""
import gc
import micropython
from drivers import modbus_rtu as mb
from drivers.params import validate
from drivers.vfd import PARAMS, Vfd

def framed(b):
    b = bytearray(b)
    c = mb.crc16(b)
    b.append(c & 0xFF)
    b.append(c >> 8)
    return b

class U:
    # Answers the generic map's command write and status read from prebuilt frames.
    def __init__(self):
        self.echo = framed(b"\x01\x10\x00\x00\x00\x02")
        self.status = framed(b"\x01\x03\x0a\x00\x01\x13\x88\x09\xc4\x00\x1b\x00\x00")
        self.cur = self.echo
        self.pos = len(self.cur)
    def init(self, *args, **kwargs):
        pass
    def write(self, buf):
        self.cur = self.echo if buf[1] == 16 else self.status
        self.pos = 0
        return len(buf)
    def any(self):
        return len(self.cur) - self.pos
    def readinto(self, buf, n):
        for i in range(n):
            buf[i] = self.cur[self.pos]
            self.pos += 1
        return n
    def flush(self):
        pass

v = Vfd(U(), validate(PARAMS, {"refresh_ms": 300, "status_period_ms": 200}, "vfd"))
v.apply(50.0, True)
t = 0x3FFFFF00
for _ in range(100):
    v.poll(t)
    t = (t + 10) & 0x3FFFFFFF
sent = v.master.frames_sent
gc.collect()
micropython.heap_lock()
try:
    for _ in range(2000):
        v.poll(t)
        t = (t + 10) & 0x3FFFFFFF
finally:
    micropython.heap_unlock()
print("frames", v.master.frames_sent - sent, "fault", v.fault, "pos", v.position_pct)
"""


def test_steady_state_polling_allocates_nothing_on_micropython(port, tmp_path):
    from host_tools.micropython import make_flash, run_snippet

    flash = make_flash(tmp_path / "flash")
    result = run_snippet(_HEAP_LOCK_SNIPPET, flash, heap="256K", timeout_s=60)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    words = out.split()
    frames = int(words[words.index("frames") + 1])
    assert frames > 100, out  # commands and status reads went on under the lock
    assert words[words.index("fault") + 1] == "0", out
    assert words[words.index("pos") + 1] == "50.0", out
