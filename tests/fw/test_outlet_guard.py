# The outlet guard (core/controller.py, docs/optimiser.md): in heating, auto keeps the
# flow where the loop's outlet stays cutout_margin_k above t_cutout_c, for the model's
# optimum and the on-line optimiser alike. Portable (CPython and the host
# MicroPython); a synthetic unit that takes a fixed heat from the water and trips
# when its outlet falls below its cutout, 10 s ticks.
from test_optimiser import PERIOD, _controller

from core import config
from core.metering import RHO_CP_KW_PER_M3H_K
from core.ticks import ticks_add

DESIGN_M3H = 0.6
# The outlet the guard keeps with the defaults: the cutout (1.0 degC) plus the margin.
GUARDED = 1.0 + config.default_params()["cutout_margin_k"]


class Unit:
    """Heating: the unit takes heat_kw from the source water at any flow; below
    cutout_c at its outlet it trips (draws nothing, the water passes unchanged)."""

    def __init__(self, t=6.5, heat_kw=2.22, cutout_c=1.0):
        self.t = t
        self.heat_kw = heat_kw
        self.cutout_c = cutout_c
        self.w = 900.0  # the compressor's power while it runs
        self.trips = 0
        self.n = 0
        self.t_out = t

    def flow_for_outlet(self, t_out):
        """The flow (% of design) at which the outlet is t_out."""
        return 100.0 * self.heat_kw / (RHO_CP_KW_PER_M3H_K * (self.t - t_out)) / DESIGN_M3H

    def fill(self, c, mode=2):
        m = c.meas
        p = c.cmd.flow_sp_pct or 91.6  # the loop follows the setpoint
        self.n += 1
        f = DESIGN_M3H * p / 100.0 + (0.0001 if self.n & 1 else 0.0)  # a live meter
        t_out = self.t - self.heat_kw / (RHO_CP_KW_PER_M3H_K * f)
        w = self.w
        if mode == 2 and t_out < self.cutout_c:
            self.trips += 1
            t_out = self.t
            w = 0.0
        if mode == 1:
            t_out = self.t + self.heat_kw / (RHO_CP_KW_PER_M3H_K * f)
        self.t_out = t_out
        m.t_in_c = self.t
        m.flow_m3h = f
        m.unit_running = True
        m.unit_mode = mode
        m.t_out_c = t_out
        m.p_unit_w = w
        m.p_pump_w = 50.0


def _run(c, unit, now, ticks, mode=2, seen=None):
    for _ in range(ticks):
        unit.fill(c, mode)
        c.step(now)
        now = ticks_add(now, PERIOD)
        if seen is not None:
            seen.append(c.cmd.flow_sp_pct)
    return now


def test_heating_keeps_the_outlet_above_the_cutout_plus_the_margin():
    for optimiser in ("model", "online"):
        c = _controller(optimiser=optimiser)
        unit = Unit()
        floor = unit.flow_for_outlet(GUARDED)  # about 60 %
        seen = []
        _run(c, unit, 0, 600, seen=seen)
        # The model's optimum at this river is below the flow the unit trips at.
        assert c.cmd.p_opt_pct < unit.flow_for_outlet(1.0), c.cmd.p_opt_pct
        assert unit.trips == 0, (optimiser, unit.trips)
        for sp in seen[30:]:
            assert sp >= floor - 0.3, (optimiser, sp, floor)
        assert min(seen[30:]) < floor + 1.0, (optimiser, min(seen[30:]))  # held at it
        assert unit.t_out >= GUARDED - 0.03, unit.t_out


def test_the_floor_follows_the_river():
    c = _controller(optimiser="model")
    unit = Unit(t=7.5, heat_kw=2.6)
    now = _run(c, unit, 0, 200)
    before = c.cmd.flow_sp_pct
    assert abs(before - unit.flow_for_outlet(GUARDED)) < 0.5, before
    seen = []
    for _ in range(100):  # the river cools by 1 K in 1000 s
        unit.t -= 0.01
        now = _run(c, unit, now, 1, seen=seen)
    _run(c, unit, now, 100, seen=seen)
    after = unit.flow_for_outlet(GUARDED)
    assert after > before + 10.0
    assert abs(seen[-1] - after) < 0.5, (seen[-1], after)
    assert unit.trips == 0


def test_no_guard_with_no_margin_or_in_cooling():
    c = _controller(optimiser="model", cutout_margin_k=0.0)
    unit = Unit()
    _run(c, unit, 0, 300)
    assert abs(c.cmd.flow_sp_pct - c.cmd.p_opt_pct) < 1.0  # the model's optimum
    assert unit.trips > 0  # which is below the unit's cutout here
    c = _controller(optimiser="model")
    unit = Unit(t=27.6)
    _run(c, unit, 0, 200, mode=1)
    assert abs(c.cmd.flow_sp_pct - c.cmd.p_opt_pct) < 1.0


def test_the_floor_holds_while_the_compressor_is_off():
    c = _controller(optimiser="model")
    unit = Unit()
    now = _run(c, unit, 0, 200)
    held = c.cmd.flow_sp_pct
    unit.w = 0.0  # locked out (or stopped on its own protection): no heat to go by
    unit.heat_kw = 0.0
    seen = []
    _run(c, unit, now, 100, seen=seen)
    for sp in seen:
        assert sp >= held - 0.3, (sp, held)


def test_an_inlet_too_cold_for_the_margin_asks_for_the_most_flow():
    c = _controller(optimiser="model")
    unit = Unit(t=1.25, heat_kw=0.1)
    _run(c, unit, 0, 100)
    assert abs(c.cmd.flow_sp_pct - c.config["params"]["p_max_heating"]) < 1e-6


def test_a_trip_does_not_lower_the_floor_the_unit_restarts_on():
    # Tripped, the unit takes no heat while its power meter still reads (S0 pulses
    # come late); the floor holds through the restart delay, and a colder river
    # afterwards raises it at once.
    c = _controller(optimiser="model")
    unit = Unit()
    now = _run(c, unit, 0, 100)
    held = c.guard_pct
    assert held > 55.0, held
    # Tripped: the outlet warms up to the inlet over a few readings while the
    # meter still reads ~900 W, then five minutes of restart delay.
    for heat in (1.5, 0.8, 0.3) + (0.0,) * 30:
        unit.heat_kw = heat
        now = _run(c, unit, now, 1)
        assert c.guard_pct >= held - 1e-9, (c.guard_pct, held)
        assert c.cmd.flow_sp_pct >= held - 1e-9
    unit.heat_kw = 2.22  # restarted
    now = _run(c, unit, now, 30)
    assert abs(c.guard_pct - held) < 0.02 * held, (c.guard_pct, held)
    assert unit.trips == 0


def test_the_floor_comes_down_with_a_warmer_river():
    c = _controller(optimiser="model", cutout_hold_s=600)
    unit = Unit(t=6.5)
    now = _run(c, unit, 0, 100)
    high = c.guard_pct
    unit.t = 8.5  # a step: the need falls by far more than 2 % at once
    now = _run(c, unit, now, 30)
    assert c.guard_pct > 0.95 * high  # held (a trip looks the same at first)
    _run(c, unit, now, 120)  # then, after cutout_hold_s, down to what the river needs
    assert abs(c.guard_pct - unit.flow_for_outlet(GUARDED)) < 0.5, c.guard_pct


def test_after_a_season_change_the_floor_settles_on_what_the_loop_reads():
    # The first readings of a new heating season are the loop settling (a first one
    # far off here): for cop_window_s the floor follows them both ways.
    c = _controller(optimiser="model")
    unit = Unit()
    now = _run(c, unit, 0, 100)
    now = _run(c, unit, now, 50, mode=1)  # cooling for a while
    unit.heat_kw = 3.5  # the first heating reading: the loop still settling
    for _ in range(30):  # (T_MODEL_RANGE of the cooling model clears first)
        now = _run(c, unit, now, 1)
        if c.guard_pct > 70.0:
            break
    high = c.guard_pct
    assert high > 70.0, high
    unit.heat_kw = 2.22
    _run(c, unit, now, 40)  # 400 s: past cop_window_s (300 s), short of cutout_hold_s
    assert c.guard_pct < 0.8 * high, (c.guard_pct, high)
    assert abs(c.guard_pct - unit.flow_for_outlet(GUARDED)) < 0.02 * c.guard_pct
