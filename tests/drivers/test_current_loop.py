"""4-20 mA current loop driver: conversion, NAMUR NE43 bands, debounce, calibration."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers import params as dparams
from drivers.current_loop import PARAMS, CurrentLoop
from fake_machine import ADC
from mp_probe import run_probe

# With these calibration codes 3.6, 3.8, 4, 20, 20.5 and 21 mA all land on
# whole codes: 9000, 9500, 10000, 50000, 51250, 52500.
CAL = {"adc_cal_4ma_code": 10000, "adc_cal_20ma_code": 50000}


def make(**given_params):
    adc = ADC(26)
    drv = CurrentLoop(adc, dparams.validate(PARAMS, given_params, "loop"))
    return adc, drv


def feed(adc, drv, code, polls=1):
    for _ in range(polls):
        adc.code = code
        drv.poll(0)


def nominal_code(ma, shunt=150.0, vref=3.3):
    return round(ma * 1e-3 * shunt / vref * 65535)


def test_nominal_conversion_midscale():
    adc, drv = make(range_low=0.0, range_high=2.0, averaging=1)
    feed(adc, drv, nominal_code(12.0))
    assert drv.fault == 0
    assert drv.ma == pytest.approx(12.0, abs=0.001)
    assert drv.value == pytest.approx(1.0, abs=1e-3)


def test_no_value_before_the_first_sample():
    _, drv = make()
    assert drv.value is None and drv.ma is None and drv.fault == 0


@settings(max_examples=200, deadline=None)
@given(ma=st.floats(3.6, 21.0), low=st.floats(-50.0, 50.0), span=st.floats(0.1, 500.0),
       overrange=st.sampled_from(["clamp", "ne43"]))
def test_round_trip_ma_code_value(ma, low, span, overrange):
    adc, drv = make(range_low=low, range_high=low + span, averaging=1, overrange=overrange)
    code = nominal_code(ma)
    feed(adc, drv, code)
    lim_lo, lim_hi = (4.0, 20.0) if overrange == "clamp" else (3.8, 20.5)
    expected_ma = min(max(ma, lim_lo), lim_hi)
    expected = low + (expected_ma - 4.0) / 16.0 * span
    code_ma = 3.3 / 65535 / 150.0 * 1000.0  # one ADC code in mA
    if drv.fault:  # a rounded code may fall just outside the band edge
        assert ma - 3.6 < code_ma or 21.0 - ma < code_ma
        return
    assert drv.value == pytest.approx(expected, abs=span * code_ma / 16.0 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(a=st.integers(8000, 65535), b=st.integers(8000, 65535),
       cal=st.booleans(), overrange=st.sampled_from(["clamp", "ne43"]))
def test_mapping_is_monotonic(a, b, cal, overrange):
    extra = CAL if cal else {}
    adc1, d1 = make(averaging=1, fault_samples=1, overrange=overrange, **extra)
    adc2, d2 = make(averaging=1, fault_samples=1, overrange=overrange, **extra)
    feed(adc1, d1, min(a, b))
    feed(adc2, d2, max(a, b))
    assume(d1.fault == 0 and d2.fault == 0)
    assert d1.value <= d2.value
    assert d1.ma <= d2.ma


def test_calibrated_points():
    adc, drv = make(range_low=0.0, range_high=1.6, averaging=1, overrange="ne43", **CAL)
    for code, ma, value in [(10000, 4.0, 0.0), (50000, 20.0, 1.6), (30000, 12.0, 0.8),
                            (9500, 3.8, -0.02), (51250, 20.5, 1.65)]:
        feed(adc, drv, code)
        assert drv.ma == pytest.approx(ma, abs=1e-12)
        assert drv.value == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("overrange", ["clamp", "ne43"])
def test_ne43_band_edges_exact(overrange):
    adc, drv = make(range_low=0.0, range_high=16.0, averaging=1, fault_samples=1,
                    overrange=overrange, **CAL)
    assert (drv.code_low, drv.code_high) == (9000, 52500)
    lo, hi = (0.0, 16.0) if overrange == "clamp" else (-0.2, 16.5)
    # exactly 3.6 mA is still not a failure: it clamps to the bottom of the range
    feed(adc, drv, 9000)
    assert drv.ma == 3.6
    assert drv.fault == 0 and drv.value == pytest.approx(lo)
    feed(adc, drv, 8999)
    assert drv.fault == alarms.FLOW_LOOP_LOW and drv.value is None
    feed(adc, drv, 9000)
    assert drv.fault == 0
    # 3.6..3.8 mA clamps, 3.8 mA is the bottom of the NE43 measurement range
    feed(adc, drv, 9400)
    assert drv.value == pytest.approx(lo)
    feed(adc, drv, 9500)
    assert drv.value == pytest.approx(lo)
    # top: 20.5..21 mA clamps, exactly 21 mA is not a failure, above it is
    feed(adc, drv, 51250)
    assert drv.value == pytest.approx(hi)
    feed(adc, drv, 52500)
    assert drv.ma == 21.0
    assert drv.fault == 0 and drv.value == pytest.approx(hi)
    feed(adc, drv, 52501)
    assert drv.fault == alarms.FLOW_LOOP_HIGH and drv.value is None


def test_nominal_band_edges_match_the_conversion():
    _, drv = make()
    assert drv.ma_of(drv.code_low) >= 3.6 > drv.ma_of(drv.code_low - 1)
    assert drv.ma_of(drv.code_high) <= 21.0 < drv.ma_of(drv.code_high + 1)


def test_wire_break_debounce_and_recovery():
    adc, drv = make(range_low=0.0, range_high=16.0, averaging=4, fault_samples=3, **CAL)
    feed(adc, drv, 30000, polls=4)  # 12 mA
    assert drv.value == pytest.approx(8.0)
    # two bad polls: no fault yet, and the value holds (bad samples stay out of the mean)
    feed(adc, drv, 0, polls=2)
    assert drv.fault == 0
    assert drv.value == pytest.approx(8.0)
    # a good poll restarts the count
    feed(adc, drv, 30000)
    feed(adc, drv, 0, polls=2)
    assert drv.fault == 0
    feed(adc, drv, 0)
    assert drv.fault == alarms.FLOW_LOOP_LOW
    assert drv.value is None
    # clears after the same number of good polls, with a mean of new samples only
    feed(adc, drv, 40000, polls=2)  # 16 mA
    assert drv.fault == alarms.FLOW_LOOP_LOW and drv.value is None
    feed(adc, drv, 40000)
    assert drv.fault == 0
    assert drv.value == pytest.approx(12.0)


def test_short_circuit_saturated_adc_is_loop_high():
    adc, drv = make(fault_samples=2)
    feed(adc, drv, nominal_code(10.0))
    feed(adc, drv, 65535, polls=2)  # 22 mA with 150 ohm and 3.3 V
    assert drv.fault == alarms.FLOW_LOOP_HIGH
    assert drv.value is None


@settings(max_examples=100, deadline=None)
@given(codes=st.lists(st.integers(0, 65535), min_size=1, max_size=60),
       n=st.integers(1, 6))
def test_fault_needs_n_consecutive_bad_polls(codes, n):
    adc, drv = make(fault_samples=n, averaging=3, **CAL)
    bad_run = good_run = 0
    faulted = False
    for code in codes:
        feed(adc, drv, code)
        if 9000 <= code <= 52500:
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


def test_average_over_the_last_samples():
    adc, drv = make(range_low=0.0, range_high=16.0, averaging=4, **CAL)
    for code in (20000, 30000, 40000, 50000):  # 8, 12, 16, 20 mA
        feed(adc, drv, code)
    assert drv.value == pytest.approx(10.0)
    feed(adc, drv, 50000)  # the 20000 drops out
    assert drv.value == pytest.approx(13.0)


@pytest.mark.parametrize("given_params,key", [
    ({"range_low": 5.0, "range_high": 5.0}, "range_low"),
    ({"adc_cal_4ma_code": 10000}, "adc_cal_20ma_code"),
    ({"adc_cal_4ma_code": 10000, "adc_cal_20ma_code": 10500}, "adc_cal_20ma_code"),
    ({"shunt_ohm": 165.0}, "shunt_ohm"),  # 3.3 V full scale = 20 mA: a short is unseen
    ({"adc_cal_4ma_code": 500, "adc_cal_20ma_code": 40000}, "adc_cal_4ma_code"),
    ({"adc_cal_4ma_code": 10000, "adc_cal_20ma_code": 64000}, "adc_cal_20ma_code"),
])
def test_config_errors(given_params, key):
    with pytest.raises(ConfigError) as exc:
        make(**given_params)
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
