"""Least-squares fits of the seed paper's forms (numpy only, no printing).

COP_s(P, t): the paper's form (eqs 9-12) a0 + a1 P + a2 P^2 + c/t, or the
general form sum_i (a_i + b_i t) P^i + c/t. Component forms: unit power
W_HP = alpha t + beta L^3 + gamma (eqs 2-3), pump power W = p3 L^3 + p2 L^2 + p0
(eq. 7), pump head H = h0 + h1 L + h2 L^2 (eq. 4), efficiency
eta = e0 + e1 L + e2 L^2 (eq. 5). R^2 = 1 - SS_res / SS_tot, as the paper reports.
"""

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from host_tools.errors import CopflowError


@dataclass
class LinearFit:
    names: list[str]
    coefficients: dict[str, float]
    r2: float
    rmse: float
    n: int
    notes: list[str] = field(default_factory=list)


def read_csv(path: Path, season: str | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Numeric columns of a sweep CSV (tripped rows skipped), and how many were skipped."""
    try:
        f = open(path, newline="")
    except FileNotFoundError:
        raise CopflowError(f"{path}: no such file") from None
    except OSError as exc:
        raise CopflowError(f"{path}: cannot read ({exc.strerror})") from None
    with f:
        text = f.read()
    fast = _numeric_only(text)
    if fast is not None:
        return fast, 0
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise CopflowError(f"{path}: empty file")
    header = [h.strip() for h in header]
    rows = list(reader)
    index = {name: i for i, name in enumerate(header)}
    wanted = [h for h in header if h not in ("season", "trip")]
    data: dict[str, list[float]] = {h: [] for h in wanted}
    skipped = 0
    for row_no, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CopflowError(f"{path}: row {row_no} has {len(row)} fields, the header "
                               f"{len(header)}")
        if season and "season" in index and row[index["season"]].strip() not in ("", season):
            continue
        if "trip" in index and row[index["trip"]].strip():
            skipped += 1
            continue
        for h in wanted:
            text = row[index[h]].strip()
            try:
                value = float(text)
            except ValueError:
                raise CopflowError(f"{path}: row {row_no}, column {h}: {text!r} is not a "
                                   f"number") from None
            if not math.isfinite(value):
                raise CopflowError(f"{path}: row {row_no}, column {h}: {text!r} is not finite")
            data[h].append(value)
    return {h: np.asarray(v) for h, v in data.items()}, skipped


def _numeric_only(text: str) -> dict[str, np.ndarray] | None:
    """All-numeric CSVs parse in one numpy call (a million rows in well under a second).

    Anything irregular returns None, and the row-by-row reader then finds and names it.
    """
    head, _, body = text.partition("\n")
    names = [h.strip() for h in head.split(",")]
    if not body.strip() or {"season", "trip"} & set(names) or "" in names:
        return None
    lines = body.count("\n") + (0 if body.endswith("\n") else 1)
    try:
        values = np.array(body.replace("\n", ",").rstrip(",").split(","), dtype=float)
    except ValueError:
        return None
    if values.size != lines * len(names) or not np.all(np.isfinite(values)):
        return None
    table = values.reshape(lines, len(names))
    return {name: table[:, i].copy() for i, name in enumerate(names)}


def require(data: dict[str, np.ndarray], path: Path, *columns: str) -> None:
    missing = [c for c in columns if c not in data]
    if missing:
        raise CopflowError(f"{path}: missing column(s) {', '.join(missing)}")


def least_squares(y: np.ndarray, columns: dict[str, np.ndarray], what: str) -> LinearFit:
    names = list(columns)
    n = len(y)
    if n < len(names) + 1:
        raise CopflowError(f"{what}: {n} points cannot fit {len(names)} terms "
                           f"(need at least {len(names) + 1})")
    x = np.column_stack([columns[k] for k in names])
    scale = np.abs(x).max(axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale  # P^3 at 100 % is 1e6: scale columns before solving
    sv = np.linalg.svd(xs, compute_uv=False)
    if sv[-1] < 1e-9 * sv[0]:
        # Name the term whose column is (nearly) a combination of the others.
        worst = []
        for i, k in enumerate(names):
            rest = np.delete(xs, i, axis=1)
            resid = xs[:, i] - rest @ np.linalg.lstsq(rest, xs[:, i], rcond=None)[0]
            if np.linalg.norm(resid) < 1e-6 * max(np.linalg.norm(xs[:, i]), 1e-300):
                worst.append(k)
        raise CopflowError(f"{what}: the data cannot identify the term(s) "
                           f"{', '.join(worst) or names[-1]} (collinear columns; vary flow and "
                           f"temperature more)")
    beta, *_ = np.linalg.lstsq(xs, y, rcond=None)
    beta = beta / scale
    pred = x @ beta
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return LinearFit(names, {k: float(b) for k, b in zip(names, beta, strict=True)}, r2,
                     math.sqrt(ss_res / n), n)


def fit_cop(data: dict[str, np.ndarray], form: str, temp_column: str = "t_in_c") -> LinearFit:
    p, t, cop = data["flow_percent"], data[temp_column], data["cop_s"]
    if np.any(np.abs(t) < 0.5):
        raise CopflowError(f"{temp_column} within 0.5 degC of 0: the c/t term is singular there")
    cols = {"a0": np.ones_like(p), "a1": p, "a2": p * p}
    notes = []
    if form == "general":
        cols["a3"] = p ** 3
        for i in range(4):
            cols[f"b{i}"] = t * p ** i
    single_t = float(np.ptp(t)) < 1e-6
    if single_t:
        notes.append("one temperature only: c (the c/t term) cannot be separated from a0 "
                     "and is fixed at 0")
        if form == "general":
            raise CopflowError("form general needs data at several temperatures "
                               "(copflow sweep --temps ...)")
    else:
        cols["c"] = 1.0 / t
    result = least_squares(cop, cols, f"COP_s fit ({form} form)")
    result.notes += notes
    return result


def coefficient_set(fit: LinearFit, data: dict[str, np.ndarray],
                    temp_column: str = "t_in_c") -> dict:
    c = fit.coefficients
    p, t = data["flow_percent"], data[temp_column]
    return {
        "a": [c.get(f"a{i}", 0.0) for i in range(4)],
        "b": [c.get(f"b{i}", 0.0) for i in range(4)],
        "c": c.get("c", 0.0),
        "t_lo": float(t.min()) if np.ptp(t) > 0 else float(t.min()) - 0.5,
        "t_hi": float(t.max()) if np.ptp(t) > 0 else float(t.max()) + 0.5,
        "t_ref": float(np.median(t)),
        "p_lo": float(p.min()),
        "p_hi": float(p.max()),
    }


def fit_components(data: dict[str, np.ndarray]) -> dict[str, LinearFit]:
    """The paper's component forms, for whichever columns the CSV has (skipped otherwise)."""
    out: dict[str, LinearFit] = {}
    have = set(data)
    if "flow_m3h" not in have:
        return out
    flow = data["flow_m3h"]
    forms = {
        "unit_power_kw": ("w_hp_kw", {"alpha_t": "t_in_c", "beta_L3": 3, "gamma": 0}),
        "pump_power_kw": ("w_pump_kw", {"p3_L3": 3, "p2_L2": 2, "p0": 0}),
        "pump_head_m": ("head_m", {"h0": 0, "h1_L": 1, "h2_L2": 2}),
        "pump_eff": ("pump_eff", {"e0": 0, "e1_L": 1, "e2_L2": 2}),
    }
    for name, (target, terms) in forms.items():
        if target not in have or any(isinstance(v, str) and v not in have
                                     for v in terms.values()):
            continue
        cols = {k: (data[v] if isinstance(v, str) else flow ** v) for k, v in terms.items()}
        try:
            out[name] = least_squares(data[target], cols, name)
        except CopflowError:
            continue  # e.g. one temperature only: the t term cannot be identified
    return out
