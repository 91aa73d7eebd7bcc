# Coefficient sets: parsing and validation on load. A set is checked against
# the allowed flow range before it can become active; a rejected set never
# replaces the active one (the caller keeps the old models on CoeffError).
from math import sqrt

from core.compat import is_finite
from core.model import SeasonModel

SEASON_NAMES = ("cooling", "heating")
_GRID_T = 9  # temperatures checked across [t_lo, t_hi]


class CoeffError(ValueError):
    """A coefficient set failed one named check; `check` is machine-readable."""

    def __init__(self, season: str, check: str, message: str):
        super().__init__("%s: %s: %s" % (season, check, message))
        self.season = season
        self.check = check


def _number(season, key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CoeffError(season, "shape", "%s must be a number, got %r" % (key, value))
    value = float(value)
    if not is_finite(value):
        raise CoeffError(season, "shape", "%s must be finite, got %r" % (key, value))
    return value


def _vector(season, key, values, required):
    if values is None and not required:
        return [0.0, 0.0, 0.0, 0.0]
    if not isinstance(values, (list, tuple)) or not 1 <= len(values) <= 4:
        raise CoeffError(season, "shape", "%s must be a list of 1 to 4 numbers" % key)
    out = [0.0, 0.0, 0.0, 0.0]
    for i, v in enumerate(values):
        out[i] = _number(season, "%s[%d]" % (key, i), v)
    return out


def parse_season(season: str, data) -> SeasonModel:
    """Build a SeasonModel from a dict, checking only its shape."""
    if not isinstance(data, dict):
        raise CoeffError(season, "shape",
                         "expected an object with a, b, c, t_lo, t_hi, t_ref, p_lo, p_hi")
    for key in data:
        if key not in ("a", "b", "c", "t_lo", "t_hi", "t_ref", "p_lo", "p_hi"):
            raise CoeffError(season, "shape", "unknown key %r" % key)
    for key in ("a", "t_lo", "t_hi", "t_ref", "p_lo", "p_hi"):
        if key not in data:
            raise CoeffError(season, "shape", "missing key %r" % key)
    a = _vector(season, "a", data["a"], True)
    b = _vector(season, "b", data.get("b"), False)
    c = _number(season, "c", data.get("c", 0.0))
    t_lo = _number(season, "t_lo", data["t_lo"])
    t_hi = _number(season, "t_hi", data["t_hi"])
    t_ref = _number(season, "t_ref", data["t_ref"])
    p_lo = _number(season, "p_lo", data["p_lo"])
    p_hi = _number(season, "p_hi", data["p_hi"])
    return SeasonModel(a, b, c, t_lo, t_hi, t_ref, p_lo, p_hi)


def season_to_dict(model: SeasonModel) -> dict:
    return {
        "a": [model.a0, model.a1, model.a2, model.a3],
        "b": [model.b0, model.b1, model.b2, model.b3],
        "c": model.c,
        "t_lo": model.t_lo,
        "t_hi": model.t_hi,
        "t_ref": model.t_ref,
        "p_lo": model.p_lo,
        "p_hi": model.p_hi,
    }


def stationary_points(model: SeasonModel, t: float) -> list:
    """Real roots of dCOP/dP at temperature t (any P)."""
    a1 = model.a1 + model.b1 * t
    a2 = model.a2 + model.b2 * t
    a3 = model.a3 + model.b3 * t
    roots = []
    if a3 == 0.0:
        if a2 != 0.0:
            roots.append(-a1 / (2.0 * a2))
    else:
        disc = 4.0 * a2 * a2 - 12.0 * a3 * a1
        if disc >= 0.0:
            s = sqrt(disc)
            roots.append((-2.0 * a2 + s) / (6.0 * a3))
            roots.append((-2.0 * a2 - s) / (6.0 * a3))
    return roots


def local_maxima(model: SeasonModel, t: float):
    """Stationary points of COP_s(., t) with negative curvature (any P)."""
    return [p for p in stationary_points(model, t) if model.curvature(p, t) < 0.0]


def validate_season(season, model, p_min, p_max, cop_min, cop_max) -> None:
    """Raise CoeffError naming the first failed check; return None if the set is usable.

    p_min..p_max is the config's allowed flow range; the checks run over its
    intersection with the set's own p_lo..p_hi.
    """
    if not model.p_lo < model.p_hi:
        raise CoeffError(season, "flow_range", "p_lo %.1f %% must be below p_hi %.1f %%"
                         % (model.p_lo, model.p_hi))
    p_lo, p_hi = model.effective_range(p_min, p_max)
    if not p_hi - p_lo >= 1.0:
        raise CoeffError(season, "flow_range", "the set's flow range %.1f..%.1f %% does not "
                         "overlap the allowed range %.1f..%.1f %% by 1 %% or more"
                         % (model.p_lo, model.p_hi, p_min, p_max))
    if not model.t_lo < model.t_hi:
        raise CoeffError(season, "t_range", "t_lo %.2f must be below t_hi %.2f"
                         % (model.t_lo, model.t_hi))
    if not model.t_lo <= model.t_ref <= model.t_hi:
        raise CoeffError(season, "t_range", "t_ref %.2f outside t_lo..t_hi %.2f..%.2f"
                         % (model.t_ref, model.t_lo, model.t_hi))
    if model.c != 0.0 and model.t_lo < 0.5 and model.t_hi > -0.5:
        raise CoeffError(season, "t_range", "c/t is singular: temperature range %.2f..%.2f "
                         "degC includes 0" % (model.t_lo, model.t_hi))
    t = model.t_ref
    maxima = local_maxima(model, t)
    inside = [p for p in maxima if p_lo < p < p_hi]
    if not inside:
        if maxima:
            raise CoeffError(season, "vertex", "maximum at P=%.1f %% (t=%.2f degC) is outside "
                             "the allowed flow range %.1f..%.1f %%" % (maxima[0], t, p_lo, p_hi))
        raise CoeffError(season, "vertex", "COP_s has no maximum in P at t=%.2f degC "
                         "(monotonic or convex): nothing to optimise" % t)
    p_best = model.optimum(t, p_lo, p_hi)
    if not p_lo < p_best < p_hi:
        raise CoeffError(season, "vertex", "the interior maximum at P=%.1f %% is lower than "
                         "the range end P=%.1f %% (t=%.2f degC)" % (inside[0], p_best, t))
    # For fixed t the model is a cubic in P, so its extremes over the range are
    # at the ends or at stationary points: checking those is exact and cheap
    # (this runs on the board, where every float operation allocates).
    for j in range(_GRID_T):
        t = model.t_lo + (model.t_hi - model.t_lo) * j / (_GRID_T - 1)
        for p in _extreme_candidates(model, t, p_lo, p_hi):
            value = model.cop(p, t)
            if not is_finite(value):
                raise CoeffError(season, "finite", "COP_s is not finite at P=%.1f %%, "
                                 "t=%.2f degC" % (p, t))
            if value < cop_min:
                raise CoeffError(season, "positive", "COP_s=%.3f at P=%.1f %%, t=%.2f degC is "
                                 "below the plausible minimum %.2f" % (value, p, t, cop_min))
            if value > cop_max:
                raise CoeffError(season, "plausible", "COP_s=%.3f at P=%.1f %%, t=%.2f degC "
                                 "is above the plausible maximum %.2f" % (value, p, t, cop_max))


def _extreme_candidates(model, t, p_lo, p_hi):
    out = [p_lo, p_hi] + stationary_points(model, t)
    return [p for p in out if p_lo <= p <= p_hi]


def parse_set(data) -> dict:
    """Parse a whole coefficient set {"name", "cooling", "heating"}; shape checks only.

    Either season may be omitted; the result maps season name -> SeasonModel.
    """
    if not isinstance(data, dict):
        raise CoeffError("set", "shape", "a coefficient set must be an object")
    for key in data:
        if key not in ("name", "format", "note", "source", "cooling", "heating"):
            raise CoeffError("set", "shape", "unknown key %r" % key)
    models = {}
    for season in SEASON_NAMES:
        if season in data:
            models[season] = parse_season(season, data[season])
    if not models:
        raise CoeffError("set", "shape", "no season given: expected 'cooling' and/or 'heating'")
    return models


def validate_set(models: dict, limits: dict, cop_min: float, cop_max: float) -> None:
    """Validate every season of a parsed set; limits maps season -> (p_min, p_max)."""
    for season in SEASON_NAMES:
        if season in models:
            p_min, p_max = limits[season]
            validate_season(season, models[season], p_min, p_max, cop_min, cop_max)
