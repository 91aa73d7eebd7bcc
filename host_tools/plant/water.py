"""Properties of liquid water, 0-60 degC, from standard correlations.

Viscosity: Vogel equation (Viswanath & Natarajan, Data Book on the Viscosity of
Liquids, 1989): mu = 2.414e-5 * 10**(247.8 / (T - 140)) Pa s, T in K.
Conductivity: quadratic fit to IAPWS values (0.561 W/mK at 0 degC, 0.598 at
20, 0.631 at 50). Density: a fit to tabulated values (Incropera, Table A.6).
"""

CP_KJ_KGK = 4.186  # specific heat, kJ/(kg K); varies < 1 % over 0-60 degC


def viscosity_pa_s(t_c: float) -> float:
    return 2.414e-5 * 10.0 ** (247.8 / (t_c + 273.15 - 140.0))


def conductivity_w_mk(t_c: float) -> float:
    return 0.5611 + 0.00199 * t_c - 8.0e-6 * t_c * t_c


def density_kg_m3(t_c: float) -> float:
    return 1000.0 - 0.0178 * abs(t_c - 4.0) ** 1.7


def prandtl(t_c: float) -> float:
    return CP_KJ_KGK * 1000.0 * viscosity_pa_s(t_c) / conductivity_w_mk(t_c)


def capacity_rate_kw_k(flow_m3h: float, t_c: float) -> float:
    """m_dot * c_p in kW/K for a volume flow in m3/h."""
    return flow_m3h / 3600.0 * density_kg_m3(t_c) * CP_KJ_KGK
