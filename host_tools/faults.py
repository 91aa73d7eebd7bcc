"""The fault matrix: every plant and sensor fault the controller must catch, run in lockstep.

Each case is a short scenario (host_tools.scenario events on the simulated plant)
run through the season harness, so the same case runs against the core in
process (`copflow faults`) or against a board over its console
(hil_tests/test_fault_matrix.py). Per case the run records every tick and works
out:

- the tick the fault became *detectable*: when the evidence the configuration
  asks for is complete (worked out here from the recorded measurements and
  commands, independently of the firmware's own counters);
- the tick the fault's alarm was raised, and the first tick in the safe state
  from then on (ticks to safe counts from the detectable tick);
- after the fault is removed, the ticks until the alarm clears (the recovery
  hysteresis) and whether the loop is back in `auto`;
- the largest flow overshoot on the return to closed loop (a wound-up output
  shows here).

docs/reliability.md#faults holds the table this produces.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from host_tools.paths import DATA_DIR, import_firmware
from host_tools.scenario import Event, Scenario
from host_tools.sim import Decision, Driver

DT_S = 10.0  # one tick, as the shipped scenarios; the windows are the firmware defaults


@dataclass(frozen=True)
class Case:
    name: str
    fault: str  # what goes wrong, for people
    alarm: str  # the alarm that must catch it (core.alarms.NAMES)
    season: str
    seconds: float
    onset_s: float  # the fault starts
    end_s: float  # the fault is removed
    events: tuple[Event, ...]
    detect: str  # evidence kind: instant, flow_stuck, actuator, plausible, model_range
    plant: str | None = None  # a plant file in host_tools/data, or the default plant
    river_c: float | None = None  # a constant river temperature, or the season's bench
    safe: tuple[str, ...] = ("safe",)  # controller states that count as safe
    window: str = ""  # the configured detection rule, for the table
    recovery: str = ""  # the configured recovery rule, for the table


def _span(kind: str, at_s: float, until_s: float, **kw) -> Event:
    return Event(kind, at_s, until_s, **kw)


CASES = (
    Case("t_open", "inlet temperature sensor open (reads nan)", "T_MISSING", "cooling",
         900.0, 150.0, 450.0,
         (_span("sensor", 150.0, 450.0, sensor="t_in", fault="open"),), "instant",
         window="fault_ticks bad samples", recovery="recover_ticks good samples"),
    Case("flow_open", "flow meter open (reads nan)", "FLOW_MISSING", "cooling",
         900.0, 150.0, 450.0,
         (_span("sensor", 150.0, 450.0, sensor="flow", fault="open"),), "instant",
         window="fault_ticks bad samples", recovery="recover_ticks good samples"),
    Case("flow_stuck", "flow meter frozen at its last reading", "FLOW_STUCK", "cooling",
         1200.0, 150.0, 600.0,
         (_span("sensor", 150.0, 600.0, sensor="flow", fault="stuck"),), "flow_stuck",
         window="reading unchanged (non-zero) for flow_stuck_s",
         recovery="recover_ticks good samples"),
    Case("flow_zero", "flow meter reads 0 with water flowing (a dead pulse sensor)",
         "ACTUATOR", "cooling", 900.0, 150.0, 450.0,
         (_span("sensor", 150.0, 450.0, sensor="flow", fault="stuck", value=0.0),), "actuator",
         window="flow error over act_band_pct, output at its limit or held, for low_flow_s",
         recovery="recover_ticks ticks within act_band_pct"),
    Case("stuck_valve", "valve stuck at 70 % (flow 74 % against 91.6 %)", "ACTUATOR",
         "cooling", 1200.0, 150.0, 750.0,
         (_span("stuck_actuator", 150.0, 750.0, value=70.0),), "actuator",
         window="flow error over act_band_pct, output at its limit or held, for low_flow_s",
         recovery="recover_ticks ticks within act_band_pct"),
    Case("vfd_trip", "VFD trips (pump stops), reset after 6 min", "ACTUATOR", "cooling",
         1200.0, 150.0, 510.0, (_span("vfd_trip", 150.0, 510.0),), "actuator",
         plant="plant-vfd.toml",
         window="flow error over act_band_pct, output at its limit or held, for low_flow_s",
         recovery="recover_ticks ticks within act_band_pct"),
    Case("t_offset_running", "inlet sensor reads +8 K, in range (cooling, river 22 degC)",
         "T_IMPLAUSIBLE", "cooling", 1500.0, 150.0, 900.0,
         (_span("sensor", 150.0, 900.0, sensor="t_in", fault="offset", value=8.0),),
         "plausible", river_c=22.0,
         window="cop_window_s steady, then inlet above outlet by t_plaus_k for fault_ticks",
         recovery="recover_ticks ticks within t_plaus_k/2"),
    Case("t_offset_idle", "inlet sensor reads -8 K, in range (cooling, river 30 degC), "
         "seen with the unit stopped", "T_IMPLAUSIBLE", "cooling", 1800.0, 60.0, 900.0,
         (_span("sensor", 60.0, 900.0, sensor="t_in", fault="offset", value=-8.0),
          _span("unit_stop", 150.0, 1350.0)), "plausible", safe=("safe", "standby"),
         river_c=30.0,
         window="unit stopped cop_window_s, then inlet and outlet t_plaus_k apart for fault_ticks",
         recovery="recover_ticks ticks stopped within t_plaus_k/2"),
    Case("river_step", "river +10 K (27.6 -> 37.6 degC), beyond the set's t_hi 32",
         "T_MODEL_RANGE", "cooling", 1800.0, 150.0, 1050.0,
         (_span("river_step", 150.0, 1050.0, value=10.0),), "model_range",
         window="inlet beyond t_lo..t_hi for fault_ticks samples",
         recovery="recover_ticks samples inside"),
)


def case(name: str) -> Case:
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(f"no fault case {name!r}; known: {', '.join(c.name for c in CASES)}")


class Recorder(Driver):
    """A driver that passes everything to another and keeps each tick's input and answer."""

    def __init__(self, inner: Driver):
        self.inner = inner
        self.name = inner.name
        self.ticks: list[tuple] = []  # (measured, decision)

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        self.design_flow_m3h = plant.design_flow_m3h
        self.inner.start(plant, season, dt_s, start_output)

    def decide(self, measured) -> Decision:
        decision = self.inner.decide(measured)
        self.ticks.append((measured, decision))
        return decision

    def silent(self) -> None:
        self.inner.silent()

    def resume(self, gap_s: float) -> None:
        self.inner.resume(gap_s)

    def plant_changed(self, plant) -> None:
        self.inner.plant_changed(plant)


@dataclass
class Outcome:
    case: Case
    detectable_tick: int | None
    alarm_tick: int | None
    safe_tick: int | None
    clear_tick: int | None
    auto_tick: int | None
    end_tick: int
    overshoot_pct: float
    other_alarms: list[str] = field(default_factory=list)

    @property
    def ticks_to_alarm(self) -> int | None:
        if self.alarm_tick is None or self.detectable_tick is None:
            return None
        return self.alarm_tick - self.detectable_tick

    @property
    def ticks_to_safe(self) -> int | None:
        if self.safe_tick is None or self.detectable_tick is None:
            return None
        return self.safe_tick - self.detectable_tick

    @property
    def ticks_to_clear(self) -> int | None:
        return None if self.clear_tick is None else self.clear_tick - self.end_tick

    def row(self) -> dict:
        c = self.case
        return {"case": c.name, "fault": c.fault, "alarm": c.alarm, "season": c.season,
                "detection": c.window, "detectable_s": _seconds(self.detectable_tick),
                "fault_s": c.onset_s, "alarm_s": _seconds(self.alarm_tick),
                "ticks_to_alarm": self.ticks_to_alarm, "ticks_to_safe": self.ticks_to_safe,
                "recovery": c.recovery, "ticks_to_clear": self.ticks_to_clear,
                "back_to_auto": self.auto_tick is not None,
                "overshoot_pct": round(self.overshoot_pct, 2), "other_alarms": self.other_alarms}


def _seconds(tick: int | None) -> float | None:
    return None if tick is None else tick * DT_S


def scenario_for(c: Case) -> Scenario:
    river = None if c.river_c is None else {"kind": "constant", "t_c": c.river_c}
    return Scenario(c.name, c.season, c.seconds / 3600.0, DT_S,
                    DATA_DIR / c.plant if c.plant else None, river=river,
                    events=list(c.events))


def run_case(c: Case, driver: Driver | None = None) -> Outcome:
    """One case through the season harness; `driver` defaults to the core in process."""
    from host_tools import sim

    recorder = Recorder(driver if driver is not None else sim.CoreDriver())
    result, _ = sim.run_scenario(scenario_for(c), recorder, sample_every_s=DT_S)
    return evaluate(c, recorder, result)


def _params() -> dict:
    import_firmware()
    from core import config

    return config.default_params()


def _bits():
    import_firmware()
    from core import alarms

    return alarms


def _detectable(c: Case, ticks: list, design_m3h: float, p: dict, onset: int) -> int | None:
    """The first tick at or after the onset at which the configured evidence is complete."""
    n = len(ticks)
    if c.detect == "instant":
        return onset
    if c.detect == "flow_stuck":
        same_s = 0.0
        for k in range(max(1, onset), n):
            f, prev = ticks[k][0].flow_m3h, ticks[k - 1][0].flow_m3h
            same_s = same_s + DT_S if f == prev and f != 0.0 else 0.0
            if same_s >= p["flow_stuck_s"]:
                return k
        return None
    if c.detect == "actuator":
        band, held_s, prev_out = p["act_band_pct"], 0.0, None
        for k in range(n):
            measured, d = ticks[k]
            e = d.flow_sp_pct - 100.0 * measured.flow_m3h / design_m3h
            out = d.output_pct
            limited = (out == prev_out or (e > 0 and out >= p["out_max_pct"])
                       or (e < 0 and out <= p["out_min_pct"]))
            prev_out = out
            held_s = held_s + DT_S if abs(e) > band and limited else 0.0
            if k >= onset and held_s >= p["low_flow_s"]:
                return k
        return None
    if c.detect == "plausible":
        kind, settled_s, bad = None, 0.0, 0
        for k in range(n):
            m = ticks[k][0]
            idle = not m.demand
            now = "idle" if idle else m.unit_mode
            if now != kind:
                kind, settled_s, bad = now, 0.0, 0
            if settled_s < p["cop_window_s"]:
                settled_s += DT_S
                continue
            d = m.t_in_c - m.t_out_c
            dev = abs(d) if idle else (d if m.unit_mode == "cooling" else -d)
            bad = bad + 1 if dev > p["t_plaus_k"] else 0
            if k >= onset and bad >= 1:
                return k
        return None
    if c.detect == "model_range":
        import_firmware()
        from core import config

        model = config.validate(config.defaults())["models"][c.season]
        for k in range(onset, n):
            t = ticks[k][0].t_in_c
            if t < model.t_lo or t > model.t_hi:
                return k
        return None
    raise ValueError(f"unknown evidence kind {c.detect!r}")


def evaluate(c: Case, recorder: Recorder, result) -> Outcome:
    alarms = _bits()
    bit = dict((name, b) for b, name in alarms.NAMES)[c.alarm]
    p = _params()
    ticks = recorder.ticks
    onset = int(round(c.onset_s / DT_S))
    end = int(round(c.end_s / DT_S))
    seen = 0
    alarm_tick = safe_tick = clear_tick = auto_tick = None
    for k, (_, d) in enumerate(ticks):
        seen |= d.alarms
        if alarm_tick is None and d.alarms & bit:
            alarm_tick = k
        if alarm_tick is not None and safe_tick is None and d.state in c.safe:
            safe_tick = k
        if k >= end and alarm_tick is not None and clear_tick is None and not d.alarms & bit:
            clear_tick = k
        if clear_tick is not None and auto_tick is None and d.state == "auto":
            auto_tick = k
    detectable = _detectable(c, ticks, recorder.design_flow_m3h, p, onset)
    # Overshoot of the return: in the 5 minutes after the alarm clears (the loop back on
    # its PI), how far the true flow goes above both the setpoint and the flow it had
    # when the alarm cleared (a safe state's own fallback flow is not an overshoot; a
    # wound-up output is).
    flows = result.series["flow_percent"]
    sps = result.series["flow_sp_percent"]
    back = end if clear_tick is None else clear_tick
    after = range(back, min(len(flows), back + int(round(300.0 / DT_S))))
    overshoot = max((flows[k] - max(sps[k], flows[back]) for k in after), default=0.0)
    others = [name for b, name in alarms.NAMES if seen & b and b != bit]
    return Outcome(c, detectable, alarm_tick, safe_tick, clear_tick, auto_tick, end,
                   max(overshoot, 0.0), others)


def run_matrix(driver_factory: Callable[[], Driver] | None = None,
               names: list[str] | None = None) -> list[Outcome]:
    """Every case (or the named ones), each with a fresh driver from driver_factory."""
    chosen = [case(n) for n in names] if names else list(CASES)
    return [run_case(c, driver_factory() if driver_factory else None) for c in chosen]


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table docs/reliability.md#faults shows."""
    lines = ["| fault | alarm | detectable when | fault → alarm | ticks to alarm | "
             "ticks to safe | recovery | ticks to clear | overshoot on return |",
             "|---|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        c = o.case
        delay = ("—" if o.alarm_tick is None
                 else f"{o.alarm_tick * DT_S - c.onset_s:g} s")
        lines.append(
            f"| {c.fault} | `{c.alarm}` | {c.window} | {delay} | {_cell(o.ticks_to_alarm)} | "
            f"{_cell(o.ticks_to_safe)} | {c.recovery} | {_cell(o.ticks_to_clear)} | "
            f"{o.overshoot_pct:.1f} % |")
    return "\n".join(lines)


def _cell(value) -> str:
    return "—" if value is None else str(value)


def problems(outcomes: list[Outcome], max_ticks_to_safe: int = 3,
             max_overshoot_pct: float = 5.0) -> list[str]:
    """What a matrix run got wrong (empty when every fault was caught as required)."""
    out = []
    for o in outcomes:
        c = o.case
        if o.alarm_tick is None:
            out.append(f"{c.name}: {c.alarm} never raised")
            continue
        if o.detectable_tick is None:
            out.append(f"{c.name}: the fault never became detectable")
        elif o.ticks_to_safe is None or not 0 <= o.ticks_to_safe <= max_ticks_to_safe:
            out.append(f"{c.name}: safe {o.ticks_to_safe} ticks after detectable")
        if o.alarm_tick * DT_S < c.onset_s:
            out.append(f"{c.name}: {c.alarm} before the fault")
        if o.clear_tick is None:
            out.append(f"{c.name}: {c.alarm} did not clear after the fault ended")
        if o.auto_tick is None:
            out.append(f"{c.name}: not back in auto after recovery")
        if not o.overshoot_pct <= max_overshoot_pct:
            out.append(f"{c.name}: flow overshoots {o.overshoot_pct:.1f} % on the return")
    return out
