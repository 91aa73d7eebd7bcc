"""Differential tests: the control core under CPython and under the host MicroPython."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from difftest import assert_close, run_on_cpython, run_on_micropython

DIFF = settings(max_examples=4, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])

TICKS_DRIVER = '''
from core.ticks import ticks_add, ticks_diff
def compute(case):
    a, b = case
    return [ticks_add(a, b), ticks_diff(a, b)]
'''

MODEL_DRIVER = '''
from core.model import SeasonModel
def compute(case):
    a, b, c, t, lo, hi = case
    m = SeasonModel(a, b, c, 1.0, 40.0, 20.0, lo, hi)
    p = m.optimum(t, lo, hi)
    return [p, m.cop(p, t), m.cop(lo, t), m.cop(hi, t)]
'''

CONTROLLER_DRIVER = '''
from core.controller import Controller
def compute(case):
    params, start, ticks = case
    c = Controller({"params": params})
    m = c.meas
    now = start
    out = []
    for dt, t, flow, running, mode in ticks:
        now = (now + dt) & 0x3FFFFFFF
        m.t_in_c = t
        m.flow_m3h = flow
        m.unit_running = running
        m.unit_mode = mode
        cmd = c.step(now)
        out.append([cmd.output_pct, cmd.flow_sp_pct, cmd.p_opt_pct, cmd.flow_pct,
                    cmd.state, cmd.alarms, cmd.season, cmd.pump_run, cmd.dt_ms])
    return out
'''

tick_value = st.integers(min_value=-(1 << 31), max_value=(1 << 31))
near_wrap = st.integers(min_value=(1 << 30) - 5000, max_value=(1 << 30) + 5000)


@DIFF
@given(st.lists(st.tuples(st.one_of(tick_value, near_wrap), st.one_of(tick_value, near_wrap)),
                min_size=100, max_size=200))
def test_ticks_agree(cases):
    cases = [[a & 0x3FFFFFFF, b] for a, b in cases]
    assert run_on_cpython(TICKS_DRIVER, cases) == run_on_micropython(TICKS_DRIVER, cases)


small = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)
model_case = st.tuples(
    st.tuples(small.map(lambda x: x * 10), small.map(lambda x: x * 0.1),
              small.map(lambda x: x * 1e-3), small.map(lambda x: x * 1e-5)).map(list),
    st.tuples(small.map(lambda x: x * 0.1), small.map(lambda x: x * 1e-3),
              small.map(lambda x: x * 1e-5), small.map(lambda x: x * 1e-7)).map(list),
    st.floats(min_value=-20, max_value=20),
    st.floats(min_value=1.0, max_value=40.0),
    st.floats(min_value=10.0, max_value=80.0),
    st.floats(min_value=85.0, max_value=200.0),
).map(list)


@DIFF
@given(st.lists(model_case, min_size=50, max_size=100))
def test_model_optimum_agrees(cases):
    assert_close(run_on_cpython(MODEL_DRIVER, cases), run_on_micropython(MODEL_DRIVER, cases),
                 rel=1e-9, abs_=1e-9)


measurement = st.one_of(st.none(), st.floats(), st.floats(min_value=-5, max_value=50))
tick = st.tuples(
    st.integers(min_value=1, max_value=3000),
    st.one_of(st.floats(min_value=2.0, max_value=35.0), measurement),
    st.one_of(st.floats(min_value=0.0, max_value=1.2), measurement),
    st.sampled_from([True, False, None]),
    st.sampled_from([0, 1, 2]),
).map(list)
params = st.fixed_dictionaries({
    "mode": st.sampled_from(["off", "manual", "auto", "auto", "auto"]),
    "kp": st.floats(min_value=0.0, max_value=3.0),
    "ti_s": st.floats(min_value=1.0, max_value=100.0),
    "out_rate_pct_per_s": st.floats(min_value=0.5, max_value=50.0),
    "actuator": st.sampled_from(["vfd", "valve_linear", "valve_eqp"]),
    "opt_period_ms": st.integers(min_value=500, max_value=20000),
})
controller_case = st.tuples(params, st.integers(min_value=0, max_value=(1 << 30) - 1),
                            st.lists(tick, min_size=10, max_size=40)).map(list)


@DIFF
@given(st.lists(controller_case, min_size=5, max_size=8))
def test_controller_ticks_agree(cases):
    # A feedback loop can amplify a last-bit difference in libm functions
    # (sqrt, log); outputs agree to well within a thousandth of a percent.
    assert_close(run_on_cpython(CONTROLLER_DRIVER, cases),
                 run_on_micropython(CONTROLLER_DRIVER, cases), rel=1e-7, abs_=1e-7)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(st.lists(controller_case, min_size=10, max_size=20))
def test_controller_ticks_agree_campaign(cases):
    """The same property as above, a bigger campaign: `pytest -m slow`."""
    assert_close(run_on_cpython(CONTROLLER_DRIVER, cases),
                 run_on_micropython(CONTROLLER_DRIVER, cases), rel=1e-7, abs_=1e-7)


test_controller_ticks_agree_campaign = pytest.mark.slow(test_controller_ticks_agree_campaign)
