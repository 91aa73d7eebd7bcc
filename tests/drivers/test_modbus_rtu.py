"""Modbus RTU master and VFD driver against a fake UART, in simulated time.

The slave side (modbus_peer.FakeSlave) frames replies with pymodbus's CRC, so
a wrong CRC in the master would show here, not cancel out.
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
from fake_machine import UART, Pin
from modbus_peer import DriveModel, FakeSlave, rtu_crc

TICKS_MAX = (1 << 30) - 1


def make_master(peer=None, **kw):
    uart = UART(1)
    uart.peer = peer
    kw.setdefault("baud", 19200)
    kw.setdefault("timeout_ms", 100)
    kw.setdefault("retries", 2)
    return mb.ModbusMaster(uart, **kw), uart


def run(master, start=0, step=10, limit=500):
    """Poll every `step` ms until the transaction ends; returns (state, now)."""
    now = start
    for _ in range(limit):
        state = master.poll(now)
        if not master.busy:
            return state, now
        now = (now + step) & TICKS_MAX
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
def test_request_frames_are_the_spec_examples(call, expected):
    master, uart = make_master()
    call(master)
    master.poll(0)
    assert bytes(uart.tx) == bytes.fromhex(expected)
    assert master.state == mb.WAITING


@pytest.mark.parametrize("args", [
    (0, mb.READ_HOLDING, 0, 1), (248, mb.READ_HOLDING, 0, 1), (1, mb.READ_HOLDING, 70000, 1),
    (1, mb.READ_HOLDING, 0, 0), (1, mb.READ_HOLDING, 0, 126), (1, mb.WRITE_SINGLE, 0, 65536),
    (1, 5, 0, 1), (1, mb.WRITE_MULTIPLE, 0, 17, [0] * 17),
])
def test_bad_requests_are_refused(args):
    master, _ = make_master()
    with pytest.raises(mb.ModbusError):
        master.start_request(*args)


def test_a_second_request_while_busy_is_refused():
    master, _ = make_master()
    master.read_holding(1, 0, 1)
    with pytest.raises(mb.ModbusError):
        master.read_holding(1, 0, 1)


# ---- transactions ----------------------------------------------------------------


def test_read_returns_the_registers():
    slave = FakeSlave(1, {10: 0x1234, 11: 0xFFFF, 12: 0})
    master, _ = make_master(slave)
    master.read_holding(1, 10, 3)
    state, _ = run(master)
    assert state == mb.OK
    assert [master.register(i) for i in range(3)] == [0x1234, 0xFFFF, 0]
    assert master.frames_sent == 1


def test_writes_land_in_the_slave():
    slave = FakeSlave(1, {0: 0, 1: 0, 2: 0})
    master, _ = make_master(slave)
    master.write_multiple(1, 0, [7, 8, 9])
    assert run(master)[0] == mb.OK
    master.write_single(1, 1, 0xBEEF)
    assert run(master, start=100)[0] == mb.OK
    assert slave.regs == {0: 7, 1: 0xBEEF, 2: 9}


def test_reply_arriving_in_pieces():
    master, uart = make_master()
    master.read_holding(1, 0, 2)
    master.poll(0)
    reply = frame(1, 3, 4, 0, 5, 0, 6)
    for i, byte in enumerate(reply):
        uart.rx += bytes([byte])
        state = master.poll(1 + i)
    assert state == mb.OK
    assert (master.register(0), master.register(1)) == (5, 6)


def test_exception_response_is_an_answer_not_retried():
    slave = FakeSlave(1, {0: 0})
    master, _ = make_master(slave)
    master.read_holding(1, 100, 1)
    assert run(master)[0] == mb.EXCEPTION
    assert master.exception_code == 2  # illegal data address
    assert master.frames_sent == 1


def test_silence_is_retried_then_reported_as_timeout():
    slave = FakeSlave(1, {0: 0})
    slave.silent = True
    master, uart = make_master(slave, retries=2, timeout_ms=100)
    master.read_holding(1, 0, 1)
    master.poll(0)
    # Not before the reply could have come: 8 + 7 bytes at 19200 baud plus 100 ms.
    assert master.poll(100) == mb.WAITING
    state, _ = run(master, start=100, step=1, limit=2000)
    assert state == mb.TIMEOUT
    assert master.frames_sent == 3
    assert master.timeouts == 3
    assert bytes(uart.tx) == bytes.fromhex("010300000001840A") * 3


def test_one_bad_crc_is_retried_and_recovers():
    slave = FakeSlave(1, {0: 42})
    slave.corrupt = 1
    master, _ = make_master(slave)
    master.read_holding(1, 0, 1)
    assert run(master)[0] == mb.OK
    assert master.register(0) == 42
    assert (master.crc_errors, master.frames_sent) == (1, 2)


def test_bad_crc_on_every_attempt_is_reported():
    slave = FakeSlave(1, {0: 42})
    slave.corrupt = 99
    master, _ = make_master(slave, retries=1)
    master.read_holding(1, 0, 1)
    assert run(master)[0] == mb.CRC_ERROR
    assert (master.crc_errors, master.frames_sent) == (2, 2)


@pytest.mark.parametrize("reply", [
    frame(2, 3, 2, 0, 1),  # another slave's address
    frame(1, 4, 2, 0, 1),  # another function
    frame(1, 3, 4, 0, 1, 0, 2),  # wrong byte count
])
def test_replies_that_are_not_ours_are_bad_and_retried(reply):
    master, uart = make_master(retries=0)
    master.read_holding(1, 0, 1)
    master.poll(0)
    uart.rx += reply
    assert master.poll(1) == mb.BAD_REPLY
    assert master.bad_replies == 1


def test_a_write_echo_must_match_the_request():
    master, uart = make_master(retries=0)
    master.write_single(1, 5, 100)
    master.poll(0)
    uart.rx += frame(1, 6, 0, 5, 0, 99)
    assert master.poll(1) == mb.BAD_REPLY


def test_next_request_waits_for_the_inter_frame_silence():
    # 9600 baud, 8E1: 11 bits = 1146 us per char, t3.5 = 4.0 ms -> 6 ms in ticks.
    slave = FakeSlave(1, {0: 1})
    master, uart = make_master(slave, baud=9600)
    assert master.gap_ms == 6
    master.read_holding(1, 0, 1)
    master.poll(1000)
    assert master.poll(1001) == mb.OK  # reply bytes seen at t = 1001
    sent = len(uart.tx)
    master.read_holding(1, 0, 1)
    for t in range(1001, 1007):
        assert master.poll(t) == mb.SENDING
    assert len(uart.tx) == sent
    assert master.poll(1007) == mb.WAITING  # sent once the silence has passed
    assert len(uart.tx) == 2 * sent


def test_above_19200_baud_the_silence_is_fixed():
    master, _ = make_master(baud=115200)
    assert master.gap_ms == 3  # 1.75 ms rounded up, plus a tick


def test_stray_bytes_are_drained_and_delay_the_request():
    master, uart = make_master(baud=19200)
    master.read_holding(1, 0, 1)
    uart.rx += b"\x00\xff\x13"
    assert master.poll(50) == mb.SENDING
    assert uart.tx == b"" and uart.rx == b""
    assert master.poll(50 + master.gap_ms) == mb.WAITING
    assert len(uart.tx) == 8


def test_late_reply_is_discarded_before_the_retry():
    master, uart = make_master(retries=1, timeout_ms=20)
    master.read_holding(1, 0, 1)
    master.poll(0)
    t = 0
    while master.state == mb.WAITING:
        t += 1
        master.poll(t)
    assert master.state == mb.SENDING  # first attempt timed out
    uart.rx += frame(1, 3, 2, 0, 111)  # the old answer, late
    master.poll(t + 1)
    assert master.state == mb.SENDING  # drained; waiting for silence again
    t += 1 + master.gap_ms
    assert master.poll(t) == mb.WAITING
    uart.rx += frame(1, 3, 2, 0, 222)
    assert master.poll(t + 1) == mb.OK
    assert master.register(0) == 222


def test_timeouts_work_across_the_tick_wrap():
    slave = FakeSlave(1, {0: 0})
    slave.silent = True
    master, _ = make_master(slave, retries=0, timeout_ms=100)
    master.read_holding(1, 0, 1)
    start = TICKS_MAX - 30
    master.poll(start)
    assert master.poll((start + 50) & TICKS_MAX) == mb.WAITING
    assert master.poll((start + 200) & TICKS_MAX) == mb.TIMEOUT


class LoggedPin(Pin):
    def __init__(self, log):
        super().__init__(5, Pin.OUT)
        self.log = log

    def value(self, x=None):
        if x is not None:
            self.log.append(("de", int(bool(x))))
        return super().value(x)


class LoggedUart(UART):
    def __init__(self, log, peer):
        super().__init__(1)
        self.log = log
        self.peer = peer

    def write(self, data):
        self.log.append(("write", len(data)))
        return super().write(data)

    def flush(self):
        self.log.append(("flush",))


def test_direction_pin_spans_the_frame_until_flush():
    log = []
    uart = LoggedUart(log, FakeSlave(1, {0: 0}))
    de = LoggedPin(log)
    master = mb.ModbusMaster(uart, de, baud=19200)
    log.clear()
    master.read_holding(1, 0, 1)
    assert run(master)[0] == mb.OK
    assert log == [("de", 1), ("write", 8), ("flush",), ("de", 0)]
    assert de.level == 0


def test_without_flush_the_frame_time_is_slept():
    class NoFlushUart(UART):
        flush = None  # type: ignore[assignment]

    uart = NoFlushUart(1)
    uart.peer = FakeSlave(1, {0: 0})
    slept = []
    de = Pin(5, Pin.OUT)
    master = mb.ModbusMaster(uart, de, baud=9600, bits_per_char=11, sleep_us=slept.append)
    master.read_holding(1, 0, 1)
    assert run(master)[0] == mb.OK
    assert slept == [8 * 1146]  # 8 bytes x 11 bits at 9600 baud
    assert de.writes[-2:] == [1, 0]


def test_a_direction_pin_needs_a_way_to_wait():
    class NoFlushUart(UART):
        flush = None  # type: ignore[assignment]

    with pytest.raises(mb.ModbusError):
        mb.ModbusMaster(NoFlushUart(1), Pin(5, Pin.OUT))


# ---- VFD driver ------------------------------------------------------------------


def generic_regs():
    return {a: 0 for a in range(7)}


def make_vfd(regmap=vfd_maps.GENERIC, slave_regs=None, model=True, **given):
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
    uart = UART(1)
    uart.peer = slave
    return Vfd(uart, params), slave, drive, uart


class Sim:
    def __init__(self, vfd, start=0):
        self.vfd = vfd
        self.now = start
        self.seen = 0  # every fault bit raised during the last run_ms

    def run_ms(self, ms, step=10):
        self.seen = 0
        for _ in range(ms // step):
            self.vfd.poll(self.now)
            self.seen |= self.vfd.fault
            self.now = (self.now + step) & TICKS_MAX


def writes_of(slave, fc):
    return [r for r in slave.requests if r[1] == fc]



def test_nonstandard_baud_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        make_vfd(baud=12345)
    assert info.value.key == "baud"


def test_a_map_must_keep_reference_next_to_control():
    bad = dict(vfd_maps.GENERIC, reference=5)
    with pytest.raises(ConfigError):
        Vfd._check_map(bad)


def test_uart_is_set_up_from_the_params():
    _, _, _, uart = make_vfd(baud=9600, parity="none", stop_bits=2)
    assert uart.baudrate == 9600
    assert uart.kwargs == {"bits": 8, "parity": None, "stop": 2}


def test_run_command_and_reference_go_out_in_one_write():
    vfd, slave, drive, _ = make_vfd(address=7)
    vfd.apply(37.5, True)
    Sim(vfd).run_ms(50)
    first = slave.requests[0]
    assert first == frame(7, 16, 0, 0, 0, 2, 4, 0, 1, 0x0E, 0xA6)  # run, 3750
    assert slave.regs[0] == 1 and slave.regs[1] == 3750


@settings(max_examples=30, deadline=None)
@given(st.floats(-50.0, 150.0), st.floats(-50.0, 150.0))
def test_reference_scaling_is_monotonic_and_clamped(a, b):
    refs = []
    for pct in (a, b):
        vfd, slave, _, _ = make_vfd()
        vfd.apply(pct, True)
        Sim(vfd).run_ms(30)
        refs.append(slave.regs[1])
        assert 0 <= slave.regs[1] <= 10000
        assert abs(slave.regs[1] - min(max(pct, 0.0), 100.0) * 100) <= 0.5
    if a <= b:
        assert refs[0] <= refs[1]


def test_not_a_number_stops_the_drive():
    vfd, slave, _, _ = make_vfd()
    vfd.apply(math.nan, True)
    Sim(vfd).run_ms(50)
    assert slave.regs[0] == 0 and slave.regs[1] == 0


def test_status_read_backs():
    vfd, _, _, _ = make_vfd()
    assert vfd.position_pct is None and vfd.freq_hz is None and vfd.trip_code is None
    vfd.apply(80.0, True)
    Sim(vfd).run_ms(100)
    assert vfd.fault == 0
    assert vfd.running is True
    assert vfd.position_pct == pytest.approx(80.0)
    assert vfd.freq_hz == pytest.approx(40.0)
    assert vfd.power_kw == pytest.approx(0.8**3 * 2.2, abs=0.01)
    assert vfd.trip_code == 0


def test_command_is_refreshed_and_status_read_periodically():
    vfd, slave, _, _ = make_vfd(refresh_ms=500, status_period_ms=1000)
    vfd.apply(50.0, True)
    Sim(vfd).run_ms(10_000)
    # ~10 s: a write every 500 ms and a read every second, give or take one.
    assert 19 <= len(writes_of(slave, 16)) <= 22
    assert 10 <= len(writes_of(slave, 3)) <= 11


def test_a_changed_output_is_written_at_once():
    vfd, slave, _, _ = make_vfd(refresh_ms=60000, status_period_ms=60000)
    sim = Sim(vfd)
    vfd.apply(10.0, True)
    sim.run_ms(200)
    before = len(writes_of(slave, 16))
    vfd.apply(20.0, True)
    sim.run_ms(30)
    assert len(writes_of(slave, 16)) == before + 1
    assert slave.regs[1] == 2000


def test_exception_raises_vfd_reject_until_that_request_succeeds():
    regs = {0: 0, 1: 0, 2: 0}  # status block 2..6 is not all there
    vfd, slave, _, _ = make_vfd(slave_regs=regs, model=False, status_period_ms=200)
    vfd.apply(50.0, True)
    sim = Sim(vfd)
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


def test_no_reply_raises_vfd_link_and_it_clears_on_the_next_answer():
    vfd, slave, _, _ = make_vfd(retries=2, timeout_ms=50)
    vfd.apply(60.0, True)
    sim = Sim(vfd)
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


def test_bad_crc_after_all_retries_is_vfd_link_but_one_is_not():
    vfd, slave, _, _ = make_vfd(retries=1)
    vfd.apply(50.0, True)
    sim = Sim(vfd)
    sim.run_ms(100)
    slave.corrupt = 1
    sim.run_ms(1500)
    assert sim.seen == 0 and vfd.master.crc_errors == 1
    slave.corrupt = 2
    sim.run_ms(1500)
    assert sim.seen == alarms.VFD_LINK and vfd.master.crc_errors == 3
    assert vfd.fault == 0  # the next transaction got through


def test_trip_is_reported_and_clears_after_reset():
    vfd, slave, drive, _ = make_vfd(status_period_ms=200)
    vfd.apply(50.0, True)
    sim = Sim(vfd)
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


def test_abb_drive_gets_the_stop_word_before_run():
    vfd, slave, drive, _ = make_vfd(vfd_maps.ABB_ACS355, full_scale_hz=50.0)
    assert drive.inhibited
    vfd.apply(50.0, True)
    Sim(vfd).run_ms(200)
    words = [values[0] for address, values in drive.writes if address == 0]
    assert words[:2] == [0x0476, 0x047F]
    assert slave.regs[1] == 10000  # REF1: 20000 = 100 %
    assert vfd.running is True and vfd.fault == 0
    assert vfd.freq_hz == pytest.approx(25.0)
    assert vfd.position_pct == pytest.approx(50.0)


def test_abb_trip_reset_goes_through_switch_on_inhibit():
    vfd, slave, drive, _ = make_vfd(vfd_maps.ABB_ACS355, status_period_ms=200)
    vfd.apply(70.0, True)
    sim = Sim(vfd)
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


def test_stop_writes_the_stop_word():
    vfd, slave, drive, _ = make_vfd(vfd_maps.ABB_ACS355)
    vfd.apply(50.0, True)
    sim = Sim(vfd)
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


def test_steady_state_polling_allocates_nothing_on_micropython(tmp_path):
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
