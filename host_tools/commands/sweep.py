"""`copflow sweep`: the paper's experiment on the simulated bench, steady state over a flow grid.

Writes one CSV row per (river temperature, flow) with the columns of COLUMNS.
Flows the actuator cannot reach (beyond a fully open valve or full VFD speed,
below the VFD's minimum speed) are left out, as on a real bench; tripped points
stay in, with the trip named.
"""

import argparse
import csv
import os
from pathlib import Path

import numpy as np

from host_tools.errors import CopflowError

COLUMNS = ("season", "t_river_c", "flow_percent", "flow_m3h", "t_in_c", "t_out_c", "q_kw",
           "w_hp_kw", "w_pump_kw", "head_m", "pump_eff", "cop_s", "trip")
T_RANGE_C = (0.5, 40.0)
MAX_POINTS = 200_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plant", type=Path, metavar="FILE",
                        help="plant parameters (TOML) overriding the defaults")
    parser.add_argument("--season", required=True,
                        choices=("cooling", "heating", "summer", "winter"))
    parser.add_argument("--temps", type=float, nargs="+", metavar="T",
                        help="river temperatures, degC (default: the season's bench value)")
    parser.add_argument("--flows", default="30:130:2", metavar="START:STOP:STEP",
                        help="flow grid in %% of design flow, STOP included (default 30:130:2)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="CSV",
                        help="CSV file to write")


def parse_grid(text: str) -> np.ndarray:
    try:
        start, stop, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise CopflowError(f"--flows {text!r}: expected START:STOP:STEP, e.g. 30:130:2") from None
    if not all(np.isfinite((start, stop, step))) or not (0 < start <= stop and step > 0):
        raise CopflowError(f"--flows {text!r}: need 0 < START <= STOP and STEP > 0")
    if (stop - start) / step > MAX_POINTS:
        raise CopflowError(f"--flows {text!r}: more than {MAX_POINTS} points")
    n = int(np.floor((stop - start) / step + 1e-9)) + 1
    return start + step * np.arange(n)


def sweep_rows(plant, temps, flows_pct: np.ndarray) -> list[tuple]:
    lo, hi = plant.min_flow_percent(), plant.max_flow_percent()
    reachable = flows_pct[(flows_pct >= lo - 1e-9) & (flows_pct <= hi + 1e-9)]
    rows = []
    for t in temps:
        cols = plant.steady_columns(reachable / 100.0 * plant.design_flow_m3h, float(t))
        for i in range(len(reachable)):
            trip = int(cols["trip"][i])
            rows.append((plant.season, f"{t:g}", f"{cols['pct'][i]:.3f}",
                         f"{cols['flow'][i]:.5f}", f"{cols['t_in'][i]:.4f}",
                         f"{cols['t_out'][i]:.4f}", f"{cols['q'][i]:.5f}",
                         f"{cols['w_hp'][i]:.5f}", f"{cols['w_pump'][i]:.5f}",
                         f"{cols['head'][i]:.4f}", f"{cols['eff'][i]:.5f}",
                         f"{cols['cop'][i]:.5f}", _trip_name(trip)))
    return rows


def _trip_name(code: int) -> str:
    from host_tools.plant.unit import TRIP_NAMES

    return TRIP_NAMES[code] or ""


def run(args: argparse.Namespace) -> int:
    from host_tools.plant import params
    from host_tools.plant.plant import Plant
    from host_tools.seasons import SEASON_ALIASES

    plant = Plant(params.load(args.plant), SEASON_ALIASES[args.season])
    flows = parse_grid(args.flows)
    temps = args.temps or [plant.bench_t_river_c]
    for t in temps:
        if not T_RANGE_C[0] <= t <= T_RANGE_C[1]:
            raise CopflowError(f"--temps: {t:g} degC is outside {T_RANGE_C[0]:g}..{T_RANGE_C[1]:g}")
    rows = sweep_rows(plant, temps, flows)
    if not rows:
        raise CopflowError(f"--flows {args.flows}: no flow in the grid is reachable "
                           f"({plant.min_flow_percent():.1f}..{plant.max_flow_percent():.1f} %)")
    tmp = args.output.with_name(args.output.name + ".tmp")
    try:
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            w.writerows(rows)
        os.replace(tmp, args.output)
    except OSError as exc:
        raise CopflowError(f"{args.output}: cannot write ({exc.strerror})") from None
    tripped = sum(1 for r in rows if r[-1])
    skipped = len(flows) * len(temps) - len(rows)
    note = f", {skipped} beyond the actuator's reach left out" if skipped else ""
    print(f"wrote {len(rows)} points ({tripped} tripped{note}) to {args.output}")
    return 0
