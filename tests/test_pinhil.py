"""Pin-level HIL (issue 15, docs/hil.md#pin-level): the plant drives a virtual
board's pins through the port's twins, the drivers in the loop, in lockstep.

Default run: one short scenario per profile (minutes of simulated time) against
the software run of the same scenario; the driver-level faults on a wiring that
has their drivers; the drive's Modbus server and the line protocol in process.
The 6 h runs are in hil_tests/test_pins.py (slow)."""

import json

import pytest

from host_tools import cli, pinhil, sim
from host_tools.paths import DATA_DIR, import_firmware
from host_tools.scenario import load_scenario

SHORT = """season = "summer"
hours = 0.05
dt_s = 2.0
"""
NTC_LOOP_VFD = DATA_DIR / "pinhil" / "pico-ntc-loop-vfd.json"


def _scenario(tmp_path, text, name="short"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return str(path)


def test_esp32_pins_run_through_the_command_agrees_with_sim(tmp_path, capfd):
    """esp32-devkitc's wiring: a DS18B20, a PCNT-counted pulse meter, the DAC's 0-10 V."""
    scenario = _scenario(tmp_path, SHORT)
    assert cli.main(["hil", "--virtual", "--profile", "esp32-devkitc", "--scenario", scenario,
                     "--json"]) == 0
    out = json.loads(capfd.readouterr().out)
    assert out["level"] == "pins"
    assert out["ticks"] == 90
    sil = sim.run_scenario(load_scenario(scenario))[0]
    assert out["cop_s"] == pytest.approx(sil.cop_s, rel=0.01)
    assert out["alarms_seen"] == []


def test_pico_pins_run_agrees_with_sim(tmp_path):
    """pico's wiring: a DS18B20, a pulse meter on a hard IRQ, the PWM's 0-10 V."""
    scenario = _scenario(tmp_path, SHORT)
    _, result, timing, _, _, _ = pinhil.run_pins("pico", scenario)
    assert timing["level"] == "pins"
    sil = sim.run_scenario(load_scenario(scenario))[0]
    assert result.cop_s == pytest.approx(sil.cop_s, rel=0.01)
    assert result.alarms_seen == []


def test_a_run_does_not_depend_on_how_long_the_board_ran_before_it(tmp_path, monkeypatch):
    """The lead-in before `hil pins` (boot, the harness's requests) is paced by the
    wall clock; the run starts on a whole second of the board loop's schedule, so
    a longer lead-in changes nothing (seen failing before pin_world._align: the
    outputs differed from the first minute on). The run has a 1-Wire CRC burst on
    its DS18B20: the driver's alarms, the safe state on the third bad sample, the
    recovery."""
    import time

    scenario = _scenario(tmp_path, SHORT.replace("0.05", "0.03") + (
        '[[events]]\nkind = "onewire_crc"\nat_h = 0.005\nuntil_h = 0.01\n'))
    record = pinhil.record_config
    runs = []
    for delay in (0.0, 1.37):
        def slow(link, delay=delay):
            time.sleep(delay)  # the board runs on its own meanwhile
            return record(link)

        monkeypatch.setattr(pinhil, "record_config", slow)
        runs.append(pinhil.run_pins("esp32-devkitc", scenario))
    (loaded, first, _, _, _, notes), second = runs[0], runs[1][1]
    assert first.series["output_percent"] == second.series["output_percent"]
    # COP_s to 1e-5: once in a cold-cache parallel run the two differed by 4e-7
    # (not yet explained; the outputs above were the same).
    assert first.cop_s == pytest.approx(second.cop_s, rel=1e-5)
    row = pinhil.fault_rows(first, loaded, notes)[0]
    assert row["applicable"] and row["alarms"] == ["T_MISSING", "T_CRC"], row
    assert row["ticks_to_safe"] <= 3 and row["recovered_after_end_s"] is not None, row


DRIVER_FAULTS = """season = "summer"
hours = 0.06
dt_s = 2.0

[[events]]
kind = "ntc_open"
at_h = 0.005
until_h = 0.01

[[events]]
kind = "loop_break"
at_h = 0.02
until_h = 0.025

[[events]]
kind = "vfd_mute"
at_h = 0.035
until_h = 0.04

[[events]]
kind = "vfd_fault"
at_h = 0.045
until_h = 0.05
"""


def test_driver_faults_raise_their_alarms_reach_safe_and_recover(tmp_path):
    """An NTC, a 4-20 mA flow loop and a Modbus VFD on the pico: each fault at the
    pins raises its driver's alarm, the loop is safe within 3 ticks, and the
    alarms clear after the fault. (A tripped
    drive's recovery, after the operator's ack resets it, takes minutes: the slow
    faults run in hil_tests/test_pins.py checks it.)"""
    hw = json.loads(NTC_LOOP_VFD.read_text())
    scenario, result, timing, _, _, notes = pinhil.run_pins(
        "pico", _scenario(tmp_path, DRIVER_FAULTS), hw=hw)
    rows = {r["event"]: r for r in pinhil.fault_rows(result, scenario, notes)}
    assert rows["ntc_open"]["alarms"] == ["T_MISSING", "T_OPEN"]
    assert rows["loop_break"]["alarms"] == ["FLOW_MISSING", "FLOW_LOOP_LOW"]
    assert rows["vfd_mute"]["alarms"] == ["VFD_LINK"]
    assert "VFD_TRIP" in rows["vfd_fault"]["alarms"]
    for name in ("ntc_open", "loop_break", "vfd_mute", "vfd_fault"):
        assert rows[name]["ticks_to_safe"] <= 3, rows[name]
    for name in ("ntc_open", "loop_break", "vfd_mute", "vfd_fault"):
        # at 2 s ticks the drive's status (read once a second) may take a second tick
        assert rows[name]["applicable"] and rows[name]["ticks_to_alarm"] <= 2, rows[name]
    for name in ("ntc_open", "loop_break", "vfd_mute"):
        assert rows[name]["recovered_after_end_s"] is not None, rows[name]


def test_which_driver_faults_a_wiring_has():
    plan = pinhil.plan("esp32-devkitc", pinhil.default_hw("esp32-devkitc"))
    assert [k for k in pinhil.FAULT_DRIVERS if pinhil.applicable(plan, k)] == ["onewire_crc"]
    plan = pinhil.plan("pico", json.loads(NTC_LOOP_VFD.read_text()))
    assert [k for k in pinhil.FAULT_DRIVERS if pinhil.applicable(plan, k)] == [
        "ntc_open", "loop_break", "vfd_mute", "vfd_fault"]


# ---- in process: the drive's Modbus server, the line, the scenario ---------------------

def _frames():
    from pymodbus.framer import FramerRTU
    from pymodbus.pdu import DecodePDU
    from pymodbus.pdu.register_message import (
        ReadHoldingRegistersRequest,
        WriteMultipleRegistersRequest,
    )

    client = FramerRTU(DecodePDU(False))
    return (client, lambda regs, dev=1: client.buildFrame(
        WriteMultipleRegistersRequest(address=0, registers=regs, dev_id=dev)),
        lambda dev=1: client.buildFrame(ReadHoldingRegistersRequest(address=2, count=5,
                                                                    dev_id=dev)))


def _status(client, answer):
    _, pdu = client.handleFrame(answer, 1, 0)
    return pdu.registers


def test_the_drive_answers_runs_trips_and_resets_through_pymodbus():
    import_firmware()
    from drivers import vfd_maps

    m = vfd_maps.GENERIC
    drive = pinhil.Drive(m, 1)
    client, write, read = _frames()
    assert drive.respond(write([m["cw_run"], 4250]), set())
    assert drive.running and drive.speed_pct() == 42.5
    status = _status(client, drive.respond(read(), set()))
    assert status[0] & m["running"] and status[1] == 4250
    assert drive.respond(read(), {"vfd_mute"}) == b""  # mute: no answer at all
    assert drive.respond(read(dev=2), set()) == b""  # another drive's request
    status = _status(client, drive.respond(read(), {"vfd_fault"}))
    assert status[0] & m["tripped"] and not drive.running and drive.speed_pct() == 0.0
    assert status[4] == pinhil.Drive.FAULT_CODE
    drive.respond(write([m["cw_run"], 4250]), {"vfd_fault"})
    drive.respond(write([m["cw_reset"], 4250]), {"vfd_fault"})
    drive.respond(write([m["cw_run"], 4250]), set())
    assert not drive.running  # a reset while the fault is still there does nothing
    drive.respond(write([m["cw_reset"], 4250]), set())
    drive.respond(write([m["cw_run"], 4250]), set())
    assert drive.running  # the reset edge clears a trip that has gone


def test_the_line_answers_each_request_of_the_boards_outside():
    server = pinhil.PinServer.__new__(pinhil.PinServer)
    server.drive, server.stimuli, server.readback, server.fetches = None, None, {}, 0
    assert server.answer("F") == "N"  # no run: the board runs on its own
    server.stimuli = "S t=27.6 f=2.5"
    assert server.answer("F") == "S t=27.6 f=2.5" and server.fetches == 1
    assert server.answer("R out=41.5 run=1") == "K"
    assert server.readback == {"out": "41.5", "run": "1"}
    assert server.answer("M - 0103") == "X"  # no drive on this wiring


def test_driver_faults_need_until_h_and_have_no_effect_above_the_drivers(tmp_path):
    from host_tools.errors import CopflowError

    bad = tmp_path / "bad.toml"
    bad.write_text(SHORT + '[[events]]\nkind = "ntc_open"\nat_h = 0.01\n')
    with pytest.raises(CopflowError, match="needs until_h"):
        load_scenario(str(bad))
    with_faults = load_scenario(_scenario(tmp_path, DRIVER_FAULTS, "f"))
    plain = load_scenario(_scenario(tmp_path, DRIVER_FAULTS.split("[[events]]")[0], "p"))
    assert sim.run_scenario(with_faults)[0].cop_s == sim.run_scenario(plain)[0].cop_s


def test_the_rtd_converter_on_the_pins_converts_and_reports_an_open_element():
    """pin_world.Max31865 (the PT100/PT1000 behind the board's MAX31865 driver):
    a 1-shot conversion takes its time, then the RTD registers hold ohm / r_ref."""
    import sys

    # The guest's import path: its own folder, and `twins` as the board mounts it.
    sys.path[:0] = [str(DATA_DIR.parent / "guest"), str(DATA_DIR.parent)]
    try:
        import pin_world
    finally:
        del sys.path[:2]
    from host_tools.twins.clock import VirtualClock

    clock = VirtualClock()
    chip = pin_world.Max31865(clock, 4300.0)
    chip.ohm = pin_world._rtd_ohm(1000.0, 25.0)
    assert chip.ohm == pytest.approx(1097.35, abs=0.01)  # IEC 60751 table, 25 degC

    def transaction(*data):
        chip.select()
        out = [chip.exchange(b) for b in data]
        chip.deselect()
        return out

    transaction(0x80, 0x80 | 0x20 | 0x01)  # bias and a 1-shot, 50 Hz filter
    assert transaction(0x00, 0, 0, 0)[1] & 0x20  # converting: D5 still set
    clock.advance_us(62_500)
    cfg, msb, lsb = transaction(0x00, 0, 0, 0)[1:]
    assert cfg == 0x81 and lsb & 1 == 0
    assert ((msb << 8) | lsb) >> 1 == int(chip.ohm / 4300.0 * 32768)
    chip.ohm = -1.0  # the element's wire cut
    transaction(0x80, 0x80 | 0x20 | 0x01)
    clock.advance_us(62_500)
    regs = transaction(0x00, 0, 0, 0, 0, 0, 0, 0, 0)[1:]
    assert ((regs[1] << 8) | regs[2]) >> 1 == 0x7FFF and regs[7] & 0x80 and regs[2] & 1


def test_bad_pin_level_requests_are_named_before_a_board_starts(tmp_path, capsys):
    bad_json = tmp_path / "hw.json"
    bad_json.write_text("{not json")
    cases = [
        (["--port", "/dev/null", "--profile", "pico"], "--profile and --hw need --virtual"),
        (["--virtual", "--hw", str(bad_json)], "--profile and --hw need --virtual"),
        (["--virtual", "--profile", "pico", "--realtime"], "runs in lockstep"),
        (["--virtual", "--profile", "pico", "--hw", str(bad_json)], "not a readable JSON"),
        (["--virtual", "--profile", "no-such-board"], "no board profile"),
        (["--virtual", "--profile", "pico", "--hw", str(NTC_LOOP_VFD.with_name("x.json"))],
         "not a readable JSON"),
    ]
    for extra, message in cases:
        assert cli.main(["hil", "--scenario", "paper-summer", *extra]) == 2, extra
        assert message in capsys.readouterr().err, extra


@pytest.mark.parametrize("fault", ["VFD_TRIP", "VFD_LINK"])
def test_the_core_takes_a_drive_that_tripped_or_went_mute_as_no_controlled_flow(fault):
    """docs/drivers.md: with the drive tripped or not answering the pump is not
    under control, so the loop is in its safe state on the tick the driver says so
    (pin-level HIL found it waiting for ACTUATOR: safe on the 4th tick), and back
    in closed loop on the tick the drive is."""
    import_firmware()
    from core import alarms
    from core.controller import STATE_SAFE, Controller

    c = Controller()
    m = c.meas
    m.t_in_c, m.flow_m3h, m.unit_running, m.unit_mode = 27.6, 0.55, True, 1
    def tick(i):
        m.flow_m3h = 0.55 + (i & 7) * 0.001  # a live meter (an exact repeat is FLOW_STUCK)
        c.step(i * 10_000)

    for i in range(60):
        tick(i)
    assert c.cmd.state != STATE_SAFE, alarms.names(c.cmd.alarms)
    m.faults = getattr(alarms, fault)
    tick(60)
    assert c.cmd.state == STATE_SAFE and c.cmd.alarms & getattr(alarms, fault)
    m.faults = 0
    tick(61)
    assert c.cmd.state != STATE_SAFE
