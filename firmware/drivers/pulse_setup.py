# The pin-IRQ pulse drivers' construction checks (drivers/pulse_flow.py): code
# a running board never calls again, loaded by the constructors and dropped
# (docs/performance.md, "Memory").
from core.config import ConfigError

# 1 pulse/us at 1 pulse/L is 1e6 L/s = 3.6e6 m3/h.
_M3H_PER_LPUS = 3.6e6


def no_hard_irq():
    # A soft (scheduled) handler runs late by any blocking call, so its
    # timestamps and glitch test are wrong, and a full schedule queue
    # drops it: pulses are lost. Count in hardware instead (the PCNT).
    raise ConfigError("driver", "needs hard pin interrupts, which this port does not "
                      "have: use the PCNT counting driver")


def flow_limits(params: dict) -> tuple:
    """(m3/h x us per pulse, the shortest real pulse interval in us) for
    PulseFlow's params; ConfigError if the meter's limits cannot work."""
    scale = _M3H_PER_LPUS / params["k_factor_ppl"]  # m3/h * us per pulse
    # Intervals shorter than the period at max_flow_m3h are noise.
    min_us = int(scale / params["max_flow_m3h"])
    if min_us < 1:
        raise ConfigError("max_flow_m3h", "implies pulses faster than 1 MHz for this "
                          "k_factor_ppl")
    glitch_us = params["glitch_us"]
    if glitch_us >= min_us:
        raise ConfigError("glitch_us", "%d us would reject real pulses below max_flow_m3h "
                          "(period there %d us)" % (glitch_us, min_us))
    return scale, min_us
