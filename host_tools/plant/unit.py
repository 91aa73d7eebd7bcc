"""The heat pump unit seen from the loop: compressor power from a Carnot fraction.

The unit meets a fixed load Q (the bench tests held 2.8 kW cooling, 3.3 kW
heating) as long as its compressor can; its electric input W follows the lift
between the refrigerant's two saturation temperatures:
    cooling: COP = eta_c T_evap / (T_cond - T_evap),  T_evap fixed by the load side;
    heating: COP = eta_h T_cond / (T_cond - T_evap),  T_cond fixed by the load side.
The loop-side temperature follows the loop water through the unit's
water-to-refrigerant exchanger, a stream against a condensing or evaporating
refrigerant (constant temperature), so with eps_w = 1 - exp(-UA_w / C):
    cooling: T_cond = t_in + Q_rej / (eps_w C),  Q_rej = Q + W;
    heating: T_evap = t_in - Q_ext / (eps_w C),  Q_ext = Q - W.
(The hermetic compressor's motor is cooled by suction gas, so all of W ends up
in the refrigerant; that is the unit's energy balance.) With Q fixed, W is
linear in t_in, which gives closed forms below. The exchanger's water-side
film, a fraction of its resistance at design flow, scales with L^-0.8
(Dittus-Boelter); the refrigerant side does not depend on the water flow.

Minimum lift: with cold condenser water (or warm evaporator water) a real
unit holds its lift at a minimum (head-pressure control keeps the expansion
device fed), so W never falls below Q min_lift / (eta T) and COP stays finite.
Capacity limit: W may not exceed `max_input_ratio` x rated input; beyond it
the compressor delivers less than the load. Protections: the high-pressure
switch trips when T_cond exceeds its limit (cooling); the freeze protection
when T_evap or the leaving water falls below its limit (heating).

Functions take `m` (numeric.SCALAR or numeric.VECTOR).
"""

from dataclasses import dataclass

from host_tools.plant.numeric import SCALAR

K0 = 273.15
TRIP_NONE, TRIP_HEAD, TRIP_FREEZE = 0, 1, 2
TRIP_NAMES = (None, "head_pressure", "freeze")


@dataclass(frozen=True)
class UnitSide:
    """The unit's constants for one season, flattened for fast access."""

    cooling: bool
    q_kw: float
    t_load_c: float  # evaporating (cooling) or condensing (heating) temperature
    carnot_fraction: float
    ua_kw_k: float  # water-to-refrigerant exchanger at design flow
    water_fraction: float
    design_flow_m3h: float
    w_max_kw: float
    min_lift_k: float
    t_cond_max_c: float
    t_evap_min_c: float
    t_leaving_min_c: float
    # Heating: the compressor's heat extraction at full speed, e_rated_kw at t_evap_rated_c,
    # falling by cap_slope per K colder (cap_slope 0: no limit; cooling has none).
    e_rated_kw: float = 0.0
    t_evap_rated_c: float = 0.0
    cap_slope: float = 0.0


def side(u, season: str, load_fraction: float = 1.0) -> UnitSide:
    """The unit's constants for a season; `load_fraction` scales the load it is asked to meet
    (its compressor's capacity does not change with it)."""
    cooling = season == "cooling"
    e_rated = 0.0
    if not cooling:
        # At t_evap_rated_c the compressor at full speed just meets the nominal load.
        t_c = u.t_cond_heating_c + K0
        lift = max(u.t_cond_heating_c - u.t_evap_rated_heating_c, u.min_lift_k)
        e_rated = u.q_heating_kw * (1.0 - lift / (u.carnot_fraction_heating * t_c))
    return UnitSide(
        cooling=cooling,
        q_kw=load_fraction * (u.q_cooling_kw if cooling else u.q_heating_kw),
        t_load_c=u.t_evap_cooling_c if cooling else u.t_cond_heating_c,
        carnot_fraction=u.carnot_fraction_cooling if cooling else u.carnot_fraction_heating,
        ua_kw_k=u.ua_cooling_kw_k if cooling else u.ua_heating_kw_k,
        water_fraction=u.water_side_fraction,
        design_flow_m3h=u.design_flow_m3h,
        w_max_kw=u.max_input_ratio * (u.rated_input_cooling_kw if cooling
                                      else u.rated_input_heating_kw),
        min_lift_k=u.min_lift_k,
        t_cond_max_c=u.t_cond_max_c,
        t_evap_min_c=u.t_evap_min_c,
        t_leaving_min_c=u.t_leaving_min_c,
        e_rated_kw=e_rated,
        t_evap_rated_c=u.t_evap_rated_heating_c,
        cap_slope=0.0 if cooling else u.capacity_slope_per_k,
    )


def approach_k_per_kw(s: UnitSide, flow_m3h, c_kw_k, m=SCALAR):
    """a = 1 / (eps_w C): refrigerant-to-inlet-water temperature difference per kW."""
    rel = m.maximum(flow_m3h / s.design_flow_m3h, 1e-6)
    ua = s.ua_kw_k / (s.water_fraction * rel ** -0.8 + 1.0 - s.water_fraction)
    eps = 1.0 - m.exp(-ua / c_kw_k)
    return 1.0 / (eps * c_kw_k)


def linear_power(s: UnitSide, a):
    """(alpha, beta, d): W = alpha + beta t_in when the load is met (no capacity limit).

    d <= 0 (cooling only, at a few % of design flow) means no finite condensing
    temperature rejects the heat: head pressure runs away.
    """
    q = s.q_kw
    if s.cooling:
        # W eta T_e = Q (t_in + a (Q + W) - T_e)
        d = s.carnot_fraction * (s.t_load_c + K0) - q * a
        return q * (a * q - s.t_load_c) / d, q / d, d
    # W eta T_c = Q (T_c - t_in + a (Q - W))
    d = s.carnot_fraction * (s.t_load_c + K0) + q * a
    return q * (s.t_load_c + a * q) / d, -q / d, d


def operate(s: UnitSide, t_in_c, a, c_kw_k, m=SCALAR):
    """(Q, W, heat into the loop (+) or out of it (-), refrigerant temperature, trip code)."""
    alpha, beta, d = linear_power(s, a)
    eta_t = s.carnot_fraction * (s.t_load_c + K0)
    w = m.maximum(alpha + beta * t_in_c, s.q_kw * s.min_lift_k / eta_t)
    runaway = d <= 0.0
    capped = (w > s.w_max_kw) | runaway
    w = m.minimum(w, s.w_max_kw)
    # Capacity limit: W = W_max, solve the same balance for Q (a quadratic, positive root).
    if s.cooling:
        b = t_in_c + a * w - s.t_load_c
    else:
        b = s.t_load_c - t_in_c - a * w
    q_capped = (-b + m.sqrt(b * b + 4.0 * a * w * eta_t)) / (2.0 * a)
    q = m.where(capped, q_capped, s.q_kw)
    if s.cooling:
        q_loop = q + w
        t_ref = t_in_c + a * q_loop
        trip = m.where(runaway | (t_ref > s.t_cond_max_c), TRIP_HEAD, TRIP_NONE)
    else:
        if s.cap_slope > 0.0:
            # Compressor capacity: E = E_r (1 + g (T_evap - T_r)) with T_evap = t_in - a E,
            # linear in t_in; where it is less than the load needs, Q and W follow from it.
            e = s.e_rated_kw * (1.0 + s.cap_slope * (t_in_c - s.t_evap_rated_c)) / (
                1.0 + s.e_rated_kw * s.cap_slope * a)
            e = m.maximum(e, 0.0)
            lift = m.maximum(s.t_load_c - (t_in_c - a * e), s.min_lift_k)
            room = eta_t - lift  # > 0 while the compressor's COP stays above 1
            w_e = e * lift / m.maximum(room, 1e-9)
            limited = (e < q - w) & (room > 0.0)
            q = m.where(limited, e + w_e, q)
            w = m.where(limited, w_e, w)
        q_loop = -(q - w)
        t_ref = t_in_c + a * q_loop
        t_leaving = t_in_c + q_loop / c_kw_k
        trip = m.where((t_ref < s.t_evap_min_c) | (t_leaving < s.t_leaving_min_c),
                       TRIP_FREEZE, TRIP_NONE)
    return q, w, q_loop, t_ref, trip
