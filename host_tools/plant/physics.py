"""Component physics of the source loop. Scalar functions: they run every simulated second.

References: heat transfer correlations from Incropera & DeWitt, Fundamentals
of Heat and Mass Transfer (Gnielinski for turbulent pipe flow, Churchill and
Bernstein for a cylinder in cross flow, epsilon-NTU for a stream against a
constant-temperature medium); pump affinity laws and the installed valve
characteristic from the ASHRAE Handbook, HVAC Systems and Equipment.
"""

from math import exp, log, pi, sqrt

from host_tools.plant import water

G_HEAD_PER_BAR = 10.197  # m of water per bar


def inside_h_w_m2k(flow_m3h: float, d_m: float, t_c: float) -> float:
    """Inside convection in a pipe: laminar Nu = 3.66, Gnielinski above Re 3000, blended."""
    area = pi * d_m * d_m / 4.0
    v = flow_m3h / 3600.0 / area
    nu_kin = water.viscosity_pa_s(t_c) / water.density_kg_m3(t_c)
    re = max(v * d_m / nu_kin, 1e-9)
    pr = water.prandtl(t_c)
    k = water.conductivity_w_mk(t_c)

    def gnielinski(re_: float) -> float:
        f = (0.790 * log(re_) - 1.64) ** -2
        return (f / 8.0) * (re_ - 1000.0) * pr / (1.0 + 12.7 * sqrt(f / 8.0) * (pr ** (2 / 3) - 1))

    if re <= 2300.0:
        nu = 3.66
    elif re >= 3000.0:
        nu = gnielinski(re)
    else:
        w = (re - 2300.0) / 700.0
        nu = (1 - w) * 3.66 + w * gnielinski(3000.0)
    return nu * k / d_m


def outside_h_w_m2k(velocity_m_s: float, d_m: float, t_c: float) -> float:
    """Cylinder in cross flow, Churchill-Bernstein; still water falls back to Nu ~ 0.3."""
    nu_kin = water.viscosity_pa_s(t_c) / water.density_kg_m3(t_c)
    re = velocity_m_s * d_m / nu_kin
    pr = water.prandtl(t_c)
    nu = 0.3 + (0.62 * re ** 0.5 * pr ** (1 / 3)) / (1 + (0.4 / pr) ** (2 / 3)) ** 0.25 * (
        1 + (re / 282000.0) ** 0.625) ** 0.8
    return nu * water.conductivity_w_mk(t_c) / d_m


def coil_ua_kw_k(c, flow_m3h: float, velocity_m_s: float, t_water_c: float,
                 t_river_c: float) -> float:
    """UA of the PE coil: inside convection, PE wall, outside fouling and convection."""
    d_o = c.d_outer_mm / 1000.0
    d_i = d_o - 2.0 * c.wall_mm / 1000.0
    length = c.length_m
    h_i = inside_h_w_m2k(flow_m3h, d_i, t_water_c) * c.spiral_factor
    h_o = outside_h_w_m2k(velocity_m_s, d_o, t_river_c)
    r_in = 1.0 / (h_i * pi * d_i * length)
    r_wall = log(d_o / d_i) / (2.0 * pi * c.k_wall_w_mk * length)
    r_out = (1.0 / h_o + c.fouling_m2k_w) / (pi * d_o * length)
    return 1.0 / (r_in + r_wall + r_out) / 1000.0


def effectiveness(ua_kw_k: float, c_kw_k: float) -> float:
    """A stream against a constant-temperature medium (the river, a condensing refrigerant)."""
    if c_kw_k <= 0.0:
        return 1.0
    return 1.0 - exp(-ua_kw_k / c_kw_k)


def pump_head_m(p, flow_m3h: float, speed: float = 1.0) -> float:
    """H(L) = h0 + h1 L + h2 L^2 (paper eq. 4), scaled by the affinity laws at other speeds."""
    if speed <= 0.0:
        return 0.0
    q = flow_m3h / speed
    return speed * speed * (p.h0_m + p.h1_m_per_m3h * q + p.h2_m_per_m3h2 * q * q)


def pump_power_kw(p, flow_m3h: float, head_m: float, speed: float = 1.0) -> float:
    """W = L H / (367 eta) (paper eq. 6), eta(L) = b1 L + b2 L^2 (eq. 5) at the speed-scaled
    flow, divided by the motor efficiency. At zero flow the limit of L/eta is used."""
    if speed <= 0.0:
        return 0.0
    q = flow_m3h / speed
    per_flow = max(p.eta1_per_m3h + p.eta2_per_m3h2 * q, 1e-3)  # eta / q
    # L H / (367 eta(q)) with q = L / speed  ==  speed H / (367 eta/q)
    return head_m * speed / (367.0 * per_flow * p.motor_eff)


def valve_kv(a, opening: float) -> float:
    """Kv at a fractional opening; a closed valve still leaks 0.1 % of Kvs."""
    x = min(max(opening, 0.0), 1.0)
    if a.valve_characteristic == "linear":
        rel = x
    else:
        rel = a.valve_rangeability ** (x - 1.0)
    return max(rel, 0.001) * a.valve_kvs_m3h


def valve_head_coeff(a, opening: float) -> float:
    """Head loss of the valve per flow squared, m/(m3/h)^2: dp[bar] = (L/Kv)^2."""
    kv = valve_kv(a, opening)
    return G_HEAD_PER_BAR / (kv * kv)


def operating_flow_m3h(p, k_system: float, speed: float) -> float:
    """Where the pump curve meets the system curve H = k_system L^2 (closed loop)."""
    if speed <= 0.0:
        return 0.0
    # h0 s^2 + h1 s L + h2 L^2 = k L^2  ->  (h2 - k) L^2 + h1 s L + h0 s^2 = 0
    a = p.h2_m_per_m3h2 - k_system
    b = p.h1_m_per_m3h * speed
    c0 = p.h0_m * speed * speed
    disc = b * b - 4.0 * a * c0
    root = (-b - sqrt(disc)) / (2.0 * a)
    return max(root, 0.0)
