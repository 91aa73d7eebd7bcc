# Pulse-output flow meter on a pin IRQ (docs/drivers.md, "Pulse flow meter").
#
# The IRQ handler only timestamps accepted edges and bumps counters; poll()
# turns them into a flow. Low flow is measured from the period between the
# last two pulses (a slow meter still gives a fresh value on every pulse);
# high flow by reciprocal counting over a window: pulses between the last edge
# before the window and the last edge in it, divided by the time between those
# two edges, which has no +-1 pulse quantisation error.
#
# Concurrency: every attribute the handler writes is written only by the
# handler, and every attribute poll() writes is only read by it (the re-arm
# request is a counter the handler compares), so no IRQ masking is needed.
from core import alarms
from core.compat import const, unload
from core.ticks import ticks_diff

_MASK = const(0x3FFFFFFF)  # MicroPython ticks period 2**30: tick values fit a small int

EDGES = ("falling", "rising")

PARAMS = (
    ("k_factor_ppl", "pulses/L", 0.001, 100000.0, 1.0, "meter K-factor: pulses per litre"),
    ("edge", EDGES, 0, 0, "falling", "counted edge (open collector + pull-up: falling)"),
    ("glitch_us", "us", 0, 1000000, 2000,
     "edges closer than this to the last accepted one are bounce/noise"),
    ("zero_flow_timeout_s", "s", 0.1, 300.0, 30.0, "no pulse this long: flow is 0.0"),
    ("window_ms", "ms", 100, 60000, 1000, "counting window at high flow"),
    ("crossover_pulses", "pulses", 2, 100000, 10,
     "at least this many pulses in a window: window counting, else period"),
    ("max_flow_m3h", "m3/h", 0.001, 100000.0, 10.0,
     "a pulse interval implying more than this is electrical noise"),
)


class PulseRate:
    """Rate of a pulse train on a pin IRQ; `value` = scale / (us per pulse).

    The measuring core shared by PulseFlow and drivers.s0_meter: intervals
    shorter than glitch_us are dropped, intervals shorter than min_us raise
    noise_bit, no pulse for timeout_us reads 0.0.
    """

    def __init__(self, pin, ticks_us, scale: float, glitch_us: int, min_us: int,
                 timeout_us: int, window_ms: int, crossover: int, trigger, noise_bit: int,
                 hard_irq: bool = True):
        if not hard_irq:  # a soft handler loses pulses (drivers/pulse_setup.py)
            from drivers import pulse_setup

            try:
                pulse_setup.no_hard_irq()
            finally:
                unload("drivers.pulse_setup")
        self._pin = pin
        self._ticks_us = ticks_us
        self._scale = scale
        self._glitch_us = glitch_us
        self._min_us = min_us
        self._timeout_us = timeout_us
        self._window_ms = window_ms
        self._crossover = crossover
        self._noise_bit = noise_bit

        # ---- written by the IRQ handler only ----
        self._n = 0  # accepted edges, wrapping at 2**30
        self._t = 0  # ticks_us of the last accepted edge
        self._dt = 0  # us between the last two accepted edges; 0: unknown
        self._fast = 0  # accepted intervals shorter than _min_us
        self._glitch = 0  # rejected edges
        self._rearm_seen = 0
        # ---- written by poll() only ----
        self._rearm = 1  # differs from _rearm_seen: the next edge starts a new train
        self._fast_seen = 0
        self._n_ref = 0  # count where the pulse history was last cut (stop, noise)
        self._stopped = True  # no pulses seen: the same state as after the timeout
        self._started = False
        self._win_ms = 0
        self._clean_ms = 0
        self._n_win = 0
        self._t_win = 0
        self._win_ok = False
        self._high = False
        self._high_n = 0
        self._high_us = 1
        # consistent snapshot of the handler state, for `value`
        self._sn = 0
        self._st = 0
        self._sdt = 0
        self._now_us = 0
        self.fault = 0
        self._handler = self._edge  # one bound method, made here, not in the IRQ
        pin.irq(handler=self._handler, trigger=trigger, hard=True)

    def deinit(self):
        self._pin.irq(handler=None)

    def _edge(self, _pin):
        # Hard IRQ: no heap allocation. Only small-int arithmetic: tick values
        # are below 2**30, so their difference and the masked result stay
        # small ints (core.ticks.ticks_diff adds 2**29 first, which can
        # overflow into a heap-allocated long on 32-bit ports).
        now = self._ticks_us()
        if self._rearm_seen != self._rearm:
            self._rearm_seen = self._rearm
            self._dt = 0
        else:
            d = (now - self._t) & _MASK
            if d < self._glitch_us:
                g = self._glitch
                self._glitch = 0 if g == _MASK else g + 1
                return
            if d < self._min_us:
                f = self._fast
                self._fast = 0 if f == _MASK else f + 1
            self._dt = d
        self._t = now
        n = self._n
        self._n = 0 if n == _MASK else n + 1  # written last: poll() re-reads it

    @property
    def pulses(self) -> int:
        """Accepted pulses since start, modulo 2**30 (volume = pulses / K)."""
        return self._n

    @property
    def glitches(self) -> int:
        """Edges rejected by glitch_us, modulo 2**30 (diagnostics)."""
        return self._glitch

    @property
    def high_range(self) -> bool:
        """True while the flow comes from window counting, False: pulse period."""
        return self._high and not self._stopped

    def _cut(self, n: int):
        # Pulses up to n may be noise or belong to a train that stopped: no
        # period or window spans them.
        self._n_ref = n
        self._win_ok = False
        self._high = False

    def poll(self, now_ms: int):
        # An edge between the reads changes _n (written last by the handler).
        n = self._n
        t = self._t
        dt = self._dt
        for _ in range(3):
            n2 = self._n
            if n2 == n:
                break
            n = n2
            t = self._t
            dt = self._dt
        fast = self._fast
        now_us = self._ticks_us()
        self._sn = n
        self._st = t
        self._sdt = dt
        self._now_us = now_us
        if not self._started:
            self._started = True
            self._win_ms = now_ms
            self._clean_ms = now_ms

        if fast != self._fast_seen:
            self._fast_seen = fast
            self.fault = self._noise_bit
            self._clean_ms = now_ms
            self._cut(n)
        elif self.fault and ticks_diff(now_ms, self._clean_ms) >= self._window_ms:
            self.fault = 0

        fresh = (n - self._n_ref) & _MASK  # pulses since the last cut
        if (fresh or not self._stopped) and ticks_diff(now_us, t) >= self._timeout_us:
            self._stopped = True
            self._cut(n)
            fresh = 0
            # The next edge must not be timed against this old one (a long
            # stop would alias the 2**30 us tick period).
            self._rearm = (self._rearm + 1) & _MASK
        elif self._stopped and fresh >= 2 and dt > 0:
            self._stopped = False

        if ticks_diff(now_ms, self._win_ms) >= self._window_ms:
            self._win_ms = now_ms
            dn = (n - self._n_win) & _MASK
            self._high = False
            if self._win_ok and dn >= self._crossover:
                span = ticks_diff(t, self._t_win)
                if span > 0:
                    self._high = True
                    self._high_n = dn
                    self._high_us = span
            self._n_win = n
            self._t_win = t
            self._win_ok = fresh >= 1

    @property
    def value(self):
        """The rate, or None while faulted or before a clean period is known."""
        if self.fault:
            return None
        if self._stopped:
            return 0.0
        if self._high:
            return self._high_n * self._scale / self._high_us
        dt = self._sdt
        if ((self._sn - self._n_ref) & _MASK) < 2 or dt <= 0:
            return None  # after noise: no clean period yet
        # Once the next pulse is overdue, the flow is at most one pulse per
        # time elapsed: the reading falls towards the zero-flow timeout
        # instead of holding the last period.
        elapsed = ticks_diff(self._now_us, self._st)
        if elapsed > dt:
            dt = elapsed
        return self._scale / dt


def pin_trigger(pin, edge: str):
    cls = type(pin)
    return cls.IRQ_FALLING if edge == "falling" else cls.IRQ_RISING


class PulseFlow(PulseRate):
    """Flow in m3/h from a pulse-output meter.

    pin: a machine.Pin set as input (with its pull-up if open collector);
    ticks_us: time.ticks_us (the IRQ timestamp source); params: validated
    against PARAMS; trigger: the Pin.IRQ_* value to use instead of `edge`;
    hard_irq: the port has hard pin IRQs (board profile; False: ConfigError).
    """

    def __init__(self, pin, ticks_us, params: dict, trigger=None, hard_irq: bool = True):
        from drivers import pulse_setup  # checks used once: loaded and dropped

        try:
            scale, min_us = pulse_setup.flow_limits(params)
        finally:
            unload("drivers.pulse_setup")
        glitch_us = params["glitch_us"]
        if trigger is None:
            trigger = pin_trigger(pin, params["edge"])
        super().__init__(pin, ticks_us, scale, glitch_us, min_us,
                         int(params["zero_flow_timeout_s"] * 1000000), params["window_ms"],
                         params["crossover_pulses"], trigger, alarms.FLOW_PULSE_NOISE, hard_irq)
