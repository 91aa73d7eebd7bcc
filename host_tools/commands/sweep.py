"""`copflow sweep`: the paper's experiment on the simulated bench (steady state over flows)."""

import argparse
import csv
import os
from pathlib import Path

import numpy as np

from host_tools.errors import CopflowError

COLUMNS = ("season", "t_river_c", "flow_percent", "flow_m3h", "t_in_c", "t_out_c", "q_kw",
           "w_hp_kw", "w_pump_kw", "head_m", "pump_eff", "cop_s", "trip")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--season", required=True,
                        choices=("cooling", "heating", "summer", "winter"))
    parser.add_argument("--plant", type=Path, help="plant parameters (TOML)")
    parser.add_argument("--temps", type=float, nargs="+",
                        help="river temperatures, degC (default: the season's bench value)")
    parser.add_argument("--flows", default="30:130:2",
                        help="flow grid START:STOP:STEP in %% of design (default 30:130:2)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write")


def parse_grid(text: str) -> np.ndarray:
    try:
        start, stop, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise CopflowError(f"--flows {text!r}: expected START:STOP:STEP, e.g. 30:130:2") from None
    if not (0 < start < stop and step > 0):
        raise CopflowError(f"--flows {text!r}: need 0 < START < STOP and STEP > 0")
    if (stop - start) / step > 100000:
        raise CopflowError(f"--flows {text!r}: more than 100,000 points")
    return np.arange(start, stop + step / 2, step)


def sweep_rows(plant, season: str, temps, flows):
    max_pct = plant.max_flow_percent()
    for t in temps:
        for p in flows:
            if p > max_pct:
                continue  # the valve cannot open further than fully open
            op = plant.steady_state_at_flow_percent(float(p), float(t))
            yield (season, f"{t:g}", f"{op.flow_percent:.3f}", f"{op.flow_m3h:.5f}",
                   f"{op.t_in_c:.4f}", f"{op.t_out_c:.4f}", f"{op.q_kw:.5f}",
                   f"{op.w_hp_kw:.5f}", f"{op.w_pump_kw:.5f}", f"{op.head_m:.4f}",
                   f"{op.pump_eff:.5f}", f"{op.cop_s:.5f}", op.trip or "")


def run(args: argparse.Namespace) -> int:
    from host_tools.plant import params
    from host_tools.plant.plant import Plant
    from host_tools.sim import SEASON_ALIASES

    season = SEASON_ALIASES[args.season]
    pp = params.load(args.plant)
    plant = Plant(pp, season)
    flows = parse_grid(args.flows)
    temps = args.temps or [plant.bench_t_river_c]
    for t in temps:
        if not 0.5 <= t <= 40.0:
            raise CopflowError(f"--temps: {t:g} degC is outside 0.5..40 degC")
    rows = list(sweep_rows(plant, season, temps, flows))
    if not rows:
        raise CopflowError(f"no flow in the grid is reachable "
                           f"(max {plant.max_flow_percent():.1f} %)")
    tmp = args.output.with_name(args.output.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(rows)
    os.replace(tmp, args.output)
    tripped = sum(1 for r in rows if r[-1])
    print(f"wrote {len(rows)} points ({tripped} tripped) to {args.output}")
    return 0
