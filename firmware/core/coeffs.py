# Coefficient sets: parsing and validation on load. A set is checked against
# the allowed flow range before it can become active; a rejected set never
# replaces the active one (the caller keeps the old models on CoeffError).
from core.compat import is_finite, unload
from core.model import SeasonModel

SEASON_NAMES = ("cooling", "heating")


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


def parse_set(data) -> dict:
    """Parse a whole coefficient set {"name", "cooling", "heating"}; shape checks only.

    Either season may be omitted; the result maps season name -> SeasonModel.
    """
    if not isinstance(data, dict):
        raise CoeffError("set", "shape", "a coefficient set must be an object")
    for key in data:
        if key not in ("name", "format", "note", "source", "cooling", "heating", "learned"):
            raise CoeffError("set", "shape", "unknown key %r" % key)
    models = {}
    for season in SEASON_NAMES:
        if season in data:
            models[season] = parse_season(season, data[season])
    if not models:
        raise CoeffError("set", "shape", "no season given: expected 'cooling' and/or 'heating'")
    return models


def validate_season(season, model, p_min, p_max, cop_min, cop_max) -> None:
    """Raise CoeffError naming the first failed check; return None if the set is usable.

    p_min..p_max is the config's allowed flow range; the checks run over its
    intersection with the set's own p_lo..p_hi. They live in core/coeffs_check.py,
    loaded for the call only: a set is checked when it changes, not every tick.
    """
    from core import coeffs_check

    try:
        coeffs_check.validate_season(season, model, p_min, p_max, cop_min, cop_max)
    finally:
        unload("core.coeffs_check")


def validate_set(models: dict, limits: dict, cop_min: float, cop_max: float) -> None:
    """Validate every season of a parsed set; limits maps season -> (p_min, p_max)."""
    from core import coeffs_check

    try:
        for season in SEASON_NAMES:
            if season in models:
                p_min, p_max = limits[season]
                coeffs_check.validate_season(season, models[season], p_min, p_max, cop_min,
                                             cop_max)
    finally:
        unload("core.coeffs_check")
