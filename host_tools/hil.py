"""Hardware in the loop: the plant simulator drives a board (real or virtual) over its console.

The board runs in lockstep (docs/hil.md): each simulated step is one
`hil step` request carrying the plant's sensor readings; the board runs exactly
one control tick and answers with its commands. The season harness is the one
`copflow sim` uses, so HIL and SIL differ only in where the core runs.
"""

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.paths import DATA_DIR, import_firmware
from host_tools.seasons import SEASON_ALIASES
from host_tools.sim import UNIT_MODE_INPUT, Decision, controller_config

SCENARIO_DIR = DATA_DIR / "scenarios"
_KEYS = {"season": str, "hours": float, "dt_s": float, "plant": str, "river_csv": str}


@dataclass
class Scenario:
    name: str
    season: str
    hours: float
    dt_s: float
    plant: Path | None = None
    river_csv: Path | None = None


def load_scenario(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")))
        raise CopflowError(f"no scenario {name_or_path!r} (shipped: {known}; or a .toml file)")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CopflowError(f"{path}: not valid TOML ({exc})") from None
    for key, value in data.items():
        if key not in _KEYS:
            raise CopflowError(f"{path}: {key}: unknown key; known: {', '.join(_KEYS)}")
        want = _KEYS[key]
        if not isinstance(value, want) and not (want is float and isinstance(value, int)):
            raise CopflowError(f"{path}: {key}: expected a {want.__name__}, got {value!r}")
    if data.get("season") not in SEASON_ALIASES:
        raise CopflowError(f"{path}: season: expected summer or winter (cooling/heating)")
    hours, dt = float(data.get("hours", 1.0)), float(data.get("dt_s", 1.0))
    if not 0 < hours <= 24 * 366 or not 0.05 <= dt <= 600:
        raise CopflowError(f"{path}: hours must be in (0, 8784] and dt_s in 0.05..600")
    base = path.parent
    return Scenario(path.stem, SEASON_ALIASES[data["season"]], hours, dt,
                    base / data["plant"] if "plant" in data else None,
                    base / data["river_csv"] if "river_csv" in data else None)


class LinkDriver:
    """The controller under test is a board, reached through a Link, in lockstep."""

    name = "hil"

    def __init__(self, link: Link, coeffs: dict | None = None):
        self.link = link
        self.coeffs = coeffs
        self.steps = 0
        self.rtt_max_ms = 0.0
        self.elapsed_s = 0.0

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        import_firmware()
        from core import config as config_mod

        link = self.link
        link.command("hil off")
        link.command("defaults")
        wanted = controller_config(plant, dt_s, None)["params"]
        defaults = config_mod.default_params()
        for name, value in wanted.items():
            if value != defaults[name]:
                link.command(f"set {name} {value!r}" if isinstance(value, float)
                             else f"set {name} {value}")
        if self.coeffs:
            from host_tools.commands.coeffs import push

            push(link, self.coeffs, "scenario")
        link.command("set hil allowed")
        link.command(f"hil lockstep {start_output!r}")
        self.dt_ms = max(1, int(round(dt_s * 1000)))
        self.mode = UNIT_MODE_INPUT[season]

    def decide(self, measured) -> Decision:
        t = measured.t_in_c
        flow = measured.flow_m3h
        line = (f"hil step {self.dt_ms} {t!r} {flow!r} {1 if measured.unit_mode else 0} "
                f"{self.mode}")
        t0 = time.perf_counter()
        fields = self.link.command(line).fields()
        rtt = (time.perf_counter() - t0) * 1000.0
        self.elapsed_s += rtt / 1000.0
        self.rtt_max_ms = max(self.rtt_max_ms, rtt)
        self.steps += 1
        out = float(fields["out"]) if fields.get("pump") == "1" else 0.0
        return Decision(out, float(fields["sp"]), float(fields["popt"]),
                        int(fields["alarms"], 16))

    def stop(self) -> None:
        self.link.command("hil off")

    def timing(self) -> dict:
        return {"ticks": self.steps,
                "ticks_per_s": self.steps / self.elapsed_s if self.elapsed_s else 0.0,
                "max_round_trip_ms": self.rtt_max_ms}


def run(link: Link, scenario: Scenario, coeffs: dict | None = None, progress=None):
    from host_tools import sim
    from host_tools.plant import params, river
    from host_tools.plant.plant import Plant

    pp = params.load(scenario.plant)
    profile = river.Series(scenario.river_csv) if scenario.river_csv else None
    driver = LinkDriver(link, coeffs)
    try:
        result = sim.run_season(lambda: Plant(pp, scenario.season), scenario.season,
                                scenario.hours, scenario.dt_s, river=profile,
                                progress=progress, driver=driver,
                                sample_every_s=max(60.0, scenario.dt_s))
    finally:
        try:
            driver.stop()
        except CopflowError:
            pass
    return result, driver.timing(), pp
