# 4-20 mA transmitter read through a shunt on an ADC pin (docs/drivers.md,
# "4-20 mA current loop").
#
# One ADC sample per poll. Each sample is classed against the NAMUR NE43
# failure bands in ADC codes (thresholds worked out once in __init__, so a
# poll is integer work only); good samples feed a running mean, bad ones are
# left out of it. The float conversion happens only when `value` is read.
from array import array

from core import alarms
from core.config import ConfigError

OVERRANGE = ("clamp", "ne43")

PARAMS = (
    ("shunt_ohm", "ohm", 10.0, 1000.0, 150.0, "loop shunt resistor to ground"),
    ("vref_v", "V", 0.5, 5.5, 3.3, "ADC full-scale voltage (read_u16 = 65535)"),
    ("range_low", "", -1000000.0, 1000000.0, 0.0, "value at 4 mA (unit of the use, e.g. m3/h)"),
    ("range_high", "", -1000000.0, 1000000.0, 100.0, "value at 20 mA"),
    ("averaging", "samples", 1, 64, 10, "running mean over this many polls (10 x 10 ms: 50/60 Hz)"),
    ("fault_samples", "samples", 1, 1000, 5,
     "consecutive bad polls to raise a fault, good ones to clear it"),
    ("overrange", OVERRANGE, 0, 0, "clamp",
     "clamp: value held to range_low..range_high; ne43: linear over 3.8..20.5 mA"),
    ("adc_cal_4ma_code", "code", 0, 65535, 0,
     "read_u16 code measured at 4.000 mA (0: use shunt_ohm/vref_v)"),
    ("adc_cal_20ma_code", "code", 0, 65535, 0,
     "read_u16 code measured at 20.000 mA (0: use shunt_ohm/vref_v)"),
)

# NAMUR NE43: below 3.6 mA or above 21 mA signals a failure; 3.8..20.5 mA
# carries a measurement.
MA_FAIL_LOW = 3.6
MA_FAIL_HIGH = 21.0
MA_MEAS_LOW = 3.8
MA_MEAS_HIGH = 20.5
_CODE_MAX = 65535


class CurrentLoop:
    """Engineering value from a 4-20 mA loop: value (None when faulted), fault,
    ma (loop current), raw_code (last ADC code, for calibration).

    window_mv: the port's linear ADC window [low, high] in mV of a 3.3 V full
    scale (board profile "adc_linear_mv"); 3.6..21 mA must fall inside it."""

    def __init__(self, adc, params: dict, window_mv=None):
        self._adc = adc
        low = params["range_low"]
        high = params["range_high"]
        if not low < high:
            raise ConfigError("range_low", "range_low %s must be below range_high %s"
                              % (low, high))
        self._low = low
        self._span = high - low
        c4 = params["adc_cal_4ma_code"]
        c20 = params["adc_cal_20ma_code"]
        self._cal = bool(c4 or c20)
        if self._cal and not (c4 and c20 - c4 >= 1000):
            raise ConfigError("adc_cal_20ma_code", "calibration needs both codes, the 20 mA "
                              "one at least 1000 above the 4 mA one")
        self._c4 = c4
        self._cden = c20 - c4
        self._ma_per_code = params["vref_v"] * 1000.0 / (_CODE_MAX * params["shunt_ohm"])
        # Lowest code that is not a wire break, highest that is not a short.
        self.code_low = self._first_code_at_least(MA_FAIL_LOW)
        if self.code_low <= 0:
            raise ConfigError("adc_cal_4ma_code" if self._cal else "shunt_ohm",
                              "code 0 reads %.2f mA: a broken wire (< 3.6 mA) would go unseen"
                              % self.ma_of(0))
        self.code_high = self._first_code_above(MA_FAIL_HIGH) - 1
        if self.code_high >= _CODE_MAX:
            raise ConfigError("adc_cal_20ma_code" if self._cal else "shunt_ohm",
                              "full scale reads %.2f mA: a short (> 21 mA) would go unseen; "
                              "lower the shunt or raise vref_v" % self.ma_of(_CODE_MAX))
        if window_mv is not None:
            # NE43's fault bands must be measurable too: 3.6 mA and 21 mA both
            # inside the port's linear ADC window (a 3.3 V full scale).
            mv_lo = self.code_low * 3300.0 / _CODE_MAX
            mv_hi = (self.code_high + 1) * 3300.0 / _CODE_MAX
            if mv_lo < window_mv[0] or mv_hi > window_mv[1]:
                raise ConfigError("adc_cal_20ma_code" if self._cal else "shunt_ohm",
                                  "3.6..21 mA gives %.0f..%.0f mV at the ADC, outside its linear "
                                  "window %d..%d mV (docs/wiring.md)"
                                  % (mv_lo, mv_hi, window_mv[0], window_mv[1]))
        if params["overrange"] == "clamp":
            self._ma_min = 4.0
            self._ma_max = 20.0
        else:
            self._ma_min = MA_MEAS_LOW
            self._ma_max = MA_MEAS_HIGH
        self._fault_samples = params["fault_samples"]
        n = params["averaging"]
        self._ring = array("H", [0] * n)
        self._size = n
        self._pos = 0
        self._fill = 0
        self._sum = 0
        self._bad = 0
        self._good = 0
        self._pending = 0
        self.raw_code = 0
        self.fault = 0

    def ma_of(self, code: float) -> float:
        """Loop current in mA for an ADC code (or a mean of codes)."""
        if self._cal:
            # One rounding only, so a calibrated code at exactly 3.6 or 21 mA
            # compares exactly with the band edge.
            den = self._cden
            return (4 * den + 16 * (code - self._c4)) / den
        return code * self._ma_per_code

    def _first_code_at_least(self, ma: float) -> int:
        # ma_of is increasing, so bisect on it; codes outside 0..65535 mean
        # "never" / "always".
        lo, hi = 0, _CODE_MAX + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.ma_of(mid) >= ma:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _first_code_above(self, ma: float) -> int:
        lo, hi = 0, _CODE_MAX + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.ma_of(mid) > ma:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def poll(self, now_ms: int):
        code = self._adc.read_u16()
        self.raw_code = code
        bad = 0
        if code < self.code_low:
            bad = alarms.FLOW_LOOP_LOW
        elif code > self.code_high:
            bad = alarms.FLOW_LOOP_HIGH
        if bad:
            self._good = 0
            self._pending |= bad
            if self._bad < self._fault_samples:
                self._bad += 1
            if self._bad >= self._fault_samples:
                if not self.fault:
                    # The mean restarts from samples taken after the fault.
                    self._fill = 0
                    self._sum = 0
                    self._pos = 0
                self.fault |= self._pending
            return
        self._bad = 0
        self._pending = 0
        ring = self._ring
        pos = self._pos
        if self._fill == self._size:
            self._sum -= ring[pos]
        else:
            self._fill += 1
        ring[pos] = code
        self._sum += code
        pos += 1
        self._pos = 0 if pos == self._size else pos
        if self.fault:
            self._good += 1
            if self._good >= self._fault_samples:
                self._good = 0
                self.fault = 0

    @property
    def ma(self):
        """Mean loop current of the good samples in mA, None before the first one."""
        if not self._fill:
            return None
        return self.ma_of(self._sum / self._fill)

    @property
    def value(self):
        """The engineering value, or None while faulted or before the first good sample."""
        if self.fault or not self._fill:
            return None
        ma = self.ma_of(self._sum / self._fill)
        if ma < self._ma_min:
            ma = self._ma_min
        elif ma > self._ma_max:
            ma = self._ma_max
        return self._low + (ma - 4.0) * self._span / 16.0
