"""HIL and SIL scenarios: TOML data (docs/hil.md#scenarios).

A scenario names the season, the length and step of the run, the plant, the
river profile (a daily sine without mean_c swings around the plant's bench
temperature for the season), the load profile (the unit's load as a fraction
of the plant's nominal load, constant or a daily sine), and timed events: the
unit changing season, the unit stopping and starting, sensor faults, actuator
faults (a stuck valve, a VFD trip), a step in the river temperature and link
drop-outs. The season
harness (host_tools.sim.run_season) applies the events the same way whichever
controller runs, so HIL and SIL stay comparable number for number.
"""

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.paths import DATA_DIR
from host_tools.seasons import SEASON_ALIASES

SCENARIO_DIR = DATA_DIR / "scenarios"
_KEYS = {"season": str, "hours": float, "dt_s": float, "plant": str, "river_csv": str,
         "river": dict, "load": dict, "events": list, "description": str}
SENSORS = ("t_in", "flow")
SENSOR_FAULTS = ("open", "stuck", "offset", "dropout")
# kind -> its own keys (besides kind, at_h, until_h) and their types
EVENT_KINDS = {
    "season": {"season": str},
    "sensor": {"sensor": str, "fault": str, "value": float},
    "stuck_actuator": {"value": float},  # value: the output % it sticks at (else where it was)
    "vfd_trip": {},
    "link_drop": {},
    "unit_stop": {},  # the unit stops (its run contact opens) until until_h, or to the end
    "river_step": {"value": float},  # K added to the river temperature until until_h
    # Driver-level faults (docs/hil.md#pin-level): they happen at the board's pins, so
    # only pin-level HIL (copflow hil --profile) sees them; a run above the drivers
    # (sim, lockstep) has nothing they act on and reports them with no alarm.
    "onewire_crc": {},  # every DS18B20 scratchpad read fails its CRC
    "ntc_open": {},  # the NTC's wire is cut: its divider input at the rail
    "loop_break": {},  # the 4-20 mA flow loop is broken: 0 mA (< 3.6 mA, NE43)
    "vfd_mute": {},  # the drive stops answering on Modbus
    "vfd_fault": {},  # the drive trips and reports its fault; stops until until_h
}
DRIVER_FAULTS = ("onewire_crc", "ntc_open", "loop_break", "vfd_mute", "vfd_fault")
# Events that last: they need until_h (a season change does not end).
_SPANS = ("sensor", "stuck_actuator", "vfd_trip", "link_drop") + DRIVER_FAULTS
# Events that may last to the end of the run (no until_h) or end at until_h.
_OPEN_SPANS = ("unit_stop", "river_step")
RIVER_KINDS = {
    "constant": {"t_c": float},
    "ramp": {"start_c": float, "end_c": float, "start_h": float, "duration_h": float},
    "daily": {"mean_c": float, "amplitude_c": float, "peak_hour": float},
}
LOAD_KINDS = {
    "constant": {"fraction": float},
    "daily": {"mean": float, "amplitude": float, "peak_hour": float},
}
LOAD_MAX = 3.0  # the plant takes a load fraction in (0, 3]


@dataclass(frozen=True)
class Event:
    kind: str
    at_s: float
    until_s: float = math.inf
    season: str = ""
    sensor: str = ""
    fault: str = ""
    value: float | None = None

    def active(self, time_s: float) -> bool:
        return self.at_s <= time_s < self.until_s


@dataclass
class Scenario:
    name: str
    season: str
    hours: float
    dt_s: float
    plant: Path | None = None
    river_csv: Path | None = None
    river: dict | None = None
    events: list[Event] = field(default_factory=list)
    description: str = ""
    load: dict | None = None

    def load_profile(self):
        """time_s -> the unit's load as a fraction of the plant's nominal load, or None."""
        from host_tools.plant import river

        if self.load is None:
            return None
        spec = self.load
        if spec["kind"] == "constant":
            return river.Constant(spec["fraction"])
        return river.Daily(spec["mean"], spec["amplitude"], peak_hour=spec.get("peak_hour", 15.0))

    def river_profile(self):
        """time_s -> t_river_c, or None for the season's bench temperature."""
        from host_tools.plant import river

        if self.river_csv is not None:
            return river.Series(self.river_csv)
        if self.river is None:
            return None
        spec = dict(self.river)
        kind = spec.pop("kind")
        if kind == "constant":
            return river.Constant(spec["t_c"])
        if kind == "daily":
            return river.Daily(spec["mean_c"], spec["amplitude_c"],
                               peak_hour=spec.get("peak_hour", 16.0))
        ramp = river.Ramp(spec["start_c"], spec["end_c"], spec["duration_h"] * 3600.0)
        start_s = spec.get("start_h", 0.0) * 3600.0
        return lambda time_s: ramp(time_s - start_s)


def load_scenario(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise CopflowError(f"no scenario {name_or_path!r} (shipped: {known}; or a .toml file)")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CopflowError(f"{path}: not valid TOML ({exc})") from None
    _check_types(path, "", data, _KEYS)
    if data.get("season") not in SEASON_ALIASES:
        raise CopflowError(f"{path}: season: expected summer or winter (cooling/heating)")
    hours, dt = float(data.get("hours", 1.0)), float(data.get("dt_s", 1.0))
    if not 0 < hours <= 24 * 366 or not 0.05 <= dt <= 600:
        raise CopflowError(f"{path}: hours must be in (0, 8784] and dt_s in 0.05..600")
    if "river" in data and "river_csv" in data:
        raise CopflowError(f"{path}: give river or river_csv, not both")
    base = path.parent
    season = SEASON_ALIASES[data["season"]]
    plant = base / data["plant"] if "plant" in data else None
    river_spec = _river(path, data["river"]) if "river" in data else None
    if river_spec is not None and river_spec["kind"] == "daily" and "mean_c" not in river_spec:
        river_spec["mean_c"] = _bench_temperature(path, plant, season)
    return Scenario(path.stem, season, hours, dt, plant,
                    base / data["river_csv"] if "river_csv" in data else None,
                    river_spec,
                    [_event(path, i, e, hours) for i, e in enumerate(data.get("events", []))],
                    data.get("description", ""),
                    _load(path, data["load"]) if "load" in data else None)


def _bench_temperature(path: Path, plant: Path | None, season: str) -> float:
    """The plant's bench river temperature for the season (a daily swing's default mean)."""
    from host_tools.plant import params

    try:
        pp = params.load(plant)
    except params.PlantConfigError as exc:
        raise CopflowError(f"{path}: plant: {exc}") from None
    return pp.river.t_summer_c if season == "cooling" else pp.river.t_winter_c


def _kind_checked(path: Path, section: str, spec: dict, kinds: dict,
                  optional: tuple[str, ...]) -> str:
    """A `[section]` table with a `kind` and that kind's keys (types checked, every
    key but the optional ones present); returns the kind."""
    kind = spec.get("kind")
    if kind not in kinds:
        raise CopflowError(f"{path}: {section}.kind: expected one of {', '.join(kinds)}")
    keys = kinds[kind]
    _check_types(path, f"{section}.", {k: v for k, v in spec.items() if k != "kind"}, keys)
    missing = [k for k in keys if k not in spec and k not in optional]
    if missing:
        raise CopflowError(f"{path}: {section} ({kind}) needs {', '.join(missing)}")
    return kind


def _load(path: Path, spec: dict) -> dict:
    kind = _kind_checked(path, "load", spec, LOAD_KINDS, ("peak_hour",))
    out = {k: float(v) if k != "kind" else v for k, v in spec.items()}
    if kind == "constant":
        low = high = out["fraction"]
    else:
        if out["amplitude"] < 0:
            raise CopflowError(f"{path}: load.amplitude: {out['amplitude']:g} is below 0")
        low, high = out["mean"] - out["amplitude"], out["mean"] + out["amplitude"]
    if not (0.0 < low and high <= LOAD_MAX):
        raise CopflowError(f"{path}: load: the fraction of the nominal load must stay in "
                           f"(0, {LOAD_MAX:g}]; this one spans {low:g}..{high:g}")
    return out


def _check_types(path: Path, where: str, data: dict, known: dict) -> None:
    for key, value in data.items():
        if key not in known:
            raise CopflowError(f"{path}: {where}{key}: unknown key; known: {', '.join(known)}")
        want = known[key]
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if not isinstance(value, want) or isinstance(value, bool):
            raise CopflowError(f"{path}: {where}{key}: expected a {want.__name__}, got {value!r}")
        if want is float and not math.isfinite(value):
            raise CopflowError(f"{path}: {where}{key}: {value!r} is not finite")


def _river(path: Path, spec: dict) -> dict:
    # daily without mean_c: the bench mean
    kind = _kind_checked(path, "river", spec, RIVER_KINDS, ("start_h", "peak_hour", "mean_c"))
    if kind == "ramp" and spec["duration_h"] <= 0:
        raise CopflowError(f"{path}: river.duration_h must be above 0")
    return {k: float(v) if k != "kind" else v for k, v in spec.items()}


def _event(path: Path, index: int, spec, hours: float) -> Event:
    where = f"events[{index}]"
    if not isinstance(spec, dict):
        raise CopflowError(f"{path}: {where}: expected a table ([[events]])")
    kind = spec.get("kind")
    if kind not in EVENT_KINDS:
        raise CopflowError(f"{path}: {where}.kind: expected one of {', '.join(EVENT_KINDS)}")
    keys = {"kind": str, "at_h": float, "until_h": float, **EVENT_KINDS[kind]}
    _check_types(path, f"{where}.", spec, keys)
    if "at_h" not in spec:
        raise CopflowError(f"{path}: {where}: at_h is required")
    at_h = float(spec["at_h"])
    until_h = float(spec.get("until_h", math.inf))
    if not 0 <= at_h < hours:
        raise CopflowError(f"{path}: {where}.at_h: {at_h:g} is outside the run (0..{hours:g} h)")
    if kind in _SPANS and "until_h" not in spec:
        raise CopflowError(f"{path}: {where}: a {kind} event needs until_h")
    if kind not in _SPANS and kind not in _OPEN_SPANS and "until_h" in spec:
        raise CopflowError(f"{path}: {where}: a season change has no until_h")
    if until_h <= at_h:
        raise CopflowError(f"{path}: {where}.until_h must be after at_h")
    event = Event(kind, at_h * 3600.0, until_h * 3600.0)
    if kind == "season":
        if spec.get("season") not in SEASON_ALIASES:
            raise CopflowError(f"{path}: {where}.season: expected summer or winter")
        return Event(kind, event.at_s, season=SEASON_ALIASES[spec["season"]])
    if kind == "sensor":
        if spec.get("sensor") not in SENSORS:
            raise CopflowError(f"{path}: {where}.sensor: expected one of {', '.join(SENSORS)}")
        if spec.get("fault") not in SENSOR_FAULTS:
            raise CopflowError(f"{path}: {where}.fault: expected one of "
                               f"{', '.join(SENSOR_FAULTS)}")
        value = spec.get("value")
        if spec["fault"] == "offset" and value is None:
            raise CopflowError(f"{path}: {where}: an offset fault needs value")
        return Event(kind, event.at_s, event.until_s, sensor=spec["sensor"],
                     fault=spec["fault"], value=None if value is None else float(value))
    if kind == "river_step" and "value" not in spec:
        raise CopflowError(f"{path}: {where}: a river_step event needs value (K)")
    if kind == "stuck_actuator" and "value" in spec and not 0.0 <= spec["value"] <= 100.0:
        raise CopflowError(f"{path}: {where}.value: the output it sticks at is 0..100 %")
    if "value" in spec:
        return Event(kind, event.at_s, event.until_s, value=float(spec["value"]))
    return event


class Disturbances:
    """The scenario's events at a point in simulated time, for the season harness."""

    def __init__(self, events: list[Event]):
        self.events = sorted(events, key=lambda e: e.at_s)
        self._sensor_state: dict[str, Event | None] = {s: None for s in SENSORS}

    def season(self, time_s: float, initial: str) -> str:
        season = initial
        for e in self.events:
            if e.kind == "season" and e.at_s <= time_s:
                season = e.season
        return season

    def apply_sensor_faults(self, time_s: float, plant) -> None:
        """Start and end sensor faults on the plant's sensor models."""
        for sensor in SENSORS:
            now = None
            for e in self.events:
                if e.kind == "sensor" and e.sensor == sensor and e.active(time_s):
                    now = e
            if now is not self._sensor_state[sensor]:
                if now is None:
                    plant.sensors[sensor].clear()
                else:
                    plant.inject_fault(sensor, now.fault, now.value)
                self._sensor_state[sensor] = now

    def reapply_sensor_faults(self, plant) -> None:
        """A fresh plant (after a season change) gets the faults that are on."""
        for sensor, event in self._sensor_state.items():
            if event is not None:
                plant.inject_fault(sensor, event.fault, event.value)

    def _any(self, kind: str, time_s: float) -> bool:
        return self._active(kind, time_s) is not None

    def _active(self, kind: str, time_s: float) -> Event | None:
        """The latest-starting event of this kind in force at time_s."""
        found = None
        for e in self.events:
            if e.kind == kind and e.active(time_s):
                found = e
        return found

    def unit_demand(self, time_s: float) -> bool:
        """The unit is asked to run (no unit_stop in force)."""
        return not self._any("unit_stop", time_s)

    def river_offset(self, time_s: float) -> float:
        """K the river_step events in force add to the river temperature."""
        return sum(e.value or 0.0 for e in self.events
                   if e.kind == "river_step" and e.active(time_s))

    def link_down(self, time_s: float) -> bool:
        return self._any("link_drop", time_s)

    def actuator(self, time_s: float, wanted: float, applied: float) -> float:
        """The output that reaches the plant: a tripped VFD stops the pump; a stuck
        actuator stays where it was, or at the event's value."""
        if self._any("vfd_trip", time_s):
            return 0.0
        stuck = self._active("stuck_actuator", time_s)
        if stuck is not None:
            return applied if stuck.value is None else stuck.value
        return wanted
