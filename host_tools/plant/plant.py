"""The source loop as one object: steady state, the true optimum, dynamics and sensors.

Steady state at a given flow is solved by fixed-point iteration (loop water
temperature <-> unit heat flow) and tabulated over flow for each river
temperature, so the per-second simulation and the oracle only interpolate.
"""

from bisect import bisect_left
from dataclasses import dataclass
from math import isnan

import numpy as np

from host_tools.plant import physics, water
from host_tools.plant import unit as unit_model

SEASONS = ("cooling", "heating")
_GRID_STEP_PCT = 0.25  # flow resolution of the steady-state table, % of design flow


@dataclass(frozen=True)
class OperatingPoint:
    output_percent: float
    flow_m3h: float
    flow_percent: float
    t_in_c: float
    t_out_c: float
    t_river_c: float
    q_kw: float
    w_hp_kw: float
    w_pump_kw: float
    cop_s: float
    head_m: float
    pump_eff: float
    trip: str | None


@dataclass
class Measured:
    t_in_c: float
    flow_m3h: float
    unit_running: bool
    unit_mode: str


def _unit_at(pp, season, flow, t_river, velocity):
    """Steady loop temperature and unit point at one flow (fixed point on t_in)."""
    t_in = t_river
    point = None
    for _ in range(80):
        c = water.capacity_rate_kw_k(flow, t_in)
        ua = physics.coil_ua_kw_k(pp.coil, flow, velocity, t_in, t_river)
        eps = physics.effectiveness(ua, c)
        if season == "cooling":
            point = unit_model.cooling(pp.unit, t_in, c)
        else:
            point = unit_model.heating(pp.unit, t_in, c)
        new = t_river + point.q_loop_kw * (1.0 - eps) / (eps * c)
        if abs(new - t_in) < 1e-6:
            t_in = new
            break
        t_in = 0.5 * (t_in + new)
    return t_in, point


class Plant:
    def __init__(self, pp, season: str):
        if season not in SEASONS:
            raise ValueError(f"season must be cooling or heating, not {season!r}")
        self.pp = pp
        self.season = season
        self.kind = pp.actuator.kind
        self.design_flow_m3h = pp.unit.design_flow_m3h
        self.bench_t_river_c = pp.river.t_summer_c if season == "cooling" else pp.river.t_winter_c
        self.velocity_m_s = (pp.river.velocity_summer_m_s if season == "cooling"
                             else pp.river.velocity_winter_m_s)
        k_unit = pp.unit.dp_design_kpa / 100.0 * physics.G_HEAD_PER_BAR / (
            pp.unit.design_flow_m3h ** 2)
        self.k_loop = pp.pipe.k_fixed_m_per_m3h2 + k_unit  # everything but the valve
        self._tables: dict[float, dict[str, np.ndarray]] = {}
        self._lists: dict[float, dict[str, list[float]]] = {}
        self._outputs: dict[float, float] = {}
        self._optima: dict[float, OperatingPoint] = {}
        self.rng = np.random.default_rng(int(pp.sensors.seed))
        self.faults: dict[str, tuple[str, float | None]] = {}
        self.reset(100.0, self.bench_t_river_c)

    # ---- actuator and hydraulics --------------------------------------
    def flow_for_output(self, output_percent: float) -> float:
        """Loop flow (m3/h) at an actuator output, where pump and system curves meet."""
        u = min(max(output_percent, 0.0), 100.0) / 100.0
        a = self.pp.actuator
        if self.kind == "vfd":
            if u <= 0.0:
                return 0.0
            speed = max(u, a.vfd_min_speed_pct / 100.0)
            return physics.operating_flow_m3h(self.pp.pump, self.k_loop, speed)
        k = self.k_loop + physics.valve_head_coeff(a, u)
        return physics.operating_flow_m3h(self.pp.pump, k, 1.0)

    def max_flow_percent(self) -> float:
        return 100.0 * self.flow_for_output(100.0) / self.design_flow_m3h

    def output_for_flow_percent(self, p: float, t_river_c: float | None = None) -> float:
        """Inverse of flow_for_output by bisection (the characteristic is monotonic).

        The hydraulics do not depend on temperature, so results are memoised by flow."""
        hit = self._outputs.get(p)
        if hit is not None:
            return hit
        out = self._invert(p)
        if len(self._outputs) < 100000:
            self._outputs[p] = out
        return out

    def _invert(self, p: float) -> float:
        target = p / 100.0 * self.design_flow_m3h
        lo, hi = 0.0, 100.0
        if target >= self.flow_for_output(100.0):
            return 100.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            if self.flow_for_output(mid) < target:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def pump_at(self, flow: float) -> tuple[float, float, float]:
        """(head m, electric power kW, wire-to-water efficiency) delivering this flow."""
        pump = self.pp.pump
        if flow <= 0.0:
            return 0.0, 0.0, 0.0
        if self.kind == "vfd":
            # No valve: the speed at which the pump meets the loop curve at this flow.
            head = self.k_loop * flow * flow
            a = pump.h0_m
            b = pump.h1_m_per_m3h * flow
            c = pump.h2_m_per_m3h2 * flow * flow - head
            speed = (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
        else:
            speed = 1.0
            head = physics.pump_head_m(pump, flow, 1.0)
        power = physics.pump_power_kw(pump, flow, head, speed)
        eff = flow * head / 367.0 / power if power > 0 else 0.0
        return head, power, eff

    # ---- steady state ------------------------------------------------------
    def table(self, t_river_c: float) -> dict[str, np.ndarray]:
        key = round(t_river_c, 2)
        tab = self._tables.get(key)
        if tab is not None:
            return tab
        p_max = self.max_flow_percent()
        grid = np.arange(_GRID_STEP_PCT, p_max + 1e-9, _GRID_STEP_PCT)
        cols = {k: np.zeros(len(grid)) for k in (
            "t_in", "t_out", "q", "w_hp", "w_pump", "head", "eff", "trip")}
        for i, pct in enumerate(grid):
            flow = pct / 100.0 * self.design_flow_m3h
            t_in, pt = _unit_at(self.pp, self.season, flow, key, self.velocity_m_s)
            c = water.capacity_rate_kw_k(flow, t_in)
            head, w_pump, eff = self.pump_at(flow)
            cols["t_in"][i] = t_in
            cols["t_out"][i] = t_in + pt.q_loop_kw / c if pt.trip is None else t_in
            running = pt.trip is None
            cols["q"][i] = pt.q_kw if running else 0.0
            cols["w_hp"][i] = pt.w_kw if running else 0.0
            cols["w_pump"][i] = w_pump
            cols["head"][i] = head
            cols["eff"][i] = eff
            cols["trip"][i] = {None: 0, "head_pressure": 1, "freeze": 2}[pt.trip]
        cols["pct"] = grid
        cols["cop"] = cols["q"] / (cols["w_hp"] + cols["w_pump"])
        self._tables[key] = cols
        # Plain lists for the per-step interpolation: numpy scalar calls cost
        # microseconds each, bisect on a list does not.
        self._lists[key] = {k: v.tolist() for k, v in cols.items()}
        return cols

    def steady_state_at_flow_percent(self, p: float, t_river_c: float,
                                     output_percent: float | None = None) -> OperatingPoint:
        key = round(t_river_c, 2)
        if key not in self._lists:
            self.table(key)
        tab = self._lists[key]
        grid = tab["pct"]
        p = min(max(p, grid[0]), grid[-1])
        i = min(bisect_left(grid, p), len(grid) - 1)
        j = max(i - 1, 0)
        w = 0.0 if i == j else (p - grid[j]) / (grid[i] - grid[j])

        def val(name: str) -> float:
            col = tab[name]
            return col[j] * (1 - w) + col[i] * w

        trip_code = int(tab["trip"][j if w < 0.5 else i])
        trip = (None, "head_pressure", "freeze")[trip_code]
        q, w_hp, w_pump = val("q"), val("w_hp"), val("w_pump")
        if trip:
            q = w_hp = 0.0
        total = w_hp + w_pump
        out = output_percent if output_percent is not None else self.output_for_flow_percent(p)
        return OperatingPoint(out, p / 100.0 * self.design_flow_m3h, p, val("t_in"), val("t_out"),
                              t_river_c, q, w_hp, w_pump, q / total if total > 0 else 0.0,
                              val("head"), val("eff"), trip)

    def steady_state(self, output_percent: float, t_river_c: float) -> OperatingPoint:
        flow = self.flow_for_output(output_percent)
        return self.steady_state_at_flow_percent(100.0 * flow / self.design_flow_m3h, t_river_c,
                                                 output_percent)

    def optimum(self, t_river_c: float, resolution: float = 0.1) -> OperatingPoint:
        """The plant's true optimum: exhaustive search of COP_s over every reachable flow."""
        key = round(t_river_c, 2)
        hit = self._optima.get(key)
        if hit is not None:
            return hit
        tab = self.table(key)
        cop = np.where(tab["trip"] == 0, tab["cop"], -np.inf)
        i = int(np.argmax(cop))
        lo = tab["pct"][max(i - 1, 0)]
        hi = tab["pct"][min(i + 1, len(cop) - 1)]
        best = None
        for p in np.arange(lo, hi + 1e-9, resolution):
            pt = self.steady_state_at_flow_percent(float(p), key)
            if best is None or pt.cop_s > best.cop_s:
                best = pt
        assert best is not None
        self._optima[key] = best
        return best

    # ---- dynamics ---------------------------------------------------------
    def reset(self, output_percent: float, t_river_c: float) -> OperatingPoint:
        self.tripped_s = 0.0  # time left until a tripped compressor may restart
        self.trips = 0
        op = self.steady_state(output_percent, t_river_c)
        self.flow_m3h = op.flow_m3h
        self.t_in_c = op.t_in_c
        self._t_sensor = op.t_in_c
        self._flow_sensor = op.flow_m3h
        self.last = op
        return op

    def step(self, dt_s: float, output_percent: float, t_river_c: float) -> OperatingPoint:
        """Advance by dt: flow follows the actuator with its time constant, the loop water
        temperature follows its steady value with the loop's transit time."""
        a = self.pp.actuator
        target = self.flow_for_output(output_percent)
        self.flow_m3h += (target - self.flow_m3h) * dt_s / (a.time_constant_s + dt_s)
        p = 100.0 * self.flow_m3h / self.design_flow_m3h
        ss = self.steady_state_at_flow_percent(p, t_river_c, output_percent)
        transit_s = self.pp.pipe.water_volume_l / 1000.0 / max(self.flow_m3h, 1e-3) * 3600.0
        self.t_in_c += (ss.t_in_c - self.t_in_c) * dt_s / (transit_s + dt_s)
        if ss.trip and self.tripped_s <= 0.0:
            self.trips += 1
            self.tripped_s = self.pp.unit.restart_delay_s
        if self.tripped_s > 0.0:
            # Compressor off until its restart delay has passed; the pump still runs.
            self.tripped_s -= dt_s
            op = OperatingPoint(output_percent, self.flow_m3h, p, self.t_in_c, self.t_in_c,
                                t_river_c, 0.0, 0.0, ss.w_pump_kw, 0.0, ss.head_m, ss.pump_eff,
                                ss.trip or "restart_delay")
            self.last = op
            self._sense(dt_s)
            return op
        # Unit power follows the actual loop temperature (one degree worse, more power).
        op = ss
        if not ss.trip:
            shift = self.t_in_c - ss.t_in_c
            sens = ss.w_hp_kw * 0.02  # about 2 % per K of lift around the operating point
            w_hp = max(ss.w_hp_kw + (sens if self.season == "cooling" else -sens) * shift, 0.0)
            total = w_hp + ss.w_pump_kw
            op = OperatingPoint(output_percent, self.flow_m3h, p, self.t_in_c,
                                ss.t_out_c + (self.t_in_c - ss.t_in_c), t_river_c, ss.q_kw, w_hp,
                                ss.w_pump_kw, ss.q_kw / total if total > 0 else 0.0, ss.head_m,
                                ss.pump_eff, None)
        self.last = op
        self._sense(dt_s)
        return op

    # ---- sensors -----------------------------------------------------------
    def inject_fault(self, sensor: str, kind: str, value: float | None = None) -> None:
        if sensor not in ("t_in", "flow") or kind not in ("stuck", "open", "offset", "dropout"):
            raise ValueError(f"unknown fault {sensor}/{kind}")
        self.faults[sensor] = (kind, value)

    def clear_faults(self) -> None:
        self.faults.clear()

    def _sense(self, dt_s: float) -> None:
        s = self.pp.sensors
        self._t_sensor += (self.t_in_c - self._t_sensor) * dt_s / (s.t_lag_s + dt_s)
        self._flow_sensor += (self.flow_m3h - self._flow_sensor) * dt_s / (s.flow_lag_s + dt_s)

    def _reading(self, name: str, true: float, noise: float, resolution: float) -> float:
        value = true + (self.rng.normal(0.0, noise) if noise > 0 else 0.0)
        if resolution > 0:
            value = round(value / resolution) * resolution
        fault = self.faults.get(name)
        if fault:
            kind, arg = fault
            if kind == "open":
                return float("nan")
            if kind == "dropout" and self.rng.random() < (arg if arg is not None else 0.5):
                return float("nan")
            if kind == "offset":
                return value + (arg or 0.0)
            if kind == "stuck":
                return arg if arg is not None else true
        return value

    def measure(self) -> Measured:
        s = self.pp.sensors
        t = self._reading("t_in", self._t_sensor, s.t_noise_c, s.t_resolution_c)
        f = self._reading("flow", self._flow_sensor, s.flow_noise_m3h, s.flow_resolution_m3h)
        if not isnan(f):
            f = max(f, 0.0)
        # The unit keeps demanding water while tripped (it restarts by itself).
        return Measured(t, f, True, self.season)
