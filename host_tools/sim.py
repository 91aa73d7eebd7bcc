"""Software-in-the-loop season simulation: the firmware core (under CPython) against the plant.

Three plants run side by side on the same river: the one the controller drives,
an oracle whose flow is the plant's own exhaustive-search optimum at every step,
and a baseline held at 100 % design flow. COP_s is energy-weighted:
sum(output) / sum(electric input).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from host_tools.paths import import_firmware
from host_tools.plant.plant import Plant
from host_tools.seasons import SEASON_ALIASES

UNIT_MODE_INPUT = {"cooling": 1, "heating": 2}


@dataclass
class Totals:
    heat_kj: float = 0.0
    electric_kj: float = 0.0

    def add(self, op, dt_s: float) -> None:
        self.heat_kj += op.q_kw * dt_s
        self.electric_kj += (op.w_hp_kw + op.w_pump_kw) * dt_s

    @property
    def cop_s(self) -> float:
        return self.heat_kj / self.electric_kj if self.electric_kj > 0 else 0.0


@dataclass
class SimResult:
    season: str
    hours: float
    controller: str
    cop_s: float
    oracle_cop_s: float
    baseline_cop_s: float
    flow_percent_final: float
    optimal_percent_true: float
    heat_kwh: float
    electric_kwh: float
    alarms_seen: list[str]
    series: dict[str, list[float]] = field(default_factory=dict)
    ratio_last_hour: float = 0.0  # energy-weighted COP_s / oracle's over the last hour
    faults: list[dict] = field(default_factory=list)  # per scenario event (FaultWatch)

    @property
    def ratio_to_oracle(self) -> float:
        return self.cop_s / self.oracle_cop_s if self.oracle_cop_s > 0 else 0.0

    @property
    def baseline_ratio(self) -> float:
        """Constant design flow's COP_s / the oracle's: what there is to gain."""
        return self.baseline_cop_s / self.oracle_cop_s if self.oracle_cop_s > 0 else 0.0

    @property
    def hours_to_within_2pct(self) -> float | None:
        """From when on the sampled COP_s stayed within 2 % of the oracle's to the
        end of the run (hours; None if the last sample is not within 2 %). Samples
        with the unit off (no oracle COP) do not count either way."""
        times, ours, best = (self.series.get(k, []) for k in ("time_h", "cop_s", "cop_s_oracle"))
        since = None
        for t, a, b in zip(times, ours, best, strict=False):
            if b <= 0:
                continue
            if a >= 0.98 * b:
                if since is None:
                    since = t
            else:
                since = None
        return since

    def summary(self) -> dict:
        return {
            "season": self.season,
            "hours": self.hours,
            "controller": self.controller,
            "cop_s": self.cop_s,
            "oracle_cop_s": self.oracle_cop_s,
            "ratio_to_oracle": self.ratio_to_oracle,
            "ratio_last_hour": self.ratio_last_hour,
            "hours_to_within_2pct": self.hours_to_within_2pct,
            "baseline_cop_s": self.baseline_cop_s,
            "baseline_ratio": self.baseline_ratio,
            "flow_percent_final": self.flow_percent_final,
            "optimal_percent_true": self.optimal_percent_true,
            "heat_kwh": self.heat_kwh,
            "electric_kwh": self.electric_kwh,
            "alarms_seen": self.alarms_seen,
            "faults": self.faults,
        }


def controller_config(plant, dt_s: float, coeffs: dict | None) -> dict:
    """The firmware config a commissioning engineer would set for this plant.

    Defaults, plus what is known about the installation: the tick period, the
    design flow, and the actuator's characteristic (kind, flow at full output,
    valve authority) for the feed-forward.
    """
    import_firmware()
    from core import config as config_mod

    cfg = config_mod.defaults()
    params = cfg["params"]
    params["period_ms"] = max(50, int(round(dt_s * 1000)))
    params["design_flow_m3h"] = plant.design_flow_m3h
    params["ff_full_flow_pct"] = plant.max_flow_percent()
    params["t_cutout_c"] = plant.pp.unit.t_leaving_min_c  # the unit's data plate
    a = plant.pp.actuator
    if plant.kind == "vfd":
        params["actuator"] = "vfd"
        params["ff_min_output_pct"] = a.vfd_min_speed_pct
    else:
        params["actuator"] = "valve_linear" if a.valve_characteristic == "linear" else "valve_eqp"
        params["valve_authority"] = plant.valve_authority
        params["valve_rangeability"] = a.valve_rangeability
    if coeffs is not None:
        cfg["coeffs"] = config_mod.merge_coeffs(cfg["coeffs"], coeffs)
    return cfg


@dataclass
class Decision:
    """What the controller under test decided this step."""

    output_pct: float
    flow_sp_pct: float = 100.0
    p_opt_pct: float = 100.0
    alarms: int = 0
    state: str = ""  # off, manual, auto, standby, safe ("" when the driver cannot say)


class Driver:
    """What the season harness needs from a controller under test."""

    name = "driver"

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        raise NotImplementedError

    def decide(self, measured) -> Decision:
        raise NotImplementedError

    def silent(self) -> None:
        """One step of a link drop-out: the controller hears nothing."""

    def resume(self, gap_s: float) -> None:
        """The link is back after gap_s of silence."""

    def plant_changed(self, plant) -> None:
        """The plant was rebuilt (a season change)."""

    def optimum_is(self, flow_percent: float) -> None:
        """The plant's true optimum flow this step (ExcitationDriver pins to it)."""


class CoreDriver(Driver):
    """The firmware core, imported under CPython (software in the loop)."""

    name = "model"

    def __init__(self, coeffs: dict | None = None, settings: dict | None = None,
                 optimiser: str | None = None):
        self.coeffs = coeffs
        self.settings = dict(settings or {})  # parameter: value, after the installation's
        if optimiser is not None:  # "model" or "online" (the firmware's parameter)
            self.settings["optimiser"] = optimiser
            self.name = optimiser
        self.ctrl = None

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        import_firmware()
        from core.controller import STATE_NAMES, Controller

        self.states = STATE_NAMES
        self.ctrl = Controller(controller_config(plant, dt_s, self.coeffs))
        if self.settings:
            for name, value in self.settings.items():
                self.ctrl.set_param(name, value)
        if self.name == "model":  # the class's: name the run by the firmware's setting
            self.name = self.ctrl.config["params"]["optimiser"]
        self.ctrl.preset_output(start_output)  # the pump is already running
        self.period_ms = self.ctrl.config["params"]["period_ms"]
        self.now_ms = 0

    def decide(self, measured) -> Decision:
        assert self.ctrl is not None
        meas = self.ctrl.meas
        meas.t_in_c = measured.t_in_c
        meas.flow_m3h = measured.flow_m3h
        # The controller's input is the unit's call for water (its demand
        # contact), which stays on while the compressor is locked out.
        meas.unit_running = bool(measured.demand)
        meas.unit_mode = UNIT_MODE_INPUT[measured.unit_mode]
        # The metering, as a board's heat meter and S0 meters give it (hil step
        # carries the same three).
        meas.t_out_c = measured.t_out_c
        meas.p_unit_w = measured.p_unit_w
        meas.p_pump_w = measured.p_pump_w
        cmd = self.ctrl.step(self.now_ms)
        self.now_ms = (self.now_ms + self.period_ms) & 0x3FFFFFFF
        return Decision(cmd.output_pct if cmd.pump_run else 0.0, cmd.flow_sp_pct,
                        cmd.p_opt_pct, cmd.alarms, self.states[cmd.state])

    def resume(self, gap_s: float) -> None:
        """The link came back after gap_s of silence: the next tick sees that much time."""
        self.now_ms = (self.now_ms + int(round(gap_s * 1000))) & 0x3FFFFFFF


class ExcitationDriver(CoreDriver):
    """The on-line optimiser with its centre pinned to the plant's true optimum every
    step: its own dither and probes where there is nothing left to find, i.e. what
    the excitation costs (issue 12: <= 0.05 %, docs/optimiser.md)."""

    def __init__(self, coeffs: dict | None = None, settings: dict | None = None):
        super().__init__(coeffs, settings, optimiser="online")
        self.name = "excitation"
        self.true_flow: float | None = None

    def optimum_is(self, flow_percent: float) -> None:
        self.true_flow = flow_percent

    def decide(self, measured) -> Decision:
        assert self.ctrl is not None
        opt = self.ctrl.opt
        if self.true_flow is not None and opt.season:
            opt.offset[opt.season] = self.true_flow - self.ctrl.cmd.p_opt_pct
            opt._fresh = True  # the setpoint is worked out again from the pinned centre
        return super().decide(measured)


class ConstantDriver(Driver):
    """Constant design flow: the baseline as a controller."""

    name = "constant"

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        self.plant = plant

    def decide(self, measured) -> Decision:
        return Decision(self.plant.output_for_flow_percent(100.0))

    def plant_changed(self, plant) -> None:
        self.plant = plant


class FaultWatch:
    """Per scenario event that lasts (a sensor fault, a stuck valve, a VFD trip, a unit
    stop, a river step, a link drop): the alarms first raised while it was on, how long
    after its start the first came and the controller reached a safe state (`safe`, or
    `standby` with the unit stopped), and how long after its end they had all cleared."""

    def __init__(self, events: list):
        self.watched = [e for e in events if e.kind != "season"]
        self.rows = [{"event": _event_name(e), "at_s": e.at_s,
                      "until_s": e.until_s if e.until_s != float("inf") else None,
                      "alarms": 0, "first_alarm_after_s": None, "safe_after_s": None,
                      "cleared_after_end_s": None} for e in self.watched]
        self._before = [0] * len(self.watched)
        self._last = 0

    def update(self, time_s: float, decision: "Decision") -> None:
        for e, row, i in zip(self.watched, self.rows, range(len(self.rows)), strict=True):
            if time_s < e.at_s:
                self._before[i] = decision.alarms
                continue
            new = decision.alarms & ~self._before[i]
            if e.active(time_s):
                if new and row["first_alarm_after_s"] is None:
                    row["first_alarm_after_s"] = time_s - e.at_s
                row["alarms"] |= new
                if row["safe_after_s"] is None and decision.state in ("safe", "standby"):
                    row["safe_after_s"] = time_s - e.at_s
            elif (row["alarms"] and row["cleared_after_end_s"] is None
                  and not decision.alarms & row["alarms"]):
                row["cleared_after_end_s"] = time_s - e.until_s

    def summary(self, names) -> list[dict]:
        return [{**row, "alarms": names(row["alarms"])} for row in self.rows]


def _event_name(e) -> str:
    if e.kind == "sensor":
        return f"sensor {e.sensor} {e.fault}" + ("" if e.value is None else f" {e.value:g}")
    return e.kind + ("" if e.value is None else f" {e.value:g}")


def run_season(
    make_plant: Callable[[str], Plant],
    season: str,
    hours: float,
    dt_s: float = 1.0,
    controller: str = "model",
    coeffs: dict | None = None,
    river: Callable[[float], float] | None = None,
    sample_every_s: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    driver: Driver | None = None,
    events: list | None = None,
    load: Callable[[float], float] | None = None,
) -> SimResult:
    """Run a season; `driver` decides the output each step (default: the core in-process).

    `load(time_s)`, if given, is the unit's load as a fraction of the plant's nominal load.

    `make_plant(season)` builds a plant; `events` (host_tools.scenario.Event) change the
    season, fault the plant's sensors or actuator, or drop the link to the controller.
    """
    import_firmware()
    from core import alarms
    from host_tools.scenario import Disturbances

    season = SEASON_ALIASES[season]
    if driver is None:
        driver = (ConstantDriver() if controller == "constant"
                  else ExcitationDriver(coeffs) if controller == "excitation"
                  else CoreDriver(coeffs, optimiser=controller))
    disturb = Disturbances(events or [])
    watch = FaultWatch(disturb.events)
    plant, oracle, baseline = make_plant(season), make_plant(season), make_plant(season)

    def river_at(time_s: float) -> float:
        # Without a profile the river holds the bench temperature of the season
        # the plant is in now.
        base = plant.bench_t_river_c if river is None else river(time_s)
        return base + disturb.river_offset(time_s)

    def load_at(time_s: float) -> None:
        if load is not None:
            fraction = load(time_s)
            for p in (plant, oracle, baseline):
                p.set_load(fraction)

    steps = max(1, int(round(hours * 3600.0 / dt_s)))
    t0 = river_at(0.0)
    load_at(0.0)

    base_out = baseline.output_for_flow_percent(100.0, t0)
    start_out = base_out
    driver.start(plant, season, dt_s, start_out)
    plant.reset(start_out, t0)
    oracle.reset(oracle.optimum(t0).output_percent, t0)
    baseline.reset(base_out, t0)

    ours, best, base = Totals(), Totals(), Totals()
    last_ours, last_best = Totals(), Totals()  # the last hour (the whole run if shorter)
    last_from = max(0, steps - int(round(3600.0 / dt_s)))
    series: dict[str, list[float]] = {k: [] for k in (
        "time_h", "t_river_c", "t_in_c", "flow_percent", "flow_sp_percent", "p_opt_percent",
        "optimal_percent_true", "output_percent", "cop_s", "cop_s_oracle")}
    sample_every = max(1, int(round(sample_every_s / dt_s)))
    seen = 0
    op = plant.steady_state(start_out, t0)
    output = start_out
    decision = Decision(start_out)
    gap_s = 0.0
    for k in range(steps):
        time_s = k * dt_s
        now_season = disturb.season(time_s, season)
        if now_season != season:
            # The unit changes over: the loop restarts from steady state in the new
            # season at the outputs each plant had.
            season = now_season
            plant, oracle, baseline = make_plant(season), make_plant(season), make_plant(season)
            load_at(time_s)
            t_now = river_at(time_s)
            plant.reset(output, t_now)
            oracle.reset(oracle.optimum(t_now).output_percent, t_now)
            baseline.reset(baseline.output_for_flow_percent(100.0, t_now), t_now)
            disturb.reapply_sensor_faults(plant)
            driver.plant_changed(plant)
        t_river = river_at(time_s)
        load_at(time_s)
        demand = disturb.unit_demand(time_s)
        plant.set_demand(demand)
        oracle.set_demand(demand)
        baseline.set_demand(demand)
        disturb.apply_sensor_faults(time_s, plant)
        best_point = oracle.optimum(t_river)
        if disturb.link_down(time_s):
            gap_s += dt_s  # the controller hears nothing; the plant keeps the last output
            driver.silent()
        else:
            if gap_s:
                driver.resume(gap_s)
                gap_s = 0.0
            driver.optimum_is(best_point.flow_percent)
            decision = driver.decide(plant.measure())
            seen |= decision.alarms
            watch.update(time_s, decision)
        output = disturb.actuator(time_s, decision.output_pct, output)
        op = plant.step(dt_s, output, t_river)
        ours.add(op, dt_s)
        # The oracle's and the baseline's pumps stop with the unit.
        op_best = oracle.step(dt_s, best_point.output_percent if demand else 0.0, t_river)
        best.add(op_best, dt_s)
        if k >= last_from:
            last_ours.add(op, dt_s)
            last_best.add(op_best, dt_s)
        base_point = baseline.output_for_flow_percent(100.0, t_river) if demand else 0.0
        base.add(baseline.step(dt_s, base_point, t_river), dt_s)
        if k % sample_every == 0 or k == steps - 1:
            series["time_h"].append(time_s / 3600.0)
            series["t_river_c"].append(t_river)
            series["t_in_c"].append(op.t_in_c)
            series["flow_percent"].append(op.flow_percent)
            series["flow_sp_percent"].append(decision.flow_sp_pct)
            series["p_opt_percent"].append(decision.p_opt_pct)
            series["optimal_percent_true"].append(best_point.flow_percent)
            series["output_percent"].append(output)
            series["cop_s"].append(op.cop_s)
            series["cop_s_oracle"].append(op_best.cop_s)
            if progress:
                progress(k + 1, steps)
    final_t = river_at((steps - 1) * dt_s)
    return SimResult(
        season=season,
        hours=hours,
        controller=driver.name,
        cop_s=ours.cop_s,
        oracle_cop_s=best.cop_s,
        baseline_cop_s=base.cop_s,
        flow_percent_final=op.flow_percent,
        optimal_percent_true=oracle.optimum(final_t).flow_percent,
        heat_kwh=ours.heat_kj / 3600.0,
        electric_kwh=ours.electric_kj / 3600.0,
        alarms_seen=alarms.names(seen),
        series=series,
        faults=watch.summary(alarms.names),
        ratio_last_hour=(last_ours.cop_s / last_best.cop_s if last_best.cop_s > 0 else 0.0),
    )


def run_scenario(scenario, driver: Driver | None = None, coeffs: dict | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 sample_every_s: float | None = None):
    """A scenario (host_tools.scenario) through the season harness; returns
    (SimResult, plant params). The default driver is the core in-process (SIL)."""
    from host_tools.plant import params

    pp = params.load(scenario.plant)
    result = run_season(lambda season: Plant(pp, season), scenario.season, scenario.hours,
                        scenario.dt_s, coeffs=coeffs, river=scenario.river_profile(),
                        progress=progress, driver=driver,
                        sample_every_s=sample_every_s or max(60.0, scenario.dt_s),
                        events=scenario.events, load=scenario.load_profile())
    return result, pp


def kwh_saved(result) -> float:
    """Electricity saved against the constant-design-flow baseline over the run, for
    the same heat: heat / baseline COP_s - electricity used (kWh; negative if worse)."""
    if result.baseline_cop_s <= 0:
        return 0.0
    return result.heat_kwh / result.baseline_cop_s - result.electric_kwh
