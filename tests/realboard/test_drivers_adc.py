"""Issue 11 item 6: analog inputs inside the port's linear ADC window. The
ESP32 ADC at 11 dB is linear only over about 150-2450 mV and read_u16 is not
calibrated; the HAL reads read_uv() there, and the profile's divider and shunt
keep the NTC (freeze protection near 0 degC included) and the 4-20 mA loop
(NE43 fault bands included) inside the window. A combination that leaves it is
refused."""

import math

import pytest

import hal_board
import hw
from core import alarms
from core.config import ConfigError
from host_tools import hwconfig
from host_tools.errors import CopflowError
from host_tools.twins import make_machine
from twin_board import machine_io

PROFILE = {"esp32": "esp32-devkitc", "rp2": "pico"}




def build(m, config):
    prof = hwconfig.load_profile(PROFILE[m.port])
    plan = hw.plan(dict(config, watchdog_s=0), prof)
    return plan, hal_board.build_drivers(plan, machine_io(m))


def r_ntc(t_c):  # the 10 k B3950 probe of the defaults (beta model)
    return 10000.0 * math.exp(3950.0 * (1.0 / (t_c + 273.15) - 1.0 / 298.15))


def poll(drv, n):
    for i in range(n):
        drv.poll(i * 10)


@pytest.mark.parametrize("port", ["esp32", "rp2"])
@pytest.mark.parametrize("t_c", [-8.0, -2.0, 0.0, 2.0, 5.0, 25.0, 60.0])
def test_the_ntc_reads_true_over_its_range_freeze_protection_included(port, t_c):
    m = make_machine(port)
    plan, drivers = build(m, {"temperature": {"driver": "ntc"}})
    ntc = drivers["temperature"]
    params = plan["temperature"]["params"]
    r = r_ntc(t_c)
    volts = 3.3 * r / (r + params["r_fixed_ohm"])
    m.world.set_volts(plan["temperature"]["pins"]["adc"], volts)
    poll(ntc, params["samples"])
    assert ntc.fault == 0
    assert ntc.value == pytest.approx(t_c, abs=0.3)


@pytest.mark.parametrize("port", ["esp32", "rp2"])
@pytest.mark.parametrize("ma", [3.8, 4.0, 12.0, 20.0, 20.5])
def test_the_current_loop_reads_true_up_to_the_ne43_limits(port, ma):
    m = make_machine(port)
    plan, drivers = build(m, {"flow": {"driver": "current_loop",
                                       "params": {"overrange": "ne43"}}})
    loop = drivers["flow"]
    shunt = plan["flow"]["params"]["shunt_ohm"]
    m.world.set_volts(plan["flow"]["pins"]["adc"], ma * shunt / 1000.0)
    poll(loop, 20)
    assert loop.fault == 0
    assert loop.ma == pytest.approx(ma, abs=0.05)


@pytest.mark.parametrize("port", ["esp32", "rp2"])
@pytest.mark.parametrize(("ma", "bit"), [(3.0, alarms.FLOW_LOOP_LOW),
                                          (21.6, alarms.FLOW_LOOP_HIGH)])
def test_the_ne43_fault_bands_are_seen(port, ma, bit):
    m = make_machine(port)
    plan, drivers = build(m, {"flow": {"driver": "current_loop"}})
    loop = drivers["flow"]
    shunt = plan["flow"]["params"]["shunt_ohm"]
    m.world.set_volts(plan["flow"]["pins"]["adc"], ma * shunt / 1000.0)
    poll(loop, 20)
    assert loop.fault == bit and loop.value is None


@pytest.mark.parametrize(("config", "key"), [
    ({"temperature": {"driver": "ntc", "params": {"r_fixed_ohm": 10000.0}}},
     "temperature.params.r_fixed_ohm"),
    ({"t_out": {"driver": "ntc", "params": {"t_min_c": -30.0}}}, "t_out.params.r_fixed_ohm"),
    ({"flow": {"driver": "current_loop", "params": {"shunt_ohm": 150.0}}},
     "flow.params.shunt_ohm"),
    ({"flow": {"driver": "current_loop", "params": {"shunt_ohm": 33.0}}},
     "flow.params.shunt_ohm"),
])
def test_a_range_leaving_the_esp32_linear_window_is_refused(config, key):
    m = make_machine("esp32")
    with pytest.raises(ConfigError, match=key + ".*linear window 150..2450 mV"):
        build(m, config)
    with pytest.raises(CopflowError, match=key):
        hwconfig.check(config, "esp32-devkitc")


def test_the_same_parts_are_fine_on_rp2_whose_adc_is_linear_to_the_rail():
    m = make_machine("rp2")
    _, drivers = build(m, {"temperature": {"driver": "ntc", "params": {"r_fixed_ohm": 10000.0}},
                           "flow": {"driver": "current_loop",
                                    "params": {"shunt_ohm": 150.0}}})
    assert sorted(drivers) == ["flow", "temperature"]


def test_the_esp32_adc_is_read_calibrated_in_volts_without_allocating_floats():
    m = make_machine("esp32")
    adc = machine_io(m).adc(34)
    for volts in (0.2, 1.0, 1.65, 2.4):
        m.world.set_volts(34, volts)
        code = adc.read_u16()
        assert isinstance(code, int)
        assert code * 3.3 / 65535 == pytest.approx(volts, abs=0.005)


@pytest.mark.parametrize(("volts", "code"), [(0.0, 0), (0.1, 0), (2.6, 65535), (3.3, 65535)])
def test_esp32_readings_beyond_the_linear_window_read_as_the_rail(volts, code):
    m = make_machine("esp32")
    adc = machine_io(m).adc(34)
    m.world.set_volts(34, volts)
    assert adc.read_u16() == code


def test_the_esp32_window_in_the_profile_is_the_one_the_hal_reads_with():
    prof = hwconfig.load_profile("esp32-devkitc")
    assert prof["adc_linear_mv"] == [hal_board.UvAdc.LOW_UV // 1000,
                                     hal_board.UvAdc.HIGH_UV // 1000]


@pytest.mark.parametrize("port", ["esp32", "rp2"])
@pytest.mark.parametrize(("volts", "bit"), [(0.0, alarms.T_SHORT), (3.3, alarms.T_OPEN)])
def test_a_shorted_or_open_ntc_is_a_fault_not_a_temperature(port, volts, bit):
    m = make_machine(port)
    plan, drivers = build(m, {"temperature": {"driver": "ntc"}})
    ntc = drivers["temperature"]
    m.world.set_volts(plan["temperature"]["pins"]["adc"], volts)
    poll(ntc, plan["temperature"]["params"]["samples"])
    assert ntc.fault == bit and ntc.value is None
