"""`copflow presets`: the shipped coefficient sets, their optima and validation results."""

import argparse
import json

from host_tools.paths import import_firmware


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")

def describe() -> list[dict]:
    import_firmware()
    from core import coeffs, config, presets

    params = config.default_params()
    limits = config.limits(params)
    rows = []
    for name in presets.PRESETS:
        data = presets.preset(name)
        for season in coeffs.SEASON_NAMES:
            model = coeffs.parse_season(season, data[season])
            p_min, p_max = limits[season]
            lo, hi = model.effective_range(p_min, p_max)
            t = model.t_ref
            p_opt = model.optimum(t, lo, hi) if lo < hi else None
            try:
                coeffs.validate_season(season, model, p_min, p_max,
                                       params["cop_min"], params["cop_max"])
                error = None
            except coeffs.CoeffError as exc:
                error = str(exc)
            rows.append({
                "preset": name,
                "season": season,
                "t_ref": t,
                "optimum_percent": p_opt,
                "cop_at_optimum": model.cop(p_opt, t) if p_opt is not None else None,
                "valid": error is None,
                "error": error,
                "note": data.get("note", ""),
                "default": name == presets.DEFAULT,
            })
    return rows

def run(args: argparse.Namespace) -> int:
    rows = describe()
    if args.json:
        print(json.dumps({"presets": rows}, indent=2))
        return 0
    print(f"{'preset':<20} {'season':<8} {'t_ref':>6} {'P* %':>7} {'COP*':>6}  result")
    for r in rows:
        p = f"{r['optimum_percent']:.1f}" if r["optimum_percent"] is not None else "-"
        cop = f"{r['cop_at_optimum']:.2f}" if r["cop_at_optimum"] is not None else "-"
        name = r["preset"] + (" *" if r["default"] else "")
        result = "valid" if r["valid"] else "REJECTED " + r["error"].split(": ", 1)[1]
        print(f"{name:<20} {r['season']:<8} {r['t_ref']:>6.1f} {p:>7} {cop:>6}  {result}")
    print("* default. P* and COP* over the set's range cut by the default allowed range.")
    return 0
