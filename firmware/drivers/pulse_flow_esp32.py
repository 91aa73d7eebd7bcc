# Pulse-output flow meter counted by the ESP32 pulse counter, esp32.PCNT
# (docs/drivers.md, "Pulse meter on the ESP32 pulse counter").
#
# The PCNT counts the edges in hardware behind its glitch filter: there is no
# interrupt per pulse (and none at all here), so it keeps up with pulse rates
# that would swamp a pin IRQ. poll() samples the count every 10 ms slice; the
# polls at which the count changed ("edge polls") bracket the pulses to within
# one slice. A measurement runs from one edge poll to the first edge poll at
# least window_ms later: the pulses between them over the time between them.
# Its error is under one pulse (high flow: the count changes at every poll) and
# under one slice of time (low flow), whichever is smaller. At low flow the
# span widens to the next pulse, so a slow meter gives a value on every pulse.
#
# esp32.PCNT.value() is the raw 16-bit hardware counter, which resets to 0 when
# it reaches `max` (MicroPython's machine.Counter extends it with an overflow
# IRQ; esp32.PCNT itself does not). pcnt_kwargs() sets max=32000, and poll()
# takes each step modulo 32000. That is unambiguous while fewer than 32000
# pulses arrive between two polls; the constructor checks that twice
# max_flow_m3h cannot do that within 200 ms (drivers/pcnt_setup.py), and a
# poll that comes later than the limit for this meter restarts the measurement.
#
# poll() does small-int work only (MicroPython floats live on the heap);
# `value` does the float division when it is read.
from core import alarms
from core.compat import const, unload
from core.ticks import ticks_diff

_MASK = const(0x3FFFFFFF)  # pulse totals wrap at 2**30: they stay small ints
_COUNT_PERIOD = const(32000)  # the PCNT `max`: the count runs 0 .. 31999, then 0
# esp32.PCNT.INCREMENT / IGNORE (MicroPython esp32 port: the values of the IDF
# edge actions, also exposed by the PCNT class; the constructor checks them).
_INCREMENT = const(1)
_IGNORE = const(0)
_FILTER_MAX = const(1023)  # PCNT filter: 10 bits of 80 MHz APB ticks
_NS_PER_TICK = 12.5
_SPAN_CAP = const(0x20000)  # ms; spans in the noise test are capped here (2**17)
_SLACK_MS = const(2)  # ms tick quantisation of both ends of a span, plus poll skew

EDGES = ("falling", "rising")

PARAMS = (
    ("k_factor_ppl", "pulses/L", 0.001, 100000.0, 1.0, "meter K-factor: pulses per litre"),
    ("edge", EDGES, 0, 0, "falling", "counted edge (open collector + pull-up: falling)"),
    ("glitch_us", "us", 0.0, 1000000.0, 10.0,
     "PCNT filter: shorter pulses are ignored (used as 0.0125..12.79 us)"),
    ("zero_flow_timeout_s", "s", 0.1, 300.0, 30.0, "no pulse this long: flow is 0.0"),
    ("window_ms", "ms", 100, 60000, 1000,
     "counting window; also the shortest measuring span at low flow"),
    ("crossover_pulses", "pulses", 2, 100000, 10,
     "at least this many pulses in a window: window counting, else a widened window"),
    ("max_flow_m3h", "m3/h", 0.001, 100000.0, 10.0,
     "a pulse count implying more than this is electrical noise"),
)


def filter_ticks(glitch_us: float) -> int:
    """The PCNT `filter` value for glitch_us: 80 MHz APB ticks, clamped to 1..1023."""
    ticks = int(glitch_us * 1000.0 / _NS_PER_TICK + 0.5)
    if ticks < 1:
        return 1
    if ticks > _FILTER_MAX:
        return _FILTER_MAX
    return ticks


def pcnt_kwargs(params: dict, pin) -> dict:
    """Keyword arguments for esp32.PCNT(unit, **kwargs) (channel 0, counting up).

    pin: the machine.Pin the meter is wired to (input, pull-up if open
    collector). Passing `max` also clears the count.
    """
    rising = params["edge"] == "rising"
    return {
        "pin": pin,
        "rising": _INCREMENT if rising else _IGNORE,
        "falling": _IGNORE if rising else _INCREMENT,
        "filter": filter_ticks(params["glitch_us"]),
        "max": _COUNT_PERIOD,
    }


class PcntRate:
    """A rate from pulses counted by an esp32.PCNT unit; `value` = scale x pulses
    per ms. The measuring core of PulseFlowPcnt and drivers.s0_pcnt.

    pcnt: an esp32.PCNT built with pcnt_kwargs(params, pin); the constructor
    starts it. rate: the most pulses per ms that are not noise (max_key names
    the parameter it comes from); params: glitch_us, window_ms, crossover_pulses.
    """

    def __init__(self, pcnt, params: dict, scale: float, rate: float, max_key: str,
                 timeout_s: float, noise_bit: int):
        from drivers import pcnt_setup  # checks used once: loaded and dropped

        try:
            gap, ticks, rate_q, shift = pcnt_setup.limits(pcnt, params, rate, max_key)
        finally:
            unload("drivers.pcnt_setup")
        self._scale = scale
        self._gap_limit_ms = gap
        self.filter_ticks = ticks
        self._rate_q = rate_q
        self._shift = shift
        self._timeout_ms = int(timeout_s * 1000.0 + 0.5)
        self._window_ms = params["window_ms"]
        self._crossover = params["crossover_pulses"]
        self._noise_bit = noise_bit

        self._pcnt = pcnt
        self._raw = 0  # last counter reading
        self._n = 0  # pulses since start, wrapping at 2**30
        self._started = False
        self._last_ms = 0  # previous poll
        self._now_ms = 0  # latest poll, for `value`
        self._edge_ms = 0  # latest count change
        self._active = False  # a count change since the last stop
        self._stopped = True  # the same state as after the zero-flow timeout
        self._ref_ok = False  # a measuring span starts at this edge poll
        self._ref_n = 0
        self._ref_ms = 0
        self._win_ms = 0  # start of the current window, and the count there
        self._n_win = 0
        self._win_ok = False  # no cut since the window started
        self._noisy = False  # noise seen since the window started
        self._high = False
        self._meas_n = 0  # the latest measurement: pulses over ms; 0: none
        self._meas_ms = 1
        self.fault = 0
        pcnt.start()
        self._raw = pcnt.value()

    def deinit(self):
        self._pcnt.deinit()

    @property
    def pulses(self) -> int:
        """Pulses counted since start, modulo 2**30 (volume in litres = pulses / K)."""
        return self._n

    @property
    def high_range(self) -> bool:
        """True while the flow comes from window counting, False: a widened window."""
        return self._high and not self._stopped

    def _allowed(self, span_ms: int) -> int:
        # The most pulses minus one that real flow up to max_flow_m3h can put
        # into span_ms (k pulses need k - 1 whole periods).
        span = span_ms + _SLACK_MS
        if span > _SPAN_CAP:
            span = _SPAN_CAP
        return (self._rate_q * span) >> self._shift

    def _cut(self):
        # Pulses so far may be noise or of uncertain number: no measuring span
        # or window reaches across this point.
        self._ref_ok = False
        self._win_ok = False
        self._high = False
        self._meas_n = 0

    def _noise(self):
        self.fault = self._noise_bit
        self._noisy = True
        self._cut()

    def _close(self, n: int, t: int):
        self._meas_n = (n - self._ref_n) & _MASK
        self._meas_ms = ticks_diff(t, self._ref_ms)
        self._ref_n = n
        self._ref_ms = t
        self._stopped = False

    def _edge(self, now_ms: int):
        if not self._ref_ok:
            # The pulses of this poll came before it: the span starts here.
            self._ref_ok = True
            self._ref_n = self._n
            self._ref_ms = now_ms
        elif ticks_diff(now_ms, self._ref_ms) >= self._window_ms:
            self._close(self._n, now_ms)

    def _window(self, now_ms: int):
        span = ticks_diff(now_ms, self._win_ms)
        dn = (self._n - self._n_win) & _MASK
        self._win_ms = now_ms
        self._n_win = self._n
        if dn - 1 > self._allowed(span):
            self._noise()
        elif self.fault and not self._noisy:
            self.fault = 0
        self._noisy = False
        self._high = self._win_ok and dn >= self._crossover
        self._win_ok = True

    def poll(self, now_ms: int):
        raw = self._pcnt.value()
        d = (raw - self._raw) % _COUNT_PERIOD
        self._raw = raw
        self._now_ms = now_ms
        if not self._started:
            # Pulses since the constructor count towards `pulses`, but with no
            # poll before them they time nothing.
            self._started = True
            self._n = (self._n + d) & _MASK
            self._last_ms = now_ms
            self._win_ms = now_ms
            self._n_win = self._n
            return
        gap = ticks_diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        late = gap < 0 or gap > self._gap_limit_ms
        if d:
            self._n = (self._n + d) & _MASK
            self._edge_ms = now_ms
            self._active = True
            if late:
                self._cut()
            elif d - 1 > self._allowed(gap):
                self._noise()
            else:
                self._edge(now_ms)
        elif late:
            self._cut()
        if self._active and ticks_diff(now_ms, self._edge_ms) >= self._timeout_ms:
            self._active = False
            self._stopped = True
            self._cut()
        if ticks_diff(now_ms, self._win_ms) >= self._window_ms:
            self._window(now_ms)

    @property
    def value(self):
        """The rate (PulseFlowPcnt: m3/h); 0.0 after the zero-rate timeout; None
        while faulted or while no clean measurement is known (after noise or a
        late poll)."""
        if self.fault:
            return None
        if self._stopped:
            return 0.0
        n = self._meas_n
        if n == 0:
            return None
        span = self._meas_ms
        if not self._high:
            # No pulse since the last edge poll: the current period is at
            # least that long (less 1 ms of tick quantisation), so the flow is
            # at most one pulse per that time; it falls towards the timeout.
            elapsed = ticks_diff(self._now_ms, self._edge_ms) - 1
            if elapsed * n > span:
                return self._scale / elapsed
        return n * self._scale / span


class PulseFlowPcnt(PcntRate):
    """Flow in m3/h from a pulse-output meter on an esp32.PCNT unit.

    pcnt: an esp32.PCNT built with pcnt_kwargs(params, pin); the constructor
    starts it. params: validated against PARAMS.
    """

    def __init__(self, pcnt, params: dict):
        k = params["k_factor_ppl"]
        # m3/h for one pulse per ms; pulses per ms at max_flow_m3h.
        PcntRate.__init__(self, pcnt, params, 3600.0 / k, params["max_flow_m3h"] * k / 3600.0,
                          "max_flow_m3h", params["zero_flow_timeout_s"],
                          alarms.FLOW_PULSE_NOISE)
