"""Hypothesis properties of the control core (CPython side)."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import coeffs, config
from core.controller import STATE_OFF, Controller
from core.model import SeasonModel

finite = st.floats(allow_nan=False, allow_infinity=False)
measurement = st.one_of(
    st.none(),
    st.floats(),  # nan, inf, huge, tiny, -0.0 included
    st.floats(min_value=-5, max_value=50),
    st.sampled_from(["x", "", "1e999", True]),
)
plausible_t = st.floats(min_value=1.0, max_value=35.0)
plausible_flow = st.floats(min_value=0.0, max_value=1.2)

tick = st.tuples(
    st.integers(min_value=1, max_value=5000),  # dt in ms
    st.one_of(plausible_t, measurement),
    st.one_of(plausible_flow, measurement),
    st.sampled_from([True, False, None]),
    st.sampled_from([0, 1, 2]),
)

params = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(config.MODES),
        "season": st.sampled_from(config.SEASONS),
        "kp": st.floats(min_value=0.0, max_value=5.0),
        "ti_s": st.floats(min_value=0.5, max_value=200.0),
        "out_min_pct": st.floats(min_value=0.0, max_value=40.0),
        "out_max_pct": st.floats(min_value=60.0, max_value=100.0),
        "out_rate_pct_per_s": st.floats(min_value=0.1, max_value=50.0),
        "sp_slew_pct_per_s": st.floats(min_value=0.01, max_value=5.0),
        "min_flow_cooling_pct": st.floats(min_value=0.0, max_value=110.0),
        "min_flow_heating_pct": st.floats(min_value=0.0, max_value=90.0),
        "actuator": st.sampled_from(config.ACTUATORS),
        "manual_output_pct": st.floats(min_value=0.0, max_value=100.0),
        "opt_period_ms": st.integers(min_value=100, max_value=60000),
    }
)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _min_flow(c, season):
    p = c.config["params"]
    if season == 1:
        return p["min_flow_cooling_pct"]
    if season == 2:
        return p["min_flow_heating_pct"]
    return max(p["min_flow_cooling_pct"], p["min_flow_heating_pct"])


@SETTINGS
@given(params, st.integers(min_value=0, max_value=(1 << 30) - 1), st.lists(tick, max_size=120))
def test_output_limits_rate_and_interlock_always_hold(p, start_ms, ticks):
    c = Controller({"params": p})
    lo, hi = p["out_min_pct"], p["out_max_pct"]
    rate = p["out_rate_pct_per_s"]
    now = start_ms
    last_out = None
    for dt, t, flow, running, mode in ticks:
        now = (now + dt) & ((1 << 30) - 1)
        m = c.meas
        m.t_in_c, m.flow_m3h, m.unit_running, m.unit_mode = t, flow, running, mode
        cmd = c.step(now)
        assert not cmd.alarms & 4096, "INTERNAL alarm: an exception escaped the tick logic"
        out = cmd.output_pct
        assert math.isfinite(out)
        if cmd.state == STATE_OFF:
            assert out == 0.0 and not cmd.pump_run
            last_out = 0.0
            continue
        assert lo - 1e-9 <= out <= hi + 1e-9
        if last_out is not None and lo <= last_out <= hi:
            assert abs(out - last_out) <= rate * cmd.dt_ms / 1000.0 + 1e-6
        last_out = out
        if cmd.state == 2:  # auto, optimising: the interlock wins over the optimiser
            assert cmd.flow_sp_pct >= _min_flow(c, cmd.season) - 1e-9


@SETTINGS
@given(st.floats(min_value=0.01, max_value=5.0), st.lists(plausible_t, min_size=2, max_size=80))
def test_setpoint_slew_is_never_exceeded(slew, temps):
    c = Controller({"params": {"sp_slew_pct_per_s": slew, "opt_period_ms": 100,
                               "opt_deadband_pct": 0.0, "min_flow_cooling_pct": 0.0}})
    m = c.meas
    m.flow_m3h, m.unit_running, m.unit_mode = 0.5, True, 1
    last = None
    for i, t in enumerate(temps):
        m.t_in_c = t
        cmd = c.step(i * 1000)
        if last is not None and cmd.state == 2:
            assert abs(cmd.flow_sp_pct - last) <= slew * 1.0 + 1e-9
        last = cmd.flow_sp_pct if cmd.state == 2 else None


coef = st.floats(min_value=-2.0, max_value=2.0)


@st.composite
def season_models(draw):
    scale = (1.0, 1e-2, 1e-4, 1e-6)
    a = [draw(coef) * s * 10 for s in scale]
    b = [draw(coef) * s * 0.1 for s in scale]
    c = draw(st.floats(min_value=-20.0, max_value=20.0))
    t_lo = draw(st.floats(min_value=1.0, max_value=20.0))
    t_hi = t_lo + draw(st.floats(min_value=1.0, max_value=20.0))
    p_lo = draw(st.floats(min_value=10.0, max_value=90.0))
    p_hi = p_lo + draw(st.floats(min_value=5.0, max_value=100.0))
    return SeasonModel(a, b, c, t_lo, t_hi, (t_lo + t_hi) / 2, p_lo, p_hi)


@SETTINGS
@given(season_models(), st.floats(min_value=1.0, max_value=40.0))
def test_optimum_is_in_bounds_and_no_grid_point_is_better(model, t):
    lo, hi = model.p_lo, model.p_hi
    best = model.optimum(t, lo, hi)
    assert lo <= best <= hi
    top = model.cop(best, t)
    for i in range(201):
        p = lo + (hi - lo) * i / 200
        assert model.cop(p, t) <= top + 1e-9 * max(1.0, abs(top))


@SETTINGS
@given(season_models(), season_models())
def test_an_invalid_set_never_becomes_active(cool, heat):
    c = Controller()
    before = c.config
    data = {"cooling": coeffs.season_to_dict(cool), "heating": coeffs.season_to_dict(heat)}
    try:
        c.load_coeffs(data, merge=False)
    except config.ConfigError:
        assert c.config is before
        return
    # Accepted: it must pass the full validation on its own.
    limits = config.limits(c.config["params"])
    coeffs.validate_set(coeffs.parse_set(data), limits, 0.5, 15.0)
