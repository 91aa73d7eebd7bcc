# The clock the twins run on. Tests use VirtualClock (time moves only when the
# test or a blocking twin call moves it); the virtual board uses RealClock
# (MicroPython's own time module). Both give MicroPython's wrapping tick
# arithmetic: ticks_ms/ticks_us wrap at 2**30 (py/mphal.h MICROPY_PY_TIME_TICKS_PERIOD,
# extmod/modtime.c ticks_diff/ticks_add).

TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD // 2


def ticks_diff(end, start):
    return ((end - start + TICKS_HALF) & TICKS_MAX) - TICKS_HALF


def ticks_add(ticks, delta):
    return (ticks + delta) & TICKS_MAX


class VirtualClock:
    """Microsecond clock that a test moves by hand; `us` is the unwrapped time.
    The tick values are kept wrapped as time moves, so reading them allocates
    nothing on MicroPython even once `us` is past 2**30 (a big int there), as
    time.ticks_us() on a board does not (a hard IRQ handler may read them)."""

    def __init__(self, start_us=0):
        self.us = int(start_us)
        self._wrap()

    def _wrap(self):
        self._ticks_us = self.us & TICKS_MAX
        self._ticks_ms = (self.us // 1000) & TICKS_MAX

    def advance_us(self, us):
        if us < 0:
            raise ValueError("time cannot go back")
        self.us += int(us)
        self._wrap()

    def advance_ms(self, ms):
        self.advance_us(int(ms * 1000))

    def advance_to(self, us):
        if us > self.us:
            self.us = int(us)
            self._wrap()

    def ticks_us(self):
        return self._ticks_us

    def ticks_ms(self):
        return self._ticks_ms

    ticks_diff = staticmethod(ticks_diff)
    ticks_add = staticmethod(ticks_add)

    def sleep_us(self, us):
        if us > 0:
            self.advance_us(us)

    def sleep_ms(self, ms):
        if ms > 0:
            self.advance_us(int(ms) * 1000)


class RealClock:
    """The host MicroPython's own clock (virtual board). `us` counts from start
    on time.time_ns(), so it never wraps (ticks_us would after 18 minutes)."""

    def __init__(self):
        import time

        self._time = time
        self._t0 = time.time_ns()

    @property
    def us(self):
        return (self._time.time_ns() - self._t0) // 1000

    def advance_us(self, us):
        self.sleep_us(us)

    def advance_ms(self, ms):
        self.sleep_us(int(ms * 1000))

    def advance_to(self, us):
        left = us - self.us
        if left > 0:
            self.sleep_us(left)

    def ticks_us(self):
        return self._time.ticks_us()

    def ticks_ms(self):
        return self._time.ticks_ms()

    ticks_diff = staticmethod(ticks_diff)
    ticks_add = staticmethod(ticks_add)

    def sleep_us(self, us):
        if us > 0:
            self._time.sleep_us(int(us))

    def sleep_ms(self, ms):
        if ms > 0:
            self._time.sleep_ms(int(ms))
