# The tick: step(now_ms, measurements) -> commands. No I/O, no clock reads and
# no new lists or dicts per tick: the Measurements and Commands objects are
# allocated once and refilled. now_ms wraps like time.ticks_ms().
from core import alarms
from core import config as config_mod
from core.actuator import FlowCharacteristic
from core.compat import as_number, const
from core.model import SEASON_COOLING, SEASON_HEATING
from core.pi import PI, OutputStage
from core.setpoint import SetpointShaper
from core.ticks import ticks_diff
from core.validity import SensorCheck

MODE_OFF = const(0)
MODE_MANUAL = const(1)
MODE_AUTO = const(2)

SEASON_UNKNOWN = const(0)

# What the loop is doing this tick; the alarm mask says why when it is SAFE.
STATE_OFF = const(0)
STATE_MANUAL = const(1)
STATE_AUTO = const(2)
STATE_STANDBY = const(3)
STATE_SAFE = const(4)
STATE_NAMES = ("off", "manual", "auto", "standby", "safe")

UNIT_MODE_NONE = const(0)  # the unit's mode input: 1 cooling, 2 heating


class Measurements:
    """What the drivers (or a HIL host) read this tick. None or nan means missing."""

    def __init__(self):
        self.t_in_c = None
        self.flow_m3h = None
        # The unit's demand for source water (its run/demand contact): True/False;
        # None: no input wired, assume demand. A unit stopped by its own trip
        # still demands water, so the loop keeps flowing for its restart.
        self.unit_running = None
        self.unit_mode = UNIT_MODE_NONE
        # Metering (optional; None where not wired): loop outlet temperature and
        # the unit's and the pump's electric power, for measured COP_s.
        self.t_out_c = None
        self.p_unit_w = None
        self.p_pump_w = None
        # Alarm bits the drivers raise this tick (core.alarms driver faults);
        # the supervisor reports them with its own.
        self.faults = 0


class Commands:
    """What the drivers apply this tick, and what the console reports."""

    def __init__(self):
        self.output_pct = 0.0
        self.pump_run = False
        self.flow_sp_pct = 0.0
        self.p_opt_pct = 0.0
        self.flow_pct = 0.0
        self.t_filt_c = 0.0
        self.season = SEASON_UNKNOWN
        self.state = STATE_OFF
        self.alarms = 0
        self.dt_ms = 0
        self.ticks = 0


class Controller:
    def __init__(self, config=None):
        self.meas = Measurements()
        self.cmd = Commands()
        self._t_check = SensorCheck(alarms.T_MISSING, alarms.T_RANGE, alarms.T_STUCK,
                                    alarms.T_RATE)
        self._flow_check = SensorCheck(alarms.FLOW_MISSING, alarms.FLOW_RANGE,
                                       alarms.FLOW_STUCK, alarms.FLOW_RATE)
        self._pi = PI()
        self._out = OutputStage()
        self._ff = FlowCharacteristic()
        self._shaper = SetpointShaper()
        self.sticky_alarms = 0  # raised outside the tick (config fallback, overruns)
        self._last_ms = 0
        self._started = False
        self._season = SEASON_UNKNOWN
        self._t_filt = 0.0
        self._have_t_filt = False
        self._opt_ms = 0
        self._opt_due = True
        self._low_flow_ms = 0
        self._low_flow = False
        # Plant supervision (docs/reliability.md#faults): each a declared flag,
        # counters and the evidence it was raised on; ints, floats and bools only.
        self._act = False  # ACTUATOR: the flow does not follow the output
        self._act_ms = 0
        self._act_good = 0
        self._i_good = 0.0  # the PI's integral the last tick the flow followed
        # The pump starts (boot, or from standby or off): ramp open loop to the
        # characteristic's output, then the PI (preset_output starts from there).
        self._restart = True
        self._tp = False  # T_IMPLAUSIBLE
        self._tp_kind = -1  # what is compared: 3 compressor idle, else the season
        self._tp_ms = 0
        self._tp_bad = 0
        self._tp_good = 0
        self._tp_idle = False  # raised by the idle comparison: only that one clears it
        self._tm = False  # T_MODEL_RANGE
        self._tm_bad = 0
        self._tm_good = 0
        self.config = {}
        self.apply_config(config_mod.defaults() if config is None else config)

    # ---- configuration (not in the hot path) ------------------------------
    def apply_config(self, config):
        """Validate and apply a whole config; on ConfigError nothing changes."""
        checked = config_mod.validate(config)
        p = checked["params"]
        # Configure into fresh objects first, so a ValueError cannot leave a
        # half-applied state behind.
        ff = FlowCharacteristic()
        ff.configure(config_mod.ACTUATORS.index(p["actuator"]), p["ff_full_flow_pct"],
                     p["ff_min_output_pct"], p["valve_authority"], p["valve_rangeability"])
        self._pi.configure(p["kp"], p["ti_s"])
        self._out.configure(p["out_min_pct"], p["out_max_pct"], p["out_rate_pct_per_s"])
        self._ff = ff
        self._shaper.configure(p["opt_deadband_pct"], p["sp_slew_pct_per_s"])
        self._t_check.configure(p["t_lo_c"], p["t_hi_c"], p["t_rate_c_per_s"], p["t_stuck_s"],
                                p["fault_ticks"], p["recover_ticks"])
        self._flow_check.configure(-0.5, p["flow_hi_pct"], p["flow_rate_pct_per_s"],
                                   p["flow_stuck_s"], p["fault_ticks"], p["recover_ticks"])
        self.config = {"params": p, "coeffs": checked["coeffs"]}
        self._models = checked["models"]
        self._mode = config_mod.MODES.index(p["mode"])
        self._season_cfg = config_mod.SEASONS.index(p["season"])
        self._period_ms = p["period_ms"]
        self._manual = p["manual_output_pct"]
        self._flow_scale = 100.0 / p["design_flow_m3h"]
        self._fallback = p["fallback_flow_pct"]
        self._standby = p["standby_output_pct"]
        self._opt_period_ms = p["opt_period_ms"]
        self._tau_s = p["t_filter_s"]
        self._ff_gain = p["ff_gain"]
        self._low_flow_limit_ms = p["low_flow_s"] * 1000
        self._min_flow_cool = p["min_flow_cooling_pct"]
        self._min_flow_heat = p["min_flow_heating_pct"]
        self._fault_ticks = p["fault_ticks"]
        self._recover_ticks = p["recover_ticks"]
        self._act_band = p["act_band_pct"]
        self._act_limit_ms = p["act_fault_s"] * 1000
        self._tp_band = p["t_plaus_k"]
        self._tp_settle_ms = p["t_plaus_s"] * 1000
        self._idle_w = p["unit_idle_w"]
        self._tm_margin = p["t_model_margin_k"]
        cool = self._models["cooling"]
        heat = self._models["heating"]
        self._tlo_cool = cool.t_lo
        self._thi_cool = cool.t_hi
        self._tlo_heat = heat.t_lo
        self._thi_heat = heat.t_hi
        self._ranges = {}
        for season in ("cooling", "heating"):
            model = self._models[season]
            self._ranges[season] = model.effective_range(p["p_min_" + season],
                                                         p["p_max_" + season])
        self._opt_due = True

    def set_param(self, name: str, value):
        """Set one parameter through full validation; returns the normalised value."""
        params = dict(self.config["params"])
        params[name] = value
        self.apply_config({"params": params, "coeffs": self.config["coeffs"]})
        return self.config["params"][name]

    def load_coeffs(self, data, merge: bool = True):
        """Make a coefficient set active; a one-season set updates only that season."""
        if merge and isinstance(data, dict):
            data = config_mod.merge_coeffs(self.config["coeffs"], data)
        self.apply_config({"params": self.config["params"], "coeffs": data})

    def preset_output(self, output_pct: float):
        """Start from a known actuator position (read back from a VFD, or a valve's last
        position) instead of from zero: the first ticks then move the output bumplessly."""
        value = as_number(output_pct)
        if value is None or not 0.0 <= value <= 100.0:
            raise ValueError("output_pct must be within 0..100, got %r" % output_pct)
        self._out.force(value)
        self._pi.track(value)
        self._restart = False
        # The plant's history starts here: evidence windows start again (declared
        # faults stay until their recovery).
        self._act_ms = 0
        self._tp_kind = -1
        self._tm_bad = 0

    def has_temperature(self) -> bool:
        """A filtered inlet temperature exists (there has been a valid reading)."""
        return self._have_t_filt

    def model(self, season: int):
        return self._models["cooling" if season == SEASON_COOLING else "heating"]

    def model_cop(self, p_pct: float, t_c: float, season: int) -> float:
        return self.model(season).cop(p_pct, t_c)

    # ---- the tick --------------------------------------------------------
    def step(self, now_ms: int, meas=None):
        """Run one control tick. Never raises: an internal error gives the safe state."""
        if meas is None:
            meas = self.meas
        cmd = self.cmd
        try:
            self._step(now_ms, meas, cmd)
        except Exception:  # the board must keep a defined output whatever happens
            cmd.alarms |= alarms.INTERNAL
            cmd.state = STATE_SAFE
            cmd.pump_run = True
            # Hold the last applied output: it is within limits, and nothing
            # computed this tick can be trusted.
            cmd.output_pct = self._out.value
            self._pi.track(cmd.output_pct)
        return cmd

    def _step(self, now_ms, meas, cmd):
        if self._started:
            dt_ms = ticks_diff(now_ms, self._last_ms)
            # A clock jump or a stalled loop must not make one huge integral step.
            if dt_ms <= 0 or dt_ms > 10 * self._period_ms:
                dt_ms = self._period_ms
        else:
            dt_ms = self._period_ms
            self._started = True
        self._last_ms = now_ms
        dt_s = dt_ms * 0.001
        cmd.dt_ms = dt_ms
        cmd.ticks += 1

        t_raw = as_number(meas.t_in_c)
        flow_raw = as_number(meas.flow_m3h)
        if flow_raw is not None:
            flow_raw = flow_raw * self._flow_scale
        t_faults = self._t_check.update(t_raw, dt_ms)
        flow_faults = self._flow_check.update(flow_raw, dt_ms)
        t_ok = self._t_check.valid
        flow_ok = self._flow_check.valid
        alarm = t_faults | flow_faults | self.sticky_alarms | meas.faults

        season = self._resolve_season(meas.unit_mode)
        if season == SEASON_UNKNOWN:
            alarm |= alarms.SEASON_UNKNOWN
            min_flow = self._min_flow_cool
            if self._min_flow_heat > min_flow:
                min_flow = self._min_flow_heat
        elif season == SEASON_COOLING:
            min_flow = self._min_flow_cool
        else:
            min_flow = self._min_flow_heat

        if t_ok:
            t = self._t_check.value
            if not self._have_t_filt:
                self._t_filt = t
                self._have_t_filt = True
            else:
                self._t_filt += (t - self._t_filt) * dt_s / (self._tau_s + dt_s)
        flow_pct = self._flow_check.value
        running = meas.unit_running is not False
        if t_ok:
            t = self._t_check.value
            if season != SEASON_UNKNOWN:
                self._check_model_range(t, season)
            self._check_plausible(t, meas, running, season, dt_ms)
        else:
            self._tm_bad = 0
            self._tp_bad = 0
        if self._tm:
            alarm |= alarms.T_MODEL_RANGE
        if self._tp:
            alarm |= alarms.T_IMPLAUSIBLE
        if self._act:
            alarm |= alarms.ACTUATOR

        cmd.season = season
        cmd.flow_pct = flow_pct
        cmd.t_filt_c = self._t_filt

        if self._mode == MODE_OFF:
            self._out.force(0.0)
            self._pi.track(0.0)
            self._restart = True
            self._low_flow_ms = 0
            self._low_flow = False
            cmd.output_pct = 0.0
            cmd.pump_run = False
            cmd.flow_sp_pct = 0.0
            cmd.state = STATE_OFF
            cmd.alarms = alarm
            return

        if running and flow_ok:
            self._track_low_flow(flow_pct, min_flow, dt_ms)
        else:
            self._low_flow_ms = 0
            self._low_flow = False
        if self._low_flow:
            alarm |= alarms.LOW_FLOW

        state = STATE_AUTO
        if self._mode == MODE_MANUAL:
            wish = self._manual
            floor = self._ff.output_for_flow(min_flow) if running else 0.0
            if wish < floor:
                wish = floor  # the interlock wins over the operator too
            out = self._out.apply(wish, dt_s)
            self._pi.track(out)
            self._act_ms = 0
            cmd.flow_sp_pct = 0.0
            state = STATE_MANUAL
        elif not running:
            out = self._out.apply(self._standby, dt_s)
            self._act_ms = 0
            self._restart = True
            self._pi.track(out)
            self._opt_due = True
            cmd.flow_sp_pct = 0.0
            state = STATE_STANDBY
        else:
            if t_ok and season != SEASON_UNKNOWN and not alarm & alarms.T_UNTRUSTED:
                self._optimise(season, dt_ms)
                sp = self._shaper.step(dt_s)
            else:
                # Safe state for a temperature fault, an implausible temperature or
                # one outside the model's trusted range: design-like fallback flow
                # now, and a fresh optimisation on recovery (slewing from here).
                sp = self._fallback
                self._shaper.jump(sp)
                self._opt_due = True
                state = STATE_SAFE
            if sp < min_flow:
                sp = min_flow
            cmd.flow_sp_pct = sp
            ff = self._ff_gain * self._ff.output_for_flow(sp)
            if flow_ok:
                prev = self._out.value
                if self._act or self._restart:
                    # Safe state for an actuator that does not follow: open loop on
                    # the characteristic plus the correction the PI had while the
                    # flow followed (integrator held: nothing winds up), and a
                    # bumpless return to the PI when the flow follows again. A
                    # restart from standby or off ramps the same way at the rate
                    # limit, then hands over to the PI.
                    wish = ff + self._i_good
                    out = self._out.apply(wish, dt_s)
                    self._pi.track(out)
                    if self._act:
                        state = STATE_SAFE
                    elif out == wish or out == self._out.high or out == self._out.low:
                        self._restart = False
                else:
                    out = self._out.apply(self._pi.update(sp, flow_pct, ff, dt_s), dt_s)
                    self._pi.settle(out)
                if self._check_actuator(sp - flow_pct, out, prev, dt_ms):
                    alarm |= alarms.ACTUATOR
            else:
                # Safe state for a flow fault: open loop on the characteristic, at
                # no less than the fallback flow.
                target = sp if sp > self._fallback else self._fallback
                out = self._out.apply(self._ff.output_for_flow(target), dt_s)
                self._pi.track(out)
                state = STATE_SAFE
        cmd.output_pct = out
        cmd.pump_run = True
        cmd.state = state
        cmd.alarms = alarm

    def _resolve_season(self, unit_mode):
        if self._season_cfg == 1:
            self._season = SEASON_COOLING
        elif self._season_cfg == 2:
            self._season = SEASON_HEATING
        elif unit_mode == 1 or unit_mode == 2:
            # Remember the last mode the unit reported: a missing input keeps it.
            if unit_mode != self._season:
                self._opt_due = True
            self._season = unit_mode
        return self._season

    def _optimise(self, season, dt_ms):
        self._opt_ms += dt_ms
        if not self._opt_due and self._opt_ms < self._opt_period_ms:
            return
        self._opt_ms = 0
        first = self._opt_due
        self._opt_due = False
        name = "cooling" if season == SEASON_COOLING else "heating"
        lo, hi = self._ranges[name]
        p_opt = self._models[name].optimum(self._t_filt, lo, hi)
        self.cmd.p_opt_pct = p_opt
        if first and not self._shaper.primed:
            self._shaper.jump(p_opt)
        else:
            self._shaper.propose(p_opt)

    def _check_actuator(self, e, out, prev, dt_ms) -> bool:
        """ACTUATOR: the flow error beyond act_band_pct for act_fault_s while the
        output is unchanged, at its limit or moving the way the error asks (the
        actuator is told and the flow does not follow); clears after recover_ticks
        ticks within half the band. True when raised this tick."""
        band = self._act_band
        if band <= 0.0:
            self._act = False
            return False
        if e > band or e < -band:
            self._act_good = 0
            if (e > 0.0 and out >= prev) or (e < 0.0 and out <= prev):
                self._act_ms += dt_ms
                if not self._act and self._act_ms >= self._act_limit_ms:
                    self._act = True
                    return True
            else:
                self._act_ms = 0
            return False
        self._act_ms = 0
        if not self._act:
            self._i_good = self._pi.integral
        elif -0.5 * band <= e <= 0.5 * band:
            self._act_good += 1
            if self._act_good >= self._recover_ticks:
                self._act = False
                self._act_good = 0
        else:
            self._act_good = 0
        return False

    def _check_model_range(self, t, season):
        """T_MODEL_RANGE: the inlet temperature outside the active season's t_lo..t_hi
        for fault_ticks; clears t_model_margin_k inside for recover_ticks."""
        if season == SEASON_COOLING:
            lo = self._tlo_cool
            hi = self._thi_cool
        else:
            lo = self._tlo_heat
            hi = self._thi_heat
        if t < lo or t > hi:
            self._tm_good = 0
            self._tm_bad += 1
            if self._tm_bad >= self._fault_ticks:
                self._tm = True
            return
        self._tm_bad = 0
        margin = self._tm_margin
        if self._tm and lo + margin <= t <= hi - margin:
            self._tm_good += 1
            if self._tm_good >= self._recover_ticks:
                self._tm = False
                self._tm_good = 0
        else:
            self._tm_good = 0

    def _check_plausible(self, t, meas, running, season, dt_ms):
        """T_IMPLAUSIBLE: with the compressor off (not running, or its power at most
        unit_idle_w) the loop outlet reads the inlet's temperature; with it running
        the loop gains heat in cooling and loses it in heating. After t_plaus_s in
        one of these conditions, a disagreement over t_plaus_k for fault_ticks
        raises it; within half that for recover_ticks clears it."""
        band = self._tp_band
        t_out = as_number(meas.t_out_c)
        if band <= 0.0 or t_out is None:
            self._tp_bad = 0
            return
        p_unit = as_number(meas.p_unit_w)
        idle = not running or (p_unit is not None and p_unit <= self._idle_w)
        kind = 3 if idle else season
        if kind != self._tp_kind:
            self._tp_kind = kind
            self._tp_ms = 0
            self._tp_bad = 0
            self._tp_good = 0
        if kind == SEASON_UNKNOWN:
            return
        if self._tp_ms < self._tp_settle_ms:
            self._tp_ms += dt_ms
            return
        dev = t - t_out  # cooling: the inlet reads above the outlet
        if idle:
            if dev < 0.0:
                dev = -dev
        elif kind == SEASON_HEATING:
            dev = -dev
        if dev > band:
            self._tp_good = 0
            self._tp_bad += 1
            if self._tp_bad >= self._fault_ticks and not self._tp:
                self._tp = True
                self._tp_idle = idle
            return
        self._tp_bad = 0
        if self._tp and dev < 0.5 * band and (idle or not self._tp_idle):
            self._tp_good += 1
            if self._tp_good >= self._recover_ticks:
                self._tp = False
                self._tp_good = 0
        else:
            self._tp_good = 0

    def _track_low_flow(self, flow_pct, min_flow, dt_ms):
        if flow_pct < min_flow:
            self._low_flow_ms += dt_ms
            if self._low_flow_ms >= self._low_flow_limit_ms:
                self._low_flow = True
        else:
            self._low_flow_ms = 0
            # 1 %-point hysteresis: no alarm chatter with flow on the threshold.
            if flow_pct >= min_flow + 1.0:
                self._low_flow = False
