"""A fake of MicroPython's `esp32.PCNT` (ESP32 pulse counter unit), for CPython tests.

It keeps the behaviour the pulse counter driver relies on:

- `init()` / the constructor take the documented keywords and reject bad values
  as the port does (ValueError); setting `min`, `max`, `threshold0/1` or
  `value=0` clears the count.
- A pulse counts only while the unit is started, on the edges whose action is
  INCREMENT (+1) or DECREMENT (-1), and only if it is at least as wide as the
  glitch filter (`filter` ticks of the 80 MHz APB clock; 0: no filter).
- The count is the raw hardware counter: it is reset to 0 when it reaches `max`
  (or `min` counting down), as the ESP32 PCNT does; it does not wrap to the
  opposite limit and is not extended beyond 16 bits.
- `value()` reads; `value(0)` reads and clears.

The test side injects pulses with `pulse(n, width_ns)`.
"""

from __future__ import annotations

_KEYWORDS = ("channel", "pin", "rising", "falling", "mode_pin", "mode_low", "mode_high",
             "filter", "min", "max", "threshold0", "threshold1", "value")


class _Irq:
    def __init__(self):
        self._flags = 0

    def flags(self) -> int:
        out, self._flags = self._flags, 0
        return out


class PCNT:
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
    NS_PER_TICK = 12.5  # 80 MHz APB clock

    def __init__(self, id: int, **kwargs):
        self.id = id
        self.pin = None
        self.rising = PCNT.IGNORE
        self.falling = PCNT.IGNORE
        self.filter = 0
        self.min = -32768
        self.max = 32767
        self.count = 0
        self.running = False
        self.deinited = False
        self.filtered = 0  # pulses swallowed by the filter (test diagnostics)
        self.reads = 0
        self._irq = _Irq()
        self.init(**kwargs)

    def init(self, **kwargs):
        for key in kwargs:
            if key not in _KEYWORDS:
                raise TypeError(f"unexpected keyword argument {key!r}")
        if kwargs.get("channel", 0) not in (0, 1):
            raise ValueError("channel")
        if "pin" in kwargs:
            self.pin = kwargs["pin"]
        for key in ("rising", "falling"):
            if key in kwargs:
                action = kwargs[key]
                if action not in (PCNT.IGNORE, PCNT.INCREMENT, PCNT.DECREMENT):
                    raise ValueError(key)
                setattr(self, key, action)
        if "filter" in kwargs:
            f = kwargs["filter"]
            if not isinstance(f, int) or not 0 <= f <= 1023:
                raise ValueError("filter")
            self.filter = f
        clear = False
        if "min" in kwargs:
            m = kwargs["min"]
            if not -32768 <= m <= 0:
                raise ValueError("minimum")
            self.min = m if m else -32768
            clear = True
        if "max" in kwargs:
            m = kwargs["max"]
            if not 0 <= m <= 32767:
                raise ValueError("maximum")
            self.max = m if m else 32767
            clear = True
        if "threshold0" in kwargs or "threshold1" in kwargs:
            clear = True
        if "value" in kwargs:
            if kwargs["value"] != 0:
                raise ValueError("value")
            clear = True
        if clear:
            self.count = 0

    def start(self):
        self.running = True

    def stop(self):
        self.running = False

    def deinit(self):
        self.running = False
        self.deinited = True

    def value(self, value=None) -> int:
        self.reads += 1
        out = self.count
        if value is not None:
            if value != 0:
                raise ValueError("value")
            self.count = 0
        return out

    def irq(self, handler=None, trigger=IRQ_ZERO):
        return self._irq

    # ---- test side ----
    def _step(self, action: int) -> int:
        return 1 if action == PCNT.INCREMENT else -1 if action == PCNT.DECREMENT else 0

    def pulse(self, n: int = 1, width_ns: float | None = None):
        """n pulses on the pin, each a falling and a rising edge, with both its
        phases width_ns wide (None: wide enough for any filter)."""
        if n <= 0:
            return
        if width_ns is not None and self.filter and width_ns < self.filter * self.NS_PER_TICK:
            self.filtered += n
            return
        if not self.running:
            return
        step = self._step(self.rising) + self._step(self.falling)
        if step == 0:
            return
        # Edge by edge the counter resets to 0 on reaching a limit, so a run
        # of edges in one direction counts modulo that limit.
        edges = n * abs(step)
        if step > 0:
            if self.count < 0:
                edges += self.count  # the edges that bring a negative count to 0
                self.count = 0
                if edges <= 0:
                    self.count = edges
                    return
            self.count = (self.count + edges) % self.max
        else:
            if self.count > 0:
                edges -= self.count
                self.count = 0
                if edges <= 0:
                    self.count = -edges
                    return
            self.count = -((-self.count + edges) % -self.min)
