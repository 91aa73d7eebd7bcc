"""0-10 V analog output: percent -> volts -> code, through PWM or the ESP32 DAC,
nominal or two-point calibrated, checked against a modelled output stage."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.config import ConfigError
from drivers.analog_out import PARAMS, AnalogOut
from drivers.params import validate
from host_tools.twins import make_machine
from twin_io import dac_level, machine_io, needs, pwm_duty, pwm_freq

pcts = st.floats(0.0, 100.0)


PWM_PIN = 15
DAC_PIN = 25  # the ESP32 DAC is on GPIO25/26 only


def kinds(port):
    """The output kinds the port has (machine.DAC only on the ESP32)."""
    return ["pwm", "dac"] if port == "esp32" else ["pwm"]


def make(port, kind="pwm", **given):
    """The driver on a fresh board's PWM or DAC pin, built as the board HAL
    builds it (hal_board.MachineIO.pwm/.dac); returns (driver, world)."""
    params = validate(PARAMS, dict(given, kind=kind), "aout")
    if kind == "dac":
        needs(port, "dac")
    m = make_machine(port)
    io = machine_io(m)
    out = io.pwm(PWM_PIN, params["pwm_freq_hz"]) if kind == "pwm" else io.dac(DAC_PIN)
    return AnalogOut(out, params), m.world


def written(drv, w):
    """The code on the output pin, read back from the board's outside."""
    return pwm_duty(w, PWM_PIN) if drv.full_code == 65535 else dac_level(w, DAC_PIN)


class Stage:
    """A real output stage: the pin's full-scale volts and the op-amp's gain
    are off nominal, and the op-amp adds an offset."""

    def __init__(self, full, pin_full_v=3.27, gain=3.07, offset_v=0.04):
        self.full = full
        self.pin_full_v = pin_full_v
        self.gain = gain
        self.offset_v = offset_v

    def volts(self, code):
        return self.offset_v + self.gain * self.pin_full_v * code / self.full


def calibrated(port, kind, stage, code_a, code_b, **given):
    """Commissioning: write code A and B, 'measure' them, enter the readings."""
    return make(port, kind, calibration="two_point", cal_code_a=code_a,
                cal_v_a=stage.volts(code_a), cal_code_b=code_b, cal_v_b=stage.volts(code_b),
                **given)


# ---- conversions --------------------------------------------------------------

@settings(max_examples=200)
@given(st.data(), st.floats(0.0, 4.0), st.floats(6.0, 10.0), pcts, pcts)
def test_code_rises_with_percent(port, data, v0, v100, a, b):
    kind = data.draw(st.sampled_from(kinds(port)))
    drv, _ = make(port, kind, v_at_0_pct=v0, v_at_100_pct=v100)
    lo, hi = min(a, b), max(a, b)
    assert drv.code_for_pct(lo) <= drv.code_for_pct(hi)


@given(pcts, pcts)
def test_reverse_acting_range_gives_a_falling_code(port, a, b):
    drv, _ = make(port, v_at_0_pct=10.0, v_at_100_pct=0.0)
    lo, hi = min(a, b), max(a, b)
    assert drv.code_for_pct(lo) >= drv.code_for_pct(hi)
    assert drv.code_for_pct(0.0) == 65535 and drv.code_for_pct(100.0) == 0


def test_nominal_end_points(port):
    drv, _ = make(port)
    assert drv.code_for_pct(0.0) == 0
    assert drv.code_for_pct(100.0) == 65535
    assert drv.volts_for_code(65535) == pytest.approx(10.0, abs=0.001)
    drv, _ = make(port, v_at_0_pct=2.0)  # 2-10 V input
    assert drv.volts_for_code(drv.code_for_pct(0.0)) == pytest.approx(2.0, abs=0.001)
    assert drv.volts_for_code(drv.code_for_pct(50.0)) == pytest.approx(6.0, abs=0.001)


@settings(max_examples=200)
@given(st.data(), st.floats(0.0, 2.0), pcts,
       st.floats(0.95, 1.05), st.floats(0.95, 1.05), st.floats(-0.1, 0.1),
       st.floats(0.1, 0.3), st.floats(0.7, 0.9))
def test_two_point_calibration_round_trip(port, data, v0, pct, k_pin, k_gain, offset, fa, fb):
    """pct -> code (driver) -> volts (the real stage) -> pct lands within half
    a code of the request."""
    kind = data.draw(st.sampled_from(kinds(port)))
    full = 65535 if kind == "pwm" else 255
    stage = Stage(full, 3.3 * k_pin, 3.0303 * k_gain, offset)
    code_a, code_b = int(fa * full), int(fb * full)
    drv, _ = calibrated(port, kind, stage, code_a, code_b, v_at_0_pct=v0, v_at_100_pct=9.0)
    code = drv.code_for_pct(pct)
    assume(0 < code < full)  # not clamped (the stage may not reach the range end)
    back = (stage.volts(code) - v0) * 100.0 / (9.0 - v0)
    half_code_pct = 0.5 * (stage.volts(1) - stage.volts(0)) * 100.0 / (9.0 - v0)
    assert abs(back - pct) <= half_code_pct + 1e-9
    # The driver's own model agrees with the stage at every code.
    assert drv.volts_for_code(code) == pytest.approx(stage.volts(code), abs=1e-9)


def test_uncalibrated_stage_error_is_what_calibration_removes(port):
    stage = Stage(65535)
    nominal, _ = make(port)
    cal, _ = calibrated(port, "pwm", stage, 13107, 52428)
    err_nominal = abs(stage.volts(nominal.code_for_pct(60.0)) - 6.0)
    err_cal = abs(stage.volts(cal.code_for_pct(60.0)) - 6.0)
    assert err_nominal > 0.05  # 3.27 * 3.07 + 0.04 is not 10 V
    assert err_cal < 0.001


@settings(max_examples=200)
@given(pcts, st.floats(0.0, 2.0))
def test_dac_quantisation_within_half_a_code(port, pct, v0):
    drv, w = make(port, "dac", v_at_0_pct=v0, v_at_100_pct=10.0)
    drv.apply(pct, True)
    drv.poll(0)
    step_v = drv.volts_for_code(1) - drv.volts_for_code(0)
    assert step_v == pytest.approx(10.0 / 255, rel=1e-3)  # 39 mV per code at 0-10 V
    level = dac_level(w, DAC_PIN)
    assert abs(drv.volts_for_code(level) - drv.volts_for_pct(pct)) <= step_v / 2 + 1e-9
    assert 0 <= level <= 255 and isinstance(level, int)


@settings(max_examples=200)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.booleans())
def test_pwm_duty_stays_in_range_and_is_an_int(port, pct, run):
    drv, w = make(port)
    drv.apply(pct, run)
    drv.poll(0)  # the PWM raises on a duty outside 0..65535
    assert isinstance(pwm_duty(w, PWM_PIN), int)
    expected = drv.code_for_pct(min(100.0, max(0.0, pct)) if run else 0.0)
    assert pwm_duty(w, PWM_PIN) == expected


def test_pwm_frequency_is_set(port):
    _, w = make(port, pwm_freq_hz=5000)
    assert pwm_freq(w, PWM_PIN) == 5000


# ---- clamping -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["pwm", "dac"])
def test_out_of_range_commands_clamp(port, kind):
    drv, w = make(port, kind, v_at_0_pct=2.0)
    for pct, expect in ((-5.0, 0.0), (150.0, 100.0), (1e300, 100.0), (-math.inf, 0.0)):
        drv.apply(pct, True)
        drv.poll(0)
        if math.isfinite(pct):
            assert drv.position_pct == expect
            assert written(drv, w) == drv.code_for_pct(expect)


def test_volts_the_stage_cannot_make_clamp_to_full_scale(port):
    # A stage that tops out at 9.9 V, within the allowed slack of a 10 V range.
    drv, w = make(port, gain=3.0)
    drv.apply(100.0, True)
    drv.poll(0)
    assert pwm_duty(w, PWM_PIN) == 65535
    assert drv.code_for_volts(-1.0) == 0


def test_nan_command_holds_the_last_output(port):
    drv, w = make(port)
    drv.apply(40.0, True)
    drv.poll(0)
    duty = pwm_duty(w, PWM_PIN)
    drv.apply(float("nan"), True)
    drv.poll(10)
    assert pwm_duty(w, PWM_PIN) == duty and drv.position_pct == 40.0


# ---- run / stop, contract ----------------------------------------------------

def test_stopped_output_goes_to_the_stop_level_and_position_is_the_command(port):
    drv, w = make(port, "dac", v_at_0_pct=2.0, stop_pct=0.0)
    assert drv.position_pct == 0.0
    # 2 V from construction, before any poll
    assert dac_level(w, DAC_PIN) == drv.code_for_pct(0.0) > 0
    drv.apply(75.0, True)
    assert dac_level(w, DAC_PIN) == drv.code_for_pct(0.0)  # apply does no I/O
    drv.poll(0)
    assert drv.position_pct == 75.0 and dac_level(w, DAC_PIN) == drv.code_for_pct(75.0)
    drv.apply(75.0, False)
    drv.poll(10)
    assert drv.position_pct == 0.0 and dac_level(w, DAC_PIN) == drv.code_for_pct(0.0)
    assert drv.fault == 0


def test_stop_pct_param(port):
    drv, w = make(port, stop_pct=30.0)
    drv.apply(90.0, False)
    drv.poll(0)
    assert drv.position_pct == 30.0 and pwm_duty(w, PWM_PIN) == drv.code_for_pct(30.0)


def test_fault_is_always_zero(port):
    drv, _ = make(port)
    for pct, run in ((0.0, False), (100.0, True), (-1.0, True), (float("nan"), True)):
        drv.apply(pct, run)
        drv.poll(0)
        assert drv.fault == 0


def test_set_raw_holds_a_code_for_commissioning(port):
    drv, w = make(port)
    drv.apply(50.0, True)
    drv.set_raw(13107)
    drv.poll(0)
    assert pwm_duty(w, PWM_PIN) == 13107
    assert drv.position_pct == pytest.approx(20.0, abs=0.01)
    drv.set_raw(99999)
    drv.poll(10)
    assert pwm_duty(w, PWM_PIN) == 65535
    drv.set_raw(-1)
    drv.poll(20)
    assert pwm_duty(w, PWM_PIN) == drv.code_for_pct(50.0) and drv.position_pct == 50.0


# ---- config -----------------------------------------------------------------

@pytest.mark.parametrize("given, key", [
    ({"v_at_0_pct": 5.0, "v_at_100_pct": 5.5}, "v_at_100_pct"),
    ({"gain": 2.0}, "v_at_100_pct"),  # 6.6 V full scale cannot make 10 V
    ({"kind": "dac", "calibration": "two_point"}, "cal_code_a"),  # default codes are PWM codes
    ({"calibration": "two_point", "cal_code_a": 30000, "cal_code_b": 31000}, "cal_code_b"),
    ({"calibration": "two_point", "cal_v_a": 8.0, "cal_v_b": 2.0}, "cal_v_b"),
    ({"calibration": "two_point", "cal_v_a": 2.0, "cal_v_b": 3.0}, "v_at_0_pct"),
])
def test_config_errors(port, given, key):
    given = dict(given)
    kind = given.pop("kind", "pwm")
    with pytest.raises(ConfigError) as exc:
        make(port, kind, **given)
    assert exc.value.key == key

