"""The source loop as one object: hydraulics, steady state, the true optimum, dynamics, sensors.

Loop: unit exchanger -> supply pipe -> PE coil in the river -> return pipe ->
pump -> valve -> unit. The steady state at a flow is exact (closed form: with
the load fixed, compressor power is linear in the inlet water temperature),
evaluated for a whole flow grid at once with numpy; the per-second dynamics
use the same formulas on plain floats.
"""

import math
from dataclasses import dataclass

import numpy as np

from host_tools.plant import coil, pipes, pump, valve, water
from host_tools.plant import unit as unit_model
from host_tools.plant.numeric import SCALAR, VECTOR
from host_tools.plant.sensors import S0Meter, Sensor
from host_tools.seasons import SEASON_ALIASES

SEASONS = ("cooling", "heating")
_OPTIMUM_CACHE_BIN_C = 0.01  # optimum() caches per 0.01 degC of river temperature
_COARSE_STEP_PCT = 1.0
_OPTIMUM_CACHE_SIZE = 4096


@dataclass(frozen=True)
class OperatingPoint:
    output_percent: float
    flow_m3h: float
    flow_percent: float  # 100 * flow / unit design flow
    t_in_c: float  # unit inlet water
    t_out_c: float  # unit outlet water
    t_river_c: float
    q_kw: float  # unit output: cooling or heating delivered
    w_hp_kw: float  # unit electric input
    w_pump_kw: float  # pump electric input
    cop_s: float  # q / (w_hp + w_pump), paper eq. 8
    head_m: float  # pump head
    pump_eff: float  # pump (hydraulic) efficiency, paper eq. 5
    trip: str | None  # "head_pressure", "freeze" or None; tripped: q = w_hp = 0


@dataclass(frozen=True)
class Measured:
    t_in_c: float
    flow_m3h: float
    unit_running: bool  # compressor on (off while tripped and locked out)
    unit_mode: str  # the unit's call: "cooling" or "heating"
    # Metering: the outlet sensor (lag, noise, quantisation) and the S0 meters as the
    # board reads them (pulse period or window count, 0 after the no-pulse timeout)
    t_out_c: float = math.nan
    p_unit_w: float = math.nan
    p_pump_w: float = math.nan
    # The unit's demand for source water (its run contact): off while it is stopped
    # (by its own controls or an operator), on through its own trips.
    demand: bool = True


class Plant:
    def __init__(self, pp, season: str):
        if season not in SEASON_ALIASES:
            raise ValueError(f"season must be cooling or heating, not {season!r}")
        self.pp = pp
        self.season = season = SEASON_ALIASES[season]
        self.kind = pp.actuator.kind
        self.unit = unit_model.side(pp.unit, season)
        self.load_fraction = 1.0  # of the season's nominal load (set_load)
        self.sign = 1.0 if season == "cooling" else -1.0  # heat into the loop: + cooling
        self.design_flow_m3h = pp.unit.design_flow_m3h
        self.bench_t_river_c = pp.river.t_summer_c if season == "cooling" else pp.river.t_winter_c
        self.velocity_m_s = (pp.river.velocity_summer_m_s if season == "cooling"
                             else pp.river.velocity_winter_m_s)
        d_pipe = pp.pipe.d_inner_mm / 1000.0
        d_coil = coil.inner_diameter_m(pp.coil)
        design = self.design_flow_m3h
        self.k_coil = pipes.k_pipe(pp.coil.length_m, d_coil, pp.coil.minor_loss_k, design)
        self.k_pipe = pipes.k_pipe(pp.pipe.length_m, d_pipe, pp.pipe.minor_loss_k, design)
        self.k_unit = pipes.k_from_pressure_drop(pp.unit.dp_design_kpa, design)
        self.k_loop = self.k_coil + self.k_pipe + self.k_unit  # everything but the valve
        self.loop_volume_l = (coil.volume_l(pp.coil) + pipes.volume_l(pp.pipe.length_m, d_pipe)
                              + pp.pipe.extra_volume_l)
        # Full speed, no valve: the VFD's flow at 100 %, the valve plant's ceiling.
        self.unthrottled_flow_m3h = pump.flow_on_system_curve(pp.pump, self.k_loop)
        self.pump_curve = pump.Curve(pp.pump, pp.actuator.vfd_eff if self.kind == "vfd" else 1.0)
        self.full_flow_m3h = self._flow_for_output(100.0)
        k_valve_open = valve.head_coeff(pp.actuator, 1.0)
        self.valve_authority = (k_valve_open / (k_valve_open + self.k_loop)
                                if self.kind == "valve" else 0.0)
        self._r_out: dict[float, float] = {}
        self._optima: dict[tuple[float, float, float], OperatingPoint] = {}
        self._flow_cache = (math.nan, 0.0)
        self.rng = np.random.default_rng(int(pp.sensors.seed))
        s = pp.sensors
        self.sensors = {"t_in": Sensor(self.rng, s.t_noise_c, s.t_resolution_c, s.t_lag_s, 0.0),
                        "flow": Sensor(self.rng, s.flow_noise_m3h, s.flow_resolution_m3h,
                                       s.flow_lag_s, 0.0)}
        # Metering: its own generator, so the inlet and flow readings stay as they were.
        mt = pp.meters
        self.meter_rng = np.random.default_rng([int(s.seed), 1])
        self.sensors["t_out"] = Sensor(self.meter_rng, mt.t_out_noise_c, mt.t_out_resolution_c,
                                       mt.t_out_lag_s, 0.0)
        phases = self.meter_rng.random(2)
        self.meters = {name: S0Meter(ppk, mt.window_s, int(mt.crossover_pulses),
                                     mt.zero_power_timeout_s, float(ph))
                       for name, ppk, ph in (("unit", mt.unit_pulses_per_kwh, phases[0]),
                                             ("pump", mt.pump_pulses_per_kwh, phases[1]))}
        self.reset(100.0, self.bench_t_river_c)

    # ---- hydraulics ---------------------------------------------------------
    def _flow_for_output(self, output_percent: float) -> float:
        u = min(max(output_percent, 0.0), 100.0) / 100.0
        a = self.pp.actuator
        if u <= 0.0:
            return 0.0
        if self.kind == "vfd":
            return max(u, a.vfd_min_speed_pct / 100.0) * self.unthrottled_flow_m3h
        return pump.flow_on_system_curve(self.pp.pump, self.k_loop + valve.head_coeff(a, u))

    def flow_for_output(self, output_percent: float) -> float:
        """Loop flow (m3/h) at an actuator output (%): pump curve meets system curve."""
        last_out, last_flow = self._flow_cache
        if output_percent == last_out:
            return last_flow
        flow = self._flow_for_output(output_percent)
        self._flow_cache = (output_percent, flow)
        return flow

    def max_flow_percent(self) -> float:
        return 100.0 * self.full_flow_m3h / self.design_flow_m3h

    def min_flow_percent(self) -> float:
        """The lowest flow the actuator can hold (VFD minimum speed; a valve shuts fully)."""
        if self.kind == "vfd":
            return self.pp.actuator.vfd_min_speed_pct * self.max_flow_percent() / 100.0
        return 0.0

    def output_for_flow_percent(self, p: float, t_river_c: float | None = None) -> float:
        """Actuator output (%) that gives flow p (% of design): the inverse characteristic.

        Hydraulics do not depend on the water temperature here, so t_river_c is
        accepted for the API's sake and not used. Out-of-reach flows clamp.
        """
        target = p / 100.0 * self.design_flow_m3h
        if target >= self.full_flow_m3h:
            return 100.0
        if target <= 0.0:
            return 0.0
        a = self.pp.actuator
        if self.kind == "vfd":
            speed = target / self.unthrottled_flow_m3h
            return max(speed * 100.0, a.vfd_min_speed_pct)
        head = pump.head_m(self.pp.pump, target)
        k_valve = head / (target * target) - self.k_loop
        kv = math.sqrt(valve.HEAD_M_PER_BAR / k_valve)
        return 100.0 * valve.opening_for_kv(a, kv)

    def pump_point(self, flow_m3h, m=SCALAR):
        """(head m, pump efficiency, electric kW) of the pump delivering this flow.

        Efficiency is hydraulic / shaft power, so it falls to zero at shut-off
        (the shaft power does not). Zero flow is a stopped pump: no power.
        """
        curve = self.pump_curve
        if self.kind == "vfd":
            speed = m.maximum(flow_m3h / self.unthrottled_flow_m3h, 1e-9)
            head = self.k_loop * flow_m3h * flow_m3h
            shaft = curve.shaft_kw(flow_m3h, speed, m)
            elec = curve.electric_kw(shaft, speed)
        else:
            head = pump.head_m(self.pp.pump, flow_m3h)
            shaft = curve.shaft_kw(flow_m3h, 1.0, m)
            elec = curve.electric_kw(shaft)
        eta = flow_m3h * head / (367.0 * m.maximum(shaft, 1e-12))
        return head, eta, m.where(flow_m3h > 0, elec, 0.0)

    # ---- heat transfer --------------------------------------------------------
    def outside_resistance(self, t_river_c: float) -> float:
        key = round(t_river_c, 2)
        r = self._r_out.get(key)
        if r is None:
            if len(self._r_out) > 10000:
                self._r_out.clear()
            r = self._r_out[key] = coil.outside_resistance_mk_w(self.pp.coil, self.velocity_m_s,
                                                                key)
        return r

    def coil_effectiveness(self, flow_m3h, t_water_c, t_river_c: float, m=SCALAR):
        c = water.capacity_rate_kw_k(flow_m3h, t_river_c)
        ua = coil.ua_kw_k(self.pp.coil, flow_m3h, t_water_c, self.outside_resistance(t_river_c),
                          m)
        return coil.effectiveness(ua, c, m)

    # ---- steady state -----------------------------------------------------------
    def steady_columns(self, flows_m3h: np.ndarray, t_river_c: float) -> dict[str, np.ndarray]:
        """Steady state at each flow (vectorised). Trip codes: unit.TRIP_*; tripped: q = w = 0."""
        asked = np.asarray(flows_m3h, dtype=float)
        flow = np.maximum(asked, 1e-9)
        s, m = self.unit, VECTOR
        t_water = np.full_like(flow, t_river_c)
        t_in = t_water
        # Capacity rate at river temperature everywhere (here and in step()): density varies
        # by tenths of a per cent over the loop, and one value keeps both paths identical.
        c = water.capacity_rate_kw_k(flow, t_river_c)
        for _ in range(2):  # second pass: water properties at the coil's mean temperature
            eps = self.coil_effectiveness(flow, t_water, t_river_c, m)
            kc = (1.0 - eps) / (eps * c)  # loop inlet rise above river per kW into the loop
            a = unit_model.approach_k_per_kw(s, flow, c, m)
            alpha, beta, _ = unit_model.linear_power(s, a)
            with np.errstate(divide="ignore", invalid="ignore"):
                t_in = (t_river_c + kc * (self.sign * s.q_kw + alpha)) / (1.0 - kc * beta)
            t_in = np.where(np.isfinite(t_in), t_in, t_river_c + 99.0 * self.sign)
            q, w, q_loop, _, trip = unit_model.operate(s, t_in, a, c, m)
            # capacity limit, compressor capacity (heating) or minimum lift: not linear
            capped = (w >= s.w_max_kw) | (q < s.q_kw * (1.0 - 1e-12)) | (
                w <= s.q_kw * s.min_lift_k / (s.carnot_fraction * (s.t_load_c + unit_model.K0))
                + 1e-12)
            if np.any(capped):  # limited points are not linear in t_in: iterate them
                t_in, q, w, q_loop, trip = self._iterate_capped(capped, t_river_c, kc, a, c, t_in,
                                                                (q, w, q_loop, trip))
            t_water = 0.5 * (t_in + q_loop / c + t_river_c)  # coil inlet and river: as step()
        t_out = t_in + q_loop / c
        running = trip == unit_model.TRIP_NONE
        head, eta, w_pump = self.pump_point(flow, m)
        q = np.where(running, q, 0.0)
        w = np.where(running, w, 0.0)
        t_in = np.where(running, t_in, t_river_c)
        t_out = np.where(running, t_out, t_river_c)
        total = w + w_pump
        with np.errstate(divide="ignore", invalid="ignore"):
            cop = np.where(total > 0, q / total, 0.0)
        return {"flow": asked, "pct": 100.0 * asked / self.design_flow_m3h, "t_in": t_in,
                "t_out": t_out, "q": q, "w_hp": w, "w_pump": w_pump * np.ones_like(flow),
                "head": head * np.ones_like(flow), "eff": eta * np.ones_like(flow), "cop": cop,
                "trip": np.asarray(trip) * np.ones_like(flow, dtype=int)}

    def _iterate_capped(self, capped, t_river_c, kc, a, c, t_in, outs):
        """Fixed point t_in = t_river + kc Q_loop(t_in) on the capped points only (it contracts:
        kc dQ_loop/dt_in is a few per cent)."""
        idx = np.flatnonzero(capped)
        kc_i, a_i, c_i, t = kc[idx], a[idx], c[idx], t_in[idx]
        res = None
        for _ in range(50):
            res = unit_model.operate(self.unit, t, a_i, c_i, VECTOR)
            new = t_river_c + kc_i * res[2]
            done = np.max(np.abs(new - t)) < 1e-7
            t = new
            if done:
                break
        q, w, q_loop, _, trip = unit_model.operate(self.unit, t, a_i, c_i, VECTOR)
        t_in = t_in.copy()
        t_in[idx] = t
        out = [np.array(x, dtype=float) for x in outs]
        for arr, val in zip(out, (q, w, q_loop, trip), strict=True):
            arr[idx] = val
        return t_in, out[0], out[1], out[2], out[3].astype(int)

    def _point(self, cols, i: int, t_river_c: float, output_percent: float | None):
        pct = float(cols["pct"][i])
        out = self.output_for_flow_percent(pct) if output_percent is None else output_percent
        return OperatingPoint(
            out, float(cols["flow"][i]), pct, float(cols["t_in"][i]), float(cols["t_out"][i]),
            t_river_c, float(cols["q"][i]), float(cols["w_hp"][i]), float(cols["w_pump"][i]),
            float(cols["cop"][i]), float(cols["head"][i]), float(cols["eff"][i]),
            unit_model.TRIP_NAMES[int(cols["trip"][i])])

    def steady_state_at_flow_percent(self, p: float, t_river_c: float,
                                     output_percent: float | None = None) -> OperatingPoint:
        flow = max(p, 0.0) / 100.0 * self.design_flow_m3h
        cols = self.steady_columns(np.array([flow]), t_river_c)
        return self._point(cols, 0, t_river_c, output_percent)

    def steady_state(self, output_percent: float, t_river_c: float) -> OperatingPoint:
        flow = self.flow_for_output(output_percent)
        return self.steady_state_at_flow_percent(100.0 * flow / self.design_flow_m3h, t_river_c,
                                                 output_percent)

    def table(self, t_river_c: float, step_percent: float = 0.25) -> dict[str, np.ndarray]:
        """Steady-state columns over every reachable flow (for plots and reports)."""
        lo = max(self.min_flow_percent(), step_percent)
        grid = np.arange(lo, self.max_flow_percent() + 1e-9, step_percent)
        return self.steady_columns(grid / 100.0 * self.design_flow_m3h, t_river_c)

    def optimum(self, t_river_c: float, resolution: float = 0.1) -> OperatingPoint:
        """The plant's true optimum: exhaustive search of COP_s over every reachable flow.

        Two levels, each one vectorised steady-state evaluation: every 1 % of
        design flow over the whole reachable range, then every `resolution` %
        within 2 % either side of the best coarse point (COP_s is smooth in flow,
        so the true maximum lies there). Results are cached per 0.01 degC of
        river temperature: an oracle calling this every simulated second on a
        slowly moving river mostly hits the cache.
        """
        key = (round(t_river_c / _OPTIMUM_CACHE_BIN_C) * _OPTIMUM_CACHE_BIN_C, resolution,
               self.load_fraction)
        hit = self._optima.get(key)
        if hit is not None:
            return hit
        t = key[0]
        lo, hi = max(self.min_flow_percent(), resolution), self.max_flow_percent()
        coarse = max(resolution, _COARSE_STEP_PCT)
        cols, i = self._best_on_grid(np.arange(lo, hi + 1e-9, coarse), t)
        if coarse > resolution:
            p = float(cols["pct"][i])
            grid = np.arange(max(lo, p - 2 * coarse), min(hi, p + 2 * coarse) + 1e-9, resolution)
            cols, i = self._best_on_grid(grid, t)
        best = self._point(cols, i, t, None)
        if len(self._optima) >= _OPTIMUM_CACHE_SIZE:
            self._optima.clear()
        self._optima[key] = best
        return best

    def _best_on_grid(self, grid_pct: np.ndarray, t_river_c: float):
        cols = self.steady_columns(grid_pct / 100.0 * self.design_flow_m3h, t_river_c)
        cop = np.where(cols["trip"] == unit_model.TRIP_NONE, cols["cop"], -np.inf)
        return cols, int(np.argmax(cop))

    # ---- dynamics -------------------------------------------------------------------
    def reset(self, output_percent: float, t_river_c: float) -> OperatingPoint:
        """Put every state at the steady state for this output and river temperature."""
        op = self.steady_state(output_percent, t_river_c)
        self.flow_m3h = op.flow_m3h
        self.t_in_c = op.t_in_c
        self.t_out_c = op.t_out_c
        self.delay = pipes.VolumeDelay(self.loop_volume_l, op.t_out_c)
        self.lockout_s = 0.0
        self.running = op.trip is None
        if not self.running:
            self.lockout_s = self.pp.unit.restart_delay_s
        self.trips = 0
        self.freeze_s = 0.0  # how long the freeze condition has held
        self.freeze_delay_s = self.pp.unit.freeze_trip_delay_s
        self.demand = True  # the unit is asked to run (set_demand)
        self._dt = -1.0
        self.sensors["t_in"].reset(op.t_in_c)
        self.sensors["flow"].reset(op.flow_m3h)
        self.sensors["t_out"].reset(op.t_out_c)
        self.meters["unit"].reset(op.w_hp_kw * 1000.0)
        self.meters["pump"].reset(op.w_pump_kw * 1000.0)
        self.last = op
        return op

    def _lags(self, dt_s: float) -> None:
        self._dt = dt_s
        tau_flow = self.pp.actuator.time_constant_s
        tau_mix = self.pp.pipe.mixing_time_s
        self._k_flow = 1.0 - math.exp(-dt_s / tau_flow) if tau_flow > 0 else 1.0
        self._k_mix = 1.0 - math.exp(-dt_s / tau_mix) if tau_mix > 0 else 1.0

    def step(self, dt_s: float, output_percent: float, t_river_c: float) -> OperatingPoint:
        """Advance dt: flow lags the actuator, water travels the loop, the unit runs or trips."""
        if dt_s != self._dt:
            self._lags(dt_s)
        target = self.flow_for_output(output_percent)
        flow = self.flow_m3h = self.flow_m3h + (target - self.flow_m3h) * self._k_flow
        t_in = self.t_in_c
        s = self.unit
        q = w = q_loop = 0.0
        trip = None
        if flow > 1e-6:
            c = water.capacity_rate_kw_k(flow, t_river_c)
            if not self.demand:
                self.running = False  # stopped, not tripped: a trip's lockout runs out
                self.lockout_s -= dt_s
            elif not self.running:
                self.lockout_s -= dt_s
                if self.lockout_s <= 0.0:
                    self.running = True  # restart; it trips again if conditions still bad
            if self.running:
                a = unit_model.approach_k_per_kw(s, flow, c)
                q, w, q_loop, _, code = unit_model.operate(s, t_in, a, c)
                if code == unit_model.TRIP_FREEZE and self.freeze_s + dt_s < self.freeze_delay_s:
                    self.freeze_s += dt_s  # the unit's controls wait before they believe it
                    code = unit_model.TRIP_NONE
                elif code == unit_model.TRIP_NONE:
                    self.freeze_s = 0.0
                if code != unit_model.TRIP_NONE:
                    self.freeze_s = 0.0
                    trip = unit_model.TRIP_NAMES[code]
                    self.trips += 1
                    self.running = False
                    self.lockout_s = self.pp.unit.restart_delay_s
                    q = w = q_loop = 0.0
            t_out = t_in + q_loop / c
            # Water leaving the unit now reaches the coil later; the coil pulls it toward
            # the river (linear in its inlet temperature, so it can act after the delay).
            arriving = self.delay.push(flow * dt_s / 3.6, t_out)
            t_water = 0.5 * (arriving + t_river_c)
            eps = self.coil_effectiveness(flow, t_water, t_river_c)
            t_coil_out = t_river_c + (1.0 - eps) * (arriving - t_river_c)
        else:
            # No flow: the unit cannot run (its protection would trip at once); the water
            # in the coil goes to river temperature, what is in the pipes stays.
            if self.running:
                self.running = False
                self.lockout_s = 0.0
            self.lockout_s -= dt_s
            t_out = t_in
            t_coil_out = t_river_c
        self.t_in_c = t_in + (t_coil_out - t_in) * self._k_mix
        self.t_out_c = t_out
        head, eta, w_pump = self.pump_point(flow) if flow > 1e-6 else (0.0, 0.0, 0.0)
        total = w + w_pump
        if trip is None and not self.running and self.demand:
            trip = self.last.trip if self.last.trip else None
        op = OperatingPoint(output_percent, flow, 100.0 * flow / self.design_flow_m3h, t_in,
                            t_out, t_river_c, q, w, w_pump, q / total if total > 0 else 0.0,
                            head, eta, trip)
        self.sensors["t_in"].advance(t_in, dt_s)
        self.sensors["flow"].advance(flow, dt_s)
        self.sensors["t_out"].advance(t_out, dt_s)
        self.meters["unit"].advance(w * 1000.0, dt_s)
        self.meters["pump"].advance(w_pump * 1000.0, dt_s)
        self.last = op
        return op

    def set_load(self, fraction: float) -> None:
        """The load the unit meets, as a fraction of the season's nominal load (unit.q_*_kw),
        held to 0.1 % steps (so the optimum cache keeps working under a slowly varying load).
        The compressor's capacity stays what it is: a load above it is not met."""
        if not (0.0 < fraction <= 3.0):  # also rejects nan
            raise ValueError(f"load fraction must be in (0, 3], not {fraction!r}")
        fraction = max(round(fraction * 1000.0) / 1000.0, 0.001)
        if fraction != self.load_fraction:
            self.load_fraction = fraction
            self.unit = unit_model.side(self.pp.unit, self.season, fraction)

    def set_demand(self, on: bool) -> None:
        """Stop (False) or start (True) the unit, as its own controls or an operator would:
        stopped, the compressor stays off and the loop carries no heat; started, it runs
        as soon as there is flow (a trip's lockout still counts)."""
        self.demand = bool(on)

    # ---- sensors ------------------------------------------------------------------------
    def inject_fault(self, sensor: str, kind: str, value: float | None = None) -> None:
        if sensor not in self.sensors:
            raise ValueError(f"unknown sensor {sensor!r}; known: {', '.join(self.sensors)}")
        self.sensors[sensor].inject(kind, value)

    def clear_faults(self) -> None:
        for s in self.sensors.values():
            s.clear()

    def measure(self) -> Measured:
        t = self.sensors["t_in"].read()
        f = self.sensors["flow"].read()
        if f == f:  # not NaN: a meter does not read below zero
            f = max(f, 0.0)
        return Measured(t, f, self.running, self.season, self.sensors["t_out"].read(),
                        self.meters["unit"].read(), self.meters["pump"].read(), self.demand)
