"""The circulation pump: paper eqs 4-6, a shut-off power, the affinity laws, motor losses.

H(L) = h0 + h1 L + h2 L^2 (eq. 4), eta(L) = b0 + b1 L + b2 L^2 (eq. 5) and
shaft power L H / (367 eta) kW with L in m3/h and H in m (eq. 6; 367 = 3600 /
(rho g / 1000) for water). Eq. 5 is a fit over the pump's working range; taken
to zero flow it would make the shaft power vanish with the flow, while a real
radial pump at shut-off still drives its internal recirculation, disc friction
and seals. Below `low_flow_fit_ratio` x the best-efficiency flow the shaft power
is a quadratic that meets eq. 6 there in value and slope and reaches
`shutoff_power_ratio` x the best-efficiency shaft power at zero flow.

At speed s (a VFD) the curves scale by the affinity laws (ASHRAE Handbook, HVAC
Systems and Equipment, pumps chapter): the pump works at the equivalent
full-speed flow L/s, H = s^2 H(L/s), shaft power s^3 P(L/s).

Motor (and drive) losses are not a constant fraction of the shaft power: they
are split into a part that stays (magnetising current, the drive's standby), a
part that follows the speed (iron, friction and windage, switching) and a part
that follows the torque squared (copper, conduction), so that at the rated
point (full speed, the best-efficiency shaft power) the electric input is
shaft / (motor_eff x drive_eff) and at low speed the efficiency falls.

Functions take `m` (numeric.SCALAR or numeric.VECTOR).
"""

import math

from host_tools.plant.numeric import SCALAR

ETA_FLOOR = 0.02  # the eta polynomial is a fit; never let it reach zero at the ends
_BEP_GRID = 400


def head_m(p, flow_m3h, speed=1.0):
    q = flow_m3h / speed
    return speed * speed * (p.h0_m + p.h1_m_per_m3h * q + p.h2_m_per_m3h2 * q * q)


def efficiency(p, flow_m3h, speed=1.0, m=SCALAR):
    """Eq. 5, floored: the pump efficiency over its fitted range."""
    q = flow_m3h / speed
    return m.maximum(p.b0 + p.b1_per_m3h * q + p.b2_per_m3h2 * q * q, ETA_FLOOR)


def fit_shaft_kw(p, q, m=SCALAR):
    """Eq. 6 shaft power at full speed (kW); zero at zero flow, so only for the fitted range."""
    return q * head_m(p, q) / (367.0 * efficiency(p, q, 1.0, m))


def zero_head_flow_m3h(p) -> float:
    """Where the full-speed head curve reaches zero (its end)."""
    a, b, c = p.h2_m_per_m3h2, p.h1_m_per_m3h, p.h0_m
    if a == 0.0:
        return -c / b if b < 0 else math.inf
    return (-b - math.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)


class Curve:
    """One pump with its motor (and drive): shaft and electric power at any flow and speed.

    Built once per plant: the best-efficiency point of eq. 5 on the head curve,
    the shut-off quadratic below the fitted range, and the motor's rated losses.
    """

    def __init__(self, p, drive_eff: float = 1.0):
        self.p = p
        q_end = zero_head_flow_m3h(p)
        q_end = min(q_end, 100.0 * abs(p.h0_m)) if math.isfinite(q_end) else 10.0
        best_q, best_eta = q_end / 2.0, -1.0
        for i in range(1, _BEP_GRID):
            q = q_end * i / _BEP_GRID
            eta = p.b0 + p.b1_per_m3h * q + p.b2_per_m3h2 * q * q
            if eta > best_eta:
                best_q, best_eta = q, eta
        self.q_bep = best_q
        self.p_bep_kw = fit_shaft_kw(p, best_q)
        self.p_shutoff_kw = p.shutoff_power_ratio * self.p_bep_kw
        qb = self.q_blend = p.low_flow_fit_ratio * best_q
        if qb > 0.0:
            value = fit_shaft_kw(p, qb)
            h = 1e-6 * max(qb, 1e-3)
            slope = (fit_shaft_kw(p, qb + h) - fit_shaft_kw(p, qb - h)) / (2.0 * h)
            self.c2 = (slope * qb - (value - self.p_shutoff_kw)) / (qb * qb)
            self.c1 = slope - 2.0 * self.c2 * qb
        else:
            self.c1 = self.c2 = 0.0
        # Motor + drive: rated at full speed and the BEP shaft power.
        self.rated_kw = self.p_bep_kw
        self.rated_loss_kw = self.p_bep_kw * (1.0 / (p.motor_eff * drive_eff) - 1.0)
        self.loss_fixed = p.loss_fixed_share
        self.loss_speed = p.loss_speed_share
        self.loss_torque = 1.0 - p.loss_fixed_share - p.loss_speed_share

    def shaft_kw(self, flow_m3h, speed=1.0, m=SCALAR):
        """Shaft power (kW) delivering this flow at this speed (affinity laws)."""
        q = flow_m3h / speed
        low = m.maximum(self.p_shutoff_kw + (self.c1 + self.c2 * q) * q, 0.0)
        full = m.where(q < self.q_blend, low, fit_shaft_kw(self.p, q, m))
        return speed * speed * speed * full

    def electric_kw(self, shaft_kw, speed=1.0):
        """Electric input (kW) for this shaft power at this speed: shaft + motor/drive losses."""
        torque = shaft_kw / (speed * self.rated_kw)  # per unit of rated torque
        return shaft_kw + self.rated_loss_kw * (self.loss_fixed + self.loss_speed * speed
                                                + self.loss_torque * torque * torque)


def flow_on_system_curve(p, k_system, speed=1.0, m=SCALAR):
    """Where the pump curve meets a closed loop's system curve H = k L^2 (no static head).

    s^2 h0 + s h1 L + h2 L^2 = k L^2 is a quadratic in L; flow scales with s.
    """
    a = k_system - p.h2_m_per_m3h2
    return speed * (p.h1_m_per_m3h + m.sqrt(p.h1_m_per_m3h ** 2 + 4.0 * a * p.h0_m)) / (2.0 * a)
