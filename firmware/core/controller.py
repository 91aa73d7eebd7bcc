# The tick: step(now_ms, measurements) -> commands. No I/O, no clock reads and
# no new lists or dicts per tick: the Measurements and Commands objects are
# allocated once and refilled. now_ms wraps like time.ticks_ms().
from core import alarms
from core import config as config_mod
from core.actuator import FlowCharacteristic
from core.compat import as_number, const, unload
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
        self._heat = -1.0  # filtered flow x outlet cooling (% K), heating; < 0: none yet
        self.guard_pct = 0.0  # the outlet guard's flow floor (%), heating; 0: none yet
        self._guard_ms = 0  # how long the floor has been above the need
        self._settle_ms = 0  # since the heat's estimate (re)started
        self._sup = None  # plant supervision (core/supervise.py), from the first tick
        # The on-line correction (core/optimiser.py), imported here rather than with
        # this module: on the host MicroPython (source, collection off until the loop
        # starts) its compilation's garbage then is not on top of this module's.
        from core.optimiser import Optimiser

        self.opt = Optimiser()
        self.config = {}
        self.apply_config(config_mod.defaults() if config is None else config)

    # ---- configuration (not in the hot path) ------------------------------
    def apply_config(self, config, params_checked=False):
        """Validate and apply a whole config; on ConfigError nothing changes.
        params_checked: its params are the running ones (config.validate)."""
        checked = config_mod.validate(config, params_checked)
        p = checked["params"]
        new_set = checked["coeffs"] is not self.config.get("coeffs")
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
        self._min_flow_cool = p["min_flow_cooling_pct"]
        self._min_flow_heat = p["min_flow_heating_pct"]
        self._margin = p["cutout_margin_k"]
        self._t_guard = p["t_cutout_c"] + self._margin  # the outlet stays above this
        # The heat's filter, applied once per opt_period_ms with time constant t_filter_s.
        self._heat_k = p["opt_period_ms"] / (p["t_filter_s"] * 1000.0 + p["opt_period_ms"])
        self._hold_ms = p["cutout_hold_s"] * 1000
        self._settle_total = p["cop_window_s"] * 1000
        if self._sup is not None:
            self._sup.configure(p, self._models)
        self.opt.configure(p)
        self._ranges = {}
        self._limits = config_mod.limits(p)
        for season in ("cooling", "heating"):
            model = self._models[season]
            self._ranges[season] = model.effective_range(p["p_min_" + season],
                                                         p["p_max_" + season])
        if new_set and "learned" in checked["coeffs"]:
            # A set from the store or a file with what the optimiser learned
            # (core/learned.py, loaded for this and dropped).
            from core import learned

            try:
                learned.restore(self, checked["coeffs"]["learned"])
            finally:
                unload("core.learned")
        elif new_set:
            self.opt.forget()  # learned against another model (or `defaults`): start afresh
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
        self.apply_config({"params": self.config["params"], "coeffs": data}, True)

    def preset_output(self, output_pct: float):
        """Start from a known actuator position (read back from a VFD, or a valve's last
        position) instead of from zero: the first ticks then move the output bumplessly."""
        value = as_number(output_pct)
        if value is None or not 0.0 <= value <= 100.0:
            raise ValueError("output_pct must be within 0..100, got %r" % output_pct)
        self._out.force(value)
        self._pi.track(value)
        self._supervisor().restart()

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
        if meas.faults & (alarms.VFD_TRIP | alarms.VFD_LINK):
            flow_ok = False  # the drive tripped or does not answer: no controlled flow
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
        sup = self._sup or self._supervisor()
        # T_MODEL_RANGE, T_IMPLAUSIBLE: the temperature is not one to optimise on.
        t_bits = sup.bits()
        if t_ok:
            t_bits = sup.temperatures(self._t_check.value, meas.t_out_c, running, season,
                                      dt_ms)
        alarm |= t_bits
        if sup.act.on:
            alarm |= alarms.ACTUATOR

        cmd.season = season
        cmd.flow_pct = flow_pct
        cmd.t_filt_c = self._t_filt

        if self._mode == MODE_OFF:
            self._out.force(0.0)
            self._pi.track(0.0)
            sup.stopped()
            self.opt.hold()
            cmd.output_pct = 0.0
            cmd.pump_run = False
            cmd.flow_sp_pct = 0.0
            cmd.state = STATE_OFF
            cmd.alarms = alarm
            return

        if sup.low_flow(flow_pct if running and flow_ok else None, min_flow, dt_ms):
            alarm |= alarms.LOW_FLOW

        state = STATE_AUTO
        if self._mode == MODE_MANUAL:
            wish = self._manual
            floor = self._ff.output_for_flow(min_flow) if running else 0.0
            if wish < floor:
                wish = floor  # the interlock wins over the operator too
            out = self._out.apply(wish, dt_s)
            self._pi.track(out)
            sup.act.n = 0
            self.opt.hold()
            cmd.flow_sp_pct = 0.0
            state = STATE_MANUAL
        elif not running:
            out = self._out.apply(self._standby, dt_s)
            sup.stopped()
            self._pi.track(out)
            self._opt_due = True
            self.opt.hold()
            cmd.flow_sp_pct = 0.0
            state = STATE_STANDBY
        else:
            if t_ok and season != SEASON_UNKNOWN and not t_bits:
                if self._optimise(season, dt_ms) and season == SEASON_HEATING:
                    self._outlet_guard(meas, flow_pct if flow_ok else None)
                guard = 0.0
                if season == SEASON_HEATING and self._margin > 0.0:
                    guard = self.guard_pct
                    if guard > self._limits["heating"][1]:
                        guard = self._limits["heating"][1]
                opt = self.opt
                if opt.on:
                    # The on-line optimiser's setpoint goes straight to the slew limit:
                    # it rejects metering noise itself, and its dither is below no deadband.
                    # Its range is the config's p_min..p_max: the metering is trusted
                    # where the model's fitted range (p_lo..p_hi) is not.
                    name = "cooling" if season == SEASON_COOLING else "heating"
                    lo, hi = self._limits[name]
                    if lo < min_flow + 1.0:
                        # The interlock is a floor for the dither too, with LOW_FLOW's
                        # 1 %-point hysteresis above it (supervise.low_flow): riding the
                        # interlock would latch the alarm on meter noise.
                        lo = min_flow + 1.0
                    if lo < guard:
                        lo = guard
                    self._shaper.target = opt.step(season, dt_ms, alarm, self.cmd.p_opt_pct,
                                                   lo, hi, self._t_filt, meas,
                                                   self._models[name])
                sp = self._shaper.step(dt_s)
                if sp < guard:
                    sp = guard
            else:
                # Safe state for a temperature fault, an implausible temperature or
                # one outside the model's trusted range: design-like fallback flow
                # now, and a fresh optimisation on recovery (slewing from here).
                sp = self._fallback
                self._shaper.jump(sp)
                self._opt_due = True
                self.opt.hold()
                state = STATE_SAFE
            if sp < min_flow:
                sp = min_flow
            cmd.flow_sp_pct = sp
            ff = self._ff_gain * self._ff.output_for_flow(sp)
            if flow_ok:
                out = sup.follow(self._pi, self._out, sp, flow_pct, ff, dt_s, dt_ms)
                if sup.act.on:
                    alarm |= alarms.ACTUATOR
                    state = STATE_SAFE
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
                self._heat = -1.0  # the outlet guard starts over in the new season
            self._season = unit_mode
        return self._season

    def _optimise(self, season, dt_ms):
        """The model's optimum, every opt_period_ms (or when due); True when computed."""
        self._opt_ms += dt_ms
        if not self._opt_due and self._opt_ms < self._opt_period_ms:
            return False
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
        return True

    def _outlet_guard(self, meas, flow_pct):
        # Heating: the loop's outlet must stay above the unit's freeze cutout, or the
        # unit trips (and restarts only after its delay). The heat the unit takes is
        # flow x (inlet - outlet), so at this heat the outlet reaches the cutout plus
        # the margin at flow = heat / (inlet - cutout - margin): the floor for the
        # setpoint, followed as the river and the load move (docs/optimiser.md).
        # Once per opt_period_ms. The heat from the two readings of this tick; the
        # room above the cutout from the filtered inlet (its steps are the sensor's).
        t = self._t_check.value
        t_out = as_number(meas.t_out_c)
        w = as_number(meas.p_unit_w)
        if t_out is None or flow_pct is None or flow_pct <= 0.0 or self._margin <= 0.0:
            return  # no outlet reading: the floor holds where it was
        if w is not None and w < self.opt.trip_w:
            return  # the compressor is off (tripped, locked out): no heat to go by
        heat = flow_pct * (t - t_out)
        # For cop_window_s after a (re)start (the boot, a season change) the loop is
        # settling and the floor follows what it reads; after that the readings of a
        # stopped compressor are left out (below a quarter of the filtered heat).
        settling = self._settle_ms < self._settle_total
        if self._heat < 0.0:
            self._heat = heat if heat > 0.0 else 0.0
            self._settle_ms = 0
            settling = True
        elif not settling and heat < 0.25 * self._heat:
            return  # the heat fell away at once: the compressor stopped on its own
        else:
            self._heat += (heat - self._heat) * self._heat_k
        if settling:
            self._settle_ms += self._opt_period_ms
        room = self._t_filt - self._t_guard
        need = self._heat / room if room > 0.1 else 1000.0
        # Up at once, and down by up to 2 % of itself per update (the river and the
        # load move slowly; so does the readings' noise). A bigger fall comes only
        # after cutout_hold_s: a trip's restart delay, and the readings on the way
        # down to it, do not lower the floor the unit restarts on (which would trip
        # it again, lower each time).
        if (settling or need >= 0.98 * self.guard_pct
                or self._guard_ms >= self._hold_ms):
            self.guard_pct = need
            self._guard_ms = 0
        else:
            self._guard_ms += self._opt_period_ms

    def _supervisor(self):
        # Imported at the first tick (or a preset), not at boot: the boot's peak heap
        # does not carry it.
        if self._sup is None:
            from core.supervise import Supervisor

            self._sup = Supervisor()
            self._sup.configure(self.config["params"], self._models)
        return self._sup
