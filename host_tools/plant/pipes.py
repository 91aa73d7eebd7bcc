"""Loop hydraulics and transport: resistance coefficients, water volume, a volume delay.

Head loss follows Darcy-Weisbach, h = (f l/d + sum K) v^2 / 2g, with f for a
smooth pipe (64/Re laminar, Blasius 0.316 Re^-0.25 turbulent; Moody chart,
e.g. White, Fluid Mechanics, ch. 6). It is evaluated once at the design flow
and then applied as h = k L^2: the quadratic system curve of the ASHRAE
Handbook (HVAC Systems and Equipment, pumps chapter) that the paper's
analysis assumes. (Smooth turbulent flow really gives L^1.75; over the
bench's 0.3-1 m3/h that changes heads by less than 10 %.)
"""

from collections import deque
from math import pi

from host_tools.plant import water

G = 9.80665  # m/s2
HEAD_M_PER_KPA = 1.0 / (998.0 * G / 1000.0)  # water at ~20 degC


def friction_factor(re: float) -> float:
    return 64.0 / re if re < 2300.0 else 0.316 * re ** -0.25


def k_pipe(length_m: float, d_m: float, minor_k: float, design_flow_m3h: float,
           t_c: float = 15.0) -> float:
    """Head loss per flow squared, m/(m3/h)^2, of a smooth pipe run with fittings."""
    if length_m <= 0.0 and minor_k <= 0.0:
        return 0.0
    area = pi * d_m * d_m / 4.0
    v = design_flow_m3h / 3600.0 / area
    re = v * d_m * water.density_kg_m3(t_c) / water.viscosity_pa_s(t_c)
    head = (friction_factor(re) * length_m / d_m + minor_k) * v * v / (2.0 * G)
    return head / (design_flow_m3h * design_flow_m3h)


def k_from_pressure_drop(dp_kpa: float, flow_m3h: float) -> float:
    """A component specified by its pressure drop at one flow (the unit's 15.9 kPa)."""
    return dp_kpa * HEAD_M_PER_KPA / (flow_m3h * flow_m3h)


def volume_l(length_m: float, d_m: float) -> float:
    return pi * d_m * d_m / 4.0 * length_m * 1000.0


class VolumeDelay:
    """Plug flow through a fixed water volume: what leaves is what entered one volume ago.

    Indexed by pumped volume, not time, so the delay stretches by itself when
    the flow drops (transit time = volume / flow) and freezes at zero flow.
    """

    def __init__(self, volume_l_: float, t_c: float):
        self.volume_l = volume_l_
        self.pumped_l = 0.0
        self.samples: deque[tuple[float, float]] = deque([(-volume_l_ - 1.0, t_c), (0.0, t_c)])

    def fill(self, t_c: float) -> None:
        self.samples = deque([(self.pumped_l - self.volume_l - 1.0, t_c), (self.pumped_l, t_c)])

    def push(self, pumped_l: float, t_c: float) -> float:
        """Add `pumped_l` of water at t_c at the inlet; return the outlet temperature."""
        if pumped_l > 0.0:
            self.pumped_l += pumped_l
            self.samples.append((self.pumped_l, t_c))
        target = self.pumped_l - self.volume_l
        s = self.samples
        while len(s) > 2 and s[1][0] <= target:
            s.popleft()
        (v0, t0), (v1, t1) = s[0], s[1]
        if v1 <= v0 or target <= v0:
            return t0
        if target >= v1:
            return t1
        return t0 + (t1 - t0) * (target - v0) / (v1 - v0)
