"""`copflow faults`: the fault matrix (host_tools.faults) against the firmware core, in lockstep."""

import argparse
import json

from host_tools.errors import CopflowError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cases", nargs="*", help="run only these cases (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from host_tools import faults

    try:
        outcomes = faults.run_matrix(names=args.cases or None)
    except KeyError as exc:
        raise CopflowError(exc.args[0]) from None
    wrong = faults.problems(outcomes)
    if args.json:
        print(json.dumps({"dt_s": faults.DT_S, "cases": [o.row() for o in outcomes],
                          "problems": wrong}, indent=2))
    else:
        print(f"fault matrix: the firmware core against the plant, lockstep, "
              f"{faults.DT_S:g} s ticks, default configuration\n")
        print(faults.table(outcomes))
        for line in wrong:
            print(f"PROBLEM: {line}")
    return 1 if wrong else 0
