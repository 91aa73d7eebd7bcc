"""Paper vs plant: `python -m host_tools.plant.report [--plant FILE ...] [--markdown]`.

For each plant file (default: the built-in defaults and host_tools/data/plant-vfd.toml)
and each season at the paper's bench temperature: the true optimum, COP_s there,
COP_s over the paper's tested flow range, and two figures the paper measured that
the calibration did not target (loop water temperature difference, unit input).
Every number in docs/paper-reproduction.md comes from this script.
"""

import argparse
from pathlib import Path

import numpy as np

from host_tools.paths import DATA_DIR, PROJECT_ROOT
from host_tools.plant import params
from host_tools.plant.plant import Plant

# The paper's measured figures (section 3; see docs/paper-reproduction.md).
PAPER = {
    "cooling": {"optimum_pct": 91.6, "cop": 3.45, "range_pct": (80.0, 100.0),
                "cop_range": (2.5, 3.45), "dt_k": 4.8, "t_c": 27.6},
    "heating": {"optimum_pct": 54.5, "cop": 3.01, "range_pct": (40.0, 62.0),
                "cop_range": (1.75, 3.01), "dt_k": 3.6, "t_c": 11.5},
}


def rows(plant_files: list[Path | None]) -> list[dict]:
    out = []
    for path in plant_files:
        pp = params.load(path)
        for season, paper in PAPER.items():
            plant = Plant(pp, season)
            t = plant.bench_t_river_c
            best = plant.optimum(t)
            lo, hi = paper["range_pct"]
            grid = np.arange(lo, hi + 1e-9, 0.5)
            cols = plant.steady_columns(grid / 100.0 * plant.design_flow_m3h, t)
            ok = cols["trip"] == 0
            design = plant.steady_state_at_flow_percent(100.0, t)
            out.append({
                "plant": _shown(path),
                "actuator": pp.actuator.kind,
                "season": season,
                "t_river_c": t,
                "optimum_pct": best.flow_percent,
                "cop_at_optimum": best.cop_s,
                "w_hp_at_optimum": best.w_hp_kw,
                "w_pump_at_optimum": best.w_pump_kw,
                "pump_share_at_optimum": best.w_pump_kw / (best.w_pump_kw + best.w_hp_kw),
                "cop_min_in_range": float(np.min(cols["cop"][ok])) if ok.any() else float("nan"),
                "cop_max_in_range": float(np.max(cols["cop"][ok])) if ok.any() else float("nan"),
                "tripped_in_range": int((~ok).sum()),
                "dt_at_design_k": abs(design.t_out_c - design.t_in_c),
                "w_hp_at_design_kw": design.w_hp_kw,
                "max_flow_pct": plant.max_flow_percent(),
            })
    return out


def _shown(path: Path | None) -> str:
    if path is None:
        return "defaults"
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def print_markdown(table: list[dict]) -> None:
    print("| plant | season | optimum % (paper) | COP_s at optimum (paper) "
          "| COP_s over paper's range (paper) | loop ΔT at 100 % (paper) | W_HP at 100 % "
          "| pump share at optimum |")
    print("|---|---|---|---|---|---|---|---|")
    for r in table:
        p = PAPER[r["season"]]
        lo, hi = p["range_pct"]
        print(f"| {r['actuator']} | {r['season']} {r['t_river_c']:g} °C "
              f"| {r['optimum_pct']:.1f} ({p['optimum_pct']}) "
              f"| {r['cop_at_optimum']:.3f} ({p['cop']}) "
              f"| {r['cop_min_in_range']:.3f}–{r['cop_max_in_range']:.3f} over {lo:g}–{hi:g} % "
              f"({p['cop_range'][0]}–{p['cop_range'][1]}) "
              f"| {r['dt_at_design_k']:.2f} K ({p['dt_k']} K) "
              f"| {r['w_hp_at_design_kw'] * 1000:.0f} W "
              f"| {r['pump_share_at_optimum'] * 100:.0f} % |")


def print_optima(files: list[Path | None], temps: list[float]) -> None:
    print("| plant | season | river °C | optimum % | COP_s there | COP_s at 100 % "
          "| trip at optimum |")
    print("|---|---|---|---|---|---|---|")
    for path in files:
        pp = params.load(path)
        for season in PAPER:
            plant = Plant(pp, season)
            for t in temps:
                best = plant.optimum(t)
                full = plant.steady_state_at_flow_percent(100.0, t)
                print(f"| {pp.actuator.kind} | {season} | {t:g} | {best.flow_percent:.1f} "
                      f"| {best.cop_s:.3f} | {full.cop_s:.3f} | {best.trip or '-'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host_tools.plant.report",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--plant", type=Path, nargs="*",
                        help="plant files (default: defaults and data/plant-vfd.toml)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--optimum-at", type=float, nargs="+", metavar="T",
                        help="instead: the true optimum at these river temperatures")
    args = parser.parse_args(argv)
    files: list[Path | None] = list(args.plant) if args.plant else [
        None, DATA_DIR / "plant-vfd.toml"]
    if args.optimum_at:
        print_optima(files, args.optimum_at)
        return 0
    table = rows(files)
    if args.markdown:
        print_markdown(table)
    else:
        for r in table:
            print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in r.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
