"""`copflow sweep`: the paper's experiment on the simulated bench, steady state over a flow grid.

Writes one CSV row per (river temperature, flow) with the columns of COLUMNS.
With --refine the grid is a first, coarse pass: around each temperature's best
measured point a second sweep on a fine grid follows, and only that one is written,
so a quadratic fit describes the curve where the optimum is (over the whole
30-130 % range it misplaces the optimum by several points).

Both temperatures are recorded: the river (source) temperature, which the bench
holds, and the unit's inlet temperature, which moves with flow. `copflow fit`
regresses on the river temperature (docs/fitting.md).

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
from host_tools.outputs import check_output_file

COLUMNS = ("season", "t_river_c", "flow_percent", "flow_m3h", "t_in_c", "t_out_c", "q_kw",
           "w_hp_kw", "w_pump_kw", "head_m", "pump_eff", "cop_s", "trip")
T_RANGE_C = (0.5, 40.0)
MAX_POINTS = 200_000
REFINE_HALF_WIDTH_PCT = 6.0  # --refine: the fine grid spans the best coarse point +- this
REFINE_STEP_PCT = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plant", type=Path, metavar="FILE",
                        help="plant parameters (TOML) overriding the defaults")
    parser.add_argument("--season", required=True,
                        choices=("cooling", "heating", "summer", "winter"))
    parser.add_argument("--temps", type=float, nargs="+", metavar="T",
                        help="river temperatures, degC (default: the season's bench value)")
    parser.add_argument("--flows", default="30:130:2", metavar="START:STOP:STEP",
                        help="flow grid in %% of design flow, STOP included (default 30:130:2)")
    parser.add_argument("--refine", action="store_true",
                        help="sweep the grid coarsely, then write a fine grid (0.5 %% steps) "
                             f"within {REFINE_HALF_WIDTH_PCT:g} %% of each temperature's best "
                             "point")
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
    check_output_file(args.output)
    rows = sweep_rows(plant, temps, flows)
    if not rows:
        raise CopflowError(f"--flows {args.flows}: no flow in the grid is reachable "
                           f"({plant.min_flow_percent():.1f}..{plant.max_flow_percent():.1f} %)")
    refined = []
    if args.refine:
        rows, refined = refine(plant, temps, rows, flows)
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
    for t, best, grid in refined:
        print(f"{t:g} degC: best coarse point {best:g} %; fine grid {grid[0]:g}..{grid[-1]:g} % "
              f"in {REFINE_STEP_PCT:g} % steps")
    if not refined:
        skipped = len(flows) * len(temps) - len(rows)
        note = f", {skipped} beyond the actuator's reach left out" if skipped else ""
    else:
        note = ", fine grids only"
    print(f"wrote {len(rows)} points ({tripped} tripped{note}) to {args.output}")
    print(f"next: copflow fit {args.output} --season {args.season} -o coeffs.json "
          f"(it regresses on t_river_c)")
    return 0


def refine(plant, temps, coarse_rows: list[tuple], coarse: np.ndarray):
    """The fine-grid rows around each temperature's best untripped coarse point, and
    (temperature, best %, fine grid) per temperature."""
    rows, refined = [], []
    for t in temps:
        mine = [r for r in coarse_rows if r[1] == f"{t:g}" and not r[-1]]
        if not mine:
            raise CopflowError(f"--refine: every coarse point at {t:g} degC tripped; "
                               f"nothing to refine around")
        best = float(max(mine, key=lambda r: float(r[11]))[2])
        lo = max(float(coarse[0]), best - REFINE_HALF_WIDTH_PCT)
        hi = min(float(coarse[-1]), best + REFINE_HALF_WIDTH_PCT)
        n = int(np.floor((hi - lo) / REFINE_STEP_PCT + 1e-9)) + 1
        grid = lo + REFINE_STEP_PCT * np.arange(n)
        fine = sweep_rows(plant, [t], grid)
        rows += fine
        refined.append((t, best, [float(r[2]) for r in fine] or [lo, hi]))
    return rows, refined
