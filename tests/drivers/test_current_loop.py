"""4-20 mA current loop driver: conversion, NAMUR NE43 bands, debounce, calibration."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers import params as dparams
from drivers.current_loop import PARAMS, CurrentLoop
from host_tools.twins import make_machine
from mp_probe import run_probe
from twin_io import AdcInput

# With these calibration codes 3.6, 3.8, 4, 20, 20.5 and 21 mA all land on
# whole codes: 7200, 7600, 8000, 40000, 41000, 42000 (0.36..2.12 V: inside the
# ESP32's linear ADC window, 150..2450 mV, too).
CAL = {"adc_cal_4ma_code": 8000, "adc_cal_20ma_code": 40000}
# The loop shunt: 100 ohm puts 3.6..21 mA at 0.36..2.1 V, which every port
# measures (150 ohm, the default, reaches 3.15 V: beyond the ESP32's window).
SHUNT = 100.0


def make(port, **given_params):
    """The driver on an ADC pin of a fresh board, built as the board HAL builds
    it; returns (the pin's input, driver)."""
    inp = AdcInput(make_machine(port))
    given_params.setdefault("shunt_ohm", SHUNT)
    drv = CurrentLoop(inp.adc, dparams.validate(PARAMS, given_params, "loop"))
    return inp, drv


def feed(inp, drv, code, polls=1):
    """Polls with the shunt at the voltage the port's ADC reads as `code` (the
    nearest code it gives); returns that code."""
    got = inp.set_code(code)
    for _ in range(polls):
        drv.poll(0)
    return got


def nominal_code(ma, shunt=SHUNT, vref=3.3):
    return round(ma * 1e-3 * shunt / vref * 65535)


def cal_ma(code):
    """mA for a code with the CAL calibration (4 mA at 8000, 20 mA at 40000)."""
    return 4.0 + (code - 8000) * 16.0 / 32000


def test_nominal_conversion_midscale(port):
    inp, drv = make(port, range_low=0.0, range_high=2.0, averaging=1)
    code = feed(inp, drv, nominal_code(12.0))
    ma = code * 3.3 / 65535 / SHUNT * 1000.0
    assert drv.fault == 0
    assert drv.ma == pytest.approx(ma, abs=1e-9)
    assert drv.ma == pytest.approx(12.0, abs=0.006)  # within a 12-bit step
    assert drv.value == pytest.approx((ma - 4.0) / 16.0 * 2.0, abs=1e-9)


def test_no_value_before_the_first_sample(port):
    _, drv = make(port)
    assert drv.value is None and drv.ma is None and drv.fault == 0


@settings(max_examples=200, deadline=None)
@given(ma=st.floats(3.6, 21.0), low=st.floats(-50.0, 50.0), span=st.floats(0.1, 500.0),
       overrange=st.sampled_from(["clamp", "ne43"]))
def test_round_trip_ma_code_value(port, ma, low, span, overrange):
    inp, drv = make(port, range_low=low, range_high=low + span, averaging=1, fault_samples=1,
                    overrange=overrange)
    ideal = nominal_code(ma)
    code = feed(inp, drv, ideal)
    step = inp.step(code)
    code_ma = step * 3.3 / 65535 / SHUNT * 1000.0  # one step of the port's ADC in mA
    lim_lo, lim_hi = (4.0, 20.0) if overrange == "clamp" else (3.8, 20.5)
    expected_ma = min(max(ma, lim_lo), lim_hi)
    expected = low + (expected_ma - 4.0) / 16.0 * span
    if drv.fault:  # the code read may fall just outside the band edge
        assert ma - 3.6 < code_ma or 21.0 - ma < code_ma
        return
    assert drv.value == pytest.approx(expected, abs=span * code_ma / 16.0 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(a=st.integers(8000, 65535), b=st.integers(8000, 65535),
       cal=st.booleans(), overrange=st.sampled_from(["clamp", "ne43"]))
def test_mapping_is_monotonic(port, a, b, cal, overrange):
    extra = CAL if cal else {}
    inp1, d1 = make(port, averaging=1, fault_samples=1, overrange=overrange, **extra)
    inp2, d2 = make(port, averaging=1, fault_samples=1, overrange=overrange, **extra)
    feed(inp1, d1, min(a, b))
    feed(inp2, d2, max(a, b))
    assume(d1.fault == 0 and d2.fault == 0)
    assert d1.value <= d2.value
    assert d1.ma <= d2.ma


def test_calibrated_points(port):
    inp, drv = make(port, range_low=0.0, range_high=1.6, averaging=1, overrange="ne43", **CAL)
    for target in (8000, 40000, 24000, 7600, 41000):  # 4, 20, 12, 3.8, 20.5 mA
        code = feed(inp, drv, target)
        ma = cal_ma(code)
        assert drv.ma == pytest.approx(ma, abs=1e-12)
        assert drv.value == pytest.approx(min(max(ma, 3.8), 20.5) * 0.1 - 0.4, abs=1e-12)
        assert abs(ma - cal_ma(target)) <= 16 * 16.0 / 32000  # within a 12-bit step


def test_ne43_band_edge_codes():
    # The calibration puts 3.6 mA on code 7200 and 21 mA on code 42000: those
    # are the last good codes (a code the ADC never gives is no matter here).
    for overrange in ("clamp", "ne43"):
        drv = CurrentLoop(None, dparams.validate(PARAMS, dict(CAL, overrange=overrange), "l"))
        assert (drv.code_low, drv.code_high) == (7200, 42000)
        assert drv.ma_of(7200) == pytest.approx(3.6, abs=1e-12)
        assert drv.ma_of(42000) == pytest.approx(21.0, abs=1e-12)


@pytest.mark.parametrize("overrange", ["clamp", "ne43"])
def test_ne43_band_edges_exact(port, overrange):
    inp, drv = make(port, range_low=0.0, range_high=16.0, averaging=1, fault_samples=1,
                    overrange=overrange, **CAL)
    lo, hi = (0.0, 16.0) if overrange == "clamp" else (-0.2, 16.5)
    # The codes the port's ADC gives either side of each band edge.
    low_ok, low_bad = inp.at_least(drv.code_low), inp.at_most(drv.code_low - 1)
    high_ok, high_bad = inp.at_most(drv.code_high), inp.at_least(drv.code_high + 1)
    # the lowest code at or above 3.6 mA is still not a failure: it clamps
    feed(inp, drv, low_ok)
    assert drv.ma == pytest.approx(cal_ma(low_ok), abs=1e-12) and drv.ma >= 3.6
    assert drv.fault == 0 and drv.value == pytest.approx(lo)
    feed(inp, drv, low_bad)
    assert drv.fault == alarms.FLOW_LOOP_LOW and drv.value is None
    feed(inp, drv, low_ok)
    assert drv.fault == 0
    # 3.6..3.8 mA clamps, 3.8 mA is the bottom of the NE43 measurement range
    code = feed(inp, drv, 7520)  # 3.76 mA
    assert cal_ma(code) < 3.8 and drv.value == pytest.approx(lo)
    feed(inp, drv, inp.at_most(7600))
    assert drv.value == pytest.approx(lo)
    # top: 20.5..21 mA clamps, the highest code at or below 21 mA is not a
    # failure, the next one is
    feed(inp, drv, inp.at_least(41000))
    assert drv.value == pytest.approx(hi)
    feed(inp, drv, high_ok)
    assert drv.ma == pytest.approx(cal_ma(high_ok), abs=1e-12) and drv.ma <= 21.0
    assert drv.fault == 0 and drv.value == pytest.approx(hi)
    feed(inp, drv, high_bad)
    assert drv.fault == alarms.FLOW_LOOP_HIGH and drv.value is None


def test_nominal_band_edges_match_the_conversion(port):
    _, drv = make(port)
    assert drv.ma_of(drv.code_low) >= 3.6 > drv.ma_of(drv.code_low - 1)
    assert drv.ma_of(drv.code_high) <= 21.0 < drv.ma_of(drv.code_high + 1)


def test_wire_break_debounce_and_recovery(port):
    inp, drv = make(port, range_low=0.0, range_high=16.0, averaging=4, fault_samples=3, **CAL)
    code = feed(inp, drv, 24000, polls=4)  # 12 mA
    good = cal_ma(code) - 4.0
    assert drv.value == pytest.approx(good)
    # two bad polls: no fault yet, and the value holds (bad samples stay out of the mean)
    feed(inp, drv, 0, polls=2)
    assert drv.fault == 0
    assert drv.value == pytest.approx(good)
    # a good poll restarts the count
    feed(inp, drv, 24000)
    feed(inp, drv, 0, polls=2)
    assert drv.fault == 0
    feed(inp, drv, 0)
    assert drv.fault == alarms.FLOW_LOOP_LOW
    assert drv.value is None
    # clears after the same number of good polls, with a mean of new samples only
    code = feed(inp, drv, 32000, polls=2)  # 16 mA
    assert drv.fault == alarms.FLOW_LOOP_LOW and drv.value is None
    feed(inp, drv, 32000)
    assert drv.fault == 0
    assert drv.value == pytest.approx(cal_ma(code) - 4.0)


def test_short_circuit_saturated_adc_is_loop_high(port):
    inp, drv = make(port, fault_samples=2)
    feed(inp, drv, nominal_code(10.0))
    assert drv.fault == 0
    inp.set_volts(3.3)  # a short: the pin at the 3.3 V rail (33 mA through 100 ohm)
    drv.poll(0)
    drv.poll(0)
    assert drv.fault == alarms.FLOW_LOOP_HIGH
    assert drv.value is None


@settings(max_examples=100, deadline=None)
@given(codes=st.lists(st.integers(0, 65535), min_size=1, max_size=60),
       n=st.integers(1, 6))
def test_fault_needs_n_consecutive_bad_polls(port, codes, n):
    inp, drv = make(port, fault_samples=n, averaging=3, **CAL)
    bad_run = good_run = 0
    faulted = False
    for code in codes:
        code = feed(inp, drv, code)
        if 7200 <= code <= 42000:
            good_run += 1
            bad_run = 0
            if faulted and good_run >= n:
                faulted = False
        else:
            bad_run += 1
            good_run = 0
            if bad_run >= n:
                faulted = True
        assert bool(drv.fault) == faulted
        if faulted:
            assert drv.value is None
        if drv.value is not None:
            assert -0.2 * 100 / 16 <= drv.value <= 100.0 * 16.5 / 16


def test_average_over_the_last_samples(port):
    inp, drv = make(port, range_low=0.0, range_high=16.0, averaging=4, **CAL)
    codes = [feed(inp, drv, code) for code in (16000, 24000, 32000, 40000)]  # 8..20 mA
    assert drv.value == pytest.approx(sum(cal_ma(c) - 4.0 for c in codes) / 4)
    codes.append(feed(inp, drv, 40000))  # the first drops out
    assert drv.value == pytest.approx(sum(cal_ma(c) - 4.0 for c in codes[1:]) / 4)


@pytest.mark.parametrize("given_params,key", [
    ({"range_low": 5.0, "range_high": 5.0}, "range_low"),
    ({"adc_cal_4ma_code": 10000}, "adc_cal_20ma_code"),
    ({"adc_cal_4ma_code": 10000, "adc_cal_20ma_code": 10500}, "adc_cal_20ma_code"),
    ({"shunt_ohm": 165.0}, "shunt_ohm"),  # 3.3 V full scale = 20 mA: a short is unseen
    ({"adc_cal_4ma_code": 500, "adc_cal_20ma_code": 40000}, "adc_cal_4ma_code"),
    ({"adc_cal_4ma_code": 10000, "adc_cal_20ma_code": 64000}, "adc_cal_20ma_code"),
])
def test_config_errors(port, given_params, key):
    with pytest.raises(ConfigError) as exc:
        make(port, **given_params)
    assert exc.value.key == key



HEAP_LOCKED_PROBE = """
import gc
gc.disable()
import micropython
from drivers import params
from drivers.current_loop import PARAMS, CurrentLoop


class FakeADC:
    def __init__(self):
        self.code = 0

    def read_u16(self):
        return self.code


def run(adc, drv):
    i = 0
    while i < 400:
        adc.code = (i * 977) % 65536  # good, low and high codes
        drv.poll(i)
        i += 1


def main():
    adc = FakeADC()
    drv = CurrentLoop(adc, params.validate(PARAMS, {"averaging": 64, "fault_samples": 2}, "l"))
    ok = [0]
    micropython.heap_lock()
    try:
        run(adc, drv)
        ok[0] = 1
    except MemoryError:
        pass
    micropython.heap_unlock()
    print("poll_ok", ok[0], "fault", drv.fault)


main()
"""


def test_poll_does_not_allocate_on_micropython(tmp_path):
    out = run_probe(tmp_path, HEAP_LOCKED_PROBE)
    assert "poll_ok 1" in out, out
