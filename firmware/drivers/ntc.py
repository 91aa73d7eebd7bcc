# NTC thermistor in a resistor divider on an ADC input. The maths is
# ratiometric: the divider is fed from the rail the ADC uses as its
# reference, so the code fraction gives the resistance ratio whatever that
# rail's exact voltage. One ADC read per poll goes into an integer sum; every
# `samples` polls the mean becomes a temperature, so polls allocate nothing
# and the float maths runs once per window.
import math

from core import alarms
from core.compat import const
from core.config import ConfigError

DIVIDERS = ("ntc_low", "ntc_high")
MODELS = ("beta", "steinhart")

PARAMS = (
    ("divider", DIVIDERS, 0, 0, "ntc_low",
     "ntc_low: NTC from the ADC input to GND, r_fixed to the supply; ntc_high: swapped"),
    ("r_fixed_ohm", "ohm", 100.0, 1000000.0, 10000.0, "divider fixed resistor"),
    ("model", MODELS, 0, 0, "beta", "resistance to temperature: beta or Steinhart-Hart"),
    ("r25_ohm", "ohm", 100.0, 1000000.0, 10000.0, "beta model: NTC resistance at 25 degC"),
    ("beta_k", "K", 1000.0, 10000.0, 3950.0, "beta model: B constant (datasheet B25/50)"),
    # Defaults: fitted to the 0/25/50 degC points of a 10k B3950 probe's R-T
    # table (31.77k, 10.00k, 3.592k; Adafruit 103_3950 lookup table).
    ("sh_a", "1/K", -0.01, 0.01, 1.282926e-3, "Steinhart-Hart A"),
    ("sh_b", "1/K", -0.01, 0.01, 2.078532e-4, "Steinhart-Hart B (per ln ohm)"),
    ("sh_c", "1/K", -1e-5, 1e-5, 2.005479e-7, "Steinhart-Hart C (per ln^3 ohm)"),
    ("samples", "reads", 1, 100, 10, "ADC reads averaged per value, one read per poll"),
    ("rail_low_frac", "", 0.001, 0.2, 0.01, "mean below this fraction of full scale: fault"),
    ("rail_high_frac", "", 0.8, 0.999, 0.99, "mean above this fraction of full scale: fault"),
    ("offset_c", "degC", -5.0, 5.0, 0.0, "calibration offset added to the reading"),
    ("t_min_c", "degC", -55.0, 50.0, -10.0, "measuring range low end (checked against the ADC)"),
    ("t_max_c", "degC", 0.0, 150.0, 70.0, "measuring range high end (checked against the ADC)"),
)

_FULL = const(65535)
_KELVIN = 273.15
_T25_K = 298.15


class NTC:
    """value: degC (float) or None; fault: T_OPEN / T_SHORT (0 when healthy).

    window_mv: the port's linear ADC window [low, high] in mV of a 3.3 V full
    scale (board profile "adc_linear_mv"); t_min_c..t_max_c must fall inside it.
    """

    def __init__(self, adc, params: dict, window_mv=None):
        self._adc = adc
        self._low_side = params["divider"] == "ntc_low"
        self._r_fixed = params["r_fixed_ohm"]
        self._beta = params["model"] == "beta"
        self._r25 = params["r25_ohm"]
        self._inv_b = 1.0 / params["beta_k"]
        self._a = params["sh_a"]
        self._b = params["sh_b"]
        self._c = params["sh_c"]
        self._samples = params["samples"]
        self._offset = params["offset_c"]
        low = params["rail_low_frac"]
        high = params["rail_high_frac"]
        # Integer thresholds, so a poll compares ints: code < lo_code is
        # exactly code / FULL < low, and code > hi_code is code / FULL > high.
        self._lo_code = math.ceil(low * _FULL)
        self._hi_code = math.floor(high * _FULL)
        # Near the supply rail the NTC is open in the low-side position and
        # shorted in the high-side one; near ground the other way round.
        if self._low_side:
            self._hi_bit, self._lo_bit = alarms.T_OPEN, alarms.T_SHORT
        else:
            self._hi_bit, self._lo_bit = alarms.T_SHORT, alarms.T_OPEN
        self._sum = 0
        self._n = 0
        self._n_lo = 0
        self._n_hi = 0
        self.value = None
        self.fault = 0
        self._check_model(low, high)
        if window_mv is not None:
            self._check_range(params["t_min_c"], params["t_max_c"], low, high, window_mv)

    def _check_range(self, t_min: float, t_max: float, low: float, high: float, window_mv):
        # The divider's volts over the measuring range must stay where the ADC
        # is linear (ESP32 at 11 dB: about 150..2450 mV), freeze protection near
        # 0 degC included, and inside the rail fault thresholds.
        if not t_min < t_max:
            raise ConfigError("t_min_c", "t_min_c %s must be below t_max_c %s" % (t_min, t_max))
        r_a = self.resistance(low)
        r_b = self.resistance(high)
        r_lo, r_hi = (r_a, r_b) if r_a < r_b else (r_b, r_a)
        # Finite between the thresholds: _check_model has passed.
        t_cold = self.temperature(r_hi)
        t_hot = self.temperature(r_lo)
        fracs = []
        for t in (t_min, t_max):
            if t_cold is None or t_hot is None or not t_cold <= t <= t_hot:
                raise ConfigError("r_fixed_ohm", "%s degC lies beyond the rail fault thresholds "
                                  "with r_fixed_ohm %s" % (t, self._r_fixed))
            a, b = r_lo, r_hi  # temperature falls with resistance: bisect
            for _ in range(60):
                mid = (a * b) ** 0.5
                t_mid = self.temperature(mid)
                if t_mid is not None and t_mid > t:
                    a = mid
                else:
                    b = mid
            r = (a * b) ** 0.5
            fracs.append(r / (r + self._r_fixed) if self._low_side else
                         self._r_fixed / (r + self._r_fixed))
        mv_a = fracs[0] * 3300.0
        mv_b = fracs[1] * 3300.0
        v_lo, v_hi = (mv_a, mv_b) if mv_a < mv_b else (mv_b, mv_a)
        if v_lo < window_mv[0] or v_hi > window_mv[1]:
            raise ConfigError("r_fixed_ohm", "%s..%s degC gives %.0f..%.0f mV at the ADC, outside "
                              "its linear window %d..%d mV: change r_fixed_ohm or the range "
                              "(docs/wiring.md)" % (t_min, t_max, v_lo, v_hi, window_mv[0],
                                                    window_mv[1]))

    def _check_model(self, low: float, high: float):
        # The model must give a finite temperature, falling with resistance,
        # everywhere between the fault thresholds; otherwise readings inside
        # the valid band would be nonsense or raise.
        key = "beta_k" if self._beta else "sh_b"
        r_a = self.resistance(low)
        r_b = self.resistance(high)
        r_lo, r_hi = (r_a, r_b) if r_a < r_b else (r_b, r_a)
        temps = []
        steps = 16
        for i in range(steps + 1):
            r = r_lo * (r_hi / r_lo) ** (i / steps)
            t = self.temperature(r)
            if t is None:
                raise ConfigError(key, "the model gives no temperature at %.4g ohm, inside "
                                  "the valid ADC band" % r)
            temps.append(t)
        for i in range(steps):
            if not temps[i] > temps[i + 1]:
                raise ConfigError(key, "temperature does not fall with resistance "
                                  "between %.4g and %.4g ohm" % (r_lo, r_hi))

    def resistance(self, frac: float) -> float:
        """NTC resistance for an ADC code fraction 0 < frac < 1 (ratiometric)."""
        if self._low_side:
            return self._r_fixed * frac / (1.0 - frac)
        return self._r_fixed * (1.0 - frac) / frac

    def temperature(self, r_ohm: float):
        """degC for an NTC resistance (without offset), or None if the model
        has no temperature there."""
        if self._beta:
            inv = 1.0 / _T25_K + math.log(r_ohm / self._r25) * self._inv_b
        else:
            ln_r = math.log(r_ohm)
            inv = self._a + ln_r * (self._b + self._c * ln_r * ln_r)
        if not inv > 0.0 or not inv < 1.0:  # 1 K..infinity; also rejects nan
            return None
        return 1.0 / inv - _KELVIN

    def poll(self, now_ms: int):
        code = self._adc.read_u16()
        if code < self._lo_code:
            self._n_lo += 1
        elif code > self._hi_code:
            self._n_hi += 1
        self._sum += code
        self._n += 1
        if self._n >= self._samples:
            self._window()

    def _window(self):
        # One rail read in a window faults it: a contact that opens for a
        # moment is a wiring defect, and its reads would bias the mean.
        if self._n_lo or self._n_hi:
            self.fault = self._hi_bit if self._n_hi >= self._n_lo else self._lo_bit
            self.value = None
        else:
            t = self.temperature(self.resistance(self._sum / (self._n * _FULL)))
            if t is None:
                self.value = None  # unreachable once _check_model passed
            else:
                self.value = t + self._offset
                self.fault = 0
        self._sum = 0
        self._n = 0
        self._n_lo = 0
        self._n_hi = 0
