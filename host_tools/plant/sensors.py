"""Sensor models: first-order lag, seeded noise, quantisation, and injectable faults.

Faults (`inject`): `stuck` holds `value` (or the last reading), `open` reads NaN
(a broken wire), `offset` adds `value`, `dropout` reads NaN with probability
`value` (default 0.2) on each reading, like a flaky bus.
"""

import math

import numpy as np

FAULT_KINDS = ("stuck", "open", "offset", "dropout")
_BLOCK = 4096  # noise drawn in blocks: one numpy call per 4096 readings, not one per reading


class Sensor:
    def __init__(self, rng: np.random.Generator, noise: float, resolution: float, lag_s: float,
                 value: float):
        self.rng = rng
        self.noise = noise
        self.resolution = resolution
        self.lag_s = lag_s
        self.filtered = value
        self.fault: tuple[str, float | None] | None = None
        self.last = value
        self._normal = np.empty(0)
        self._uniform = np.empty(0)
        self._i = 0
        self._lag_dt = -1.0
        self._lag_k = 1.0

    def reset(self, value: float) -> None:
        self.filtered = value
        self.last = value

    def advance(self, true_value: float, dt_s: float) -> None:
        if dt_s != self._lag_dt:  # exact discretisation of the lag, cached per step size
            self._lag_dt = dt_s
            self._lag_k = 1.0 - math.exp(-dt_s / self.lag_s) if self.lag_s > 0 else 1.0
        self.filtered += (true_value - self.filtered) * self._lag_k

    def _draw(self) -> tuple[float, float]:
        if self._i >= len(self._normal):
            self._normal = self.rng.standard_normal(_BLOCK)
            self._uniform = self.rng.random(_BLOCK)
            self._i = 0
        i = self._i
        self._i += 1
        return float(self._normal[i]), float(self._uniform[i])

    def read(self) -> float:
        normal, uniform = self._draw()
        value = self.filtered + self.noise * normal
        if self.resolution > 0:
            value = round(value / self.resolution) * self.resolution
        if self.fault is not None:
            kind, arg = self.fault
            if kind == "open":
                return math.nan
            if kind == "stuck":
                return self.last if arg is None else arg
            if kind == "offset":
                value += arg or 0.0
            elif kind == "dropout" and uniform < (0.2 if arg is None else arg):
                return math.nan
        self.last = value
        return value

    def inject(self, kind: str, value: float | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        self.fault = (kind, None if value is None else float(value))

    def clear(self) -> None:
        self.fault = None


class S0Meter:
    """An S0 electricity meter and the board's reading of it.

    The meter emits one pulse per 1/pulses_per_kwh kWh (DIN 43864 / IEC 62053-31),
    at the exact moment its register crosses it; the reading is what the board's
    S0 driver makes of the pulses (firmware/drivers/pulse_flow.py PulseRate): the
    pulse count over a window at high power (at least `crossover` pulses in
    `window_s`, updated at each window's end), else one pulse over the last
    period (updated at each pulse, and falling as 1/elapsed once the next pulse
    is overdue), 0 after `timeout_s` without a pulse and until two pulses have
    been timed after such a stop. `phase` (0..1) is where the
    register stands within a pulse at the start: seeded, so runs repeat.
    """

    def __init__(self, pulses_per_kwh: float, window_s: float, crossover: int, timeout_s: float,
                 phase: float):
        self.ws_per_pulse = 3.6e6 / pulses_per_kwh  # W s (J) per pulse
        self.window_s = window_s
        self.crossover = crossover
        self.timeout_s = timeout_s
        self.phase = phase
        self.reset(0.0)

    def reset(self, power_w: float) -> None:
        """As if the meter had run at power_w for a long time, the window just turned."""
        self.now = 0.0
        self.acc = self.phase  # pulses' worth in the register since the last pulse
        self.count = 0
        self.win_start = 0.0
        self.n_win = 0
        self.high = False
        if power_w > 0.0:
            period = self.ws_per_pulse / power_w
            self.last_dt = period
            self.t_last = -self.acc * period
            self.fresh = 2
            self.stopped = False
            n_window = self.window_s / period
            self.high = n_window >= self.crossover
            self.high_n, self.high_span = 1, period
        else:
            self.last_dt = 0.0
            self.t_last = -self.timeout_s
            self.fresh = 0
            self.stopped = True
            self.high_n, self.high_span = 1, 1.0
        self.t_win = self.t_last
        self.win_ok = not self.stopped

    def advance(self, power_w: float, dt_s: float) -> None:
        now = self.now
        e = power_w * dt_s / self.ws_per_pulse if power_w > 0.0 else 0.0
        acc = self.acc + e
        if acc >= 1.0:
            n = int(acc)
            # pulse j (1..n) leaves when the register crosses j: at now + dt (j - acc0) / e
            first = now + dt_s * (1.0 - self.acc) / e
            last = now + dt_s * (n - self.acc) / e
            if n > 1:
                self.last_dt = (last - first) / (n - 1)
            elif self.fresh:
                self.last_dt = first - self.t_last
            else:  # the first pulse after a stop is not timed against an old one
                self.last_dt = 0.0
            self.t_last = last
            self.count += n
            self.fresh += n
            acc -= n
        self.acc = acc
        now = self.now = now + dt_s
        if now - self.t_last >= self.timeout_s:
            self.stopped = True
            self.fresh = 0
            self.high = False
            self.win_ok = False
        elif self.stopped and self.fresh >= 2 and self.last_dt > 0.0:
            self.stopped = False
        if now - self.win_start >= self.window_s:
            self.win_start = now
            dn = self.count - self.n_win
            self.high = False
            if self.win_ok and dn >= self.crossover and self.t_last > self.t_win:
                self.high = True
                self.high_n, self.high_span = dn, self.t_last - self.t_win
            self.n_win = self.count
            self.t_win = self.t_last
            self.win_ok = self.fresh >= 1

    def read(self) -> float:
        """Power (W) as the board reads it (NaN only without a timed period, which the
        stop logic above does not let happen: kept as the driver's None)."""
        if self.stopped:
            return 0.0
        if self.high:
            return self.high_n * self.ws_per_pulse / self.high_span
        if self.fresh < 2 or self.last_dt <= 0.0:
            return math.nan
        dt = self.last_dt
        elapsed = self.now - self.t_last
        return self.ws_per_pulse / (elapsed if elapsed > dt else dt)
