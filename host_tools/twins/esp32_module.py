# Twin of the `esp32` module's PCNT class (ports/esp32/esp32_pcnt.c, v1.27.0),
# the ESP32 pulse counter. The unit counts edges of its pin in hardware behind
# the glitch filter; edges come from the twin pin (World.drive/pulse) or in
# bulk from World.pcnt(unit).pulse(n, width_ns).
from . import args as A

_ARGS = (("channel", A.KW_ONLY | A.INT, 0), ("pin", A.KW_ONLY, A), ("rising", A.KW_ONLY, A),
         ("falling", A.KW_ONLY, A), ("mode_pin", A.KW_ONLY, A), ("mode_low", A.KW_ONLY, A),
         ("mode_high", A.KW_ONLY, A), ("min", A.KW_ONLY, A), ("max", A.KW_ONLY, A),
         ("filter", A.KW_ONLY, A), ("threshold0", A.KW_ONLY, A),
         ("threshold1", A.KW_ONLY, A), ("value", A.KW_ONLY, A))
_UNSET = A  # a sentinel no caller can pass (MP_OBJ_NULL)
PCNT_UNIT_MAX = 8  # ESP32: units 0-7 (quickref "id 0..7")


class PcntUnit:
    """World.pcnt(unit): the counter hardware. pulse(n, width_ns) counts n pulses
    (each a falling and a rising edge, both phases width_ns wide; None: wider
    than any filter). `filtered` counts pulses the glitch filter swallowed."""

    NS_PER_TICK = 12.5  # 80 MHz APB clock

    def __init__(self, unit):
        self.unit = unit
        self.pin = None
        self.rising = 0
        self.falling = 0
        self.filter = 0
        self.min = -32768
        self.max = 32767
        self.count = 0
        self.running = False
        self.filtered = 0
        self.reads = 0
        self._level = 1  # the filtered level of the pin
        self._pending = None  # (level, since_us): a change the filter has not passed yet

    def _step(self, action):
        return 1 if action == 1 else -1 if action == 2 else 0

    def _count(self, step, n):
        # The hardware counter resets to 0 on reaching max (or min counting down).
        edges = n * abs(step)
        if step > 0:
            if self.count < 0:
                edges += self.count
                self.count = 0
                if edges <= 0:
                    self.count = edges
                    return
            self.count = (self.count + edges) % self.max
        elif step < 0:
            if self.count > 0:
                edges -= self.count
                self.count = 0
                if edges <= 0:
                    self.count = -edges
                    return
            self.count = -((-self.count + edges) % -self.min)

    def pulse(self, n=1, width_ns=None):
        if n <= 0:
            return
        if width_ns is not None and self.filter and width_ns < self.filter * self.NS_PER_TICK:
            self.filtered += n
            return
        if not self.running:
            return
        self._count(self._step(self.rising) + self._step(self.falling), n)

    def edge(self, level, now_us):
        """An edge of the unit's pin. The glitch filter passes a new level only once
        it has held for `filter` APB ticks: an edge is counted then, or dropped if
        the pin changes back sooner."""
        self.settle(now_us)
        if self._pending is not None:
            self._pending = None
            self.filtered += 1
        if level != self._level:
            self._pending = (level, now_us)
            if not self.filter:
                self.settle(now_us)

    def settle(self, now_us):
        p = self._pending
        if p is None or (now_us - p[1]) * 1000 < self.filter * self.NS_PER_TICK:
            return
        self._pending = None
        self._level = p[0]
        if self.running:
            self._count(self._step(self.rising if p[0] else self.falling), 1)


class _Irq:
    def __init__(self):
        self._flags = 0

    def flags(self):
        out, self._flags = self._flags, 0
        return out


class PCNT:
    _board = None
    IGNORE = 0
    INCREMENT = 1
    DECREMENT = 2
    NORMAL = 0
    REVERSE = 1
    HOLD = 2
    IRQ_THRESHOLD1 = 4
    IRQ_THRESHOLD0 = 8
    IRQ_MIN = 16
    IRQ_MAX = 32
    IRQ_ZERO = 64

    def __init__(self, *pos, **kw):
        # esp32_pcnt.c:243-280: one unit object per id; a new one starts deactivated
        if len(pos) < 1:
            raise TypeError("id")
        unit = A.get_int(pos[0])
        if not 0 <= unit < PCNT_UNIT_MAX:
            raise ValueError("invalid id")
        units = self._board.pcnt_units
        if unit not in units:
            units[unit] = PcntUnit(unit)
        self._u = units[unit]
        self._irq = _Irq()
        self.init(**kw)

    def init(self, *pos, **kw):
        # esp32_pcnt.c:80-226
        (channel, pin, rising, falling, mode_pin, mode_low, mode_high, mn, mx, flt, th0, th1,
         value) = A.parse(pos, kw, _ARGS)
        u = self._u
        if not 0 <= channel < 2:
            raise ValueError("channel")
        if pin is not _UNSET or mode_pin is not _UNSET:
            if pin is _UNSET:
                raise ValueError("pin")
            self._attach(pin)
        if rising is not _UNSET or falling is not _UNSET or mode_low is not _UNSET \
                or mode_high is not _UNSET:
            r = 0 if rising is _UNSET else A.get_int(rising)
            f = 0 if falling is _UNSET else A.get_int(falling)
            if not 0 <= r < 3:
                raise ValueError("rising")
            if not 0 <= f < 3:
                raise ValueError("falling")
            u.rising = r
            u.falling = f
        if flt is not _UNSET:
            f = A.get_int(flt)
            if f < 0 or f > 1023:
                raise ValueError("filter")
            u.filter = f
        clear = False
        if value is not _UNSET:
            if A.get_int(value) != 0:
                raise ValueError("value")
            clear = True
        if mn is not _UNSET:
            v = A.get_int(mn)
            if v < -32768 or v > 0:
                raise ValueError("minimum")
            u.min = v if v else -32768
            clear = True
        if mx is not _UNSET:
            v = A.get_int(mx)
            if v < 0 or v > 32767:
                raise ValueError("maximum")
            u.max = v if v else 32767
            clear = True
        for t, name in ((th0, "threshold0"), (th1, "threshold1")):
            if t is not _UNSET:
                v = A.get_int(t)
                if v < -32768 or v > 32767:
                    raise ValueError(name)
                clear = True
        if clear:
            u.count = 0

    def _attach(self, pin):
        board = self._board
        u = self._u
        if pin is None:
            u.pin = None
            return
        pid = board.port.find_pin(board, pin)
        if u.pin != pid:
            u.pin = pid
            u._level = board.level(pid)
            u._pending = None
            board.pin(pid).watchers.append(self._watch(pid))

    def _watch(self, pid):
        u = self._u

        def on_edge(level, now_us):
            if u.pin == pid:
                u.edge(level, now_us)

        return on_edge

    def start(self):
        self._u.running = True

    def stop(self):
        self._u.running = False

    def deinit(self):
        u = self._u
        u.running = False
        u.count = 0
        u.filter = 0

    def value(self, *pos):
        u = self._u
        u.settle(self._board.clock.us)
        u.reads += 1
        out = u.count
        if pos:
            if A.get_int(pos[0]) != 0:
                raise ValueError("value")
            u.count = 0
        return out

    def irq(self, handler=None, trigger=64):
        return self._irq


class _Module:
    pass


def make_module(m, board):
    from .common import bind

    mod = _Module()
    mod.PCNT = bind(PCNT, board)
    return mod
