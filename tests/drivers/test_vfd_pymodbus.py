"""The VFD driver and its Modbus master on a twin board's UART against a real
pymodbus RTU server.

Wiring: the board's UART (the port's twin, built by MachineIO) -- its far end
(modbus_peer.PtyPeer) on pty A ==LineProxy== pty B --pyserial-- pymodbus
ModbusSerialServer (background thread). The proxy is the RS-485 cable: it can
be cut or made to corrupt replies. The board runs on its own clock in 10 ms
slices; frames take their time at the line's baud rate there, while the server
answers in host time (a frame with no answer within PtyPeer's wait is silence).
"""

import time

import pytest

from core import alarms
from drivers import vfd_maps
from drivers.params import validate
from drivers.vfd import PARAMS, Vfd
from host_tools.twins import make_machine
from modbus_peer import DriveModel, LineProxy, PtyPair, PtyPeer, PymodbusPeer
from twin_io import machine_io, profile_pin

FAST = {"baud": 115200, "parity": "none", "timeout_ms": 100, "retries": 1,
        "status_period_ms": 100, "refresh_ms": 300}


class Bench:
    def __init__(self, port):
        self.a = PtyPair()
        self.b = PtyPair()
        self.line = LineProxy(self.a, self.b)
        self.m = make_machine(port)
        self.clock = self.m.world.clock
        uart_id = profile_pin(port, "vfd.uart")
        self.uart = machine_io(self.m).uart(uart_id, profile_pin(port, "vfd.tx"),
                                            profile_pin(port, "vfd.rx"))
        self.far_end = PtyPeer(self.a.name)
        self.m.world.uart(uart_id).peer = self.far_end
        self.peer = None
        self.model = None

    def start(self, regmap=vfd_maps.GENERIC, blocks=None, device_id=1):
        if blocks is None:
            blocks = [(0, 7)]
        self.model = DriveModel(regmap)
        self.peer = PymodbusPeer(self.b.name, blocks, device_id=device_id,
                                 model=self.model).start()
        return self.peer

    def vfd(self, **given):
        params = dict(FAST)
        params.update(given)
        self.next_us = self.clock.us
        return Vfd(self.uart, validate(PARAMS, params, "vfd"))

    def close(self):
        if self.peer is not None:
            self.peer.stop()
        self.far_end.close()
        self.line.close()
        self.a.close()
        self.b.close()


@pytest.fixture
def bench(port):
    b = Bench(port)
    try:
        yield b
    finally:
        b.close()


def poll_until(bench, vfd, cond, timeout_s=3.0, host_timeout_s=30.0):
    """Poll in 10 ms slices of the board's time until cond() holds; returns every
    fault bit seen on the way."""
    clock = bench.clock
    seen = 0
    end_us = clock.us + int(timeout_s * 1e6)
    host_end = time.monotonic() + host_timeout_s
    while clock.us < end_us and time.monotonic() < host_end:
        vfd.poll(clock.ticks_ms())
        seen |= vfd.fault
        if cond():
            return seen
        bench.next_us = max(bench.next_us + 10_000, clock.us)
        clock.advance_to(bench.next_us)
    raise AssertionError(f"condition not reached; fault={vfd.fault:#x}, "
                         f"master: sent {vfd.master.frames_sent}, timeouts {vfd.master.timeouts},"
                         f" crc {vfd.master.crc_errors}, bad {vfd.master.bad_replies}")


def test_speed_write_lands_scaled_and_status_reads_back(bench):
    peer = bench.start()
    vfd = bench.vfd()
    vfd.apply(42.42, True)
    poll_until(bench, vfd, lambda: vfd.running is True)
    assert peer.register(0) == 0x0001  # run
    assert peer.register(1) == 4242  # 0..10000 = 0..100.00 %
    assert vfd.fault == 0
    assert vfd.position_pct == pytest.approx(42.42)
    assert vfd.freq_hz == pytest.approx(21.21)
    assert vfd.power_kw == pytest.approx(0.4242**3 * 2.2, abs=0.01)
    assert vfd.trip_code == 0
    vfd.apply(10.0, False)
    poll_until(bench, vfd, lambda: vfd.running is False)
    assert (peer.register(0), peer.register(1)) == (0, 1000)
    assert vfd.position_pct == 0.0


def test_abb_acs355_map_against_the_server(bench):
    peer = bench.start(vfd_maps.ABB_ACS355, blocks=[(0, 4), (102, 4), (400, 1)])
    vfd = bench.vfd(map="abb_acs355", full_scale_hz=50.0)
    vfd.apply(50.0, True)
    poll_until(bench, vfd, lambda: vfd.running is True)
    assert peer.register(0) == 0x047F
    assert peer.register(1) == 10000  # REF1 20000 = 100 %
    control_words = [v[0] for a, v in bench.model.writes if a == 0]
    assert control_words[:2] == [0x0476, 0x047F]  # out of switch-on inhibit first
    poll_until(bench, vfd, lambda: vfd.freq_hz is not None)
    assert vfd.freq_hz == pytest.approx(25.0)
    assert vfd.position_pct == pytest.approx(50.0)
    assert vfd.fault == 0


def test_illegal_address_is_vfd_reject(bench):
    peer = bench.start(blocks=[(0, 4)])  # no registers 4..6: the status read is refused
    vfd = bench.vfd()
    vfd.apply(25.0, True)
    poll_until(bench, vfd, lambda: vfd.fault & alarms.VFD_REJECT)
    assert vfd.last_exception == 2  # ILLEGAL DATA ADDRESS
    assert not vfd.fault & alarms.VFD_LINK
    assert vfd.freq_hz is None and vfd.position_pct is None
    assert peer.register(1) == 2500  # the command itself was accepted


def test_wrong_slave_address_is_vfd_link_after_the_retries(bench):
    bench.start(device_id=1)
    vfd = bench.vfd(address=7, retries=2)
    vfd.apply(50.0, True)
    poll_until(bench, vfd, lambda: vfd.fault & alarms.VFD_LINK)
    assert vfd.master.frames_sent == 3  # first try and two retries
    assert vfd.master.timeouts == 3
    assert vfd.position_pct is None and vfd.running is None and vfd.trip_code is None


def test_stopped_server_is_vfd_link(bench):
    peer = bench.start()
    vfd = bench.vfd()
    vfd.apply(30.0, True)
    poll_until(bench, vfd, lambda: vfd.running is True)
    peer.stop()
    bench.peer = None
    poll_until(bench, vfd, lambda: vfd.fault & alarms.VFD_LINK)
    assert vfd.freq_hz is None


def test_cut_cable_is_vfd_link_and_it_clears_when_restored(bench):
    bench.start()
    vfd = bench.vfd()
    vfd.apply(30.0, True)
    poll_until(bench, vfd, lambda: vfd.running is True)
    bench.line.cut = True
    poll_until(bench, vfd, lambda: vfd.fault & alarms.VFD_LINK)
    bench.line.cut = False
    poll_until(bench, vfd, lambda: vfd.fault == 0 and vfd.running is True)
    assert vfd.position_pct == pytest.approx(30.0)


def test_one_corrupted_reply_is_retried_many_are_vfd_link(bench):
    bench.start()
    vfd = bench.vfd(retries=1)
    vfd.apply(60.0, True)
    poll_until(bench, vfd, lambda: vfd.running is True)
    bench.line.corrupt_replies = 1
    seen = poll_until(bench, vfd, lambda: vfd.master.crc_errors == 1 and not vfd.master.busy)
    assert seen == 0  # the retry got a good reply
    bench.line.corrupt_replies = 2
    seen = poll_until(bench, vfd, lambda: vfd.master.crc_errors == 3 and not vfd.master.busy)
    assert seen & alarms.VFD_LINK
    poll_until(bench, vfd, lambda: vfd.fault == 0 and vfd.running is True)


def test_trip_is_vfd_trip_and_clears_after_reset(bench):
    bench.start()
    vfd = bench.vfd()
    vfd.apply(60.0, True)
    poll_until(bench, vfd, lambda: vfd.running is True)
    bench.model.trip(9)
    poll_until(bench, vfd, lambda: vfd.fault & alarms.VFD_TRIP)
    assert vfd.trip_code == 9
    assert vfd.running is False
    vfd.reset()
    poll_until(bench, vfd, lambda: vfd.fault == 0 and vfd.running is True)
    assert vfd.trip_code == 0
