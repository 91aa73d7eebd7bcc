"""Issue 11 item 1: pulse inputs on real ports. ESP32's Pin.irq has no `hard`
keyword (ports/esp32/machine_pin.c:306-313 at v1.27.0) and its pin IRQs are
always soft; RP2's are hard when asked. The default ESP32 wiring must build
every driver; S0 meters must count on ESP32; any driver-build error is a
config error naming the section."""

import sys
import types
from contextlib import contextmanager

import pytest

import hal_board
import hw
from core import alarms
from core.config import ConfigError
from drivers.params import validate
from drivers.pulse_flow import PARAMS as PULSE_PARAMS
from drivers.pulse_flow import PulseFlow
from host_tools import hwconfig
from host_tools.twins import make_machine

PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}


@contextmanager
def board_modules(m):
    """The board's own `time`, `machine`, `onewire` and `esp32` modules while
    the HAL runs (io_esp32 imports them at its top, as on the board)."""
    clock = m.world.clock
    t = types.ModuleType("time")
    for name in ("ticks_us", "ticks_ms", "ticks_diff", "ticks_add", "sleep_ms", "sleep_us"):
        setattr(t, name, getattr(clock, name))
    names = ("time", "machine", "esp32", "onewire", "io_esp32")
    saved = {n: sys.modules.get(n) for n in names}
    sys.modules["time"] = t
    sys.modules["machine"] = m
    sys.modules["onewire"] = m.onewire
    if m.esp32 is not None:
        sys.modules["esp32"] = m.esp32
    sys.modules.pop("io_esp32", None)
    try:
        yield hal_board.MachineIO(m, m.port)
    finally:
        for n, mod in saved.items():
            if mod is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = mod


def profile(port):
    return hwconfig.load_profile(PROFILE[port])


def run(m, drivers, ms, every_ms=10):
    clock = m.world.clock
    for _ in range(ms // every_ms):
        clock.advance_ms(every_ms)
        m.world.run_scheduled()
        for d in drivers:
            d.poll(clock.ticks_ms())


@pytest.mark.parametrize("port", ["esp32", "rp2"])
def test_the_default_wiring_builds_every_driver_on_the_port(port):
    m = make_machine(port)
    prof = profile(port)
    plan = hw.plan(prof["default_hw"], prof)
    with board_modules(m) as io:
        drivers = hal_board.build_drivers(plan, io)
    assert sorted(drivers) == ["actuator", "flow", "temperature"]


def test_irq_pulse_drivers_are_refused_on_esp32_with_the_pcnt_alternative():
    prof = profile("esp32")
    with pytest.raises(ConfigError, match="flow.driver: pulse .*soft.*use pulse_pcnt"):
        hw.plan({"flow": {"driver": "pulse"}}, prof)
    with pytest.raises(ConfigError, match="unit_power.driver: s0 .*soft.*use s0_pcnt"):
        hw.plan({"unit_power": {"driver": "s0"}}, prof)


def test_the_irq_driver_itself_refuses_soft_irqs_instead_of_passing_hard():
    m = make_machine("esp32")
    pin = m.Pin(27, m.Pin.IN, m.Pin.PULL_UP)
    params = validate(PULSE_PARAMS, {}, "flow")
    with pytest.raises(ConfigError, match="hard pin interrupts"):
        PulseFlow(pin, m.world.clock.ticks_us, params, hard_irq=False)


def test_any_driver_build_error_is_a_config_error_naming_the_section():
    # The plan of the old code: the IRQ driver on ESP32 with hard=True. The
    # port raises TypeError; the board must report it as the flow section's.
    m = make_machine("esp32")
    prof = profile("esp32")
    plan = hw.plan({"flow": {"driver": "pulse_pcnt"}}, prof)
    section = dict(plan["flow"])
    section.update(driver="pulse", module="drivers.pulse_flow", cls="PulseFlow",
                   hard_irq=True, pull_up=True)
    section["params"] = validate(PULSE_PARAMS, {}, "flow")
    plan["flow"] = section
    with board_modules(m) as io:
        with pytest.raises(ConfigError) as err:
            hal_board.build_drivers(plan, io)
    text = str(err.value)
    assert text.startswith("flow: ") and "TypeError" in text and "pulse 27" in text


@pytest.mark.parametrize("port", ["esp32", "rp2"])
def test_s0_meters_count_every_pulse_on_both_ports(port):
    m = make_machine(port)
    prof = profile(port)
    s0 = "s0_pcnt" if port == "esp32" else "s0"
    plan = hw.plan({"unit_power": {"driver": s0}, "pump_power": {"driver": s0},
                    "watchdog_s": 0}, prof)
    with board_modules(m) as io:
        drivers = hal_board.build_drivers(plan, io)
    unit, pump = drivers["unit_power"], drivers["pump_power"]
    w = m.world
    pin = prof["pins"]["unit_power.pulse"]
    # 1000 imp/kWh, one 30 ms pulse every 3.6 s: 1 kW; 5 pulses.
    for _ in range(5):
        w.pulse(pin, width_us=30000)
        run(m, (unit, pump), 3600)
    assert unit.energy_kwh == pytest.approx(5 / 1000.0)
    assert unit.value == pytest.approx(1000.0, rel=0.01)
    assert unit.fault == 0 and pump.value == 0.0 and pump.energy_kwh == 0.0


def test_on_esp32_no_pulse_is_lost_while_the_vm_is_blocked():
    # A 200 ms block (a flash write, a long Modbus turnaround) with 40 pulses
    # from the flow meter and the unit meter: soft IRQs would overflow the
    # schedule queue of 8; the pulse counters keep every one.
    m = make_machine("esp32")
    prof = profile("esp32")
    plan = hw.plan({"flow": {"driver": "pulse_pcnt"}, "unit_power": {"driver": "s0_pcnt"},
                    "watchdog_s": 0}, prof)
    with board_modules(m) as io:
        drivers = hal_board.build_drivers(plan, io)
    flow, meter = drivers["flow"], drivers["unit_power"]
    run(m, (flow, meter), 100)
    w = m.world
    for _ in range(20):  # no poll, no scheduler: the VM is busy
        w.pulse(27, width_us=2000)
        w.pulse(13, width_us=2000)
        w.clock.advance_us(6000)
    run(m, (flow, meter), 100)
    assert flow.pulses == 20 and meter.energy_kwh == pytest.approx(20 / 1000.0)
    assert meter.fault in (0, alarms.METER_FAULT)  # 20 pulses in 0.2 s is far above 30 kW


def test_rp2_counts_in_a_hard_irq_handler():
    m = make_machine("rp2")
    prof = profile("rp2")
    plan = hw.plan({"flow": {"driver": "pulse"}, "watchdog_s": 0}, prof)
    assert plan["flow"]["hard_irq"] is True
    with board_modules(m) as io:
        flow = hal_board.build_drivers(plan, io)["flow"]
    w = m.world
    for _ in range(10):
        w.pulse(3, width_us=1000)
        assert w.scheduled == 0  # ran at the edge: nothing queued
        run(m, (flow,), 500)
    assert flow.pulses == 10 and flow.value == pytest.approx(7.2, rel=0.02)
