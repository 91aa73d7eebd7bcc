"""Least-squares fits of the seed paper's forms (numpy only, no printing).

COP_s(P, t): the paper's form (eqs 9-12) a0 + a1 P + a2 P^2 + c/t, or the
general form sum_i (a_i + b_i t) P^i + c/t. Component forms: unit power
W_HP = alpha t + beta L^3 + gamma (eqs 2-3), pump power W = p3 L^3 + p2 L^2 + p0
(eq. 7), pump head H = h0 + h1 L + h2 L^2 (eq. 4), efficiency
eta = e0 + e1 L + e2 L^2 (eq. 5). R^2 = 1 - SS_res / SS_tot, as the paper reports.

`python -m host_tools.fitting --bench 1000000` times parse and fit on a synthetic
sweep CSV; `--bench-csv FILE --rows N` writes that CSV (see docs/fitting.md).
"""

import csv
import io
import math
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from host_tools.errors import CopflowError
from host_tools.outputs import read_error
from host_tools.seasons import SEASON_ALIASES

# The columns a fit may use; they must be numeric. Other columns are ignored
# (read as text), except `season` (rows of the other season are left out) and
# `trip` (rows with a non-empty trip are skipped and counted).
NUMERIC_COLUMNS = ("flow_percent", "t_in_c", "t_river_c", "cop_s", "flow_m3h", "w_hp_kw",
                   "w_pump_kw", "head_m", "pump_eff")
SWEEP_HEADER = ("season,t_river_c,flow_percent,flow_m3h,t_in_c,t_out_c,q_kw,w_hp_kw,w_pump_kw,"
                "head_m,pump_eff,cop_s,trip")
MIN_T_SPAN_K = 2.0  # narrowest t_lo..t_hi a fit writes (coefficient_set)
_TEXT_WIDTH = 16  # season/trip are read as this many characters (trip: only emptiness counts)


@dataclass
class LinearFit:
    names: list[str]
    coefficients: dict[str, float]
    r2: float
    rmse: float
    n: int
    notes: list[str] = field(default_factory=list)


# ---- reading -----------------------------------------------------------------------------

def read_csv(path: Path, season: str | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Numeric columns of a sweep CSV (tripped rows skipped), and how many were skipped.

    `season` (cooling/heating or summer/winter) keeps only that season's rows when the file
    has a `season` column. Every problem is a CopflowError naming the row (as numbered in
    the file, the header being row 1) and the column.
    """
    season = SEASON_ALIASES.get(season, season) if season else None
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = f.readline()
            if not first.strip():
                if f.read(65536).strip():
                    raise CopflowError(f"{path}: row 1 (the header) is empty")
                raise CopflowError(f"{path}: empty file")
            header = [h.strip() for h in next(csv.reader([first.rstrip("\r\n")]))]
            if len(set(header)) != len(header):
                dup = sorted({h for h in header if header.count(h) > 1})
                raise CopflowError(f"{path}: column(s) {', '.join(dup)} appear more than "
                                   f"once in the header")
            result = _read_fast(f, header, season)
            if result is None:
                f.seek(0)
                result = _read_rows(path, f, header, season)
    except (OSError, UnicodeDecodeError) as exc:
        raise read_error(path, exc) from None
    data, skipped, other = result
    if data and not len(next(iter(data.values()))):
        if skipped:
            raise CopflowError(f"{path}: all {skipped} {season or 'data'} rows are tripped "
                               f"(trip column not empty): nothing to fit")
        if other:
            raise CopflowError(f"{path}: no {season} rows ({other} rows of another season)")
        raise CopflowError(f"{path}: no data rows (only a header)")
    return data, skipped


def _used(header: list[str]) -> list[str]:
    return [h for h in header if h in NUMERIC_COLUMNS]


def _read_fast(f: io.TextIOBase, header: list[str], season: str | None):
    """One C-level np.loadtxt over the used columns; None if anything is irregular.

    numpy >= 1.23's loadtxt is a C tokenizer (a million 13-column rows in under 1 s);
    anything it rejects, an unknown season, a blank-looking trip and any non-finite kept
    value are left to `_read_rows`, which finds and names them.
    """
    used = _used(header)
    if not used:
        return None
    wanted = [h for h in header if h in used or h in ("season", "trip")]
    # season and trip as short byte strings: 8 bytes tell the season names (at most 7
    # characters) from anything else; a trip is non-empty iff its first 4 bytes hold
    # something other than blanks (all-blank but non-empty ones go to the row reader).
    text_type = {"season": "S8", "trip": "S4"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data"
            table = np.loadtxt(f, delimiter=",", comments=None, ndmin=1, quotechar='"',
                               usecols=[header.index(h) for h in wanted],
                               dtype=[(h, text_type.get(h, "f8")) for h in wanted])
    except ValueError:
        return None
    keep = np.ones(len(table), dtype=bool)
    other = 0
    if "season" in wanted:
        names = table["season"]
        known = names == b""
        for alias, canonical in SEASON_ALIASES.items():
            match = names == alias.encode()
            known |= match
            if season and canonical != season:
                keep &= ~match
        if not np.all(known):
            return None  # an unknown season (or one with blanks): the row reader decides
        other = int(np.count_nonzero(~keep))
    skipped = 0
    if "trip" in wanted:
        trip = table["trip"]
        tripped = trip != b""
        if np.any(tripped & (np.char.strip(trip) == b"")):
            return None
        skipped = int(np.count_nonzero(keep & tripped))
        keep &= ~tripped
    every = bool(keep.all())
    data = {h: (table[h].copy() if every else table[h][keep]) for h in used}
    if not all(np.isfinite(v).all() for v in data.values()):
        return None
    return data, skipped, other


def _read_rows(path: Path, f: io.TextIOBase, header: list[str], season: str | None):
    """Row by row with the csv module: slow, but names the first bad row and column."""
    reader = csv.reader(f)
    next(reader)
    index = {h: i for i, h in enumerate(header)}
    used = _used(header)
    values: dict[str, list[float]] = {h: [] for h in used}
    skipped = other = 0
    for row in reader:
        row_no = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CopflowError(f"{path}: row {row_no} has {len(row)} fields, the header "
                               f"{len(header)}")
        if "season" in index:
            name = row[index["season"]].strip()
            if name and name not in SEASON_ALIASES:
                raise CopflowError(f"{path}: row {row_no}, column season: {name!r} is not "
                                   f"one of {', '.join(SEASON_ALIASES)}")
            if season and name and SEASON_ALIASES[name] != season:
                other += 1
                continue
        if "trip" in index and row[index["trip"]].strip():
            skipped += 1
            continue
        for h in used:
            cell = row[index[h]].strip()
            try:
                value = float(cell)
            except ValueError:
                raise CopflowError(f"{path}: row {row_no}, column {h}: {cell!r} is not a "
                                   f"number") from None
            if not math.isfinite(value):
                raise CopflowError(f"{path}: row {row_no}, column {h}: {cell!r} is not finite")
            values[h].append(value)
    return {h: np.asarray(v, dtype=float) for h, v in values.items()}, skipped, other


def require(data: dict[str, np.ndarray], path: Path, *columns: str) -> None:
    missing = [c for c in columns if c not in data]
    if missing:
        raise CopflowError(f"{path}: missing column(s) {', '.join(missing)}")


# ---- least squares -------------------------------------------------------------------------

def least_squares(y: np.ndarray, columns: dict[str, np.ndarray], what: str) -> LinearFit:
    """Ordinary least squares on column-scaled data, with a rank check naming lost terms.

    Solved through the (scaled) normal equations plus one step of iterative refinement:
    that agrees with an SVD solver (np.linalg.lstsq) to about 1e-10 relative on the
    general form, and takes about 0.1 s for a million rows where an SVD rank check plus
    lstsq took about 0.6 s.
    """
    names = list(columns)
    n = len(y)
    if n < len(names) + 1:
        raise CopflowError(f"{what}: {n} points cannot fit {len(names)} terms "
                           f"(need at least {len(names) + 1})")
    xs = np.empty((n, len(names)))
    scale = np.empty(len(names))
    for j, k in enumerate(names):
        col = np.broadcast_to(np.asarray(columns[k], dtype=float), (n,))
        scale[j] = float(np.abs(col).max()) or 1.0
        np.divide(col, scale[j], out=xs[:, j])  # P^3 at 100 % is 1e6: scale before solving
    beta, gram = _solve(xs, y)
    if beta is None:
        raise CopflowError(f"{what}: the data cannot identify the term(s) "
                           f"{', '.join(_collinear(gram, names))} (collinear columns; vary flow "
                           f"and temperature more)")
    resid = y - xs @ beta
    ss_res = float(resid @ resid)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return LinearFit(names, {k: float(b) for k, b in zip(names, beta / scale, strict=True)}, r2,
                     math.sqrt(ss_res / n), n)


def _solve(xs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """argmin |xs b - y|, or None when the columns are (numerically) dependent.

    Dependent means smallest/largest singular value of xs below 1e-7 (eigenvalues of
    xs'xs below 1e-14 of the largest): such a design cannot pin the terms down.
    """
    gram = xs.T @ xs
    w, v = np.linalg.eigh(gram)
    if not w[0] > 1e-14 * w[-1]:
        return None, gram
    beta = v @ ((v.T @ (xs.T @ y)) / w)
    beta += v @ ((v.T @ (xs.T @ (y - xs @ beta))) / w)  # iterative refinement
    return beta, gram


def _collinear(gram: np.ndarray, names: list[str]) -> list[str]:
    """The terms whose (scaled) column is, to 1e-6, a combination of the others."""
    out = []
    for i, k in enumerate(names):
        rest = [j for j in range(len(names)) if j != i]
        g = gram[rest, i]
        resid2 = gram[i, i] - g @ np.linalg.pinv(gram[np.ix_(rest, rest)], hermitian=True) @ g
        if resid2 < 1e-12 * gram[i, i]:
            out.append(k)
    return out or names


def fit_cop(data: dict[str, np.ndarray], form: str, temp_column: str = "t_in_c") -> LinearFit:
    """COP_s(P, t) in the paper's form or the general one (see the module docstring)."""
    if form not in ("paper", "general"):
        raise CopflowError(f"unknown form {form!r}: paper or general")
    p, t, cop = data["flow_percent"], data[temp_column], data["cop_s"]
    cols = {"a0": np.ones_like(p), "a1": p, "a2": p * p}
    notes = []
    single_t = float(np.ptp(t)) < 1e-6
    if single_t:
        if form == "general":
            raise CopflowError(f"form general: all {len(t)} points are at {temp_column} = "
                               f"{t[0]:g} degC, so the terms b0..b3 and c cannot be identified; "
                               f"it needs data at several temperatures (copflow sweep --temps "
                               f"...), or use --form paper")
        notes.append(f"one temperature only ({temp_column} = {t[0]:g} degC): c (the c/t term) "
                     f"cannot be separated from a0 and is fixed at 0; a0 includes c/t")
    else:
        if np.any(np.abs(t) < 0.5):
            raise CopflowError(f"{temp_column} within 0.5 degC of 0: the c/t term is singular "
                               f"there")
        cols["c"] = 1.0 / t
    if form == "general":
        cols["a3"] = p ** 3
        for i in range(4):
            cols[f"b{i}"] = t * p ** i
    if len(p) < len(cols) + 1:
        raise CopflowError(f"COP_s fit ({form} form): {len(p)} point(s) cannot fit {len(cols)} "
                           f"terms (need at least {len(cols) + 1})")
    try:
        result = least_squares(cop, cols, f"COP_s fit ({form} form)")
    except CopflowError:
        flows, min_flows = len(np.unique(p)), (4 if form == "general" else 3)
        if flows < min_flows:
            raise CopflowError(f"COP_s fit ({form} form): the data has {flows} distinct "
                               f"flow(s); a {'cubic' if form == 'general' else 'quadratic'} "
                               f"in P needs at least {min_flows}") from None
        raise
    if not single_t:
        r2 = confounded_r2(t, p)
        if r2 is not None:
            notes.append(f"{temp_column} moves with flow only (1/t explained by P to R^2 "
                         f"{r2:.3f}): c/t is confounded with flow, so the P terms are not "
                         f"the flow effect; regress on the source temperature (t_river_c) "
                         f"or vary the temperature")
    result.notes += notes
    return result


def confounded_r2(t: np.ndarray, p: np.ndarray) -> float | None:
    """R^2 to which flow explains 1/t when it does so above 0.99 (the temperature moves
    with flow only, so c/t would be confounded with the flow terms), else None. One
    temperature is not confounded: c is then fixed at 0."""
    if float(np.ptp(t)) < 1e-6 or np.any(np.abs(t) < 0.5):
        return None
    r2 = _explained(1.0 / t, p)
    return r2 if r2 > 0.99 else None


def _explained(y: np.ndarray, p: np.ndarray) -> float:
    """R^2 of y regressed on a cubic in p: near 1 when y is a function of flow alone.

    A diagnostic only: on large data it looks at 100,000 evenly spaced rows.
    """
    step = max(1, len(p) // 100_000)
    y, p = y[::step], p[::step]
    q = p / (float(np.abs(p).max()) or 1.0)
    x = np.column_stack([np.ones_like(q), q, q * q, q * q * q])
    beta, _ = _solve(x, y)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if beta is None or ss_tot == 0.0:
        return 0.0
    resid = y - x @ beta
    return 1.0 - float(resid @ resid) / ss_tot


def coefficient_set(fit: LinearFit, data: dict[str, np.ndarray],
                    temp_column: str = "t_in_c") -> dict:
    """The firmware's season entry (core.coeffs.parse_season) for a COP_s fit.

    With one temperature the model does not depend on t (c = 0, b = 0). t_lo..t_hi is
    at least MIN_T_SPAN_K wide (centred on the data's range): the firmware needs
    t_lo < t_hi, and raises T_MODEL_RANGE when the inlet temperature leaves them.
    """
    c = fit.coefficients
    p, t = data["flow_percent"], data[temp_column]
    t_lo, t_hi = float(t.min()), float(t.max())
    if t_hi - t_lo < MIN_T_SPAN_K:
        mid = (t_lo + t_hi) / 2.0
        t_lo, t_hi = mid - MIN_T_SPAN_K / 2.0, mid + MIN_T_SPAN_K / 2.0
    return {
        "a": [c.get(f"a{i}", 0.0) for i in range(4)],
        "b": [c.get(f"b{i}", 0.0) for i in range(4)],
        "c": c.get("c", 0.0),
        "t_lo": t_lo,
        "t_hi": t_hi,
        "t_ref": float(np.median(t)),
        "p_lo": float(p.min()),
        "p_hi": float(p.max()),
    }


COMPONENT_FORMS = {
    # name: (target column, {term: source column name, or power of L = flow_m3h})
    "unit_power_kw": ("w_hp_kw", {"alpha_t": "t_in_c", "beta_L3": 3, "gamma": 0}),
    "pump_power_kw": ("w_pump_kw", {"p3_L3": 3, "p2_L2": 2, "p0": 0}),
    "pump_head_m": ("head_m", {"h0": 0, "h1_L": 1, "h2_L2": 2}),
    "pump_eff": ("pump_eff", {"e0": 0, "e1_L": 1, "e2_L2": 2}),
}


def fit_components(data: dict[str, np.ndarray]) -> tuple[dict[str, LinearFit], list[str]]:
    """The paper's component forms for whichever columns the CSV has, and notes on the rest."""
    out: dict[str, LinearFit] = {}
    notes: list[str] = []
    if not any(target in data for target, _ in COMPONENT_FORMS.values()):
        targets = ", ".join(target for target, _ in COMPONENT_FORMS.values())
        return out, [f"component curves not fitted: none of the columns {targets}"]
    for name, (target, terms) in COMPONENT_FORMS.items():
        needed = [target, "flow_m3h"] + [v for v in terms.values() if isinstance(v, str)]
        missing = [c for c in needed if c not in data]
        if missing:
            notes.append(f"{name} not fitted: no column(s) {', '.join(missing)}")
            continue
        flow = data["flow_m3h"]
        cols = {k: (data[v] if isinstance(v, str) else flow ** v) for k, v in terms.items()}
        for k, v in terms.items():
            if isinstance(v, str) and float(np.ptp(data[v])) < 1e-6:
                del cols[k]
                notes.append(f"{name}: one {v} only, so {k} cannot be identified (fixed at 0)")
            elif isinstance(v, str) and _explained(data[v], flow) > 0.99:
                notes.append(f"{name}: {v} moves with flow only, so {k} is confounded with "
                             f"the flow terms")
        try:
            fit = least_squares(data[target], cols, name)
        except CopflowError as exc:
            notes.append(f"{name} not fitted: {exc}")
            continue
        fit.coefficients = {k: fit.coefficients.get(k, 0.0) for k in terms}
        out[name] = fit
    return out, notes


# ---- benchmark ----------------------------------------------------------------------------

def synthetic_sweep(rows: int, seed: int = 1) -> str:
    """A sweep-format CSV of `rows` rows: the corrected eq. 10 (winter) plus noise.

    COP_s = -13.38695 + 0.596195 P - 0.00546968 P^2 + 9.091 / t + N(0, 0.02), P 35..75 %,
    t 8..15 degC; component columns from the paper's forms. A block of up to 10,000 rows
    is formatted and repeated (formatting a million rows in Python would dominate).
    """
    rng = np.random.default_rng(seed)
    m = max(1, min(rows, 10_000))
    p = rng.uniform(35.0, 75.0, m)
    t = rng.uniform(8.0, 15.0, m)
    cop = -13.38695 + 0.596195 * p - 0.00546968 * p * p + 9.091 / t + rng.normal(0, 0.02, m)
    flow = 0.006 * p
    lines = [
        f"heating,{ti:.2f},{pi:.3f},{li:.5f},{ti:.4f},{ti - 3.6:.4f},3.30000,"
        f"{0.6568 + 0.0105 * ti - 0.3753 * li ** 3:.5f},{0.3399 * li ** 3 + 0.05:.5f},"
        f"{25 - 11.11 * li - 3.704 * li * li:.4f},{0.109 + 0.2451 * li - 0.173 * li * li:.5f},"
        f"{ci:.5f},\n"
        for pi, ti, li, ci in zip(p, t, flow, cop, strict=True)
    ]
    block = "".join(lines)
    return SWEEP_HEADER + "\n" + block * (rows // m) + "".join(lines[:rows % m])


def bench_fit(rows: int) -> dict:
    """Seconds to parse a synthetic sweep CSV of `rows` rows and fit it (paper form)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.csv"
        path.write_text(synthetic_sweep(rows))
        size = path.stat().st_size
        t0 = time.perf_counter()
        data, _ = read_csv(path, "heating")
        t1 = time.perf_counter()
        fit = fit_cop(data, "paper")
        t2 = time.perf_counter()
        fit_components(data)
        t3 = time.perf_counter()
    return {"rows": rows, "bytes": size, "parse_s": round(t1 - t0, 3),
            "fit_s": round(t2 - t1, 3), "components_s": round(t3 - t2, 3),
            "total_s": round(t3 - t0, 3), "a1": fit.coefficients["a1"],
            "c": fit.coefficients["c"]}


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m host_tools.fitting")
    parser.add_argument("--bench", type=int, metavar="ROWS",
                        help="time parse + fit of a synthetic sweep CSV of ROWS rows")
    parser.add_argument("--bench-csv", type=Path, metavar="FILE",
                        help="write that synthetic CSV (with --rows) instead")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.bench_csv:
        args.bench_csv.write_text(synthetic_sweep(args.rows))
        print(f"wrote {args.rows} rows to {args.bench_csv}")
    elif args.bench:
        print(json.dumps(bench_fit(args.bench)))
    else:
        parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
