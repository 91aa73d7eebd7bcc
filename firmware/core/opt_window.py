# The on-line optimiser's window evaluation (core/optimiser.py, docs/optimiser.md):
# loaded at the end of each window (every opt_half_s) and dropped after
# (host_tools/fwbuild.py ON_DEMAND). `self` is the Optimiser.
from core.metering import RHO_CP_KW_PER_M3H_K
from core.optimiser import FALLBACK, HOLD, IDLE, SEEK


def window(self, season, t, p_model, lo, hi, model):
    x = self.sp
    met = self._met
    cop = 0.0
    t_mean = t
    if met > 0 and self._e > 0.0:
        # The loop's heat less (cooling) or plus (heating) the unit's input.
        q = RHO_CP_KW_PER_M3H_K * self._q
        wu = 0.001 * self._e
        q = q - wu if season == 1 else wu - q
        cop = q / (wu + 0.001 * self._p)
        t_mean = 0.5 * (self._t0 + t)
    river_step = t - self._t0 > self.t_step or self._t0 - t > self.t_step
    good = self._bad == 0 and met > 0 and self.cop_min <= cop <= self.cop_max
    trip = self._trip > 0
    self._restart()
    if trip and self.trip_w > 0.0:
        # The unit stopped on its own protection (a freeze or head-pressure trip)
        # at this flow: more water, and never this little again this season.
        floor = x + self.step_max
        if floor > hi:
            floor = hi
        if floor > self.floor[season]:
            self.floor[season] = floor
        centre = self.centre if self.centre > floor else floor
        self.offset[season] = centre - p_model
        self.conf[season] = 0
        self._found = True
        self.state = HOLD
        self._n = 0
        self._sign = 0
        self._miss = 0
        return
    if not good:
        # Metering missing or implausible: a second window in a row falls back.
        self._miss += 1
        self._n = 0
        self._sign = 0
        if self._miss >= 2:
            self.state = FALLBACK
        return
    self._miss = 0
    self.cop = cop
    if self.state == IDLE:
        return
    if river_step:
        self.state = HOLD  # a step in the inlet temperature: start over from here
        self._n = 0
        self._sign = 0
        return
    if self.state == HOLD or self.state == FALLBACK:
        # The first window after a pause (a start, a restart, the metering back) is
        # the loop settling: it is not measured on; the dither starts from here.
        self.state = SEEK
        self._n = 0
        self._sign = 1
        return
    self.state = SEEK
    # The inlet temperature as a regressor: take the model's temperature effect
    # at this flow off the measurement.
    y = cop - model.cop(x, t_mean) + model.cop(x, model.t_ref)
    xs = self._x
    ys = self._y
    xs[0] = xs[1]
    xs[1] = xs[2]
    xs[2] = x
    ys[0] = ys[1]
    ys[1] = ys[2]
    ys[2] = y
    self._n += 1
    self._sign = 1 if self._sign <= 0 else -1
    if self._n < 3:
        return
    # y = c + g x + d k over three windows: the second difference drops c and d.
    den = xs[0] - 2.0 * xs[1] + xs[2]
    if den < 0.25 * self.dither and den > -0.25 * self.dither:
        return
    g = (ys[0] - 2.0 * ys[1] + ys[2]) / den
    self.grad = g
    # Sign steps with an adapted length (the model's curvature is no guide on a
    # plant it does not know): 1.5 times longer while the slope keeps its sign
    # until the optimum is first passed, halved each time the slope turns or the
    # centre meets a limit; below an eighth of opt_step_pct the optimum is found.
    d = 1 if g > 0.0 else -1
    step = self.stride
    # What the slope is worth over the dither (the second difference's COP_s
    # change): below opt_noise_pct of COP_s it is no evidence, the step shrinks
    # and the centre stays (a flat curve does not make it wander).
    worth = ys[0] - 2.0 * ys[1] + ys[2]
    if worth < 0.0:
        worth = -worth
    if 25.0 * worth < self.noise * cop:  # worth / 4 < noise % of COP_s
        d = 0
        step *= 0.5
        self._found = True
    elif d != self._dir and self._dir != 0:
        step *= 0.5
        self._found = True
    elif not self._found and self._dir != 0:
        step *= 1.5
        if step > self.step_max:
            step = self.step_max
    if d:
        self._dir = d
    centre = self.centre + d * step
    if centre < lo:
        centre = lo
        step *= 0.5
        self._found = True
    elif centre > hi:
        centre = hi
        step *= 0.5
        self._found = True
    self.stride = step
    self.offset[season] = centre - p_model
    self.centre = centre
    if step <= 0.125 * self.step_max:
        if self.conf[season] < 100:
            self.conf[season] += 1
        if self.idle_ms > 0:
            self.state = IDLE
            self._idle = 0
            self._sign = 0
            self.stride = 0.25 * self.step_max  # the next probe starts small
            self._found = False
    elif step >= self.step_max:
        self.conf[season] = 0
