# S0 energy meter counted by an ESP32 pulse counter (docs/drivers.md, "S0 energy
# meter"). ESP32 pin interrupts are soft: a scheduled handler runs late and is
# dropped when the schedule queue is full, so drivers.s0_meter cannot run
# there. The PCNT counts every pulse in hardware; the measurement is the one of
# drivers.pulse_flow_esp32 (edge polls, window counting), in watts.
from core import alarms
from core.ticks import TICKS_PERIOD
from drivers.pulse_flow_esp32 import EDGES, PcntRate

PARAMS = (
    ("pulses_per_kwh", "pulses/kWh", 1.0, 100000.0, 1000.0, "meter constant (imp/kWh)"),
    ("edge", EDGES, 0, 0, "falling", "counted edge (S0 collector + pull-up: falling)"),
    ("glitch_us", "us", 0.0, 1000000.0, 12.0,
     "PCNT filter: shorter pulses are ignored (used as 0.0125..12.79 us)"),
    ("zero_power_timeout_s", "s", 1.0, 300.0, 300.0, "no pulse this long: power is 0.0"),
    ("window_ms", "ms", 1000, 60000, 10000,
     "counting window; also the shortest measuring span at low load"),
    ("crossover_pulses", "pulses", 2, 100000, 10,
     "at least this many pulses in a window: window average, else a widened window"),
    ("max_power_w", "W", 1.0, 10000000.0, 30000.0,
     "a pulse count implying more power than this is noise"),
)

# One pulse per ms at 1 pulse/kWh is 3.6e6 J per 1e-3 s.
_W_PER_KWH_PER_MS = 3.6e9


class S0MeterPcnt(PcntRate):
    """`value`: power in W (None while faulted); `energy_kwh`: energy since start.

    pcnt: an esp32.PCNT built with pulse_flow_esp32.pcnt_kwargs(params, pin).
    noise_bit: the alarm bit for pulses faster than max_power_w (the HAL passes
    METER_FAULT).
    """

    def __init__(self, pcnt, params: dict, noise_bit: int = alarms.METER_FAULT):
        ppk = params["pulses_per_kwh"]
        self._ppk = ppk
        self._wraps = 0
        self._n_seen = 0
        PcntRate.__init__(self, pcnt, params, _W_PER_KWH_PER_MS / ppk,
                          params["max_power_w"] * ppk / _W_PER_KWH_PER_MS, "max_power_w",
                          params["zero_power_timeout_s"], noise_bit)

    def poll(self, now_ms: int):
        PcntRate.poll(self, now_ms)
        n = self._n
        if n < self._n_seen:  # the pulse total wrapped at 2**30
            self._wraps += 1
        self._n_seen = n

    @property
    def energy_kwh(self) -> float:
        """Energy counted since start, from every pulse (as of the last poll)."""
        return (self._wraps * TICKS_PERIOD + self._n_seen) / self._ppk
