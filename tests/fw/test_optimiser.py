# The on-line optimiser (core/optimiser.py) in the controller, against a synthetic
# plant whose metering gives COP_s(P) = 4 - K (P - P*)^2: portable (CPython and
# the host MicroPython), 10 s ticks and one-minute windows to keep it short.
from core import alarms, config, learned
from core.controller import STATE_STANDBY, Controller
from core.metering import RHO_CP_KW_PER_M3H_K
from core.optimiser import FALLBACK, HOLD, IDLE, OFF, SEEK
from core.ticks import ticks_add
from fwtest import raises

K = 0.0004
PERIOD = 10000


def _controller(**params):
    c = Controller()
    c.set_param("period_ms", PERIOD)
    c.set_param("opt_half_s", 60)
    c.set_param("sp_slew_pct_per_s", 5.0)
    for name in params:
        c.set_param(name, params[name])
    return c


class Plant:
    """Metering for the flow the controller asks for: the loop follows the setpoint."""

    def __init__(self, best=72.0, t=27.6):
        self.best = best
        self.t = t
        self.t_out = True  # False: the outlet sensor is missing
        self.unit_w = 1000.0
        self.cop = None  # a COP_s to meter instead of the curve's
        self.trip_below = 0.0  # the unit trips (draws nothing) below this flow
        self.trips = 0
        self.n = 0

    def fill(self, c, mode=1):
        m = c.meas
        p = c.cmd.flow_sp_pct or 91.6
        self.n += 1
        f = 0.6 * p / 100.0 + (0.0001 if self.n & 1 else 0.0)  # a live meter (FLOW_STUCK)
        cop = 4.0 - K * (p - self.best) * (p - self.best) if self.cop is None else self.cop
        m.t_in_c = self.t
        m.flow_m3h = f
        m.unit_running = True
        m.unit_mode = mode
        q = cop * (self.unit_w + 50.0) * 0.001  # the unit's output, kW
        rise = (q + self.unit_w * 0.001) / (RHO_CP_KW_PER_M3H_K * f)
        m.t_out_c = self.t + rise if self.t_out else None
        m.p_unit_w = self.unit_w
        if p < self.trip_below:
            self.trips += 1
            m.p_unit_w = 0.0
            m.t_out_c = self.t
        m.p_pump_w = 50.0


def _run(c, plant, now, ticks, mode=1, seen=None):
    for _ in range(ticks):
        plant.fill(c, mode)
        c.step(now)
        now = ticks_add(now, PERIOD)
        if seen is not None:
            seen.append((c.cmd.flow_sp_pct, c.opt.centre, c.opt.state))
    return now


def test_finds_the_plants_optimum_from_the_models_and_learns_the_offset():
    c = _controller()
    plant = Plant(best=72.0)
    _run(c, plant, 0, 400)
    opt = c.opt
    assert abs(c.cmd.p_opt_pct - 91.6) < 0.05  # the model's optimum is unchanged
    # Within the noise band: a slope worth less than opt_noise_pct (0.1 % of COP_s)
    # over the dither is not acted on; here 2.5 % of flow from the optimum, 0.06 % of COP_s.
    assert abs(opt.centre - 72.0) < 2.6, opt.centre
    assert abs(opt.offset[1] - (opt.centre - c.cmd.p_opt_pct)) < 1e-9
    assert opt.conf[1] >= 1


def test_converged_it_stops_dithering_and_probes_again():
    c = _controller(opt_idle_s=600)
    plant = Plant(best=80.0)
    seen = []
    _run(c, plant, 0, 600, seen=seen)
    states = [s for _, _, s in seen]
    assert IDLE in states
    i = states.index(IDLE)
    assert SEEK in states[i:]  # the probe after opt_idle_s
    for sp, centre, s in seen:
        if s == IDLE:
            assert abs(sp - centre) < 1e-9  # no dither while idle


def test_every_setpoint_within_the_limits_the_interlock_and_the_dither_bound():
    for best in (20.0, 160.0):  # an optimum below the interlock, one above p_max
        c = _controller(opt_dither_pct=3.0)
        plant = Plant(best=best)
        seen = []
        _run(c, plant, 0, 400, seen=seen)
        lo = c.config["params"]["min_flow_cooling_pct"]  # 60, above p_min_cooling 50
        hi = c.config["params"]["p_max_cooling"]
        for sp, centre, _ in seen:
            assert lo - 1e-9 <= sp <= hi + 1e-9, (best, sp)
            assert lo - 1e-9 <= centre <= hi + 1e-9
        assert abs(seen[-1][1] - (lo + 1.0 if best < lo else hi)) < 1.0


def test_dither_is_bounded_by_the_parameter():
    c = _controller(opt_dither_pct=2.0, sp_slew_pct_per_s=100.0)
    seen = []
    _run(c, Plant(best=85.0), 0, 200, seen=seen)
    for sp, centre, _ in seen:
        assert abs(sp - centre) <= 2.0 + 1e-9
    assert max(abs(sp - centre) for sp, centre, _ in seen) > 1.9  # it does dither


def test_unit_stop_holds_and_the_restart_resumes_at_the_held_centre():
    c = _controller()
    plant = Plant(best=72.0)
    now = _run(c, plant, 0, 150)
    centre = c.opt.centre
    for _ in range(30):
        plant.fill(c)
        c.meas.unit_running = False
        c.step(now)
        now = ticks_add(now, PERIOD)
    assert c.cmd.state == STATE_STANDBY and c.opt.state == HOLD
    assert c.opt.centre == centre
    before = c.opt.offset[1]
    seen = []
    _run(c, plant, now, 5, seen=seen)
    # The first window after a hold is at the centre, without dither: no bump.
    for sp, cen, _ in seen:
        assert abs(sp - cen) < 1e-9
    assert c.opt.offset[1] == before


def test_alarms_manual_mode_and_season_change_hold_it():
    c = _controller()
    plant = Plant(best=72.0)
    now = _run(c, plant, 0, 100)
    # A flow sensor fault (missing reading): held, the window dropped.
    for _ in range(5):
        plant.fill(c)
        c.meas.flow_m3h = None
        c.step(now)
        now = ticks_add(now, PERIOD)
    assert c.cmd.alarms & alarms.FLOW_MISSING and c.opt.state == HOLD
    now = _run(c, plant, now, 30)
    c.set_param("mode", "manual")
    now = _run(c, plant, now, 3)
    assert c.opt.state == HOLD
    c.set_param("mode", "auto")
    now = _run(c, plant, now, 30)
    assert c.opt.state in (SEEK, IDLE)
    _run(c, Plant(best=50.0, t=11.5), now, 1, mode=2)
    assert c.opt.state == HOLD and c.opt.season == 2
    assert c.opt.offset[1] != 0.0  # what cooling learned is kept


def test_a_river_step_restarts_the_measurement():
    c = _controller(opt_idle_s=0)
    plant = Plant(best=72.0)
    now = _run(c, plant, 0, 60)
    grad = c.opt.grad
    centre = c.opt.centre
    plant.t = 25.0  # the inlet drops 2.6 K within a window
    seen = []
    _run(c, plant, now, 6, seen=seen)
    assert HOLD in [s for _, _, s in seen]
    assert c.opt.grad == grad and abs(c.opt.centre - centre) < 1e-9  # no step taken on it


def test_missing_or_implausible_metering_falls_back_to_the_model_optimum():
    for case in ("missing", "implausible"):
        c = _controller()
        plant = Plant(best=72.0)
        now = _run(c, plant, 0, 120)
        assert abs(c.opt.centre - 91.6) > 2.0
        if case == "missing":
            plant.t_out = False
        else:
            plant.cop = 30.0  # far above cop_max
        now = _run(c, plant, now, 20)
        assert c.opt.state == FALLBACK, case
        assert abs(c.cmd.flow_sp_pct - c.cmd.p_opt_pct) < 1e-6
        plant.t_out = True
        plant.cop = None
        _run(c, plant, now, 12)
        assert c.opt.state != FALLBACK


def test_model_setting_is_the_models_optimum_whatever_the_metering():
    c = _controller(optimiser="model")
    seen = []
    _run(c, Plant(best=72.0), 0, 200, seen=seen)
    assert c.opt.state == OFF
    for sp, _, _ in seen[1:]:
        assert abs(sp - 91.6) < 0.05


def test_learned_optimum_is_saved_with_the_coefficients_and_restored():
    c = _controller()
    _run(c, Plant(best=72.0), 0, 400)
    data = learned.coeffs_to_save(c)
    p, t, n = data["learned"]["cooling"]
    assert data["learned"]["heating"][2] == 0
    d = Controller({"params": c.config["params"], "coeffs": data})
    assert abs(d.opt.offset[1] - c.opt.offset[1]) < 1e-6
    assert d.opt.conf[1] == n
    assert "learned" not in c.config["coeffs"]  # the running set is not changed by a save
    d.opt.forget(1)
    assert d.opt.offset[1] == 0.0 and learned.export(d)["cooling"][2] == 0


def test_a_learned_entry_that_fails_validation_is_refused():
    c = _controller()
    params = c.config["params"]
    for bad in ({"cooling": [10.0, 27.0, 1]},  # below p_min_cooling
                {"cooling": [70.0, 99.0, 1]},  # temperature out of range
                {"cooling": [70.0, 27.0, 1.5]},  # not a whole count
                {"cooling": [70.0, 27.0]},
                {"spring": [70.0, 27.0, 1]},
                {"cooling": [70.0, float("nan"), 1]},
                [70.0, 27.0, 1]):
        coeffs = config.merge_coeffs(c.config["coeffs"], {"learned": bad})
        err = raises(config.ConfigError, c.apply_config, {"params": params, "coeffs": coeffs})
        assert "learned" in str(err), bad
        assert c.opt.offset[1] == 0.0 and "learned" not in c.config["coeffs"]



def test_a_unit_trip_at_low_flow_raises_the_flow_and_keeps_it_above():
    c = _controller()
    plant = Plant(best=40.0, t=11.5)  # heating: the metered optimum is below the trip
    plant.trip_below = 58.0  # a freeze trip above the interlock (40 %)
    seen = []
    _run(c, plant, 0, 600, mode=2, seen=seen)
    opt = c.opt
    assert opt.floor[2] >= 58.0
    assert plant.trips > 0
    late = plant.trips
    _run(c, plant, 600 * PERIOD, 300, mode=2, seen=seen)
    assert plant.trips == late  # no trip once the floor is learned
    for sp, _, _ in seen[-300:]:
        assert sp >= 58.0
    c.set_param("opt_trip_w", 0.0)  # off: a trip is a missing window, the model's optimum
    c.opt.forget(0)
    assert c.opt.floor[2] == 0.0


def test_a_slope_within_the_noise_band_does_not_move_it():
    c = _controller(opt_noise_pct=5.0)  # everything is noise
    _run(c, Plant(best=72.0), 0, 200)
    assert abs(c.opt.centre - 91.6) < 0.05 and c.opt.offset[1] == 0.0


def test_a_new_coefficient_set_or_defaults_start_afresh():
    c = _controller()
    _run(c, Plant(best=72.0), 0, 300)
    assert c.opt.offset[1] != 0.0
    c.set_param("kp", 0.5)  # the same set: kept
    assert c.opt.offset[1] != 0.0
    c.apply_config(config.defaults())
    assert c.opt.offset[1] == 0.0 and c.opt.conf[1] == 0
