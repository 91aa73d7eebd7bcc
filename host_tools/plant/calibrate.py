"""Re-run the calibration: `python -m host_tools.plant.calibrate [--plant FILE] [--iters N]`.

Nelder-Mead on sum((d optimum / 1 %)^2 + (d COP_s / 0.05)^2) over both seasons at
the paper's bench temperatures, starting from the plant file's values of the
knobs below. Prints the converged knobs and the optima they give; it does not
write anything (the shipped defaults are these values, rounded: see
docs/paper-reproduction.md).
"""

import argparse
from pathlib import Path

import numpy as np

from host_tools.plant import params
from host_tools.plant.plant import Plant

TARGETS = {"cooling": (91.6, 3.45), "heating": (54.5, 3.01)}
KNOBS = {  # dotted key: initial simplex step
    "pump.b0": 0.01, "pump.b1_per_m3h": 0.03, "pump.b2_per_m3h2": 0.03,
    "unit.carnot_fraction_cooling": 0.02, "unit.carnot_fraction_heating": 0.02,
    "unit.ua_heating_kw_k": 0.2, "coil.length_m": 20.0,
    "unit.t_evap_cooling_c": 2.0, "unit.t_cond_heating_c": 2.0,
}


def _values(base: dict, x: np.ndarray) -> dict:
    values = {sec: dict(items) for sec, items in base.items()}
    for key, v in zip(KNOBS, x, strict=True):
        sec, name = key.split(".")
        values[sec][name] = float(v)
    return values


def optima(values: dict) -> dict:
    pp = params.to_namespace(params.merge(values))
    return {s: Plant(pp, s).optimum(t, 0.2) for s, t in
            (("cooling", pp.river.t_summer_c), ("heating", pp.river.t_winter_c))}


def cost(values: dict) -> float:
    try:
        found = optima(values)
    except params.PlantConfigError:
        return 1e9
    return sum(((found[s].flow_percent - p) / 1.0) ** 2 + ((found[s].cop_s - c) / 0.05) ** 2
               for s, (p, c) in TARGETS.items())


def nelder_mead(f, x0: np.ndarray, steps: list[float], iters: int) -> np.ndarray:
    pts = [x0] + [x0 + np.eye(len(x0))[i] * steps[i] for i in range(len(x0))]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = np.argsort(vals)
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        if vals[0] < 0.05:
            break
        centre = np.mean(pts[:-1], axis=0)
        xr = centre + (centre - pts[-1])
        fr = f(xr)
        if fr < vals[0]:
            xe = centre + 2.0 * (centre - pts[-1])
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = centre + 0.5 * (pts[-1] - centre)
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:  # shrink toward the best point
                pts = [pts[0]] + [pts[0] + 0.5 * (p - pts[0]) for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    return pts[int(np.argmin(vals))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host_tools.plant.calibrate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--plant", type=Path, help="start from this plant file")
    parser.add_argument("--iters", type=int, default=400)
    args = parser.parse_args(argv)
    pp = params.load(args.plant)
    base = {sec: dict(vars(getattr(pp, sec))) for sec in params.SCHEMA}
    x0 = np.array([base[k.split(".")[0]][k.split(".")[1]] for k in KNOBS], dtype=float)
    best = nelder_mead(lambda x: cost(_values(base, x)), x0, list(KNOBS.values()), args.iters)
    for key, v in zip(KNOBS, best, strict=True):
        print(f"{key} = {v:.4g}")
    for season, op in optima(_values(base, best)).items():
        print(f"{season}: optimum {op.flow_percent:.1f} %, COP_s {op.cop_s:.3f} "
              f"(paper {TARGETS[season][0]} %, {TARGETS[season][1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
