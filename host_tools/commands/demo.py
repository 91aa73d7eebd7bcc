"""`copflow demo`: the paper's two bench tests, in lockstep HIL, on a virtual board (or PORT)."""

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

from host_tools.commands._port import check_port
from host_tools.outputs import check_output_dir
from host_tools.plots import PAPER_POINTS

SCENARIOS = ("paper-summer", "paper-winter")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", help="a board to use instead of a virtual one")
    where.add_argument("--virtual", action="store_true",
                       help="run on a virtual board (the default)")
    parser.add_argument("--out", type=Path, default=Path("out/demo"),
                        help="where to write CSVs and plots (default out/demo)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from host_tools.hil import run_on_port
    from host_tools.outputs import write_outputs
    from host_tools.sim import kwh_saved
    from host_tools.vboard import VirtualBoard

    check_output_dir(args.out)
    rows = []
    with contextlib.ExitStack() as stack:
        port = check_port(args.port) if args.port else None
        if port is None:
            flash = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "flash"
            board = stack.enter_context(VirtualBoard(flash, log=sys.stderr).boot(20.0))
            port = board.port
            print(f"virtual board on {port}", file=sys.stderr)
        for name in SCENARIOS:
            scenario, result, timing, pp, _ = run_on_port(port, name, None, 10.0, label=name)
            out = args.out / name
            write_outputs(out, result, pp, scenario.season)
            p_paper, cop_paper = PAPER_POINTS[scenario.season][0]
            rows.append({"scenario": name, "season": scenario.season,
                         "flow_percent": result.flow_percent_final, "cop_s": result.cop_s,
                         "constant_flow_cop_s": result.baseline_cop_s,
                         "plant_optimum_percent": result.optimal_percent_true,
                         "oracle_cop_s": result.oracle_cop_s,
                         "paper_optimum_percent": p_paper, "paper_cop_s": cop_paper,
                         "kwh_saved_vs_constant": kwh_saved(result),
                         "ticks_per_s": timing["ticks_per_s"], "out": str(out)})
    if args.json:
        print(json.dumps({"scenarios": rows}, indent=2))
        return 0
    print()
    print(f"{'scenario':<14} {'flow %':>7} {'COP_s':>7} {'const.':>7} {'optimum %':>10} "
          f"{'oracle':>7} {'paper %':>8} {'paper COP':>9} {'saved kWh':>9}")
    for r in rows:
        print(f"{r['scenario']:<14} {r['flow_percent']:7.1f} {r['cop_s']:7.3f} "
              f"{r['constant_flow_cop_s']:7.3f} {r['plant_optimum_percent']:10.1f} "
              f"{r['oracle_cop_s']:7.3f} {r['paper_optimum_percent']:8.1f} "
              f"{r['paper_cop_s']:9.2f} {r['kwh_saved_vs_constant']:9.3f}")
    print(f"\nflow %: where the firmware settled; const.: constant design flow; optimum: the "
          f"plant's own; saved kWh: electricity saved against constant design flow for "
          f"the same heat; plots and CSVs in {args.out}/")
    return 0
