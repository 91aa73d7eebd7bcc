# The on-line optimiser (docs/optimiser.md): the model's optimum corrected by the
# board's own metering. A square dither of +/-opt_dither_pct around a centre, in
# opt_half_s windows whose first half is not metered; each window's
# measured COP_s, less the model's temperature effect (the inlet temperature as
# a regressor), and a second difference over the last three windows give the
# slope of COP_s over flow free of any linear drift. Sign steps of adapted length
# move the centre; its distance from the model's optimum is what is learned, per
# season. Once the steps are small the dither stops (idle) and probes again
# after opt_idle_s. Pure: the controller gives it time, measurements and the
# model; it allocates no lists, dicts or strings per tick.
from core.compat import const, unload

OFF = const(0)  # optimiser = model: the model's optimum, as before
HOLD = const(1)  # paused by a transient; the centre is held
SEEK = const(2)  # dithering
IDLE = const(3)  # converged: no dither until the next probe
FALLBACK = const(4)  # metering missing or implausible: the model's optimum
# Alarms that do not pause it: boot and loop history; a meter fault is a fallback.
_IGNORED = const((1 << 10) | (1 << 11) | (1 << 28) | (1 << 29))


class Optimiser:
    # Its state and settings are set up by configure(), on the first config.
    # (Annotations only: MicroPython compiles them to nothing; for the type check.)
    on: bool
    state: int
    season: int
    offset: list
    conf: list
    floor: list
    centre: float
    sp: float
    grad: float
    cop: float
    stride: float
    step_max: float
    dither: float
    half_ms: int
    settle_ms: int
    idle_ms: int
    trip_w: float
    noise: float
    t_step: float
    cop_min: float
    cop_max: float
    _x: list
    _y: list
    _n: int
    _sign: int
    _ms: int
    _idle: int
    _q: float
    _e: float
    _p: float
    _met: int
    _bad: int
    _trip: int
    _miss: int
    _t0: float
    _pm: float
    _lo: float
    _hi: float
    _fresh: bool
    _dir: int
    _found: bool

    def configure(self, p):
        """The settings from a validated config, and on the first call the state."""
        if not hasattr(self, "offset"):
            self.state = OFF
            self.season = 0
            self.offset = [0.0, 0.0, 0.0]  # learned: centre - model optimum, per season (1, 2)
            self.conf = [0, 0, 0]  # converged probes in a row, per season
            self.floor = [0.0, 0.0, 0.0]  # above the flow the unit tripped at, per season
            self.centre = 0.0
            self.sp = 0.0
            self.grad = 0.0  # last slope, COP_s per % flow
            self.cop = 0.0  # last window's measured COP_s
            self._x = [0.0, 0.0, 0.0]  # the last three windows' flow and COP_s
            self._y = [0.0, 0.0, 0.0]
            self._idle = 0
            self._miss = 0
            self._t0 = 0.0
            self._pm = 0.0
            self._lo = 0.0
            self._hi = 0.0
        self.on = p["optimiser"] == "online"
        self.dither = p["opt_dither_pct"]
        self.half_ms = p["opt_half_s"] * 1000
        self.settle_ms = self.half_ms // 2  # the first half of a window is not metered
        self.step_max = self.dither  # the centre moves at most a dither per step
        self.idle_ms = p["opt_idle_s"] * 1000
        self.t_step = p["opt_t_step_k"]
        self.trip_w = p["opt_trip_w"]
        self.noise = p["opt_noise_pct"]
        self.cop_min = p["cop_min"]
        self.cop_max = p["cop_max"]
        self.stride = self.step_max
        self._dir = 0
        self._found = False
        self.hold()

    def forget(self, season=0):
        """Forget what was learned for a season (0: both): a new coefficient set,
        `opt reset`."""
        for s in (1, 2):
            if season == 0 or season == s:
                self.offset[s] = 0.0
                self.conf[s] = 0
                self.floor[s] = 0.0
        self.stride = self.step_max
        self._dir = 0
        self._found = False
        self.hold()

    def hold(self):
        """A transient: drop the windows in progress and keep the centre (no bump)."""
        self.state = HOLD if self.on else OFF
        self._n = 0
        self._sign = 0
        self._restart()

    def _restart(self):
        self._fresh = True
        self._ms = 0
        self._q = 0.0
        self._e = 0.0
        self._p = 0.0
        self._met = 0
        self._bad = 0
        self._trip = 0

    def step(self, season, dt_ms, alarm, p_model, lo, hi, t, meas, model):
        """One tick in auto with the unit running: the flow setpoint (%)."""
        if not self.on:
            self.state = OFF
            return p_model
        if season != self.season:
            self.season = season
            self.stride = self.step_max if self.conf[season] == 0 else 0.25 * self.step_max
            self._dir = 0
            self._found = False
            self.hold()
        if lo < self.floor[season]:
            lo = self.floor[season]
            if hi < lo:
                hi = lo
        if alarm & ~_IGNORED:
            self.hold()
        else:
            if self.state == IDLE:
                self._idle += dt_ms
                if self._idle >= self.idle_ms:
                    self.hold()
            # Windows are metered while idle too: missing metering is seen there.
            if self._ms == 0:
                self._t0 = t
            self._ms += dt_ms
            if self._ms > self.settle_ms:
                self._meter(meas)
            if self._ms >= self.half_ms:
                # A window's evaluation is loaded for it and dropped (every opt_half_s).
                from core import opt_window

                opt_window.window(self, season, t, p_model, lo, hi, model)
                unload("core.opt_window")
        # The setpoint is worked out again only when something it depends on
        # changed: the model's optimum (every opt_period_ms), the limits, a window.
        if p_model != self._pm or lo != self._lo or hi != self._hi or self._fresh:
            self._pm = p_model
            self._lo = lo
            self._hi = hi
            self._fresh = False
            centre = p_model + self.offset[season]
            if centre < lo:
                centre = lo
            elif centre > hi:
                centre = hi
            self.centre = centre
            x = centre
            if self.state == FALLBACK:
                x = p_model
            elif self._sign and self.state != IDLE and not alarm & ~_IGNORED:
                # Full dither until the optimum was first found, half in the probes
                # after: a drifted optimum shows at half, and costs a quarter.
                amp = self.dither if self.conf[season] == 0 else 0.5 * self.dither
                # Symmetric near a limit (a clamped side biases the slope by the
                # curvature) unless that leaves too little to measure.
                room = centre - lo if centre - lo < hi - centre else hi - centre
                if 0.25 * amp <= room < amp:
                    amp = room
                x = centre + self._sign * amp
            if x < lo:
                x = lo
            elif x > hi:
                x = hi
            self.sp = x
        return self.sp

    def _meter(self, meas):
        f = meas.flow_m3h
        ti = meas.t_in_c
        to = meas.t_out_c
        wu = meas.p_unit_w
        wp = meas.p_pump_w
        # x != x: nan (no boxed float, unlike x - x); an inf fails the window's
        # plausibility check instead.
        if (f is None or ti is None or to is None or wu is None or wp is None
                or f != f or to != to or ti != ti or wu != wu or wp != wp or f <= 0.0):
            self._bad += 1
            return
        if wu < self.trip_w:
            self._trip += 1  # the unit calls for water and draws nothing: it tripped
        # Sums per tick (the ticks of a window are alike): few boxed floats.
        self._q += f * (to - ti)
        self._e += wu
        self._p += wp
        self._met += 1
