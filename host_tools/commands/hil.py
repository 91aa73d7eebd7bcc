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
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, help="write a CSV time series and PNG plots here")
    add_port_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_output_dir(args.out)
    if args.coeffs:
        load_file(args.coeffs)  # a bad file is named before a board starts
    with board_port(args) as port:
        scenario, result, timing, pp, coeffs = run_on_port(port, args.scenario, args.coeffs,
                                                            max(args.timeout, 5.0),
                                                            realtime=args.realtime)
    summary = {**result.summary(), **timing, "scenario": scenario.name,
               "kwh_saved_vs_constant": kwh_saved(result)}
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
    print(f"  {timing['ticks']} ticks, {timing['ticks_per_s']:.0f} ticks/s, "
          f"round trip median {timing.get('round_trip_ms_p50', 0):.1f} ms, "
          f"p99 {timing.get('round_trip_ms_p99', 0):.1f} ms, "
          f"max {timing['max_round_trip_ms']:.1f} ms")
    return 0
