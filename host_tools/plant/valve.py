"""The throttling valve: Kv from Kvs and the inherent characteristic; head loss (L/Kv)^2 bar.

Linear: Kv = x Kvs. Equal percentage: Kv = Kvs R^(x - 1), R the rangeability
(IEC 60534-1 conventions; ASHRAE Handbook, HVAC Systems and Equipment, valves).
The installed characteristic and the authority then follow from the rest of
the loop, which the plant computes (`Plant.valve_authority`).
"""

from math import log

HEAD_M_PER_BAR = 10.197  # 1 bar in metres of water


def kv(a, opening: float) -> float:
    x = min(max(opening, 0.0), 1.0)
    if x <= 0.0:
        return 0.0  # shut tight (a real equal-percentage plug seats below its R^-1 point)
    if a.valve_characteristic == "linear":
        return x * a.valve_kvs_m3h
    return a.valve_kvs_m3h * a.valve_rangeability ** (x - 1.0)


def opening_for_kv(a, kv_m3h: float) -> float:
    rel = kv_m3h / a.valve_kvs_m3h
    if a.valve_characteristic == "linear":
        return min(max(rel, 0.0), 1.0)
    if rel <= 0.0:
        return 0.0
    return min(max(1.0 + log(rel) / log(a.valve_rangeability), 0.0), 1.0)


def k_valve(kv_m3h: float) -> float:
    """Head loss per flow squared, m/(m3/h)^2; infinite when shut."""
    if kv_m3h <= 0.0:
        return float("inf")
    return HEAD_M_PER_BAR / (kv_m3h * kv_m3h)


def head_coeff(a, opening: float) -> float:
    return k_valve(kv(a, opening))
