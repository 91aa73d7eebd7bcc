"""`copflow fit`: fit COP_s(P, t) and the component curves from a sweep or bench CSV."""

import argparse
import json
import math
import os
from pathlib import Path

from host_tools.coeffs_file import round6
from host_tools.errors import CopflowError
from host_tools.fitting import (
    coefficient_set,
    confounded_r2,
    fit_components,
    fit_cop,
    read_csv,
    require,
)
from host_tools.outputs import check_output_file
from host_tools.paths import import_firmware
from host_tools.seasons import SEASON_ALIASES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", type=Path, help="data: columns flow_percent, t_in_c, cop_s, ...")
    parser.add_argument("--season", required=True, choices=tuple(SEASON_ALIASES))
    parser.add_argument("--form", choices=("paper", "general"), default="paper")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-o", "--output", type=Path, help="write a coefficient file (JSON)")
    parser.add_argument("--temp-column", default=None, choices=("t_in_c", "t_river_c"),
                        help="temperature the model uses (default: t_river_c when the CSV "
                             "has it, the source temperature, which flow does not move; "
                             "else t_in_c, as the paper, if it does not move with flow)")
    parser.add_argument("--force", action="store_true",
                        help="write the file even if the set fails validation")


def validate(season: str, entry: dict) -> tuple[bool, str | None, float | None, float | None]:
    """The firmware's own verdict on a season entry, and the optimum at t_ref.

    Uses the firmware's default allowed flow range and COP_s plausibility bounds
    (config.default_params()); the optimum is over the fitted range cut by that range.
    """
    import_firmware()
    from core import coeffs, config

    params = config.default_params()
    p_min, p_max = params[f"p_min_{season}"], params[f"p_max_{season}"]
    try:
        model = coeffs.parse_season(season, entry)
    except coeffs.CoeffError as exc:
        return False, str(exc), None, None
    lo, hi = model.effective_range(p_min, p_max)
    p_opt = cop_opt = None
    if lo < hi:
        p_opt = model.optimum(model.t_ref, lo, hi)
        cop_opt = model.cop(p_opt, model.t_ref)
    try:
        coeffs.validate_season(season, model, p_min, p_max, params["cop_min"], params["cop_max"])
    except coeffs.CoeffError as exc:
        return False, str(exc), p_opt, cop_opt
    return True, None, p_opt, cop_opt


def write_file(path: Path, season: str, entry: dict, source: str) -> None:
    """Write (atomically) a copflow-coeffs/1 file, keeping the other season of an existing one."""
    doc: dict = {"format": "copflow-coeffs/1", "name": path.stem, "source": source}
    if path.is_dir():
        raise CopflowError(f"not writing {path}: it is a directory")
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            old = None
        if not isinstance(old, dict) or old.get("format") != "copflow-coeffs/1":
            raise CopflowError(f"not writing {path}: it exists and is not a copflow-coeffs/1 "
                               f"file (remove it or choose another name)")
        doc.update({k: v for k, v in old.items() if k in ("cooling", "heating") and k != season})
    doc[season] = entry
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CopflowError(f"cannot write {path}: {exc.strerror}") from None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def temp_column(data: dict, path: Path, given: str | None) -> str:
    """The temperature the model regresses on: the one given, else t_river_c when the
    data has it, else t_in_c unless it moves with flow (then a refusal naming the fix:
    with t_in_c the c/t term would absorb the flow effect and misplace the optimum)."""
    if given:
        return given
    if "t_river_c" in data:
        return "t_river_c"
    require(data, path, "flow_percent", "t_in_c", "cop_s")
    confounded = confounded_r2(data["t_in_c"], data["flow_percent"])
    if confounded is not None:
        raise CopflowError(
            f"{path}: t_in_c moves with flow (1/t explained by flow to R^2 {confounded:.3f}), "
            f"so a fit on it misplaces the optimum; add the source (river) temperature as a "
            f"column t_river_c, or pass --temp-column t_in_c to fit on it anyway")
    return "t_in_c"


def round_entry(entry: dict) -> dict:
    """The entry with the 6 significant digits the board keeps and reports, so the file,
    what `coeffs push` sends and what `coeffs pull` returns are the same numbers."""
    return {k: ([round6(x) for x in v] if isinstance(v, list) else round6(v))
            for k, v in entry.items()}


def run(args: argparse.Namespace) -> int:
    season = SEASON_ALIASES[args.season]
    if args.output:
        check_output_file(args.output)
    data, skipped = read_csv(args.csv, season)
    column = temp_column(data, args.csv, args.temp_column)
    require(data, args.csv, "flow_percent", column, "cop_s")
    fit = fit_cop(data, args.form, column)
    entry = round_entry(coefficient_set(fit, data, column))
    valid, error, p_opt, cop_opt = validate(season, entry)
    components, component_notes = fit_components(data)
    notes = fit.notes + component_notes
    if args.output:
        if not valid and not args.force:
            raise CopflowError(f"not writing {args.output}: {error} (--force to write anyway)")
        write_file(args.output, season, entry, f"copflow fit {args.csv.name} --form {args.form}")
    result = {
        "season": season, "form": args.form, "n": fit.n, "skipped_tripped": skipped,
        "coefficients": {"a": entry["a"], "b": entry["b"], "c": entry["c"]},
        "r2": fit.r2, "rmse": fit.rmse, "optimum_percent": _finite(p_opt),
        "cop_at_optimum": _finite(cop_opt), "t_ref": entry["t_ref"], "valid": valid,
        "validity_error": error, "notes": notes,
        "components": {k: {"coefficients": v.coefficients, "r2": v.r2, "n": v.n}
                       for k, v in components.items()},
        "output_file": str(args.output) if args.output else None,
        "temp_column": column,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    t = data[column]
    t_text = f"{t.min():g}" if t.min() == t.max() else f"{t.min():g}..{t.max():g}"
    print(f"{season}, {args.form} form, {fit.n} points ({skipped} tripped skipped), "
          f"{column} {t_text} degC, P {entry['p_lo']:g}..{entry['p_hi']:g} %")
    order = ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "c"]
    for k in sorted(fit.coefficients, key=order.index):
        print(f"  {k:<3} = {fit.coefficients[k]: .6g}")
    if "c" not in fit.coefficients:
        print("  c   =  0 (not identifiable from one temperature: see note)")
    print(f"  R^2 = {fit.r2:.4f}, RMSE = {fit.rmse:.4g}")
    if p_opt is None or cop_opt is None:
        print("  optimum: none (the fitted flow range misses the allowed range)")
    else:
        print(f"  optimum at t_ref {entry['t_ref']:.2f} degC: P* = {p_opt:.1f} %, "
              f"COP_s = {cop_opt:.3f}")
    print(f"  validation: {'valid' if valid else error}")
    for note in notes:
        print(f"  note: {note}")
    for name, comp in components.items():
        terms = ", ".join(f"{k}={v:.4g}" for k, v in comp.coefficients.items())
        print(f"  {name}: {terms} (R^2 {comp.r2:.4f}, n {comp.n})")
    if args.output:
        print(f"wrote {args.output}")
    return 0
