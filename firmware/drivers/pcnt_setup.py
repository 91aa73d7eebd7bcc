# PcntRate's construction checks and fixed-point limits
# (drivers/pulse_flow_esp32.py): code a running board never calls again,
# loaded by the constructor and dropped (docs/performance.md, "Memory").
from core.compat import const
from core.config import ConfigError
from drivers.pulse_flow_esp32 import _NS_PER_TICK, filter_ticks

# The same values as in drivers/pulse_flow_esp32.py (a const() there is not a
# module attribute on MicroPython; tests/drivers/test_driver_setup.py checks).
_COUNT_PERIOD = const(32000)
_INCREMENT = const(1)
_IGNORE = const(0)
_SPAN_CAP = const(0x20000)
_MIN_GAP_MS = const(200)  # the counter must not wrap within this at 2 x max flow
_MAX_GAP_MS = const(60000)
_RATE_BITS = const(12)  # fixed-point max rate < 2**12: rate * span < 2**29


def limits(pcnt, params: dict, rate: float, max_key: str) -> tuple:
    """(gap limit in ms, PCNT filter ticks, fixed-point max rate, its shift) for
    a PcntRate; ConfigError if the counter or the parameters cannot work."""
    cls = type(pcnt)
    if getattr(cls, "INCREMENT", _INCREMENT) != _INCREMENT or \
            getattr(cls, "IGNORE", _IGNORE) != _IGNORE:
        raise ConfigError("edge", "esp32.PCNT edge constants differ from pcnt_kwargs()")
    # Within this gap even noise at twice max_flow_m3h cannot turn the
    # counter once; after it a step cannot be told from a step plus turns.
    gap = (_COUNT_PERIOD // 2) / rate
    if gap < _MIN_GAP_MS:
        raise ConfigError(max_key, "implies %d pulses/s; at most %d pulses/s, so "
                          "that the PCNT cannot wrap between two polls"
                          % (int(rate * 1000.0), _COUNT_PERIOD // 2 * 1000 // _MIN_GAP_MS))
    ticks = filter_ticks(params["glitch_us"])
    period_ns = 1000000.0 / rate
    if 2 * ticks * _NS_PER_TICK >= period_ns:
        raise ConfigError("glitch_us", "a %.2f us PCNT filter would reject real pulses "
                          "below %s (period there %.2f us; its high and low "
                          "phases must both outlast the filter)"
                          % (ticks * _NS_PER_TICK / 1000.0, max_key, period_ns / 1000.0))
    if params["window_ms"] > _SPAN_CAP // 2:
        raise ConfigError("window_ms", "at most %d ms with a pulse counter" % (_SPAN_CAP // 2))
    # Max rate as a fixed-point small int, rounded up: noise is n - 1 >
    # (rate_q * span) >> shift, with no float in poll().
    shift = 24
    while shift > 0 and rate * (1 << shift) >= (1 << _RATE_BITS) - 1:
        shift -= 1
    scaled = rate * (1 << shift)
    rate_q = int(scaled)
    if scaled > rate_q:
        rate_q += 1
    return int(gap) if gap < _MAX_GAP_MS else _MAX_GAP_MS, ticks, rate_q, shift
