# Alarm bits. Each fault has one bit, a short name and a code shown on the
# console ("A03 T_STUCK"); docs/architecture.md lists what raises each and the
# safe state it leads to. Bits stay below 1 << 29 so masks remain small ints
# on 32-bit MicroPython ports (no heap allocation when they change).
from core.compat import const

T_MISSING = const(1 << 0)
T_RANGE = const(1 << 1)
T_STUCK = const(1 << 2)
T_RATE = const(1 << 3)
FLOW_MISSING = const(1 << 4)
FLOW_RANGE = const(1 << 5)
FLOW_STUCK = const(1 << 6)
FLOW_RATE = const(1 << 7)
LOW_FLOW = const(1 << 8)
SEASON_UNKNOWN = const(1 << 9)
CONFIG_FALLBACK = const(1 << 10)
LOOP_OVERRUN = const(1 << 11)
INTERNAL = const(1 << 12)
# Bits 16..28 are reserved for driver faults (sensor wiring, actuator, VFD link).

T_FAULTS = const(T_MISSING | T_RANGE | T_STUCK | T_RATE)
FLOW_FAULTS = const(FLOW_MISSING | FLOW_RANGE | FLOW_STUCK | FLOW_RATE)

NAMES = (
    (T_MISSING, "T_MISSING"),
    (T_RANGE, "T_RANGE"),
    (T_STUCK, "T_STUCK"),
    (T_RATE, "T_RATE"),
    (FLOW_MISSING, "FLOW_MISSING"),
    (FLOW_RANGE, "FLOW_RANGE"),
    (FLOW_STUCK, "FLOW_STUCK"),
    (FLOW_RATE, "FLOW_RATE"),
    (LOW_FLOW, "LOW_FLOW"),
    (SEASON_UNKNOWN, "SEASON_UNKNOWN"),
    (CONFIG_FALLBACK, "CONFIG_FALLBACK"),
    (LOOP_OVERRUN, "LOOP_OVERRUN"),
    (INTERNAL, "INTERNAL"),
)


def names(mask: int) -> list:
    """Alarm names set in mask, for display; not for the hot path."""
    return [name for bit, name in NAMES if mask & bit]


def code(bit: int) -> str:
    n = 0
    while bit > 1:
        bit >>= 1
        n += 1
    return "A%02d" % (n + 1)
