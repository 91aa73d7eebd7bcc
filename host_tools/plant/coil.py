"""The PE spiral coil in the river: UA from three resistances in series, then epsilon-NTU.

Correlations (Incropera & DeWitt, Fundamentals of Heat and Mass Transfer, 6th
ed., ch. 7-8 and 11; VDI Heat Atlas, 2nd ed., sections G1 and G3):
- inside: Gnielinski for turbulent pipe flow (Re >= 1e4) with the Petukhov
  friction factor, Nu = 3.66 for fully developed laminar flow (Re <= 2300),
  and the VDI linear interpolation between the two in the transition range;
  times the helical-coil enhancement of Schmidt (VDI G3):
  1 + 3.6 (1 - d/D) (d/D)^0.8;
- wall: conduction through a cylindrical PE shell, ln(d_o/d_i) / (2 pi k L);
- outside: Churchill-Bernstein for a cylinder in cross flow (the river
  current), plus a fouling resistance (silt, biofilm).
Every resistance is per unit length, so UA is proportional to the coil length:
a longer coil never lowers the effectiveness.

Functions take `m` (numeric.SCALAR or numeric.VECTOR) so one formula serves
the per-second simulation and the vectorised steady state.
"""

from math import pi

from host_tools.plant import water
from host_tools.plant.numeric import SCALAR

RE_LAMINAR = 2300.0
RE_TURBULENT = 1.0e4
NU_LAMINAR = 3.66  # fully developed, uniform wall temperature


def inner_diameter_m(c) -> float:
    return (c.d_outer_mm - 2.0 * c.wall_mm) / 1000.0


def volume_l(c) -> float:
    d = inner_diameter_m(c)
    return pi * d * d / 4.0 * c.length_m * 1000.0


def _gnielinski(re, pr, m):
    f = (0.790 * m.log(re) - 1.64) ** -2
    return (f / 8.0) * (re - 1000.0) * pr / (1.0 + 12.7 * m.sqrt(f / 8.0) * (pr ** (2 / 3) - 1.0))


def inside_nu(re, pr, d_over_coil_d: float, m=SCALAR):
    """Nusselt number inside the coiled pipe at any Reynolds number."""
    nu_turb = _gnielinski(m.maximum(re, RE_TURBULENT), pr, m)
    weight = m.minimum(m.maximum((re - RE_LAMINAR) / (RE_TURBULENT - RE_LAMINAR), 0.0), 1.0)
    nu = NU_LAMINAR + weight * (nu_turb - NU_LAMINAR)
    return nu * (1.0 + 3.6 * (1.0 - d_over_coil_d) * d_over_coil_d ** 0.8)


def outside_nu(re, pr, m=SCALAR):
    """Churchill-Bernstein, valid for Re Pr > 0.2 (any river current worth the name)."""
    return 0.3 + (0.62 * m.sqrt(re) * pr ** (1 / 3)) / (1.0 + (0.4 / pr) ** (2 / 3)) ** 0.25 * (
        1.0 + (re / 282000.0) ** 0.625) ** 0.8


def outside_resistance_mk_w(c, velocity_m_s: float, t_river_c: float) -> float:
    """Outside film + fouling per metre of coil, m K/W; depends only on the river."""
    d_o = c.d_outer_mm / 1000.0
    nu_kin = water.viscosity_pa_s(t_river_c) / water.density_kg_m3(t_river_c)
    re = velocity_m_s * d_o / nu_kin
    h_o = outside_nu(re, water.prandtl(t_river_c)) * water.conductivity_w_mk(t_river_c) / d_o
    return (1.0 / h_o + c.fouling_m2k_w) / (pi * d_o)


def ua_kw_k(c, flow_m3h, t_water_c, r_outside_mk_w: float, m=SCALAR):
    """Coil UA at a loop flow; `r_outside_mk_w` from outside_resistance_mk_w (cache it)."""
    d_i = inner_diameter_m(c)
    d_o = c.d_outer_mm / 1000.0
    velocity = flow_m3h / 3600.0 / (pi * d_i * d_i / 4.0)
    nu_kin = water.viscosity_pa_s(t_water_c) / water.density_kg_m3(t_water_c)
    re = m.maximum(velocity * d_i / nu_kin, 1e-6)
    nu = inside_nu(re, water.prandtl(t_water_c), d_i / c.spiral_diameter_m, m)
    h_i = nu * water.conductivity_w_mk(t_water_c) / d_i
    r_in = 1.0 / (h_i * pi * d_i)
    r_wall = m.log(d_o / d_i) / (2.0 * pi * c.k_wall_w_mk)
    return c.length_m / (r_in + r_wall + r_outside_mk_w) / 1000.0


def effectiveness(ua_kw_k_, c_kw_k, m=SCALAR):
    """A water stream against a constant-temperature medium (the river): 1 - exp(-NTU)."""
    return 1.0 - m.exp(-ua_kw_k_ / m.maximum(c_kw_k, 1e-9))
