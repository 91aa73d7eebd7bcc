# The seasonal system-COP model of the seed paper, in the general form
#   COP_s(P, t) = sum_{i=0..3} (a_i + b_i * t) * P**i + c / t
# P: loop flow in % of the unit's design flow; t: unit inlet water temperature
# in deg C. The paper's eqs 9-12 are the special case a3 = 0 and b_i = 0;
# eq. 1's coefficients-linear-in-temperature give the b_i terms, which let the
# optimum move with water temperature.
from math import sqrt

SEASON_COOLING = 1
SEASON_HEATING = 2


class SeasonModel:
    """One season's coefficient set, already validated (see core.coeffs)."""

    def __init__(self, a, b, c, t_lo, t_hi, t_ref, p_lo, p_hi):
        self.a0, self.a1, self.a2, self.a3 = float(a[0]), float(a[1]), float(a[2]), float(a[3])
        self.b0, self.b1, self.b2, self.b3 = float(b[0]), float(b[1]), float(b[2]), float(b[3])
        self.c = float(c)
        self.t_lo = float(t_lo)
        self.t_hi = float(t_hi)
        self.t_ref = float(t_ref)
        # The flow range the set was fitted on: a regression is only trusted
        # inside its data. The optimiser uses this range cut by the config's
        # p_min..p_max (see effective_range).
        self.p_lo = float(p_lo)
        self.p_hi = float(p_hi)

    def effective_range(self, p_min: float, p_max: float):
        lo = self.p_lo if self.p_lo > p_min else p_min
        hi = self.p_hi if self.p_hi < p_max else p_max
        return lo, hi

    def cop(self, p: float, t: float) -> float:
        a0 = self.a0 + self.b0 * t
        a1 = self.a1 + self.b1 * t
        a2 = self.a2 + self.b2 * t
        a3 = self.a3 + self.b3 * t
        value = a0 + p * (a1 + p * (a2 + p * a3))
        if self.c != 0.0:
            value += self.c / t
        return value

    def optimum(self, t: float, p_lo: float, p_hi: float) -> float:
        """argmax of cop(P, t) over [p_lo, p_hi], exact for the cubic.

        The candidates are the end points and the roots of dCOP/dP inside the
        range; c/t does not depend on P, so it is left out of the comparison.
        """
        a1 = self.a1 + self.b1 * t
        a2 = self.a2 + self.b2 * t
        a3 = self.a3 + self.b3 * t
        best_p = p_lo
        best = p_lo * (a1 + p_lo * (a2 + p_lo * a3))
        value = p_hi * (a1 + p_hi * (a2 + p_hi * a3))
        if value > best:
            best_p, best = p_hi, value
        # dCOP/dP = a1 + 2 a2 P + 3 a3 P^2 = 0
        qa = 3.0 * a3
        qb = 2.0 * a2
        if abs(qa) <= 1e-12 * (abs(qb) + abs(a1) + 1e-300):
            if qb != 0.0:
                root = -a1 / qb
                if p_lo < root < p_hi:
                    value = root * (a1 + root * (a2 + root * a3))
                    if value > best:
                        best_p = root
            return best_p
        disc = qb * qb - 4.0 * qa * a1
        if disc < 0.0:
            return best_p
        # Numerically stable pair of roots (no cancellation between -qb and sqrt).
        s = sqrt(disc)
        q = -0.5 * (qb + s) if qb >= 0.0 else -0.5 * (qb - s)
        for root in (q / qa, a1 / q if q != 0.0 else p_lo):
            if p_lo < root < p_hi:
                value = root * (a1 + root * (a2 + root * a3))
                if value > best:
                    best_p, best = root, value
        return best_p

    def curvature(self, p: float, t: float) -> float:
        """d2COP/dP2 at (p, t); negative at an interior maximum."""
        return 2.0 * (self.a2 + self.b2 * t) + 6.0 * (self.a3 + self.b3 * t) * p
