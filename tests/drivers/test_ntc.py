"""NTC thermistor driver: conversions, divider orientation, rail faults, averaging."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import alarms
from core.config import ConfigError
from drivers.ntc import NTC, PARAMS
from drivers.params import validate
from host_tools.twins import make_machine
from twin_io import AdcInput

FULL = 65535
# A 10k B3950 probe's published R-T table (Adafruit 103_3950 lookup table), ohm.
TABLE_3950 = {0: 31770.0, 5: 24940.0, 10: 19680.0, 15: 15620.0, 20: 12470.0, 25: 10000.0,
              30: 8064.0, 35: 6538.0, 40: 5327.0, 45: 4363.0, 50: 3592.0}


def make(port, **given_params):
    """The driver on an ADC pin of a fresh board, built as the board HAL builds
    it; returns (the pin's input, driver)."""
    params = validate(PARAMS, {"samples": 1, **given_params}, "t_inlet")
    m = make_machine(port)
    inp = AdcInput(m)
    return inp, NTC(inp.adc, params)


def read(inp, drv, code):
    """Poll once with the divider at the voltage the port's ADC reads as
    `code` (nearest the port can give); returns (the code read, the value)."""
    got = inp.set_code(code)
    drv.poll(0)
    return got, drv.value


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


def t_of_code(code, r_fixed=10000.0, divider="ntc_low"):
    """The reference temperature for a code (beta model, 10k B3950)."""
    return t_beta(r_of_frac(code / FULL, r_fixed, divider))


# ---- conversions ----

@settings(max_examples=200, deadline=None)
@given(divider=st.sampled_from(DIVIDERS), model=st.sampled_from(["beta", "steinhart"]),
       c1=st.integers(700, 64800), c2=st.integers(700, 64800))
def test_temperature_is_monotonic_in_the_code(port, divider, model, c1, c2):
    inp, drv = make(port, divider=divider, model=model)
    (k1, t1), (k2, t2) = read(inp, drv, c1), read(inp, drv, c2)
    assume(k1 < k2)  # two different codes the port gives
    assume(inp.in_window(k1) and inp.in_window(k2))  # both measurements, not rails
    assert t1 is not None and t2 is not None
    if divider == "ntc_low":  # higher code: more NTC resistance: colder
        assert t1 > t2
    else:
        assert t1 < t2


@settings(max_examples=300, deadline=None)
@given(divider=st.sampled_from(DIVIDERS), t=st.floats(-30.0, 110.0),
       r_fixed=st.sampled_from([2200.0, 10000.0, 47000.0]))
def test_round_trip_temperature_resistance_code_temperature(port, divider, t, r_fixed):
    inp, drv = make(port, divider=divider, r_fixed_ohm=r_fixed, model="beta")
    ideal = frac_of_r(r_beta(t), r_fixed, divider) * FULL  # the code of an ideal ADC
    assume(700 <= ideal <= 64800)  # inside the valid band
    assume(inp.in_window(ideal))  # a voltage the port reads as a measurement
    code, value = read(inp, drv, ideal)
    step = inp.step(code)
    # The port's ADC has fewer levels than read_u16's 16 bits: halfway to the
    # neighbouring codes it gives either side bounds the quantisation error.
    ends = [t_of_code((code + inp.below(code)) / 2, r_fixed, divider),
            t_of_code((code + inp.above(code)) / 2, r_fixed, divider)]
    assert abs(ideal - code) <= step / 2 + 0.5
    assert abs(value - t) <= abs(ends[1] - ends[0]) + 1e-9
    assert value == pytest.approx(t_of_code(code, r_fixed, divider), abs=1e-9)


def test_known_point_25c_midscale(port):
    for divider in DIVIDERS:
        inp, drv = make(port, divider=divider)
        code, value = read(inp, drv, 32768)  # R = r_fixed = r25 at mid-scale
        assert abs(code - 32768) <= 16  # within a 12-bit step of it
        assert value == pytest.approx(t_of_code(code, divider=divider), abs=1e-9)
        assert value == pytest.approx(25.0, abs=0.03)


def test_steinhart_defaults_are_the_fit_of_the_published_table():
    a, b, c = sh_fit([(t, TABLE_3950[t]) for t in (0, 25, 50)])
    defaults = validate(PARAMS, {}, "t")
    assert defaults["sh_a"] == pytest.approx(a, rel=1e-6)
    assert defaults["sh_b"] == pytest.approx(b, rel=1e-6)
    assert defaults["sh_c"] == pytest.approx(c, rel=1e-6)


def table_code(r):
    return round(frac_of_r(r, 10000.0, "ntc_low") * FULL)


def test_steinhart_reproduces_the_table_between_its_fit_points(port):
    inp, drv = make(port, model="steinhart")
    for t, r in TABLE_3950.items():
        ideal = frac_of_r(r, 10000.0, "ntc_low") * FULL
        code = inp.set_volts(3.3 * ideal / FULL)  # the table's resistance in the divider
        drv.poll(0)
        if not inp.in_window(code):
            # beyond the port's measuring window: a fault, never a wrong reading
            assert drv.value is None and drv.fault
            continue
        # 0.03 degC model error, plus the reading's own code error (the ADC's
        # resolution at this point)
        step = abs(t_of_code(code) - t_of_code(ideal))
        assert drv.value == pytest.approx(t, abs=0.03 + step)


def test_beta_and_steinhart_agree_for_10k_b3950_over_0_to_50c(port):
    # A B25/50 beta model is exact at 25 and 50 degC and drifts below 25 degC,
    # where the real curve (Steinhart-Hart through the table) is flatter.
    # Stated tolerance: 1.1 degC over 0..50 degC, 0.15 degC over 25..50 degC.
    inp_b, beta = make(port, model="beta")
    inp_s, sh = make(port, model="steinhart")
    worst_all = worst_warm = 0.0
    for code in range(table_code(TABLE_3950[0]), table_code(TABLE_3950[50]) - 1, -37):
        if not inp_b.in_window(code):
            continue  # a voltage the port reads as a rail (its own test)
        (kb, tb), (ks, ts) = read(inp_b, beta, code), read(inp_s, sh, code)
        assert kb == ks
        worst_all = max(worst_all, abs(tb - ts))
        if ts >= 25.0:
            worst_warm = max(worst_warm, abs(tb - ts))
    assert worst_all <= 1.1
    assert worst_warm <= 0.15
    assert worst_all > 0.5  # the test would notice if both were the same model


def test_offset_is_added(port):
    inp, drv = make(port, offset_c=1.5)
    code, value = read(inp, drv, 32768)
    assert value == pytest.approx(t_of_code(code) + 1.5, abs=1e-9)


# ---- open / short ----

EXPECTED = {  # divider: (bit near ground, bit near the supply)
    "ntc_low": (alarms.T_SHORT, alarms.T_OPEN),
    "ntc_high": (alarms.T_OPEN, alarms.T_SHORT),
}


@pytest.mark.parametrize("divider", DIVIDERS)
def test_open_and_short_ntc_physically(port, divider):
    # The divider runs from the 3.3 V rail the ADC uses: an open or shorted NTC
    # puts the ADC pin on one rail or the other.
    inp, drv = make(port, divider=divider)
    open_v = 3.3 * frac_of_r(1e12, 10000.0, divider)
    short_v = 3.3 * frac_of_r(0.0, 10000.0, divider)
    inp.set_volts(open_v)
    drv.poll(0)
    assert drv.value is None and drv.fault == alarms.T_OPEN
    assert read(inp, drv, 32768)[1] is not None and drv.fault == 0
    inp.set_volts(short_v)
    drv.poll(0)
    assert drv.value is None and drv.fault == alarms.T_SHORT
    assert read(inp, drv, 32768)[1] is not None and drv.fault == 0


@settings(max_examples=200, deadline=None)
@given(divider=st.sampled_from(DIVIDERS), low=st.floats(0.001, 0.2), high=st.floats(0.8, 0.999),
       code=st.integers(0, FULL))
def test_rail_thresholds(port, divider, low, high, code):
    inp, drv = make(port, divider=divider, rail_low_frac=low, rail_high_frac=high)
    code, value = read(inp, drv, code)
    near_ground, near_supply = EXPECTED[divider]
    if code / FULL < low:
        assert drv.fault == near_ground and value is None
    elif code / FULL > high:
        assert drv.fault == near_supply and value is None
    else:
        assert drv.fault == 0 and value is not None


@pytest.mark.parametrize("divider", DIVIDERS)
def test_rail_threshold_edges(port, divider):
    inp, drv = make(port, divider=divider, rail_low_frac=0.01, rail_high_frac=0.99)
    lo, hi = math.ceil(0.01 * FULL), math.floor(0.99 * FULL)
    near_ground, near_supply = EXPECTED[divider]
    # The codes the port gives either side of each threshold.
    lo_in, lo_out = inp.at_least(lo), inp.at_most(lo - 1)
    hi_in, hi_out = inp.at_most(hi), inp.at_least(hi + 1)
    assert lo_out is not None, "the ADC never reads below the low rail threshold"
    assert hi_out is not None, "the ADC never reads above the high rail threshold"
    assert read(inp, drv, lo_in)[1] is not None
    assert read(inp, drv, lo_out)[1] is None and drv.fault == near_ground
    assert read(inp, drv, hi_in)[1] is not None and drv.fault == 0
    assert read(inp, drv, hi_out)[1] is None and drv.fault == near_supply


# ---- averaging ----

SUPPLY, GROUND = "supply", "ground"  # the pin on a rail (an open or shorted NTC)


def feed(inp, drv, codes):
    """One poll per code (or rail), the input at each in turn; returns the codes read."""
    got = []
    for code in codes:
        if code == SUPPLY:
            got.append(inp.set_volts(3.3))
        elif code == GROUND:
            got.append(inp.set_volts(0.0))
        else:
            got.append(inp.set_code(code))
        drv.poll(0)
    return got


def test_value_is_the_mean_of_each_window(port):
    inp, drv = make(port, samples=4)
    codes = []
    for code in (30000, 31000, 34000):
        codes += feed(inp, drv, [code])
        assert drv.value is None  # no value before the first window is complete
    codes += feed(inp, drv, [36000])
    mean = sum(codes) / 4
    assert drv.value == pytest.approx(t_of_code(mean))
    first = drv.value
    for _ in range(3):
        feed(inp, drv, [20000])
        assert drv.value == first  # held until the window ends
    feed(inp, drv, [20000])
    assert drv.value > first  # lower code: less resistance: warmer


def test_one_rail_read_faults_the_window_and_a_clean_window_clears_it(port):
    inp, drv = make(port, samples=5)
    feed(inp, drv, [32768, 32768, SUPPLY, 32768, 32768])
    assert drv.fault == alarms.T_OPEN and drv.value is None
    feed(inp, drv, [32768] * 4)
    assert drv.fault == alarms.T_OPEN and drv.value is None  # until the window ends
    (code,) = feed(inp, drv, [32768])
    assert drv.fault == 0 and drv.value == pytest.approx(t_of_code(code), abs=1e-9)


def test_mixed_rails_report_the_majority(port):
    inp, drv = make(port, samples=5, divider="ntc_high")
    feed(inp, drv, [GROUND, GROUND, SUPPLY, 32768, GROUND])
    assert drv.fault == alarms.T_OPEN  # ntc_high: near ground is an open NTC


def test_averaging_reduces_noise(port):
    import random

    rng = random.Random(1)
    errors = {}
    for n in (1, 32):
        inp, drv = make(port, samples=n)
        mid = t_of_code(inp.nearest(32768))
        worst = 0.0
        for _ in range(40):
            feed(inp, drv, [32768 + rng.randint(-600, 600) for _ in range(n)])
            worst = max(worst, abs(drv.value - mid))
        errors[n] = worst
    assert errors[32] < errors[1] / 2


# ---- configuration ----

def test_model_with_no_temperature_in_the_band_is_rejected(port):
    with pytest.raises(ConfigError) as exc:
        make(port, model="steinhart", sh_a=-0.01, sh_b=0.0001, sh_c=0.0)
    assert exc.value.key == "sh_b"
    with pytest.raises(ConfigError):
        make(port, model="steinhart", sh_a=0.001, sh_b=-0.0002, sh_c=0.0)  # rises with resistance
    with pytest.raises(ConfigError) as exc:
        make(port, model="beta", r_fixed_ohm=100.0, r25_ohm=1000000.0, beta_k=1000.0)
    assert exc.value.key == "beta_k"


def test_unknown_divider_is_rejected():
    with pytest.raises(ConfigError):
        validate(PARAMS, {"divider": "low"}, "t")
