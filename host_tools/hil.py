"""Hardware in the loop: the plant simulator drives a board (real or virtual) over its console.

The board runs in lockstep (docs/hil.md): each simulated step is one
`hil step` request carrying the plant's sensor readings; the board runs exactly
one control tick and answers with its commands. The season harness is the one
`copflow sim` uses, so HIL and SIL differ only in where the core runs.
"""

import sys
import time
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.link import Link, key_values
from host_tools.paths import import_firmware
from host_tools.scenario import Scenario, load_scenario
from host_tools.sim import UNIT_MODE_INPUT, Decision, Driver, controller_config

__all__ = ["LinkDriver", "RealtimeLinkDriver", "Scenario", "load_scenario", "run"]


def configure_board(link: Link, plant, dt_s: float, coeffs: dict | None,
                    settings: dict | None = None) -> None:
    """Defaults, then what the installation dictates, then `settings` (parameter: value),
    on the running config only."""
    import_firmware()
    from core import config as config_mod

    link.command("hil off")
    link.command("defaults")
    wanted = controller_config(plant, dt_s, None)["params"]
    defaults = config_mod.default_params()
    for name, value in wanted.items():
        if value != defaults[name]:
            link.command(f"set {name} {value!r}" if isinstance(value, float)
                         else f"set {name} {value}")
    if coeffs:
        from host_tools.coeffs_file import push

        push(link, coeffs, "scenario")
    for name, value in (settings or {}).items():
        link.command(f"set {name} {value}")
    link.command("set hil allowed")


def number_word(value: float) -> str:
    """A measurement as a word of a `hil` line: its repr, `nan` when missing."""
    return repr(value) if value == value else "nan"


def measurement_words(measured) -> str:
    """T_IN_C FLOW_M3H RUNNING MODE T_OUT_C P_UNIT_W P_PUMP_W, as `hil step`/`hil meas`
    take them (the last three feed the board's measured COP_s)."""
    return (f"{number_word(measured.t_in_c)} {number_word(measured.flow_m3h)} "
            f"{1 if measured.demand else 0} {UNIT_MODE_INPUT[measured.unit_mode]} "
            f"{number_word(measured.t_out_c)} {number_word(measured.p_unit_w)} "
            f"{number_word(measured.p_pump_w)}")


class BoardDriver(Driver):
    """A board reached through a Link; `settings` are parameters set after the
    installation's (configure_board)."""

    def __init__(self, link: Link, coeffs: dict | None = None, settings: dict | None = None):
        self.link = link
        self.coeffs = coeffs
        self.settings = settings
        self.steps = 0


class LinkDriver(BoardDriver):
    """The controller under test is a board, reached through a Link, in lockstep."""

    name = "hil"

    def __init__(self, link: Link, coeffs: dict | None = None, settings: dict | None = None):
        super().__init__(link, coeffs, settings)
        self.elapsed_s = 0.0
        self.cop_meas = "none"  # the board's measured COP_s after the last step
        self.rtts_ms: list[float] = []

    hil_mode = "lockstep"  # `hil MODE OUT` at the start (pinhil.PinDriver: "pins")

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        configure_board(self.link, plant, dt_s, self.coeffs, self.settings)
        self.link.command(f"hil {self.hil_mode} {start_output!r}")
        self.dt_ms = max(1, int(round(dt_s * 1000)))
        self._next_dt_ms = self.dt_ms

    def step(self, words: str) -> dict[str, str]:
        """One `hil step` (the gap since the last one, then `words`), timed; the
        board's answer as key=value fields."""
        line = f"hil step {self._next_dt_ms}" + (f" {words}" if words else "")
        self._next_dt_ms = self.dt_ms
        t0 = time.perf_counter()
        fields = self.link.command(line).fields()
        rtt = (time.perf_counter() - t0) * 1000.0
        self.elapsed_s += rtt / 1000.0
        self.rtts_ms.append(rtt)
        self.steps += 1
        return fields

    def decide(self, measured) -> Decision:
        fields = self.step(measurement_words(measured))
        out = float(fields["out"]) if fields.get("pump") == "1" else 0.0
        self.cop_meas = fields.get("cop_meas", "none")
        return Decision(out, float(fields["sp"]), float(fields["popt"]),
                        int(fields["alarms"], 16), fields.get("state", ""))

    def resume(self, gap_s: float) -> None:
        """After a link drop-out the next step carries the time that passed."""
        self._next_dt_ms = self.dt_ms + int(round(gap_s * 1000))

    def stop(self) -> None:
        self.link.command("hil off")

    def timing(self) -> dict:
        ordered = sorted(self.rtts_ms) or [0.0]

        def percentile(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        return {"ticks": self.steps,
                "ticks_per_s": self.steps / self.elapsed_s if self.elapsed_s else 0.0,
                "max_round_trip_ms": ordered[-1],
                "round_trip_ms_p50": percentile(0.50),
                "round_trip_ms_p99": percentile(0.99),
                "board_cop_meas": None if self.cop_meas == "none" else float(self.cop_meas)}


class RealtimeLinkDriver(BoardDriver):
    """The board runs on its own clock; the host streams measurements and reads telemetry.

    Simulated time is wall-clock time: each step waits for its slot on a fixed
    schedule, sends `hil meas`, and acts on the newest `!tel` line. During a link
    drop-out nothing is sent and the telemetry that still arrives is kept aside
    (`dropped`), not acted on: the plant holds the last output it received.
    """

    name = "hil-realtime"

    def __init__(self, link: Link, coeffs: dict | None = None, settings: dict | None = None):
        super().__init__(link, coeffs, settings)
        self.rtt_max_ms = 0.0
        self.telemetry: dict[str, str] = {}
        self.dropped: list[dict[str, str]] = []
        self._in_drop = False
        self._previous_handler = link.on_unsolicited
        link.on_unsolicited = self._on_line

    def _on_line(self, line: str) -> None:
        if not line.startswith("!tel "):
            return
        fields = key_values(line[5:])
        if self._in_drop:
            self.dropped.append(fields)
        else:
            self.telemetry = fields

    def start(self, plant, season: str, dt_s: float, start_output: float) -> None:
        configure_board(self.link, plant, dt_s, self.coeffs, self.settings)
        self.dt_s = dt_s
        period_ms = max(50, int(round(dt_s * 1000)))
        self.link.command(f"tel period {period_ms}")
        self.link.command(f"hil realtime {start_output!r}")
        self.link.command("tel on")
        self._decision = Decision(start_output)
        self._next = time.monotonic()

    def _wait_slot(self) -> None:
        self._next += self.dt_s
        late = time.monotonic() - self._next
        if late > 5 * self.dt_s:
            self._next = time.monotonic()  # fell far behind (a debugger, a loaded host)
        self.link.pump(self._next)

    def decide(self, measured) -> Decision:
        self._in_drop = False
        t0 = time.perf_counter()
        self.link.command(f"hil meas {measurement_words(measured)}")
        self.rtt_max_ms = max(self.rtt_max_ms, (time.perf_counter() - t0) * 1000.0)
        self.steps += 1
        self._wait_slot()
        tel = self.telemetry
        if tel:
            out = float(tel["output_pct"]) if tel.get("pump") == "1" else 0.0
            self._decision = Decision(out, float(tel["flow_sp_pct"]), float(tel["p_opt_pct"]),
                                      int(tel["alarms"], 16))
        return self._decision

    def silent(self) -> None:
        """One step of a link drop-out: keep time, send nothing."""
        self._in_drop = True
        self._wait_slot()

    def resume(self, gap_s: float) -> None:
        self._in_drop = False

    def stop(self) -> None:
        try:
            self.link.command("tel off")
            self.link.command("hil off")
        finally:
            self.link.on_unsolicited = self._previous_handler

    def timing(self) -> dict:
        return {"ticks": self.steps, "ticks_per_s": 1.0 / self.dt_s if self.dt_s else 0.0,
                "max_round_trip_ms": self.rtt_max_ms}


def run(link: Link, scenario: Scenario, coeffs: dict | None = None, progress=None,
        realtime: bool = False, settings: dict | None = None):
    """Run a scenario against the board on `link`; returns (SimResult, timing, plant params).
    `settings` (parameter: value) are set after what the installation dictates, e.g.
    {"optimiser": "model"}; like every change of the run, they are undone after it."""
    from host_tools import sim

    driver = (RealtimeLinkDriver if realtime else LinkDriver)(link, coeffs, settings)
    before = record_config(link)
    try:
        result, pp = sim.run_scenario(scenario, driver, progress=progress,
                                      sample_every_s=scenario.dt_s if realtime else None)
    except BaseException:
        # the run's own error (or Ctrl-C) is the one reported; the restore still runs
        try:
            driver.stop()
            restore_config(link, before)
        except CopflowError as exc:
            print(f"copflow: note: {exc}", file=sys.stderr)
        raise
    try:
        driver.stop()
    except CopflowError:
        pass
    restore_config(link, before)
    return result, driver.timing(), pp


# ---- leaving the board as it was found -------------------------------------------------

def record_config(link: Link) -> dict:
    """The board's running config: every parameter's value as the board writes it, and
    its coefficient set. A run changes only the running config (the harness never
    sends `save`), so the saved one on the board's flash stays as it was."""
    from host_tools.coeffs_file import parse_pulled

    import_firmware()
    from core import config as config_mod

    # one `get` per parameter of the host's table, not `list`: its ~60 lines at once
    # would be the peak of the board's heap over a whole run (hil_tests/test_endurance)
    params = {}
    for entry in config_mod.PARAMS:
        response = link.request(f"get {entry[0]}")
        if response.ok:  # a board with an older table lacks some names
            params[entry[0]] = response.fields().get(entry[0], "")
    return {"params": params, "coeffs": parse_pulled(link.command("coeffs").body)}


def restore_config(link: Link, before: dict) -> None:
    """Put the running config back as record_config found it; also after an error or
    Ctrl-C (a second Ctrl-C here stops the restore). A parameter another one bounds
    (p_min_* below p_max_*, ...) may be refused until that one is back: refused ones
    are retried while each pass restores something. Raises CopflowError naming what
    could not be restored."""
    from host_tools.coeffs_file import as_sent, parse_pulled, push

    try:
        link.request("hil off")
        now = record_config(link)
        todo = {k: v for k, v in before["params"].items()
                if now["params"].get(k) != v and k != "hil"}
        failed: dict[str, str] = {}
        while todo:
            failed = {}
            for name, value in todo.items():
                response = link.request(f"set {name} {value}")
                if not response.ok:
                    failed[name] = f"{response.code} {response.body}"
            if len(failed) == len(todo):
                break
            todo = {k: before["params"][k] for k in failed}
        if now["coeffs"] != before["coeffs"]:
            preset = _preset_named(before["coeffs"].get("name", ""))
            if preset is not None and as_sent(preset) == before["coeffs"]:
                link.command(f"coeffs preset {before['coeffs']['name']}")
            else:
                push(link, before["coeffs"], "restored")
        if before["params"].get("hil") and now["params"].get("hil") != before["params"]["hil"]:
            link.command(f"set hil {before['params']['hil']}")
        if failed:
            raise CopflowError("the board's running config is not fully restored: "
                               + "; ".join(f"{k}: {v}" for k, v in failed.items()))
        if parse_pulled(link.command("coeffs").body) != before["coeffs"]:
            raise CopflowError("the board's coefficient set is not restored")
    except KeyboardInterrupt:
        raise CopflowError("interrupted while restoring the board's running config: "
                           "check it (copflow param list) or reboot it") from None


def _preset_named(name: str) -> dict | None:
    import_firmware()
    from core import presets

    try:
        return presets.preset(name)
    except (KeyError, ValueError):
        return None


def run_on_port(port: str, scenario_name: str, coeffs_path: Path | None, timeout_s: float,
                 label: str | None = None, realtime: bool = False):
    """A scenario in lockstep (or real time) against the board on `port`, with a
    progress bar: (scenario, result, timing, plant point, coeffs). copflow hil, demo."""
    from host_tools.coeffs_file import load_file
    from host_tools.progress import Progress

    scenario = load_scenario(scenario_name)
    coeffs = load_file(coeffs_path) if coeffs_path else None
    steps = int(scenario.hours * 3600 / scenario.dt_s)
    with Link(port, timeout_s=timeout_s) as link, \
            Progress(steps, label or f"hil {scenario.name}") as bar:
        result, timing, pp = run(link, scenario, coeffs,
                                 progress=lambda done, total: bar.update(done),
                                 realtime=realtime)
    return scenario, result, timing, pp, coeffs
