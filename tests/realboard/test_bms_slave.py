"""Issue 15: the board as a Modbus RTU slave toward a building management system
(docs/bms.md), on both ports' twins through the whole app: frames are built and
checked with pymodbus's CRC (a peer we did not write), so our CRC cannot cancel
itself out."""

import struct

import pytest
from pymodbus.framer.rtu import FramerRTU

from core import alarms
from host_tools.twins import PORTS
from runtime_rig import Rig

BMS_UART = {"esp32": 1, "rp2": 1}
BMS_HW = {"bms": {"driver": "modbus", "params": {"address": 7, "baud": 19200}}}


def frame(body: bytes) -> bytes:
    return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")


def read(unit, fn, first, count):
    return frame(struct.pack(">BBHH", unit, fn, first, count))


def write_single(unit, reg, value):
    return frame(struct.pack(">BBHH", unit, 6, reg, value))


def write_multiple(unit, first, values):
    return frame(struct.pack(">BBHHB", unit, 16, first, len(values), 2 * len(values))
                 + b"".join(struct.pack(">H", v) for v in values))


class Bms:
    """The master's side of the board's BMS UART."""

    def __init__(self, rig):
        self.rig = rig
        self.end = rig.w.uart(BMS_UART[rig.port])

    def ask(self, request, slices=10):
        self.end.take_tx()
        self.end.feed(request)
        self.rig.run_ms(10 * slices)
        return self.end.take_tx()

    def registers(self, fn, first, count, unit=7):
        reply = self.ask(read(unit, fn, first, count))
        assert reply == frame(reply[:-2]), "reply CRC (pymodbus)"
        assert reply[:3] == bytes([unit, fn, 2 * count]), reply
        return list(struct.unpack(f">{count}H", reply[3:-2]))


@pytest.fixture(params=PORTS)
def rig(request, monkeypatch, tmp_path):
    r = Rig(monkeypatch, tmp_path, port=request.param)
    config = dict(r.profile["default_hw"])
    config.update(BMS_HW)
    r.boot(config)
    assert r.app.hal.boot_error == ""
    r.run_ms(3000)
    return r


def test_input_registers_carry_the_map_version_and_the_live_values(rig):
    regs = Bms(rig).registers(4, 0, 7)
    c = rig.app.controller
    assert regs[0] == 1  # map version
    assert regs[1] == c.cmd.state
    assert regs[2] == int(c.cmd.flow_pct * 10 + 0.5)
    t = c.meas.t_in_c
    assert regs[3] == (0x8000 if t is None else int(round(t * 100)) & 0xFFFF)
    assert regs[4] == c.cmd.alarms & 0xFFFF
    assert regs[5] == int(c.cmd.p_opt_pct * 10 + 0.5)


def test_a_missing_inlet_temperature_reads_0x8000(rig):
    rig.app.controller.meas.t_in_c = None
    assert Bms(rig).registers(4, 3, 1) == [0x8000]


def test_writing_the_mode_changes_the_boards_mode(rig):
    bms = Bms(rig)
    assert bms.ask(write_single(7, 0, 1)) == write_single(7, 0, 1)  # echo
    assert rig.app.controller.config["params"]["mode"] == "manual"
    assert bms.ask(write_multiple(7, 1, [425, 2]))[:6] == bytes([7, 16, 0, 1, 0, 2])
    p = rig.app.controller.config["params"]
    assert p["manual_output_pct"] == 42.5 and p["season"] == "heating"
    assert bms.registers(3, 0, 3) == [1, 425, 2]
    assert rig.fields("status")["mode"] == "manual"


def test_writes_are_refused_while_the_console_is_locked(rig):
    assert rig.send("pin set 1234").startswith("ok")
    assert rig.send("lock 1234").startswith("ok")
    bms = Bms(rig)
    assert bms.ask(write_single(7, 0, 0)) == frame(bytes([7, 0x86, 1]))
    assert rig.app.controller.config["params"]["mode"] == "auto"
    assert bms.registers(4, 0, 1) == [1]  # reads still answer


@pytest.mark.parametrize("request_, code", [
    (write_single(7, 0, 3), 3),  # mode 3 does not exist
    (write_single(7, 1, 1001), 3),  # 100.1 %
    (write_multiple(7, 0, [1, 2000]), 3),  # the second is bad: the first is not applied
    (write_single(7, 3, 0), 2),  # no HR3
    (read(7, 4, 5, 3), 2),  # IR5..IR7: IR7 does not exist
    (read(7, 3, 0, 0), 3),  # a read of nothing
    (frame(bytes([7, 1, 0, 0, 0, 1])), 1),  # read coils: not a function we have
    (frame(bytes([7, 0x11])), 1),  # report server id: 4 bytes, found at the silence
])
def test_bad_requests_get_their_exception_and_change_nothing(rig, request_, code):
    before = dict(rig.app.controller.config["params"])
    reply = Bms(rig).ask(request_)
    assert reply == frame(bytes([7, request_[1] | 0x80, code]))
    assert rig.app.controller.config["params"] == before


@pytest.mark.parametrize("request_", [
    read(8, 4, 0, 1),  # another slave's
    read(7, 4, 0, 1)[:-1] + b"\x00",  # a bad CRC
    read(7, 4, 0, 1)[:5],  # cut short
    read(0, 4, 0, 1),  # a broadcast read has no answer
])
def test_what_is_not_a_request_for_us_gets_no_answer(rig, request_):
    bms = Bms(rig)
    assert bms.ask(request_) == b""
    assert bms.registers(4, 0, 1) == [1]  # and the next good one is answered


def test_a_broadcast_write_is_applied_without_an_answer(rig):
    bms = Bms(rig)
    assert bms.ask(write_single(0, 2, 1)) == b""
    assert rig.app.controller.config["params"]["season"] == "cooling"


def test_the_slave_releases_de_and_the_fail_safe_too(rig):
    de = rig.profile["pins"]["bms.de"]
    bms = Bms(rig)
    bms.registers(4, 0, 7)
    assert rig.w.level(de) == 0  # listening again after the reply
    rig.app.hal.safe()
    assert rig.w.level(de) == 0


def test_no_bms_section_means_no_slave(monkeypatch, tmp_path):
    r = Rig(monkeypatch, tmp_path, port="esp32")
    r.boot()
    assert r.app.hal.bms is None
    assert not r.app.controller.sticky_alarms & alarms.INTERNAL


def test_a_request_the_board_cannot_serve_is_answered_and_the_loop_runs_on(rig, monkeypatch):
    def no_heap(config):
        raise MemoryError("memory allocation failed")

    monkeypatch.setattr(rig.app.controller, "apply_config", no_heap)
    ticks = rig.app.controller.cmd.ticks
    assert Bms(rig).ask(write_single(7, 0, 1)) == frame(bytes([7, 0x86, 4]))  # device failure
    rig.run_ms(2000)
    assert rig.app.controller.cmd.ticks > ticks


@pytest.mark.parametrize("port", PORTS)
def test_the_reply_never_waits_for_the_wire(port):
    # 19 bytes at 19200 baud are 10 ms on the wire: a slice's whole budget. The
    # reply is written and DE stays high until a later poll sees txdone().
    import hal_board
    import hw
    from host_tools import hwconfig
    from host_tools.twins import make_machine
    from twin_board import machine_io

    m = make_machine(port)
    prof = hwconfig.load_profile({"esp32": "esp32-devkitc", "rp2": "pico"}[port])
    plan = hw.plan(BMS_HW, prof)
    slave = hal_board.build_drivers(plan, machine_io(m))["bms"]
    de = plan["bms"]["pins"]["de"]
    end = m.world.uart(BMS_UART[port])
    clock = m.world.clock
    end.feed(read(7, 4, 0, 7))
    clock.advance_ms(20)
    slave.poll(clock.ticks_ms())
    assert slave.function == 4
    for i in range(7):
        slave.regs[i] = i
    before = clock.us
    slave.reply(0)
    assert clock.us == before  # no wait inside the reply
    assert m.world.level(de) == 1
    clock.advance_ms(11)  # 19 bytes at 11 bits each: 10.9 ms
    slave.poll(clock.ticks_ms())
    assert m.world.level(de) == 0
    reply = end.take_tx()
    assert reply == frame(reply[:-2])
    assert reply[3:-2] == b"".join(struct.pack(">H", i) for i in range(7))
