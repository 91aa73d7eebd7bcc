"""The board HAL: drivers built from a hardware plan on (fake) machine peripherals, their
readings and faults reaching the control core, the watchdog fed from the loop only."""

import pytest

import hal_board
import hw
import stdio_console
from core import alarms
from core.controller import STATE_SAFE, Controller
from drivers import vfd_maps
from fake_machine import ADC, PWM, UART, WDT, Clock, Pin
from fake_max31865 import CsPin, FakeMAX31865, FakeSPI
from fake_onewire import FakeDS18B20, FakeOneWire
from fake_pcnt import PCNT
from host_tools import hwconfig
from modbus_peer import DriveModel, FakeSlave

MA_PER_CODE = 3.3 / 65535 / 150 * 1000  # 150 ohm shunt, 3.3 V ADC


class FakeIO:
    """What MachineIO gives on a board, from the fakes; records what it built."""

    auto_gc = True

    def __init__(self, clock, bus, watchdog_reset=False):
        self.clock = clock
        self.bus = bus
        self.adcs: dict[int, ADC] = {}
        self.pins: dict[int, Pin] = {}
        self.pwms: dict[int, PWM] = {}
        self.watchdog = None
        self.slave = None
        self._wdt_reset = watchdog_reset
        self.ticks_us = clock.ticks_us

    def pin_in(self, pin, pull_up=True):
        self.pins[pin] = Pin(pin, Pin.IN, value=1 if pull_up else 0)
        return self.pins[pin]

    def pin_out(self, pin, value=0):
        self.pins[pin] = Pin(pin, Pin.OUT, value=value)
        return self.pins[pin]

    def onewire(self, pin):
        return self.bus

    def adc(self, pin):
        self.adcs[pin] = ADC(pin)
        return self.adcs[pin]

    def pwm(self, pin, freq_hz):
        self.pwms[pin] = PWM(pin, freq_hz)
        return self.pwms[pin]

    def uart(self, uart_id, tx, rx):
        self.uart_obj = UART(uart_id)
        self.uart_obj.peer = self.slave
        return self.uart_obj

    def wdt(self, timeout_ms):
        self.watchdog = WDT(timeout=timeout_ms)
        return self.watchdog

    def watchdog_reset(self):
        return self._wdt_reset


@pytest.fixture(autouse=True)
def no_stdin(monkeypatch):
    # The console side of the HAL is the interpreter's stdin, which pytest holds.
    monkeypatch.setattr(stdio_console.StdioConsole, "__init__", lambda self: None)


HW = {"temperature": {"driver": "ds18b20"},
      "flow": {"driver": "current_loop", "params": {"range_low": 0.0, "range_high": 1.2}},
      "actuator": {"driver": "analog", "params": {"kind": "pwm"}},
      "inputs": {"unit_running": True, "unit_heating": True},
      "watchdog_s": 4}


def make(sensor=None, watchdog_reset=False):
    prof = hwconfig.load_profile("pico")
    plan = hw.plan(HW, prof)
    clock = Clock()
    sensor = sensor or FakeDS18B20(temp_c=27.6)
    bus = FakeOneWire(clock, [sensor])
    io = FakeIO(clock, bus, watchdog_reset)
    hal = hal_board.BoardHal(plan, io, "pico")
    loop_adc = io.adcs[prof["pins"]["current_loop.adc"]]
    return hal, io, clock, sensor, loop_adc


def set_ma(adc, ma):
    adc.code = round(ma / MA_PER_CODE)


def run(hal, clock, ms):
    for _ in range(ms // 10):
        clock.advance_ms(10)
        hal.poll(clock.ticks_ms())


def test_readings_reach_the_measurements():
    hal, io, clock, _, adc = make()
    set_ma(adc, 12.0)  # mid-scale: 0.6 m3/h
    io.pins[20].set_input(0)  # unit running (contact to ground, active low)
    io.pins[21].set_input(1)  # heating contact open: cooling
    run(hal, clock, 2000)
    ctrl = Controller()
    hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c == pytest.approx(27.6, abs=0.07)
    assert ctrl.meas.flow_m3h == pytest.approx(0.6, abs=0.005)
    assert ctrl.meas.faults == 0
    assert ctrl.meas.unit_running is True and ctrl.meas.unit_mode == 1
    io.pins[21].set_input(0)
    hal.read(ctrl.meas)
    assert ctrl.meas.unit_mode == 2


def test_each_driver_fault_reaches_the_supervisor_with_its_own_code():
    hal, io, clock, sensor, adc = make()
    set_ma(adc, 12.0)
    io.pins[20].set_input(0)  # unit running
    run(hal, clock, 2000)
    ctrl = Controller()
    sensor.present = False  # the DS18B20 is unplugged
    set_ma(adc, 2.0)  # and the 4-20 mA loop is broken
    run(hal, clock, 3000)
    hal.read(ctrl.meas)
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
    sensor.present = True
    set_ma(adc, 12.0)
    run(hal, clock, 3000)
    hal.read(ctrl.meas)
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


def test_the_command_reaches_the_actuator():
    hal, io, clock, _, _ = make()
    ctrl = Controller()
    ctrl.cmd.output_pct, ctrl.cmd.pump_run = 50.0, True
    hal.write(ctrl.cmd)
    run(hal, clock, 20)
    pwm = io.pwms[15]
    assert 0.45 < pwm.duty_u16() / 65535 < 0.55  # 5 V of 10 V through a x3.03 stage
    ctrl.cmd.pump_run = False
    hal.write(ctrl.cmd)
    run(hal, clock, 20)
    assert pwm.duty_u16() == 0


def test_the_watchdog_is_fed_once_per_slice_and_a_watchdog_reset_is_reported():
    hal, io, clock, _, _ = make()
    assert io.watchdog.timeout == 4000
    run(hal, clock, 500)
    assert io.watchdog.feeds == 50
    ctrl = Controller()
    hal.read(ctrl.meas)
    hal.write(ctrl.cmd)
    assert io.watchdog.feeds == 50  # reading and writing do not feed it: only the loop
    assert not hal.watchdog_reset
    assert make(watchdog_reset=True)[0].watchdog_reset


def test_no_plan_means_no_drivers_and_missing_measurements():
    io = FakeIO(Clock(), None)
    hal = hal_board.BoardHal(None, io, "pico")
    ctrl = Controller()
    hal.poll(0)
    hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c is None and ctrl.meas.faults == 0
    assert io.watchdog is None


def test_metering_inputs_reach_the_measurements_and_share_one_fault_code():
    prof = hwconfig.load_profile("pico")
    plan = hw.plan({"t_out": {"driver": "ntc"}, "unit_power": {"driver": "s0"},
                    "pump_power": {"driver": "s0", "params": {"max_power_w": 3000.0}},
                    "watchdog_s": 0}, prof)
    clock = Clock()
    io = FakeIO(clock, None)
    hal = hal_board.BoardHal(plan, io, "pico")
    io.adcs[28].code = 32768  # mid-scale divider: the NTC at r_fixed, 25 degC
    unit, pump = io.pins[8], io.pins[9]
    for _ in range(3):  # 1000 imp/kWh: one pulse every 3.6 s is 1 kW
        unit.pulse()
        run(hal, clock, 3600)
    ctrl = Controller()
    hal.read(ctrl.meas)
    assert ctrl.meas.t_out_c == pytest.approx(25.0, abs=0.1)
    assert ctrl.meas.p_unit_w == pytest.approx(1000.0, rel=0.01)
    assert ctrl.meas.p_pump_w == 0.0 and ctrl.meas.faults == 0
    for _ in range(5):  # pulses 1 ms apart on the pump meter: far above 3 kW
        pump.pulse()
        clock.advance_ms(1)
        pump.pulse()
        run(hal, clock, 100)
    hal.read(ctrl.meas)
    assert ctrl.meas.p_pump_w is None
    assert ctrl.meas.faults == alarms.METER_FAULT


def _actuator_hal(actuator):
    plan = hw.plan({"actuator": actuator, "inputs": {"unit_running": True}, "watchdog_s": 0},
                   hwconfig.load_profile("pico"))
    clock = Clock()
    io = FakeIO(clock, None)
    regmap = vfd_maps.get("generic")
    registers = {a: 0 for first, n in regmap["reads"] for a in range(first, first + n)}
    registers[regmap["control"]] = registers[regmap["reference"]] = 0
    io.slave = FakeSlave(1, registers, DriveModel(regmap))
    hal = hal_board.BoardHal(plan, io, "pico")
    io.pins[20].set_input(0)  # the unit runs
    return hal, io, clock


def _alarms_after(hal, clock, ctrl, seconds):
    cmd = ctrl.cmd
    for _ in range(seconds):
        run(hal, clock, 1000)
        hal.read(ctrl.meas)
        cmd = ctrl.step(clock.ticks_ms())
        hal.write(cmd)
    return cmd.alarms


def test_vfd_link_and_trip_reach_the_supervisor_and_clear():
    hal, io, clock = _actuator_hal({"driver": "vfd", "params": {"parity": "none",
                                                                  "stop_bits": 2}})
    ctrl = Controller()
    healthy = alarms.VFD_LINK | alarms.VFD_TRIP | alarms.VFD_REJECT
    assert not _alarms_after(hal, clock, ctrl, 3) & healthy
    io.slave.model.trip(7)
    assert _alarms_after(hal, clock, ctrl, 3) & alarms.VFD_TRIP
    io.slave.model.tripped = False
    assert not _alarms_after(hal, clock, ctrl, 3) & alarms.VFD_TRIP
    io.slave.silent = True  # the RS-485 cable is cut
    assert _alarms_after(hal, clock, ctrl, 5) & alarms.VFD_LINK
    io.slave.silent = False
    assert not _alarms_after(hal, clock, ctrl, 5) & alarms.VFD_LINK


def test_a_3_point_valve_is_unsynced_until_it_has_run_into_an_end_stop():
    hal, io, clock = _actuator_hal({"driver": "valve_3point", "params": {"travel_s": 30.0}})
    ctrl = Controller()
    assert _alarms_after(hal, clock, ctrl, 1) & alarms.VALVE_UNSYNCED
    assert not _alarms_after(hal, clock, ctrl, 40) & alarms.VALVE_UNSYNCED
    assert hal.actuator.position_pct is not None


def test_a_pt100_through_a_max31865_on_the_profile_s_spi_bus():
    prof = hwconfig.load_profile("pico")
    plan = hw.plan({"temperature": {"driver": "max31865"}, "watchdog_s": 0}, prof)
    assert plan["temperature"]["pins"] == {"spi": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17}
    clock = Clock()
    chip = FakeMAX31865(r_ref=430.0, resistance_ohm=100.0)  # PT100 at 0 degC

    class SpiIO(FakeIO):
        def spi(self, spi_id, sck, mosi, miso):
            return FakeSPI(chip)

        def pin_out(self, pin, value=0):
            return CsPin(pin, chip) if pin == 17 else FakeIO.pin_out(self, pin, value)

    hal = hal_board.BoardHal(plan, SpiIO(clock, None), "pico")
    ctrl = Controller()
    for _ in range(300):
        clock.advance_ms(10)
        chip.now_ms = clock.us / 1000.0
        hal.poll(clock.ticks_ms())
    hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c == pytest.approx(0.0, abs=0.05) and ctrl.meas.faults == 0
    chip.resistance_ohm = float("inf")  # a broken RTD wire
    for _ in range(300):
        clock.advance_ms(10)
        chip.now_ms = clock.us / 1000.0
        hal.poll(clock.ticks_ms())
    hal.read(ctrl.meas)
    assert ctrl.meas.t_in_c is None and ctrl.meas.faults == alarms.T_OPEN


def test_the_esp32_pulse_counter_flow_driver_through_the_hal():
    prof = hwconfig.load_profile("esp32-devkitc")
    plan = hw.plan({"flow": {"driver": "pulse_pcnt", "params": {"k_factor_ppl": 100.0}},
                    "watchdog_s": 0}, prof)
    clock = Clock()

    class PcntIO(FakeIO):
        def flow_pcnt(self, pin, params, unit=0):
            from drivers.pulse_flow_esp32 import pcnt_kwargs

            self.pcnt = PCNT(0, **pcnt_kwargs(params, Pin(pin)))
            return self.pcnt

    io = PcntIO(clock, None)
    hal = hal_board.BoardHal(plan, io, "esp32-devkitc")
    ctrl = Controller()
    for _ in range(500):  # 50 pulses/s at 100 pulses/L: 1.8 m3/h
        clock.advance_ms(10)
        if clock.ticks_ms() % 20 == 0:
            io.pcnt.pulse()
        hal.poll(clock.ticks_ms())
    hal.read(ctrl.meas)
    assert ctrl.meas.flow_m3h == pytest.approx(1.8, rel=0.03)
    assert ctrl.meas.faults == 0
