"""The circulation pump: paper eqs 4-6, and the affinity laws for a VFD.

H(L) = h0 + h1 L + h2 L^2 (eq. 4), eta(L) = b0 + b1 L + b2 L^2 (eq. 5) and
shaft power L H / (367 eta) kW with L in m3/h and H in m (eq. 6; 367 = 3600 /
(rho g / 1000) for water). The electric input divides by the motor (and
drive) efficiency. At speed s (a VFD) the curves scale by the affinity laws
(ASHRAE Handbook, HVAC Systems and Equipment, pumps chapter): the pump works
at the equivalent full-speed flow L/s, H = s^2 H(L/s), and its efficiency is
that of the equivalent point, eta(L/s).

Functions take `m` (numeric.SCALAR or numeric.VECTOR).
"""

from host_tools.plant.numeric import SCALAR

ETA_FLOOR = 0.02  # the eta polynomial is a fit; never let it reach zero at the ends


def head_m(p, flow_m3h, speed=1.0):
    q = flow_m3h / speed
    return speed * speed * (p.h0_m + p.h1_m_per_m3h * q + p.h2_m_per_m3h2 * q * q)


def efficiency(p, flow_m3h, speed=1.0, m=SCALAR):
    q = flow_m3h / speed
    return m.maximum(p.b0 + p.b1_per_m3h * q + p.b2_per_m3h2 * q * q, ETA_FLOOR)


def electric_kw(p, flow_m3h, head, eta, drive_eff: float = 1.0):
    return flow_m3h * head / (367.0 * eta * p.motor_eff * drive_eff)


def flow_on_system_curve(p, k_system, speed=1.0, m=SCALAR):
    """Where the pump curve meets a closed loop's system curve H = k L^2 (no static head).

    s^2 h0 + s h1 L + h2 L^2 = k L^2 is a quadratic in L; flow scales with s.
    """
    a = k_system - p.h2_m_per_m3h2
    return speed * (p.h1_m_per_m3h + m.sqrt(p.h1_m_per_m3h ** 2 + 4.0 * a * p.h0_m)) / (2.0 * a)
