"""`copflow sim`: the firmware core (CPython) against the plant simulator, in closed loop."""

import argparse
import json
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.outputs import check_output_dir, write_outputs
from host_tools.progress import Progress
from host_tools.seasons import SEASON_ALIASES
from host_tools.sim import kwh_saved


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--season", choices=("cooling", "heating", "summer", "winter"),
                        help="required unless --scenario is given")
    parser.add_argument("--scenario",
                        help="run a HIL scenario (name or .toml) in software instead: its "
                             "season, length, step, river and events (docs/hil.md)")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated time (default 24)")
    parser.add_argument("--plant", type=Path, help="plant parameters (TOML), overriding defaults")
    parser.add_argument("--optimiser", choices=("online", "model"), default="online",
                        help="the firmware's optimiser parameter: online (default: corrected "
                             "by measured COP_s, docs/optimiser.md) or model (the model's "
                             "optimum)")
    parser.add_argument("--controller", choices=("firmware", "model", "constant"),
                        default="firmware",
                        help="firmware: the firmware core with --optimiser (default); model: "
                             "the same as --optimiser model; constant: 100 %% design flow")
    parser.add_argument("--coeffs", type=Path, help="coefficient file (default: firmware default)")
    parser.add_argument("--dt", type=float, default=1.0, help="step, s (default 1)")
    parser.add_argument("--river", type=Path, help="river temperature CSV (time_s,t_river_c)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, help="write a CSV time series and PNG plots here")


def load_coeffs(path: Path) -> dict:
    from host_tools.coeffs_file import load_file

    return load_file(path)


def run(args: argparse.Namespace) -> int:
    from host_tools import sim
    from host_tools.plant import params, river
    from host_tools.plant.plant import Plant

    if args.out:
        check_output_dir(args.out)
    coeffs = load_coeffs(args.coeffs) if args.coeffs else None
    if args.scenario:
        return run_scenario(args, coeffs)
    if args.season is None:
        raise CopflowError("give --season (or --scenario)")
    if not 0 < args.hours <= 24 * 366:
        raise CopflowError("--hours must be in (0, 8784]")
    if not 0.05 <= args.dt <= 600:
        raise CopflowError("--dt must be in 0.05..600 s")
    pp = params.load(args.plant)
    season = SEASON_ALIASES[args.season]
    profile = river.Series(args.river) if args.river else None
    controllers = [_controller(args)]
    if controllers[0] == "online":
        # The same optimiser pinned to the plant's true optimum: what its own dither
        # costs (issue 12's goal, docs/optimiser.md).
        controllers.append("excitation")
    results = []
    for controller in controllers:
        with Progress(int(args.hours * 3600 / args.dt), f"sim {season} {controller}") as bar:
            results.append(sim.run_season(lambda s: Plant(pp, s), season, args.hours, args.dt,
                                          controller, coeffs, profile,
                                          progress=lambda done, total: bar.update(done)))
    extra = ({"excitation_cost": 1.0 - results[1].ratio_to_oracle} if len(results) > 1
             else None)
    report(args, results[0], pp, season, coeffs, f"{season}, {args.hours:g} h, "
           f"controller {_controller(args)}:", extra)
    return 0


def run_scenario(args: argparse.Namespace, coeffs: dict | None) -> int:
    from host_tools import scenario as scenario_mod
    from host_tools import sim

    scenario = scenario_mod.load_scenario(args.scenario)
    driver = (sim.ConstantDriver() if args.controller == "constant"
              else sim.CoreDriver(coeffs, optimiser=_controller(args)))
    with Progress(int(scenario.hours * 3600 / scenario.dt_s), f"sim {scenario.name}") as bar:
        result, pp = sim.run_scenario(scenario, driver,
                                      progress=lambda done, total: bar.update(done))
    report(args, result, pp, scenario.season, coeffs,
           f"{scenario.name}: {scenario.hours:g} h at {scenario.dt_s:g} s steps, "
           f"controller {_controller(args)}:", {"scenario": scenario.name})
    return 0


def _controller(args) -> str:
    """The run's controller name: constant, or the firmware's optimiser setting."""
    return args.controller if args.controller != "firmware" else args.optimiser


def report(args, result, pp, season: str, coeffs, title: str, extra: dict | None = None):
    summary = {**result.summary(), "kwh_saved_vs_constant": kwh_saved(result),
               **(extra or {})}
    if args.out:
        write_outputs(args.out, result, pp, season, coeffs)
        summary["out"] = str(args.out)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(title)
        print(f"  COP_s            {result.cop_s:.3f}")
        print(f"  oracle COP_s     {result.oracle_cop_s:.3f}  (ratio {result.ratio_to_oracle:.4f})")
        print(f"  constant 100 %   {result.baseline_cop_s:.3f}")
        print(f"  final flow       {result.flow_percent_final:.1f} % "
              f"(plant optimum {result.optimal_percent_true:.1f} %)")
        print(f"  energy           {result.heat_kwh:.2f} kWh out, "
              f"{result.electric_kwh:.2f} kWh in")
        print(f"  saved            {kwh_saved(result):.3f} kWh of electricity against "
              f"constant 100 % flow ({_percent(kwh_saved(result), result)})")
        if "excitation_cost" in summary:
            print(f"  excitation cost  {100.0 * summary['excitation_cost']:.3f} % (the same "
                  f"optimiser pinned to the plant's optimum)")
        if result.alarms_seen:
            print(f"  alarms seen      {' '.join(result.alarms_seen)}")


def _percent(saved: float, result) -> str:
    base = result.heat_kwh / result.baseline_cop_s if result.baseline_cop_s > 0 else 0.0
    return f"{100.0 * saved / base:.1f} %" if base > 0 else "-"
