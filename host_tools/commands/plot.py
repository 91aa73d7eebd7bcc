"""`copflow plot run.csv [-o run.png]`: draw a telemetry log written by `copflow log`."""

import argparse
import csv
import math
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.outputs import check_output_file, read_error

NEEDED = ("t_s", "state", "alarms", "flow_pct", "flow_sp_pct", "p_opt_pct", "output_pct",
          "t_in_c", "cop_model", "cop_meas")
TEXT = ("state", "alarms", "mode", "season", "time_utc")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", type=Path, help="a telemetry log (copflow log)")
    parser.add_argument("-o", "--output", type=Path, help="PNG to write (default: CSV.png)")


def read_log(path: Path) -> dict[str, list]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in NEEDED if c not in (reader.fieldnames or [])]
            if missing:
                raise CopflowError(f"{path}: not a copflow log (no column(s) "
                                   f"{', '.join(missing)}; write one with copflow log)")
            rows: dict[str, list] = {c: [] for c in NEEDED}
            for row in reader:
                for c in NEEDED:
                    cell = (row.get(c) or "").strip()
                    if c in TEXT:
                        rows[c].append(cell)
                        continue
                    try:
                        rows[c].append(float(cell) if cell else math.nan)
                    except ValueError:
                        raise CopflowError(f"{path}: row {reader.line_num}, column {c}: "
                                           f"{cell!r} is not a number") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise read_error(path, exc) from None
    if not rows["t_s"]:
        raise CopflowError(f"{path}: no rows to plot")
    return rows


def run(args: argparse.Namespace) -> int:
    output = args.output or args.csv.with_suffix(".png")
    check_output_file(output)
    rows = read_log(args.csv)
    from host_tools import plots

    plots.telemetry(rows, output, f"{args.csv.name}: {len(rows['t_s'])} rows, "
                                  f"{rows['t_s'][-1] - rows['t_s'][0]:.0f} s")
    print(f"wrote {output}")
    return 0
