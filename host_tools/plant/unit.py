"""The heat pump unit on the loop: compressor power from a Carnot fraction.

Cooling: the loop is the condenser water. The refrigerant condenses at
T_cond = t_in + Q_rej / (eps_w C): the worse the water side (low flow, small
C), the higher the head pressure. Heating: the loop feeds the evaporator,
T_evap = t_in - Q_ext / (eps_w C). COP = Carnot fraction x Carnot COP between
the two refrigerant temperatures; the load-side temperature is fixed.
"""

from dataclasses import dataclass

from host_tools.plant.physics import effectiveness

K = 273.15


@dataclass
class UnitPoint:
    """The unit's operating point; `trip` says whether its protection would stop it there
    (the values are those of the running unit, so a caller can iterate smoothly)."""

    q_kw: float  # output delivered (cooling or heating)
    w_kw: float  # unit electric input (compressor + aux)
    q_loop_kw: float  # heat into the loop (+, cooling) or out of it (-, heating)
    t_refrigerant_c: float  # condensing (cooling) or evaporating (heating) temperature
    trip: str | None


def cooling(u, t_in_c: float, c_kw_k: float, q_rej_guess: float | None = None) -> UnitPoint:
    eps = effectiveness(u.ua_water_cooling_kw_k, c_kw_k)
    q = u.q_cooling_kw
    q_rej = q_rej_guess if q_rej_guess is not None else q * 1.25
    t_cond = w_comp = 0.0
    for _ in range(30):
        t_cond = t_in_c + q_rej / (eps * c_kw_k)
        lift = max(t_cond - u.t_evap_cooling_c, 1.0)
        cop = u.carnot_fraction_cooling * (u.t_evap_cooling_c + K) / lift
        w_comp = q / cop
        if w_comp > u.w_max_kw:  # capacity limit: the compressor cannot do more
            w_comp = u.w_max_kw
            q = w_comp * cop
        new = q + w_comp
        if abs(new - q_rej) < 1e-9:
            break
        q_rej = new
    trip = "head_pressure" if t_cond > u.t_cond_max_c else None
    return UnitPoint(q, w_comp + u.w_aux_kw, q + w_comp, t_cond, trip)


def heating(u, t_in_c: float, c_kw_k: float) -> UnitPoint:
    eps = effectiveness(u.ua_water_heating_kw_k, c_kw_k)
    q = u.q_heating_kw
    w_comp = q / 4.0
    t_evap = 0.0
    for _ in range(30):
        q_ext = q - w_comp
        t_evap = t_in_c - q_ext / (eps * c_kw_k)
        lift = max(u.t_cond_heating_c - t_evap, 1.0)
        cop = u.carnot_fraction_heating * (u.t_cond_heating_c + K) / lift
        new = q / cop
        if new > u.w_max_kw:
            new = u.w_max_kw
            q = new * cop
        if abs(new - w_comp) < 1e-9:
            w_comp = new
            break
        w_comp = new
    q_ext = q - w_comp
    t_leaving = t_in_c - q_ext / c_kw_k
    trip = "freeze" if t_evap < u.t_evap_min_c or t_leaving < u.t_leaving_min_c else None
    return UnitPoint(q, w_comp + u.w_aux_kw, -q_ext, t_evap, trip)
