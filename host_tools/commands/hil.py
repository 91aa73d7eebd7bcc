"""`copflow hil`: the plant simulator drives a board, in lockstep or in real time."""

import argparse
import json
from pathlib import Path

from host_tools.coeffs_file import load_file
from host_tools.commands._port import add_port_arguments, board_port
from host_tools.hil import run_on_port
from host_tools.outputs import check_output_dir, write_outputs
from host_tools.sim import kwh_saved


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True,
                        help="a shipped scenario (paper-summer, paper-winter) or a .toml file")
    parser.add_argument("--coeffs", type=Path, help="coefficient file to load on the board")
    parser.add_argument("--realtime", action="store_true",
                        help="run on the board's own clock, streaming measurements: the "
                             "scenario takes its full length in wall-clock time")
    parser.add_argument("--profile",
                        help="with --virtual: pin-level HIL on this board profile's twin, the "
                             "drivers in the loop (docs/hil.md#pin-level)")
    parser.add_argument("--hw", type=Path,
                        help="with --profile: the board's /hw.json (default: the profile's "
                             "wiring with the unit's run and heating contacts)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, help="write a CSV time series and PNG plots here")
    add_port_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_output_dir(args.out)
    if args.coeffs:
        load_file(args.coeffs)  # a bad file is named before a board starts
    notes = None
    if args.profile or args.hw:
        scenario, result, timing, pp, coeffs, notes = _pins(args)
        port = f"a virtual {args.profile} (pins)"
    else:
        with board_port(args) as port:
            scenario, result, timing, pp, coeffs = run_on_port(port, args.scenario, args.coeffs,
                                                                max(args.timeout, 5.0),
                                                                realtime=args.realtime)
    summary = {**result.summary(), **timing, "scenario": scenario.name,
               "kwh_saved_vs_constant": kwh_saved(result)}
    if notes is not None:
        from host_tools.pinhil import fault_rows

        summary["faults"] = fault_rows(result, scenario, notes)
    if args.out:
        write_outputs(args.out, result, pp, scenario.season, coeffs)
        summary["out"] = str(args.out)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{scenario.name}: {scenario.season}, {scenario.hours:g} h at {scenario.dt_s:g} s steps "
          f"on {port}")
    print(f"  COP_s {result.cop_s:.3f}  oracle {result.oracle_cop_s:.3f} "
          f"(ratio {result.ratio_to_oracle:.4f})  constant 100 % {result.baseline_cop_s:.3f}")
    print(f"  final flow {result.flow_percent_final:.1f} % "
          f"(plant optimum {result.optimal_percent_true:.1f} %)")
    print(f"  saved {kwh_saved(result):.3f} kWh of electricity against constant 100 % flow "
          f"({result.heat_kwh:.2f} kWh of heat)")
    if timing.get("board_cop_meas") is not None:
        print(f"  the board's measured COP_s (its last cop_window_s) "
              f"{timing['board_cop_meas']:.3f}")
    if result.alarms_seen:
        print(f"  alarms seen {' '.join(result.alarms_seen)}")
    if notes is not None:
        _print_faults(summary["faults"])
    print(f"  {timing['ticks']} ticks, {timing['ticks_per_s']:.0f} ticks/s, "
          f"round trip median {timing.get('round_trip_ms_p50', 0):.1f} ms, "
          f"p99 {timing.get('round_trip_ms_p99', 0):.1f} ms, "
          f"max {timing['max_round_trip_ms']:.1f} ms")
    return 0


def _pins(args: argparse.Namespace):
    """Pin-level HIL (host_tools/pinhil.py): a virtual board of its own."""
    from host_tools.errors import CopflowError
    from host_tools.pinhil import run_pins
    from host_tools.progress import Progress
    from host_tools.scenario import load_scenario

    if not args.virtual or not args.profile:
        raise CopflowError("--profile and --hw need --virtual (pin-level HIL runs on the "
                           "profile's twin) and --profile")
    if args.realtime:
        raise CopflowError("--profile runs in lockstep: leave out --realtime")
    if args.flash:
        raise CopflowError("--profile runs on a flash folder of its own: leave out --flash")
    hw = None
    if args.hw:
        import json

        try:
            hw = json.loads(args.hw.read_text())
        except (OSError, ValueError) as exc:
            raise CopflowError(f"{args.hw}: not a readable JSON hw config ({exc})") from None
    scenario = load_scenario(args.scenario)
    steps = int(scenario.hours * 3600 / scenario.dt_s)
    with Progress(steps, f"hil {scenario.name} ({args.profile}, pins)") as bar:
        return run_pins(args.profile, args.scenario, args.coeffs, hw,
                        timeout_s=max(args.timeout, 30.0),
                        progress=lambda done, total: bar.update(done))


def _print_faults(rows: list) -> None:
    for row in rows:
        if not row["applicable"]:
            print(f"  {row['event']}: not on this wiring (no such driver)")
            continue
        alarms = " ".join(row["alarms"]) or "none"
        print(f"  {row['event']}: alarms {alarms} (tick {_n(row['ticks_to_alarm'])}), "
              f"safe on tick {_n(row['ticks_to_safe'])}, recovered "
              f"{_n(row['recovered_after_end_s'])} s after its end")


def _n(value) -> str:
    return "-" if value is None else f"{value:g}"
