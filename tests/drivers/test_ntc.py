"""NTC thermistor driver: conversions, divider orientation, rail faults, averaging."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers.ntc import NTC, PARAMS
from drivers.params import validate
from fake_machine import ADC, Pin

FULL = 65535
# A 10k B3950 probe's published R-T table (Adafruit 103_3950 lookup table), ohm.
TABLE_3950 = {0: 31770.0, 5: 24940.0, 10: 19680.0, 15: 15620.0, 20: 12470.0, 25: 10000.0,
              30: 8064.0, 35: 6538.0, 40: 5327.0, 45: 4363.0, 50: 3592.0}


def make(**given_params):
    params = validate(PARAMS, {"samples": 1, **given_params}, "t_inlet")
    adc = ADC(Pin(26))
    return adc, NTC(adc, params)


def read(adc, drv, code):
    adc.code = code
    drv.poll(0)
    return drv.value


# Independent references (not the driver's code).
def r_beta(t_c, r25=10000.0, beta=3950.0):
    return r25 * math.exp(beta * (1 / (t_c + 273.15) - 1 / 298.15))


def t_beta(r, r25=10000.0, beta=3950.0):
    return 1 / (1 / 298.15 + math.log(r / r25) / beta) - 273.15


def frac_of_r(r, r_fixed, divider):
    return r / (r + r_fixed) if divider == "ntc_low" else r_fixed / (r + r_fixed)


def r_of_frac(x, r_fixed, divider):
    return r_fixed * x / (1 - x) if divider == "ntc_low" else r_fixed * (1 - x) / x


def sh_fit(points):
    """Steinhart-Hart A, B, C through three (degC, ohm) points (Cramer's rule)."""
    rows = [(1.0, math.log(r), math.log(r) ** 3) for _, r in points]
    rhs = [1 / (t + 273.15) for t, _ in points]

    def det(m):
        return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))

    d = det(rows)
    out = []
    for col in range(3):
        m = [list(row) for row in rows]
        for i in range(3):
            m[i][col] = rhs[i]
        out.append(det(m) / d)
    return out


DIVIDERS = ["ntc_low", "ntc_high"]


# ---- conversions ----

@settings(max_examples=200, deadline=None)
@given(divider=st.sampled_from(DIVIDERS), model=st.sampled_from(["beta", "steinhart"]),
       c1=st.integers(700, 64800), c2=st.integers(700, 64800))
def test_temperature_is_monotonic_in_the_code(divider, model, c1, c2):
    assume(c1 < c2)
    adc, drv = make(divider=divider, model=model)
    t1, t2 = read(adc, drv, c1), read(adc, drv, c2)
    assert t1 is not None and t2 is not None
    if divider == "ntc_low":  # higher code: more NTC resistance: colder
        assert t1 > t2
    else:
        assert t1 < t2


@settings(max_examples=300, deadline=None)
@given(divider=st.sampled_from(DIVIDERS), t=st.floats(-30.0, 110.0),
       r_fixed=st.sampled_from([2200.0, 10000.0, 47000.0]))
def test_round_trip_temperature_resistance_code_temperature(divider, t, r_fixed):
    adc, drv = make(divider=divider, r_fixed_ohm=r_fixed, model="beta")
    code = round(frac_of_r(r_beta(t), r_fixed, divider) * FULL)
    assume(700 <= code <= 64800)  # inside the valid band
    value = read(adc, drv, code)
    # Half a code either side bounds the quantisation error at this point.
    ends = [t_beta(r_of_frac((code + d) / FULL, r_fixed, divider)) for d in (-0.5, 0.5)]
    assert abs(value - t) <= abs(ends[1] - ends[0]) + 1e-9
    assert value == pytest.approx(t_beta(r_of_frac(code / FULL, r_fixed, divider)), abs=1e-9)


def test_known_point_25c_midscale():
    for divider in DIVIDERS:
        adc, drv = make(divider=divider)
        assert read(adc, drv, 32768) == pytest.approx(25.0, abs=0.002)  # R = r_fixed = r25


def test_steinhart_defaults_are_the_fit_of_the_published_table():
    a, b, c = sh_fit([(t, TABLE_3950[t]) for t in (0, 25, 50)])
    defaults = validate(PARAMS, {}, "t")
    assert defaults["sh_a"] == pytest.approx(a, rel=1e-6)
    assert defaults["sh_b"] == pytest.approx(b, rel=1e-6)
    assert defaults["sh_c"] == pytest.approx(c, rel=1e-6)


def table_code(r):
    return round(frac_of_r(r, 10000.0, "ntc_low") * FULL)


def test_steinhart_reproduces_the_table_between_its_fit_points():
    adc, drv = make(model="steinhart")
    for t, r in TABLE_3950.items():
        # 0.03 degC model error plus the 10k/10k divider's quantisation (< 0.003 degC)
        assert read(adc, drv, table_code(r)) == pytest.approx(t, abs=0.03)


def test_beta_and_steinhart_agree_for_10k_b3950_over_0_to_50c():
    # A B25/50 beta model is exact at 25 and 50 degC and drifts below 25 degC,
    # where the real curve (Steinhart-Hart through the table) is flatter.
    # Stated tolerance: 1.1 degC over 0..50 degC, 0.15 degC over 25..50 degC.
    adc_b, beta = make(model="beta")
    adc_s, sh = make(model="steinhart")
    worst_all = worst_warm = 0.0
    for code in range(table_code(TABLE_3950[0]), table_code(TABLE_3950[50]) - 1, -37):
        tb, ts = read(adc_b, beta, code), read(adc_s, sh, code)
        worst_all = max(worst_all, abs(tb - ts))
        if ts >= 25.0:
            worst_warm = max(worst_warm, abs(tb - ts))
    assert worst_all <= 1.1
    assert worst_warm <= 0.15
    assert worst_all > 0.5  # the test would notice if both were the same model


def test_offset_is_added():
    adc, drv = make(offset_c=1.5)
    assert read(adc, drv, 32768) == pytest.approx(26.5, abs=0.002)


# ---- open / short ----

EXPECTED = {  # divider: (bit near ground, bit near the supply)
    "ntc_low": (alarms.T_SHORT, alarms.T_OPEN),
    "ntc_high": (alarms.T_OPEN, alarms.T_SHORT),
}


@pytest.mark.parametrize("divider", DIVIDERS)
def test_open_and_short_ntc_physically(divider):
    adc, drv = make(divider=divider)
    open_code = round(frac_of_r(1e12, 10000.0, divider) * FULL)
    short_code = round(frac_of_r(0.0, 10000.0, divider) * FULL)
    assert read(adc, drv, open_code) is None and drv.fault == alarms.T_OPEN
    assert read(adc, drv, 32768) is not None and drv.fault == 0
    assert read(adc, drv, short_code) is None and drv.fault == alarms.T_SHORT
    assert read(adc, drv, 32768) is not None and drv.fault == 0


@settings(max_examples=200, deadline=None)
@given(divider=st.sampled_from(DIVIDERS), low=st.floats(0.001, 0.2), high=st.floats(0.8, 0.999),
       code=st.integers(0, FULL))
def test_rail_thresholds(divider, low, high, code):
    adc, drv = make(divider=divider, rail_low_frac=low, rail_high_frac=high)
    value = read(adc, drv, code)
    near_ground, near_supply = EXPECTED[divider]
    if code / FULL < low:
        assert drv.fault == near_ground and value is None
    elif code / FULL > high:
        assert drv.fault == near_supply and value is None
    else:
        assert drv.fault == 0 and value is not None


@pytest.mark.parametrize("divider", DIVIDERS)
def test_rail_threshold_edges(divider):
    adc, drv = make(divider=divider, rail_low_frac=0.01, rail_high_frac=0.99)
    lo, hi = math.ceil(0.01 * FULL), math.floor(0.99 * FULL)
    near_ground, near_supply = EXPECTED[divider]
    assert read(adc, drv, lo) is not None
    assert read(adc, drv, lo - 1) is None and drv.fault == near_ground
    assert read(adc, drv, hi) is not None and drv.fault == 0
    assert read(adc, drv, hi + 1) is None and drv.fault == near_supply


# ---- averaging ----

def test_value_is_the_mean_of_each_window():
    adc, drv = make(samples=4)
    codes = [30000, 31000, 34000, 36000]
    adc.codes.extend(codes)
    for _ in range(3):
        drv.poll(0)
        assert drv.value is None  # no value before the first window is complete
    drv.poll(0)
    mean = sum(codes) / 4
    assert drv.value == pytest.approx(t_beta(r_of_frac(mean / FULL, 10000.0, "ntc_low")))
    first = drv.value
    adc.codes.extend([20000, 20000, 20000])
    for _ in range(3):
        drv.poll(0)
        assert drv.value == first  # held until the window ends
    adc.codes.append(20000)
    drv.poll(0)
    assert drv.value > first  # lower code: less resistance: warmer


def test_one_rail_read_faults_the_window_and_a_clean_window_clears_it():
    adc, drv = make(samples=5)
    adc.codes.extend([32768, 32768, 65535, 32768, 32768])
    for _ in range(5):
        drv.poll(0)
    assert drv.fault == alarms.T_OPEN and drv.value is None
    adc.codes.extend([32768] * 4)
    for _ in range(4):
        drv.poll(0)
    assert drv.fault == alarms.T_OPEN and drv.value is None  # until the window ends
    adc.codes.append(32768)
    drv.poll(0)
    assert drv.fault == 0 and drv.value == pytest.approx(25.0, abs=0.002)


def test_mixed_rails_report_the_majority():
    adc, drv = make(samples=5, divider="ntc_high")
    adc.codes.extend([0, 0, 65535, 32768, 0])
    for _ in range(5):
        drv.poll(0)
    assert drv.fault == alarms.T_OPEN  # ntc_high: near ground is an open NTC


def test_averaging_reduces_noise():
    import random

    rng = random.Random(1)
    errors = {}
    for n in (1, 32):
        adc, drv = make(samples=n)
        worst = 0.0
        for _ in range(40):
            adc.codes.extend(32768 + rng.randint(-600, 600) for _ in range(n))
            for _ in range(n):
                drv.poll(0)
            worst = max(worst, abs(drv.value - 25.0))
        errors[n] = worst
    assert errors[32] < errors[1] / 2


# ---- configuration ----

def test_model_with_no_temperature_in_the_band_is_rejected():
    with pytest.raises(ConfigError) as exc:
        make(model="steinhart", sh_a=-0.01, sh_b=0.0001, sh_c=0.0)
    assert exc.value.key == "sh_b"
    with pytest.raises(ConfigError):
        make(model="steinhart", sh_a=0.001, sh_b=-0.0002, sh_c=0.0)  # rises with resistance
    with pytest.raises(ConfigError) as exc:
        make(model="beta", r_fixed_ohm=100.0, r25_ohm=1000000.0, beta_k=1000.0)
    assert exc.value.key == "beta_k"


def test_unknown_divider_is_rejected():
    with pytest.raises(ConfigError):
        validate(PARAMS, {"divider": "low"}, "t")
