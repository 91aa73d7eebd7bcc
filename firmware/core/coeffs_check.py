# The checks a coefficient set must pass before it can become active (see
# core/coeffs.py, which loads this module for one validation and drops it).
from math import sqrt

from core.coeffs import CoeffError
from core.compat import is_finite
from core.model import SeasonModel

_GRID_T = 9  # temperatures checked across [t_lo, t_hi]


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
        _check_at(season, model, model.t_lo + (model.t_hi - model.t_lo) * j / (_GRID_T - 1),
                  p_lo, p_hi, cop_min, cop_max)


def _check_at(season, model, t, p_lo, p_hi, cop_min, cop_max):
    """COP_s(., t) at the range ends, then at the stationary points inside the
    range. The arithmetic is SeasonModel.cop's and stationary_points', operation
    for operation, with the terms that depend on t alone worked out once."""
    # A term with no temperature part (b = 0: every shipped set) is taken as it
    # is: a + 0.0 * t is a, and on the board each operation is a float allocated.
    a0 = model.a0 if model.b0 == 0.0 else model.a0 + model.b0 * t
    a1 = model.a1 if model.b1 == 0.0 else model.a1 + model.b1 * t
    a2 = model.a2 if model.b2 == 0.0 else model.a2 + model.b2 * t
    a3 = model.a3 if model.b3 == 0.0 else model.a3 + model.b3 * t
    ct = model.c / t if model.c != 0.0 else None
    _check_p(season, a0, a1, a2, a3, ct, p_lo, t, cop_min, cop_max)
    _check_p(season, a0, a1, a2, a3, ct, p_hi, t, cop_min, cop_max)
    if a3 == 0.0:
        if a2 != 0.0:
            p = -a1 / (2.0 * a2)
            if p_lo <= p <= p_hi:
                _check_p(season, a0, a1, a2, a3, ct, p, t, cop_min, cop_max)
        return
    disc = 4.0 * a2 * a2 - 12.0 * a3 * a1
    if disc >= 0.0:
        s = sqrt(disc)
        p = (-2.0 * a2 + s) / (6.0 * a3)
        if p_lo <= p <= p_hi:
            _check_p(season, a0, a1, a2, a3, ct, p, t, cop_min, cop_max)
        p = (-2.0 * a2 - s) / (6.0 * a3)
        if p_lo <= p <= p_hi:
            _check_p(season, a0, a1, a2, a3, ct, p, t, cop_min, cop_max)


def _check_p(season, a0, a1, a2, a3, ct, p, t, cop_min, cop_max):
    if a3 == 0.0:  # a quadratic (the shipped sets): p * 0.0 added to a2 is a2
        value = a0 + p * (a1 + p * a2)
    else:
        value = a0 + p * (a1 + p * (a2 + p * a3))
    if ct is not None:
        value += ct
    if not is_finite(value):
        raise CoeffError(season, "finite", "COP_s is not finite at P=%.1f %%, "
                         "t=%.2f degC" % (p, t))
    if value < cop_min:
        raise CoeffError(season, "positive", "COP_s=%.3f at P=%.1f %%, t=%.2f degC is "
                         "below the plausible minimum %.2f" % (value, p, t, cop_min))
    if value > cop_max:
        raise CoeffError(season, "plausible", "COP_s=%.3f at P=%.1f %%, t=%.2f degC "
                         "is above the plausible maximum %.2f" % (value, p, t, cop_max))
