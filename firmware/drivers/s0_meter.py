# S0 pulse output of an electricity meter (DIN 43864 / IEC 62053-31): energy
# and average power of the heat pump unit or the circulation pump
# (docs/drivers.md, "S0 energy meter"). Measured like the pulse flow meter
# (drivers.pulse_flow.PulseRate): the period between pulses at low power,
# reciprocal counting over a window at high power.
from core import alarms
from core.config import ConfigError
from core.ticks import TICKS_PERIOD
from drivers.pulse_flow import EDGES, PulseRate, pin_trigger

PARAMS = (
    ("pulses_per_kwh", "pulses/kWh", 1.0, 100000.0, 1000.0, "meter constant (imp/kWh)"),
    ("edge", EDGES, 0, 0, "falling", "counted edge (S0 collector + pull-up: falling)"),
    ("glitch_ms", "ms", 0, 59, 25,
     "edges closer than this are noise (S0: pulses >= 30 ms, gaps >= 30 ms)"),
    ("zero_power_timeout_s", "s", 1.0, 300.0, 300.0, "no pulse this long: power is 0.0"),
    ("window_ms", "ms", 1000, 600000, 60000, "averaging window for the power at high load"),
    ("crossover_pulses", "pulses", 2, 100000, 10,
     "at least this many pulses in a window: window average, else pulse period"),
    ("max_power_w", "W", 1.0, 10000000.0, 30000.0,
     "a pulse interval implying more power than this is noise"),
)

# One pulse per us at 1 pulse/kWh is 3.6e6 J per 1e-6 s.
_W_PER_KWH_PER_US = 3.6e12


class S0Meter(PulseRate):
    """`value`: power in W (None while faulted); `energy_kwh`: energy since start.

    noise_bit: the alarm bit for pulses faster than max_power_w (the HAL passes
    METER_FAULT).
    """

    def __init__(self, pin, ticks_us, params: dict, trigger=None,
                 noise_bit: int = alarms.FLOW_PULSE_NOISE, hard_irq: bool = True):
        ppk = params["pulses_per_kwh"]
        scale = _W_PER_KWH_PER_US / ppk
        min_us = int(scale / params["max_power_w"])
        glitch_us = params["glitch_ms"] * 1000
        if glitch_us >= min_us:
            raise ConfigError("glitch_ms", "%d ms would reject real pulses below max_power_w "
                              "(period there %d us)" % (params["glitch_ms"], min_us))
        if trigger is None:
            trigger = pin_trigger(pin, params["edge"])
        self._ppk = ppk
        self._wraps = 0
        self._n_seen = 0
        super().__init__(pin, ticks_us, scale, glitch_us, min_us,
                         int(params["zero_power_timeout_s"] * 1000000), params["window_ms"],
                         params["crossover_pulses"], trigger, noise_bit, hard_irq)

    def poll(self, now_ms: int):
        PulseRate.poll(self, now_ms)
        n = self._sn
        if n < self._n_seen:  # the handler's count wrapped at 2**30
            self._wraps += 1
        self._n_seen = n

    @property
    def energy_kwh(self) -> float:
        """Energy counted since start, from every accepted pulse (as of the last poll)."""
        return (self._wraps * TICKS_PERIOD + self._n_seen) / self._ppk
