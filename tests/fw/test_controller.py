from core import alarms, config, presets
from core.controller import STATE_MANUAL, STATE_OFF, STATE_SAFE, STATE_STANDBY, Controller
from core.ticks import ticks_add
from fwtest import raises


def _running(c, t=27.6, flow=0.55, mode=1):
    m = c.meas
    m.t_in_c = t
    m.flow_m3h = flow
    m.unit_running = True
    m.unit_mode = mode
    return m


def _run(c, start_ms, ticks, period=1000):
    now = start_ms
    for _ in range(ticks):
        c.step(now)
        now = ticks_add(now, period)
    return now


def test_auto_targets_the_model_optimum():
    c = Controller()
    _running(c)
    _run(c, 0, 5)
    assert abs(c.cmd.p_opt_pct - 91.6) < 0.01
    assert abs(c.cmd.flow_sp_pct - 91.6) < 0.01
    _running(c, t=11.5, mode=2)
    _run(c, 5000, 300)
    assert abs(c.cmd.p_opt_pct - 54.5) < 0.01
    assert abs(c.cmd.flow_sp_pct - 54.5) < 0.01


def test_interlock_wins_over_the_optimiser():
    c = Controller()
    c.set_param("min_flow_heating_pct", 70.0)
    _running(c, t=11.5, mode=2)
    _run(c, 0, 10)
    assert c.cmd.p_opt_pct < 60.0
    assert c.cmd.flow_sp_pct == 70.0


def test_manual_output_is_floored_by_the_interlock():
    c = Controller()
    c.set_param("mode", "manual")
    c.set_param("manual_output_pct", 0.0)
    _running(c)
    _run(c, 0, 100)
    assert c.cmd.state == STATE_MANUAL
    assert c.cmd.output_pct >= c._ff.output_for_flow(60.0) - 1e-9


def test_temperature_fault_goes_to_the_fallback_flow_and_recovers():
    c = Controller()
    m = _running(c)
    now = _run(c, 0, 20)
    m.t_in_c = float("nan")
    now = _run(c, now, 3)
    assert c.cmd.state == STATE_SAFE
    assert c.cmd.alarms & alarms.T_MISSING
    assert c.cmd.flow_sp_pct == 100.0
    m.t_in_c = 27.6
    now = _run(c, now, 10)
    assert c.cmd.state != STATE_SAFE and not c.cmd.alarms & alarms.T_MISSING


def test_flow_fault_runs_open_loop():
    c = Controller()
    m = _running(c)
    now = _run(c, 0, 20)
    m.flow_m3h = None
    _run(c, now, 200)
    assert c.cmd.state == STATE_SAFE
    assert c.cmd.alarms & alarms.FLOW_MISSING
    assert abs(c.cmd.output_pct - c._ff.output_for_flow(100.0)) < 1e-6


def test_season_from_the_unit_mode_input_and_unknown_season():
    c = Controller()
    m = _running(c, mode=0)
    _run(c, 0, 5)
    assert c.cmd.alarms & alarms.SEASON_UNKNOWN
    assert c.cmd.state == STATE_SAFE
    m.unit_mode = 2
    _run(c, 5000, 5)
    assert c.cmd.season == 2 and not c.cmd.alarms & alarms.SEASON_UNKNOWN
    m.unit_mode = 0  # input lost: the last reported season stays
    _run(c, 10000, 5)
    assert c.cmd.season == 2


def test_off_and_standby():
    c = Controller()
    m = _running(c)
    m.unit_running = False
    _run(c, 0, 3)
    assert c.cmd.state == STATE_STANDBY
    c.set_param("mode", "off")
    _run(c, 3000, 1)
    assert c.cmd.state == STATE_OFF and c.cmd.output_pct == 0.0 and not c.cmd.pump_run


def test_bad_measurements_never_raise():
    c = Controller()
    m = c.meas
    bad = (None, float("nan"), float("inf"), -float("inf"), -1e30, 1e30, "x", [], -0.0, True)
    now = 0
    for a in bad:
        for b in bad:
            m.t_in_c = a
            m.flow_m3h = b
            m.unit_running = a
            m.unit_mode = b
            c.step(now)
            now += 1000
            assert 0.0 <= c.cmd.output_pct <= 100.0
            assert not c.cmd.alarms & alarms.INTERNAL


def test_tick_wrap_gives_the_same_dt():
    c = Controller()
    _running(c)
    start = ticks_add(0, -5500)  # five ticks before the wrap
    _run(c, start, 12)
    assert c.cmd.dt_ms == 1000


def test_clock_jump_is_treated_as_one_period():
    c = Controller()
    _running(c)
    c.step(0)
    c.step(10000000)
    assert c.cmd.dt_ms == 1000


def test_rejected_config_leaves_the_active_one():
    c = Controller()
    before = c.config["coeffs"]
    raises(config.ConfigError, c.load_coeffs, presets.preset("paper-printed"), False)
    assert c.config["coeffs"] is before
    raises(config.ConfigError, c.set_param, "kp", -1.0)
    assert c.config["params"]["kp"] == 0.4
    raises(config.ConfigError, c.set_param, "p_min_cooling", 200.0)
    assert c.config["params"]["p_min_cooling"] == 50.0


def test_one_season_coefficient_update_keeps_the_other():
    c = Controller()
    heating_before = c.config["coeffs"]["heating"]
    swapped = presets.preset("paper-test-swapped")
    c.load_coeffs({"cooling": swapped["cooling"]})
    assert c.config["coeffs"]["heating"] is heating_before
    assert c.config["coeffs"]["cooling"] is swapped["cooling"]
