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
