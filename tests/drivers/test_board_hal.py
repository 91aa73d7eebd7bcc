"""The board HAL: drivers built from a hardware plan by the real hal_board.MachineIO on
each port's machine twin, their readings and faults reaching the control core, the
watchdog started with the loop and fed by it only."""

import pytest

import hal_board
import hw
import stdio_console
from core import alarms
from core.controller import STATE_SAFE, Controller
from drivers import vfd_maps
from fake_max31865 import FakeMAX31865
from host_tools import hwconfig
from host_tools.twins import make_machine
from host_tools.twins.onewire import DS18B20 as SensorModel
from modbus_peer import DriveModel, FakeSlave
from twin_io import PROFILE, machine_io, needs

SHUNT_OHM = 100.0  # 3.6..21 mA inside the ESP32's linear ADC window (150..2450 mV) too


@pytest.fixture(autouse=True)
def no_stdin(monkeypatch):
    # The console side of the HAL is the interpreter's stdin, which pytest holds.
    monkeypatch.setattr(stdio_console.StdioConsole, "__init__", lambda self: None)


HW = {"temperature": {"driver": "ds18b20"},
      "flow": {"driver": "current_loop",
               "params": {"range_low": 0.0, "range_high": 1.2, "shunt_ohm": SHUNT_OHM}},
      "actuator": {"driver": "analog", "params": {"kind": "pwm"}},
      "inputs": {"unit_running": True, "unit_heating": True},
      "watchdog_s": 4}


class Board:
    """A twin board of the port with the HAL the firmware builds on it
    (board.py: BoardHal(plan, MachineIO(machine, port), profile name))."""

    def __init__(self, port, hw_config, m=None):
        self.port = port
        self.profile = hwconfig.load_profile(PROFILE[port])
        self.plan = hw.plan(hw_config, self.profile)
        self.m = m if m is not None else make_machine(port)
        self.w = self.m.world
        self.clock = self.w.clock
        self.next_us = self.clock.us

    def pins(self, section):
        return self.plan[section]["pins"]

    def input_pin(self, name):
        return self.plan["inputs"][name]

    def build(self):
        self.hal = hal_board.BoardHal(self.plan, machine_io(self.m), PROFILE[self.port])
        return self.hal

    def run(self, ms):
        """The loop's 10 ms slices for `ms`: the HAL polled, the watchdog fed."""
        for _ in range(ms // 10):
            self.next_us += 10_000
            self.clock.advance_to(self.next_us)
            self.hal.poll(self.clock.ticks_ms())
            self.hal.feed()

    def set_ma(self, ma):
        """The 4-20 mA loop current through the shunt at the ADC pin."""
        self.w.set_volts(self.pins("flow")["adc"], ma / 1000.0 * SHUNT_OHM)


def make(port, sensor=None):
    board = Board(port, HW)
    board.sensor = sensor or SensorModel(temp_c=27.6)
    board.w.onewire(board.pins("temperature")["onewire"]).attach(board.sensor)
    board.build()
    return board


def test_readings_reach_the_measurements(port):
    b = make(port)
    b.set_ma(12.0)  # mid-scale: 0.6 m3/h
    b.w.drive(b.input_pin("unit_running"), 0)  # unit running (contact to ground, active low)
    b.w.drive(b.input_pin("unit_heating"), 1)  # heating contact open: cooling
    b.run(2000)
    ctrl = Controller()
    b.hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c == pytest.approx(27.6, abs=0.07)
    assert ctrl.meas.flow_m3h == pytest.approx(0.6, abs=0.005)
    assert ctrl.meas.faults == 0
    assert ctrl.meas.unit_running is True and ctrl.meas.unit_mode == 1
    b.w.drive(b.input_pin("unit_heating"), 0)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.unit_mode == 2


def test_unwired_contacts_read_open_through_the_pull_ups(port):
    b = make(port)
    b.run(100)
    ctrl = Controller()
    b.hal.read(ctrl.meas)
    assert ctrl.meas.unit_running is False and ctrl.meas.unit_mode == 1


def test_each_driver_fault_reaches_the_supervisor_with_its_own_code(port):
    b = make(port)
    b.set_ma(12.0)
    b.w.drive(b.input_pin("unit_running"), 0)  # unit running
    b.run(2000)
    ctrl = Controller()
    b.sensor.present = False  # the DS18B20 is unplugged
    b.set_ma(2.0)  # and the 4-20 mA loop is broken
    b.run(3000)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c is None and ctrl.meas.flow_m3h is None
    assert ctrl.meas.faults == alarms.T_NO_SENSOR | alarms.FLOW_LOOP_LOW
    for i in range(5):
        cmd = ctrl.step(1000 * i)
    assert cmd.alarms & alarms.T_NO_SENSOR and cmd.alarms & alarms.FLOW_LOOP_LOW
    assert cmd.alarms & alarms.T_MISSING and cmd.alarms & alarms.FLOW_MISSING
    assert cmd.state == STATE_SAFE and cmd.pump_run
    assert alarms.code(alarms.T_NO_SENSOR) == "A17"
    assert "FLOW_LOOP_LOW" in alarms.names(cmd.alarms)
    # Plugged back in: the faults clear by themselves.
    b.sensor.present = True
    b.set_ma(12.0)
    b.run(3000)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.faults == 0 and ctrl.meas.t_in_c is not None


def test_driver_fault_bits_are_distinct():
    bits = [alarms.T_NO_SENSOR, alarms.T_CRC, alarms.T_POWER_ON, alarms.T_OPEN, alarms.T_SHORT,
            alarms.FLOW_LOOP_LOW, alarms.FLOW_LOOP_HIGH, alarms.FLOW_PULSE_NOISE,
            alarms.VALVE_UNSYNCED, alarms.VFD_LINK, alarms.VFD_REJECT, alarms.VFD_TRIP,
            alarms.WDT_RESET, alarms.METER_FAULT]
    # Below 1 << 30: a small int on 32-bit ports, so masks never allocate.
    assert len(set(bits)) == len(bits) and all(b < 1 << 30 for b in bits)
    assert len({alarms.code(b) for b in bits}) == len(bits)
    assert all(alarms.names(b) for b in bits)


def test_the_command_reaches_the_actuator(port):
    b = make(port)
    ctrl = Controller()
    ctrl.cmd.output_pct, ctrl.cmd.pump_run = 50.0, True
    b.hal.write(ctrl.cmd)
    b.run(20)
    pwm = b.w.pwm(b.pins("actuator")["out"])
    assert 0.45 < pwm.duty < 0.55  # 5 V of 10 V through a x3.03 stage
    ctrl.cmd.pump_run = False
    b.hal.write(ctrl.cmd)
    b.run(20)
    assert pwm.duty == 0.0


def test_the_watchdog_starts_with_the_loop_and_bites_when_it_stops_feeding(port):
    b = make(port)
    assert b.w.wdt is None  # not at boot: a failing boot stops at the REPL
    b.hal.start_watchdog()
    assert b.w.wdt.timeout_ms == 4000
    b.run(500)
    assert b.w.wdt.feeds == 50  # once per slice
    ctrl = Controller()
    for _ in range(100):  # reading, writing and polling do not feed it: only the loop
        b.hal.read(ctrl.meas)
        b.hal.write(ctrl.cmd)
        b.hal.poll(b.clock.ticks_ms())
    assert b.w.wdt.feeds == 50
    assert not b.hal.watchdog_reset
    b.clock.advance_ms(3900)
    assert not b.w.check_wdt()
    b.clock.advance_ms(200)  # the loop is stuck for longer than watchdog_s
    assert b.w.check_wdt()
    # After the reset the board boots again and the HAL reports why.
    again = Board(port, HW, m=b.m)
    again.w.onewire(again.pins("temperature")["onewire"]).attach(SensorModel())
    assert again.build().watchdog_reset


def test_no_plan_means_no_drivers_and_missing_measurements(port):
    m = make_machine(port)
    hal = hal_board.BoardHal(None, machine_io(m), PROFILE[port])
    ctrl = Controller()
    hal.poll(0)
    hal.start_watchdog()
    hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c is None and ctrl.meas.faults == 0
    assert m.world.wdt is None


def test_metering_inputs_reach_the_measurements_and_share_one_fault_code(port):
    # Pulse inputs: pin IRQs where they are hard (RP2), the pulse counter on the
    # ESP32 (hw.plan refuses pin-IRQ timing there).
    s0 = "s0" if port == "rp2" else "s0_pcnt"
    b = Board(port, {"t_out": {"driver": "ntc"}, "unit_power": {"driver": s0},
                     "pump_power": {"driver": s0, "params": {"max_power_w": 3000.0}},
                     "watchdog_s": 0})
    b.build()
    # the NTC at 25 degC (its r25) in the plan's divider: NTC to GND, r_fixed to 3.3 V
    ntc = b.plan["t_out"]["params"]
    assert ntc["divider"] == "ntc_low"
    b.w.set_volts(b.pins("t_out")["adc"],
                  3.3 * ntc["r25_ohm"] / (ntc["r25_ohm"] + ntc["r_fixed_ohm"]))
    unit, pump = b.pins("unit_power")["pulse"], b.pins("pump_power")["pulse"]
    # 1000 imp/kWh: one pulse every 3.6 s is 1 kW; five pulses span the PCNT
    # driver's shortest measuring span (window_ms, 10 s) too
    for _ in range(5):
        b.w.pulse(unit, width_us=30_000)
        b.w.run_scheduled()
        b.run(3600)
    ctrl = Controller()
    b.hal.read(ctrl.meas)
    assert ctrl.meas.t_out_c == pytest.approx(25.0, abs=0.1)
    assert ctrl.meas.p_unit_w == pytest.approx(1000.0, rel=0.01)
    assert ctrl.meas.p_pump_w == 0.0 and ctrl.meas.faults == 0
    for _ in range(5):  # pulses 1 ms apart on the pump meter: far above 3 kW
        b.w.pulse(pump, width_us=200)
        b.clock.advance_ms(1)
        b.w.pulse(pump, width_us=200)
        b.w.run_scheduled()
        b.run(100)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.p_pump_w is None
    assert ctrl.meas.faults == alarms.METER_FAULT


def _actuator_board(port, actuator):
    b = Board(port, {"actuator": actuator, "inputs": {"unit_running": True}, "watchdog_s": 0})
    regmap = vfd_maps.get("generic")
    registers = {a: 0 for first, n in regmap["reads"] for a in range(first, first + n)}
    registers[regmap["control"]] = registers[regmap["reference"]] = 0
    b.slave = FakeSlave(1, registers, DriveModel(regmap))
    if actuator["driver"] == "vfd":
        b.w.uart(b.pins("actuator")["uart"]).peer = b.slave
    b.build()
    b.w.drive(b.input_pin("unit_running"), 0)  # the unit runs
    return b


def _alarms_after(b, ctrl, seconds):
    cmd = ctrl.cmd
    for _ in range(seconds):
        b.run(1000)
        b.hal.read(ctrl.meas)
        cmd = ctrl.step(b.clock.ticks_ms())
        b.hal.write(cmd)
    return cmd.alarms


def test_vfd_link_and_trip_reach_the_supervisor_and_clear(port):
    b = _actuator_board(port, {"driver": "vfd", "params": {"parity": "none", "stop_bits": 2}})
    ctrl = Controller()
    healthy = alarms.VFD_LINK | alarms.VFD_TRIP | alarms.VFD_REJECT
    assert not _alarms_after(b, ctrl, 3) & healthy
    assert b.slave.requests  # the requests went over the board's UART
    b.slave.model.trip(7)
    assert _alarms_after(b, ctrl, 3) & alarms.VFD_TRIP
    b.slave.model.tripped = False
    assert not _alarms_after(b, ctrl, 3) & alarms.VFD_TRIP
    b.slave.silent = True  # the RS-485 cable is cut
    assert _alarms_after(b, ctrl, 5) & alarms.VFD_LINK
    b.slave.silent = False
    assert not _alarms_after(b, ctrl, 5) & alarms.VFD_LINK


def test_a_3_point_valve_is_unsynced_until_it_has_run_into_an_end_stop(port):
    b = _actuator_board(port, {"driver": "valve_3point", "params": {"travel_s": 30.0}})
    ctrl = Controller()
    assert _alarms_after(b, ctrl, 1) & alarms.VALVE_UNSYNCED
    assert not _alarms_after(b, ctrl, 40) & alarms.VALVE_UNSYNCED
    assert b.hal.actuator.position_pct is not None


def test_a_pt100_through_a_max31865_on_the_profile_s_spi_bus(port):
    b = Board(port, {"temperature": {"driver": "max31865"}, "watchdog_s": 0})
    pins = b.pins("temperature")
    assert set(pins) == {"spi", "sck", "mosi", "miso", "cs"}
    chip = FakeMAX31865(r_ref=430.0, resistance_ohm=100.0, clock=b.clock)  # PT100 at 0 degC
    end = b.w.spi(pins["spi"])
    end.attach(chip, cs=pins["cs"])
    chip.spi_end = end
    b.build()
    ctrl = Controller()
    b.run(3000)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c == pytest.approx(0.0, abs=0.05) and ctrl.meas.faults == 0
    assert chip.violations == []
    chip.resistance_ohm = float("inf")  # a broken RTD wire
    b.run(3000)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c is None and ctrl.meas.faults == alarms.T_OPEN


def test_the_esp32_pulse_counter_flow_driver_through_the_hal(port):
    needs(port, "pcnt")
    b = Board(port, {"flow": {"driver": "pulse_pcnt", "params": {"k_factor_ppl": 100.0}},
                     "watchdog_s": 0})
    b.build()
    pin = b.pins("flow")["pulse"]
    ctrl = Controller()
    for _ in range(250):  # 50 pulses/s at 100 pulses/L: 1.8 m3/h
        b.w.pulse(pin, width_us=1000)
        b.run(20)
    b.hal.read(ctrl.meas)
    assert ctrl.meas.flow_m3h == pytest.approx(1.8, rel=0.03)
    assert ctrl.meas.faults == 0
