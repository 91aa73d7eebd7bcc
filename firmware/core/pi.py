# Flow PI controller with feed-forward, and the output stage that clamps and
# rate-limits. The split follows ESPHome's controller/output roles: the PI
# computes a wish, the OutputStage decides what the actuator may do, and the
# PI is told the result so its integral never winds up (back-calculation).


class OutputStage:
    """Clamp to [low, high] and limit the rate of change; one place for both."""

    def __init__(self):
        self.low = 0.0
        self.high = 100.0
        self.rate_per_s = 10.0
        self.value = 0.0

    def configure(self, low: float, high: float, rate_per_s: float):
        if not low < high:
            raise ValueError("output limits: low %r must be below high %r" % (low, high))
        if not rate_per_s > 0.0:
            raise ValueError("output rate limit must be positive, got %r" % rate_per_s)
        self.low = float(low)
        self.high = float(high)
        self.rate_per_s = float(rate_per_s)

    def apply(self, wish: float, dt_s: float) -> float:
        if wish > self.high:
            wish = self.high
        elif wish < self.low:
            wish = self.low
        step = self.rate_per_s * dt_s
        value = self.value
        # From a stop (or after the limits changed) start at the nearest limit:
        # a VFD starts at its minimum speed, it does not ramp up from zero.
        if value < self.low:
            value = self.low
        elif value > self.high:
            value = self.high
        if wish > value + step:
            wish = value + step
        elif wish < value - step:
            wish = value - step
        self.value = wish
        return wish

    def force(self, value: float):
        """Set the output without limits (the pump stops at once when switched off)."""
        self.value = value


class PI:
    """u = ff + kp*e + I, with bumpless transfer and back-calculation anti-windup."""

    def __init__(self):
        self.kp = 0.4
        self.ki = 0.4 / 15.0
        self.integral = 0.0
        self._ff = 0.0
        self._p = 0.0
        self._last = 0.0
        self._tracking = True

    def configure(self, kp: float, ti_s: float):
        if not kp >= 0.0:
            raise ValueError("kp must be >= 0, got %r" % kp)
        if not ti_s > 0.0:
            raise ValueError("ti_s must be > 0, got %r" % ti_s)
        self.kp = float(kp)
        self.ki = float(kp) / float(ti_s)

    def track(self, output: float):
        """Follow an output set elsewhere (manual, safe state); the next update starts there."""
        self._last = output
        self._tracking = True

    def update(self, setpoint: float, measured: float, ff: float, dt_s: float) -> float:
        error = setpoint - measured
        p_term = self.kp * error
        if self._tracking:
            # Bumpless: choose I so this update reproduces the output in force.
            self.integral = self._last - ff - p_term
            self._tracking = False
        else:
            self.integral += self.ki * error * dt_s
        self._ff = ff
        self._p = p_term
        return ff + p_term + self.integral

    def settle(self, applied: float):
        """Tell the PI what the output stage applied; re-anchor I if it was limited."""
        if applied != self._ff + self._p + self.integral:
            self.integral = applied - self._ff - self._p
        self._last = applied
