# Wrap-safe millisecond tick arithmetic with the semantics of MicroPython's
# time.ticks_add/ticks_diff, so the core computes the same answers on the
# host (where it is fed simulated time) and on a board (fed time.ticks_ms()).
from core.compat import const

TICKS_PERIOD = 1 << 30
_TICKS_MAX = const(0x3FFFFFFF)
_TICKS_HALF = const(0x20000000)


def ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(end: int, start: int) -> int:
    """Signed end - start in [-PERIOD/2, PERIOD/2), correct across the wrap."""
    return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF
